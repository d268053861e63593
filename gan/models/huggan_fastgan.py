"""The FastGAN generator of the HugGAN sprint's `huggan/fastgan-few-shot-*` models (Liu et al., 2021).

Those repos hold a bare `pytorch_model.bin`: the generator of silentz's FastGAN implementation
(`Generator(in_channels=256, out_channels=3)`, as their model cards show), with a fixed 1024 px
architecture, a fixed table of feature channels and old-style spectral norm on every convolution
(`weight_orig`, `weight_u`, `weight_v`). On conversion each spectral-normed weight is divided by its
stored singular-value estimate, which is what the original computes in eval mode, and kept as a
plain weight: this module has no spectral norm. Tensor names are the original's, minus `_orig`.

z (B, Z) -> (B, Z, 1, 1) -> transposed conv to 4x4 -> up-blocks to 1024x1024. Blocks at 8, 32,
128 and 512 px are "T2" (two convs, each with a noise input); the others "T1" (one conv).
Skip-layer excitation: 4 -> 64, 8 -> 128, 16 -> 256, 32 -> 512 px. The original also returns a
128 px image from a second head; only the 1024 px one is kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from gan.config import ModelConfig
from gan.errors import InvalidInputError
from gan.models.noise import const_noise

RESOLUTION = 1024  # fixed by the number of up-blocks
SIZES = (4, 8, 16, 32, 64, 128, 256, 512, 1024)
WIDTHS = (1024, 512, 256, 128, 128, 64, 32, 16, 8)  # feature channels at each size, in the published models
TWO_CONV_SIZES = (8, 32, 128, 512)  # "T2" blocks: two convs, two noise inputs
SLE = {64: 4, 128: 8, 256: 16, 512: 32}  # excited size -> the coarse size that gates it


@dataclass(frozen=True)
class HugGANFastGANConfig(ModelConfig):
    """Read off the weights' shapes; only the published models' values are ever seen in the wild."""

    channels: int = 3  # the original's `out_channels`
    latent_dim: int = 256  # its `in_channels`: z is (B, latent_dim, 1, 1) there, (B, latent_dim) here
    widths: tuple[int, ...] = WIDTHS  # feature channels at 4, 8, ..., 1024 px
    resolution: int = RESOLUTION  # not a free parameter

    label = "HugGAN FastGAN"

    def __post_init__(self) -> None:
        self.check_channels()
        self.check_sizes("latent_dim")
        object.__setattr__(self, "widths", tuple(self.widths))
        if len(self.widths) != len(SIZES) or any(
            isinstance(w, bool) or not isinstance(w, int) or not 1 <= w <= 4096 for w in self.widths
        ):
            raise InvalidInputError(f"widths must be {len(SIZES)} integers from 1 to 4096, got {self.widths!r}")
        if self.resolution != RESOLUTION:
            raise InvalidInputError(f"the HugGAN FastGAN always makes {RESOLUTION}x{RESOLUTION} images")

    def width(self, size: int) -> int:
        return self.widths[SIZES.index(size)]

    @classmethod
    def from_shapes(cls, shapes: dict[str, tuple[int, ...]]) -> HugGANFastGANConfig:
        """latent_dim, channels and widths from the (spectral-normed) weight shapes."""
        first, last = shapes.get("_init._layers.0._conv.weight"), shapes.get("_out_1024.0._conv.weight")
        if first is None or last is None or len(first) != 4 or len(last) != 4:
            raise InvalidInputError("not a HugGAN FastGAN generator: _init / _out_1024 weights are missing")
        widths = [first[1] // 2]  # the transposed conv makes 2x the 4x4 width, halved by its GLU
        for size in SIZES[1:]:
            conv = shapes.get(f"_upsample_{size}._layers.1._conv.weight")
            if conv is None or len(conv) != 4:
                raise InvalidInputError(f"not a HugGAN FastGAN generator: the {size} px block is missing")
            widths.append(conv[0] // 2)
        return cls(channels=last[0], latent_dim=first[0], widths=tuple(widths))


class Conv(nn.Module):
    """Holds `_conv`, as the original's SpectralConv2d wrapper does, so tensor names line up."""

    def __init__(self, conv: nn.Module) -> None:
        super().__init__()
        self._conv = conv

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._conv(x)


