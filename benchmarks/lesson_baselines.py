"""A faithful reimplementation of the origin lesson's PyTorch MNIST GAN, as a baseline.

The lesson's loop: an MLP generator (100 -> 256 -> 512 -> 1024 -> 784, LeakyReLU 0.2,
tanh) and an MLP discriminator (784 -> 1024 -> 512 -> 256 -> 1, LeakyReLU 0.2,
dropout 0.3, sigmoid), binary cross-entropy, Adam lr 2e-4 betas (0.5, 0.999),
one D step then one G step per batch, images 28x28 scaled to [-1, 1].
Nothing here is used by the product; benchmarks compare against it.
"""

from __future__ import annotations

import time

import torch
from torch import nn

LATENT = 100


class LessonGenerator(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(LATENT, 256), nn.LeakyReLU(0.2),
            nn.Linear(256, 512), nn.LeakyReLU(0.2),
            nn.Linear(512, 1024), nn.LeakyReLU(0.2),
            nn.Linear(1024, 784), nn.Tanh(),
        )  # fmt: skip

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(-1, 1, 28, 28)


class LessonDiscriminator(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(784, 1024), nn.LeakyReLU(0.2), nn.Dropout(0.3),
            nn.Linear(1024, 512), nn.LeakyReLU(0.2), nn.Dropout(0.3),
            nn.Linear(512, 256), nn.LeakyReLU(0.2), nn.Dropout(0.3),
            nn.Linear(256, 1), nn.Sigmoid(),
        )  # fmt: skip

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.net(images.view(-1, 784))


def train_lesson_mlp_gan(
    data: torch.Tensor, seconds: float, batch_size: int = 64, seed: int = 0
) -> tuple[LessonGenerator, int]:
    """Train on (N, 1, 28, 28) data in [-1, 1] for `seconds` of wall-clock; return (G, steps)."""
    torch.manual_seed(seed)
    generator, discriminator = LessonGenerator(), LessonDiscriminator()
    loss = nn.BCELoss()
    opt_g = torch.optim.Adam(generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    ones, zeros = torch.ones(batch_size, 1), torch.zeros(batch_size, 1)
    started, steps = time.monotonic(), 0
    while time.monotonic() - started < seconds:
        order = torch.randperm(len(data))
        for start in range(0, len(data) - batch_size + 1, batch_size):
            real = data[order[start : start + batch_size]]
            fake = generator(torch.randn(batch_size, LATENT))
            d_loss = loss(discriminator(real), ones) + loss(discriminator(fake.detach()), zeros)
            opt_d.zero_grad()
            d_loss.backward()
            opt_d.step()
            g_loss = loss(discriminator(fake), ones)
            opt_g.zero_grad()
            g_loss.backward()
            opt_g.step()
            steps += 1
            if time.monotonic() - started >= seconds:
                break
    return generator.eval(), steps
