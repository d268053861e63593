"""The DCGAN of the HugGAN community sprint (huggingface/community-events, `huggan/pytorch/dcgan`).

Its checkpoints on the Hub (`pytorch_model.bin`, or `model.safetensors` from newer
`PyTorchModelHubMixin` versions) are plain state dicts whose tensor names are
those of one `nn.Sequential` called `model`: `model.0.weight` ... `model.12.weight`.
This file rebuilds exactly that module so those tensors load strictly, by name and
shape, and can be saved again in GAN studio's own format.

Generator: z (B, Z) viewed as (B, Z, 1, 1) -> transposed convs 1 -> 4 -> 8 -> 16 -> 32
-> 64 pixels, BatchNorm + ReLU between, tanh at the end. The output is always 64x64.
Discriminator: the mirror image with strided convs and LeakyReLU; the sprint's
final Sigmoid is left out (it has no weights) so D returns logits like ours.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from gan.config import ModelConfig
from gan.errors import InvalidInputError

RESOLUTION = 64  # fixed by the five transposed convolutions


@dataclass(frozen=True)
class HugGANDCGANConfig(ModelConfig):
    """The sprint's constructor arguments, plus the (fixed) output size that the app shows."""

    channels: int = 3  # the sprint's `num_channels`
    latent_dim: int = 100  # z is (B, latent_dim, 1, 1) in the sprint's code; (B, latent_dim) here
    hidden_size: int = 64  # feature channels at 32x32; 8x that at 4x4
    resolution: int = RESOLUTION  # not a free parameter: kept so every config can say its size

    label = "HugGAN DCGAN"

    def __post_init__(self) -> None:
        self.check_channels()
        self.check_sizes("latent_dim", "hidden_size")
        if self.resolution != RESOLUTION:
            raise InvalidInputError(f"the HugGAN DCGAN always makes {RESOLUTION}x{RESOLUTION} images")

    @classmethod
    def from_state_dict(cls, state: dict[str, torch.Tensor]) -> HugGANDCGANConfig:
        """Read the shape off the weights: model.0.weight is (Z, 8h, 4, 4), model.12.weight (h, C, 4, 4)."""
        first, last = state.get("model.0.weight"), state.get("model.12.weight")
        if first is None or last is None or first.ndim != 4 or last.ndim != 4:
            raise InvalidInputError("not a HugGAN DCGAN state dict: model.0.weight / model.12.weight are missing")
        return cls(channels=int(last.shape[1]), latent_dim=int(first.shape[0]), hidden_size=int(last.shape[0]))


def looks_like_huggan_dcgan(keys: set[str]) -> bool:
    """The sprint generator's tensor names: a Sequential with transposed convs at 0, 3, 6, 9 and 12."""
    return {"model.0.weight", "model.3.weight", "model.6.weight", "model.9.weight", "model.12.weight"} <= keys and all(
        key.startswith("model.") for key in keys
    )


class HugGANDCGANGenerator(nn.Module):
    plain_convolutions = True  # gan.models.budget bounds its activations without running it
    architecture = "huggan_dcgan"

    def __init__(self, config: HugGANDCGANConfig) -> None:
        super().__init__()
        self.config = config
        h, z, c = config.hidden_size, config.latent_dim, config.channels
        self.model = nn.Sequential(  # names and order are the checkpoint's: do not reorder
            nn.ConvTranspose2d(z, h * 8, 4, 1, 0, bias=False),  # (B, Z, 1, 1) -> (B, 8h, 4, 4)
            nn.BatchNorm2d(h * 8),
            nn.ReLU(True),
            nn.ConvTranspose2d(h * 8, h * 4, 4, 2, 1, bias=False),  # -> (B, 4h, 8, 8)
            nn.BatchNorm2d(h * 4),
            nn.ReLU(True),
            nn.ConvTranspose2d(h * 4, h * 2, 4, 2, 1, bias=False),  # -> (B, 2h, 16, 16)
            nn.BatchNorm2d(h * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(h * 2, h, 4, 2, 1, bias=False),  # -> (B, h, 32, 32)
            nn.BatchNorm2d(h),
            nn.ReLU(True),
            nn.ConvTranspose2d(h, c, 4, 2, 1, bias=False),  # -> (B, C, 64, 64)
            nn.Tanh(),
        )

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.ndim == 2:  # our samplers give (B, Z); the sprint's code gives (B, Z, 1, 1)
            z = z[:, :, None, None]
        return self.model(z)  # (B, C, 64, 64) in [-1, 1]


class HugGANDCGANDiscriminator(nn.Module):
    architecture = "huggan_dcgan"

    def __init__(self, config: HugGANDCGANConfig) -> None:
        super().__init__()
        self.config = config
        h, c = config.hidden_size, config.channels
        self.model = nn.Sequential(
            nn.Conv2d(c, h, 4, 2, 1, bias=False),  # (B, C, 64, 64) -> (B, h, 32, 32)
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(h, h * 2, 4, 2, 1, bias=False),  # -> (B, 2h, 16, 16)
            nn.BatchNorm2d(h * 2),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(h * 2, h * 4, 4, 2, 1, bias=False),  # -> (B, 4h, 8, 8)
            nn.BatchNorm2d(h * 4),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(h * 4, h * 8, 4, 2, 1, bias=False),  # -> (B, 8h, 4, 4)
            nn.BatchNorm2d(h * 8),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(h * 8, 1, 4, 1, 0, bias=False),  # -> (B, 1, 1, 1); the sprint adds a Sigmoid here
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.model(images).flatten()  # (B,) logits