class Noise(nn.Module):
    """x + weight * noise, the noise constant per layer (see gan.models.noise) unless given."""

    def __init__(self, index: int) -> None:
        super().__init__()
        self.index = index
        self._weight = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        if noise is None:
            noise = const_noise(self.index, x.shape[2], x.shape[3], x)
        return x + self._weight * noise


def conv3(c_in: int, c_out: int) -> Conv:
    return Conv(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False))


class UpBlock(nn.Module):
    """(B, c_in, s, s) -> (B, c_out, 2s, 2s): nearest upsample, conv, [noise], BatchNorm, GLU (twice for T2)."""

    def __init__(self, c_in: int, c_out: int, two_convs: bool, first_noise: int) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Upsample(scale_factor=2, mode="nearest"), conv3(c_in, c_out * 2)]
        if two_convs:
            layers += [Noise(first_noise), nn.BatchNorm2d(c_out * 2), nn.GLU(dim=1), conv3(c_out, c_out * 2)]
            layers += [Noise(first_noise + 1), nn.BatchNorm2d(c_out * 2), nn.GLU(dim=1)]
        else:
            layers += [nn.BatchNorm2d(c_out * 2), nn.GLU(dim=1)]
        self._layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, noise: list[torch.Tensor] | None = None) -> torch.Tensor:
        for layer in self._layers:
            x = layer(x, noise.pop(0)) if isinstance(layer, Noise) and noise else layer(x)
        return x


class Excitation(nn.Module):
    """Skip-layer excitation: fine * sigmoid(f(coarse)), f = pool to 4x4, 4x4 conv, SiLU, 1x1 conv."""

    def __init__(self, c_low: int, c_high: int) -> None:
        super().__init__()
        self._layers = nn.Sequential(
            nn.AdaptiveAvgPool2d(4),
            Conv(nn.Conv2d(c_low, c_high, 4, bias=False)),  # (B, c_high, 1, 1)
            nn.SiLU(),
            Conv(nn.Conv2d(c_high, c_high, 1, bias=False)),
            nn.Sigmoid(),
        )

    def forward(self, low: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
        return high * self._layers(low)


class HugGANFastGANGenerator(nn.Module):
    architecture = "huggan_fastgan"

    def __init__(self, config: HugGANFastGANConfig) -> None:
        super().__init__()
        self.config = config
        w = config.width
        self._init = nn.Module()  # keeps the original's `_init._layers` names
        self._init._layers = nn.Sequential(  # (B, Z, 1, 1) -> (B, w4, 4, 4)
            Conv(nn.ConvTranspose2d(config.latent_dim, w(4) * 2, 4, bias=False)),
            nn.BatchNorm2d(w(4) * 2),
            nn.GLU(dim=1),
        )
        noise = 0
        for size in SIZES[1:]:
            two = size in TWO_CONV_SIZES
            self.add_module(f"_upsample_{size}", UpBlock(w(size // 2), w(size), two, noise))
            noise += 2 if two else 0
        for size, low in SLE.items():
            self.add_module(f"_sle_{size}", Excitation(w(low), w(size)))
        self._out_1024 = nn.Sequential(Conv(nn.Conv2d(w(1024), config.channels, 3, padding=1, bias=False)), nn.Tanh())

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    def forward(self, z: torch.Tensor, noise: list[torch.Tensor] | None = None) -> torch.Tensor:
        """(B, Z) -> (B, C, 1024, 1024) in [-1, 1]. `noise`: one (B, 1, H, W) map per noise layer, in order."""
        noise = list(noise) if noise is not None else None
        features = {4: self._init._layers(z.reshape(z.shape[0], -1, 1, 1))}
        x = features[4]
        for size in SIZES[1:]:
            x = getattr(self, f"_upsample_{size}")(x, noise)
            if size in SLE:
                x = getattr(self, f"_sle_{size}")(features[SLE[size]], x)
            features[size] = x
        return self._out_1024(x)
