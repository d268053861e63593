"""DCGAN-family generator and discriminator, sized by a :class:`DCGANConfig`.

Generator: z (B, Z) -> 4x4 feature map -> repeated (nearest upsample, 3x3 conv,
BatchNorm, ReLU) until the target resolution -> 3x3 conv -> tanh. Upsample +
conv instead of transposed convolutions avoids the checkerboard artifacts that
transposed convs leave at higher resolutions.

Discriminator: mirror image with strided 4x4 convs, LeakyReLU and spectral norm
on every layer (keeps D Lipschitz-bounded, the standard defence against a
discriminator that wins too fast), ending in a single logit per image.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from gan.config import DCGANConfig


def feature_channels(config: DCGANConfig, size: int) -> int:
    """Feature channels at spatial size `size`: `width` at full resolution, doubling per halving."""
    return min(config.max_width, config.width * (config.resolution // size))


class DCGANGenerator(nn.Module):
    plain_convolutions = True  # gan.models.budget bounds its activations without running it
    architecture = "dcgan"

    def __init__(self, config: DCGANConfig) -> None:
        super().__init__()
        self.config = config
        c4 = feature_channels(config, 4)
        self.project = nn.Sequential(  # (B, Z) -> (B, c4*16) -> (B, c4, 4, 4)
            nn.Linear(config.latent_dim, c4 * 16, bias=False),
            nn.Unflatten(1, (c4, 4, 4)),
            nn.BatchNorm2d(c4),
            nn.ReLU(inplace=True),
        )
        blocks = []
        size = 4
        while size < config.resolution:
            c_in, c_out = feature_channels(config, size), feature_channels(config, size * 2)
            blocks.append(
                nn.Sequential(  # (B, c_in, s, s) -> (B, c_out, 2s, 2s)
                    nn.Upsample(scale_factor=2, mode="nearest"),
                    nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
                    nn.BatchNorm2d(c_out),
                    nn.ReLU(inplace=True),
                )
            )
            size *= 2
        self.blocks = nn.Sequential(*blocks)
        self.to_image = nn.Sequential(  # (B, width, R, R) -> (B, channels, R, R) in [-1, 1]
            nn.Conv2d(feature_channels(config, config.resolution), config.channels, 3, padding=1),
            nn.Tanh(),
        )

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.to_image(self.blocks(self.project(z)))  # (B, C, R, R)


class DCGANDiscriminator(nn.Module):
    architecture = "dcgan"

    def __init__(self, config: DCGANConfig) -> None:
        super().__init__()
        self.config = config
        layers: list[nn.Module] = [
            spectral_norm(nn.Conv2d(config.channels, feature_channels(config, config.resolution), 3, padding=1)),
            nn.LeakyReLU(0.2, inplace=True),
        ]
        size = config.resolution
        while size > 4:  # (B, c, s, s) -> (B, c', s/2, s/2)
            c_in, c_out = feature_channels(config, size), feature_channels(config, size // 2)
            layers += [spectral_norm(nn.Conv2d(c_in, c_out, 4, stride=2, padding=1)), nn.LeakyReLU(0.2, inplace=True)]
            size //= 2
        self.features = nn.Sequential(*layers)
        self.to_logit = spectral_norm(nn.Conv2d(feature_channels(config, 4), 1, 4))  # (B, c4, 4, 4) -> (B, 1, 1, 1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.to_logit(self.features(images)).flatten()  # (B,)


def init_weights(module: nn.Module) -> None:
    """DCGAN initialisation: N(0, 0.02) convs, N(1, 0.02) BatchNorm scales."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)) and not hasattr(m, "parametrizations"):
            nn.init.normal_(m.weight, 0.0, 0.02)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
