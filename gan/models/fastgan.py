"""A FastGAN-style pair for few-shot training (after Liu et al., 2021), 64 to 256 px.

Generator: z (B, Z) -> 4x4 -> up-blocks (nearest upsample, 3x3 conv, BatchNorm, GLU)
to full resolution. Skip-layer excitation (SLE) lets a coarse map gate the
channels of a map 16x larger (4 -> 64, 8 -> 128, 16 -> 256): cheap long-range
structure without attention.

Discriminator: spectral-normed strided convs down to 8x8, a logit head, and a
small decoder that reconstructs a 32x32 version of a *real* image from the 8x8
features. The reconstruction loss forces D to keep describing real images
rather than memorising a few cues, which is what overfits first on tiny sets.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from gan.config import FastGANConfig


def channels_at(config: FastGANConfig, size: int) -> int:
    return min(config.max_width, config.width * (config.resolution // size))


class UpBlock(nn.Sequential):
    def __init__(self, c_in: int, c_out: int) -> None:  # (B, c_in, s, s) -> (B, c_out, 2s, 2s)
        super().__init__(
            nn.Upsample(scale_factor=2, mode="nearest"),
            nn.Conv2d(c_in, c_out * 2, 3, padding=1, bias=False),
            nn.BatchNorm2d(c_out * 2),
            nn.GLU(dim=1),
        )


class SkipLayerExcitation(nn.Module):
    """Channel gates for a fine map computed from a coarse one: high * sigmoid(f(low))."""

    def __init__(self, c_low: int, c_high: int) -> None:
        super().__init__()
        self.gate = nn.Sequential(
            nn.AdaptiveAvgPool2d(4),
            nn.Conv2d(c_low, c_high, 4, bias=False),  # (B, c_high, 1, 1)
            nn.LeakyReLU(0.1),
            nn.Conv2d(c_high, c_high, 1, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, low: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
        return high * self.gate(low)


class FastGANGenerator(nn.Module):
    plain_convolutions = True  # gan.models.budget bounds its activations without running it
    architecture = "fastgan"

    def __init__(self, config: FastGANConfig) -> None:
        super().__init__()
        self.config = config
        c4 = channels_at(config, 4)
        self.project = nn.Sequential(  # (B, Z) -> (B, c4, 4, 4)
            nn.Unflatten(1, (config.latent_dim, 1, 1)),
            nn.ConvTranspose2d(config.latent_dim, c4 * 2, 4, bias=False),
            nn.BatchNorm2d(c4 * 2),
            nn.GLU(dim=1),
        )
        self.sizes = [4 * 2**i for i in range(1, config.resolution.bit_length() - 2)]  # 8 .. resolution
        self.ups = nn.ModuleDict(
            {str(s): UpBlock(channels_at(config, s // 2), channels_at(config, s)) for s in self.sizes}
        )
        self.sle = nn.ModuleDict(
            {str(s * 16): SkipLayerExcitation(channels_at(config, s), channels_at(config, s * 16))
             for s in (4, 8, 16) if s * 16 <= config.resolution}
        )  # fmt: skip
        self.to_image = nn.Sequential(
            nn.Conv2d(channels_at(config, config.resolution), config.channels, 3, padding=1), nn.Tanh()
        )

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        features = {4: self.project(z)}
        x = features[4]
        for size in self.sizes:
            x = self.ups[str(size)](x)
            if str(size) in self.sle:
                x = self.sle[str(size)](features[size // 16], x)
            features[size] = x
        return self.to_image(x)  # (B, C, R, R) in [-1, 1]


def sn_conv(c_in: int, c_out: int, kernel: int, stride: int = 1, padding: int = 0) -> nn.Module:
    return spectral_norm(nn.Conv2d(c_in, c_out, kernel, stride, padding))


class FastGANDiscriminator(nn.Module):
    architecture = "fastgan"
    reconstruction_size = 32

    def __init__(self, config: FastGANConfig) -> None:
        super().__init__()
        self.config = config
        layers: list[nn.Module] = []
        size, c_in = config.resolution, config.channels
        while size > 8:  # (B, c, s, s) -> (B, c', s/2, s/2)
            c_out = channels_at(config, size // 2)
            layers += [sn_conv(c_in, c_out, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True)]
            size, c_in = size // 2, c_out
        self.features = nn.Sequential(*layers)  # -> (B, c8, 8, 8)
        c8 = channels_at(config, 8)
        self.to_logit = nn.Sequential(
            sn_conv(c8, c8, 1), nn.LeakyReLU(0.2, inplace=True), sn_conv(c8, 1, 4)
        )  # (B,1,5,5)
        c16, c32 = max(c8 // 2, 8), max(c8 // 4, 8)
        self.decoder = nn.Sequential(  # (B, c8, 8, 8) -> (B, C, 32, 32)
            UpBlock(c8, c16), UpBlock(c16, c32), nn.Conv2d(c32, config.channels, 3, padding=1), nn.Tanh()
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.to_logit(self.features(images)).mean(dim=(1, 2, 3))  # (B,)

    def reconstruct(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits and the L1 reconstruction loss of a 32x32 version of `images` (real images only)."""
        features = self.features(images)
        logits = self.to_logit(features).mean(dim=(1, 2, 3))
        target = F.interpolate(images, size=self.reconstruction_size, mode="area")
        return logits, F.l1_loss(self.decoder(features), target)
