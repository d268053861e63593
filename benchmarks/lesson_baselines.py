"""Faithful reimplementations of the origin lesson's PyTorch MNIST GANs, as baselines.

The lesson's loop: binary cross-entropy, Adam lr 2e-4 betas (0.5, 0.999), one D step
then one G step per batch, images 28x28 scaled to [-1, 1], no augmentation, no EMA.
Its MLP: G 100 -> 256 -> 512 -> 1024 -> 784 (LeakyReLU 0.2, tanh), D 784 -> 1024 -> 512
-> 256 -> 1 (LeakyReLU 0.2, dropout 0.3, sigmoid). Its DCGAN: G projects z to 7x7x256,
then two stride-2 transposed convs (BatchNorm, ReLU) to 28x28 with tanh; D two stride-2
convs (LeakyReLU 0.2, BatchNorm) and a linear sigmoid head.
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


class LessonDCGANGenerator(nn.Module):
    """channels and side: the lesson's 1 and 28; other values adapt it (3 and 32: colour emoji)."""

    def __init__(self, channels: int = 1, side: int = 28) -> None:
        super().__init__()
        self.start = side // 4
        cells = self.start * self.start * 256
        self.project = nn.Sequential(nn.Linear(LATENT, cells, bias=False), nn.BatchNorm1d(cells), nn.ReLU())
        self.net = nn.Sequential(
            nn.ConvTranspose2d(256, 128, 4, 2, 1, bias=False), nn.BatchNorm2d(128), nn.ReLU(),  # (B, 128, 14, 14)
            nn.ConvTranspose2d(128, channels, 4, 2, 1), nn.Tanh(),  # (B, 1, 28, 28)
        )  # fmt: skip

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(self.project(z).view(-1, 256, self.start, self.start))


class LessonDCGANDiscriminator(nn.Module):
    def __init__(self, channels: int = 1, side: int = 28) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(channels, 64, 4, 2, 1), nn.LeakyReLU(0.2),  # (B, 64, 14, 14)
            nn.Conv2d(64, 128, 4, 2, 1, bias=False), nn.BatchNorm2d(128), nn.LeakyReLU(0.2),  # (B, 128, 7, 7)
            nn.Flatten(), nn.Linear(128 * (side // 4) ** 2, 1), nn.Sigmoid(),
        )  # fmt: skip

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.net(images)


LESSON_MODELS = {
    "mlp": (LessonGenerator, LessonDiscriminator),
    "dcgan": (LessonDCGANGenerator, LessonDCGANDiscriminator),
}


def train_lesson_mlp_gan(
    data: torch.Tensor, seconds: float, batch_size: int = 64, seed: int = 0
) -> tuple[nn.Module, int]:
    return train_lesson_gan("mlp", data, seconds, batch_size, seed)


def train_lesson_gan(
    kind: str, data: torch.Tensor, seconds: float, batch_size: int = 64, seed: int = 0
) -> tuple[nn.Module, int]:
    """Train the lesson's `kind` ("mlp" or "dcgan") on (N, 1, 28, 28) data for `seconds`; return (G, steps).
    The DCGAN also takes other shapes, (N, C, S, S) with S a multiple of 4 (an adaptation; the MLP does not)."""
    torch.manual_seed(seed)
    generator_class, discriminator_class = LESSON_MODELS[kind]
    shape = {"channels": data.shape[1], "side": data.shape[-1]} if kind == "dcgan" else {}
    generator, discriminator = generator_class(**shape), discriminator_class(**shape)
    batch_size = min(batch_size, len(data))
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
