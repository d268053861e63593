"""The StyleGAN2(-ADA) generator (Karras et al., 2020), in plain PyTorch, for NVlabs' `.pkl` weights.

Tensor names follow NVlabs' `G_ema` (`mapping.fc0.weight`, `synthesis.b4.const`,
`synthesis.b8.conv0.affine.weight`, ...) so its weights load strictly once gan.formats.stylegan
has read them out of the pickle as data. Only the "skip" synthesis architecture of the ADA
configs is built; conditional models (c_dim > 0) are refused before they get here.

Mapping: z (B, Z) -> normalised to unit second moment -> `mapping_layers` equalised-lr FC layers
with leaky ReLU -> w (B, W). Truncation pulls w towards the tracked average `w_avg`.
Synthesis: a learnt 4x4 constant, then per doubling: an upsampling modulated 3x3 conv (a
transposed conv followed by the [1, 3, 3, 1] FIR filter), a modulated 3x3 conv, each with
demodulation, a constant noise map times a learnt strength, bias, leaky ReLU and a clamp; a 1x1
ToRGB per block, its output added to the FIR-upsampled image of the block before ("skip").
Equalised learning rate: stored weights are scaled by 1/sqrt(fan_in) when used, as in the original.
Noise is the checkpoint's own constant map ("const" mode), so a seed always gives the same image.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from gan.config import ModelConfig
from gan.errors import InvalidInputError

LRELU_GAIN = math.sqrt(2.0)  # keeps the activations' variance through a leaky ReLU of slope 0.2


@dataclass(frozen=True)
class StyleGAN2Config(ModelConfig):
    """G_ema's constructor arguments (NVlabs names in comments)."""

    resolution: int = 256  # img_resolution: a power of two, 8..1024
    channels: int = 3  # img_channels
    latent_dim: int = 512  # z_dim
    w_dim: int = 512
    mapping_layers: int = 8  # mapping_kwargs.num_layers
    mapping_lr_multiplier: float = 0.01  # mapping_kwargs.lr_multiplier: scales the mapping's weights and biases
    channel_base: int = 32768  # feature channels at size s: min(channel_base // s, channel_max)
    channel_max: int = 512
    conv_clamp: float | None = None  # synthesis outputs are clamped to +-this (256 in the ADA configs)
    resample_filter: tuple[int, ...] = (1, 3, 3, 1)

    label = "StyleGAN2"

    def __post_init__(self) -> None:
        object.__setattr__(self, "resample_filter", tuple(self.resample_filter))
        r = self.resolution
        if isinstance(r, bool) or not isinstance(r, int) or r < 8 or r > 1024 or r & (r - 1):
            raise InvalidInputError(f"resolution must be a power of two from 8 to 1024, got {r!r}")
        self.check_channels()
        self.check_sizes("latent_dim", "w_dim", "channel_max")
        if isinstance(self.mapping_layers, bool) or not isinstance(self.mapping_layers, int):
            raise InvalidInputError(f"mapping_layers must be an integer, got {self.mapping_layers!r}")
        if not 1 <= self.mapping_layers <= 16:
            raise InvalidInputError(f"mapping_layers must be from 1 to 16, got {self.mapping_layers}")
        if not isinstance(self.channel_base, int) or not 1 <= self.channel_base <= 1 << 20:
            raise InvalidInputError(f"channel_base must be an integer from 1 to {1 << 20}, got {self.channel_base!r}")
        for name in ("mapping_lr_multiplier", "conv_clamp"):
            value = getattr(self, name)
            if value is None and name == "conv_clamp":
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1e6:
                raise InvalidInputError(f"{name} must be a positive number, got {value!r}")
        if not 1 <= len(self.resample_filter) <= 8 or not all(isinstance(t, int) for t in self.resample_filter):
            raise InvalidInputError(f"resample_filter must be 1 to 8 integer taps, got {self.resample_filter!r}")

    def width(self, size: int) -> int:
        return min(self.channel_base // size, self.channel_max)


def fir_filter(taps: tuple[int, ...]) -> torch.Tensor:
    """The 2D low-pass filter of 1D taps, normalised to unit DC gain: (K, K). Stored in checkpoints as such."""
    f = torch.tensor(taps, dtype=torch.float32)
    f = torch.outer(f, f)
    return f / f.sum()


def upfirdn(x: torch.Tensor, f: torch.Tensor, up: int = 1, pad: tuple[int, int, int, int] = (0, 0, 0, 0),
            gain: float = 1.0) -> torch.Tensor:  # fmt: skip
    """Upsample by inserting zeros, pad (left, right, top, bottom; negative crops), convolve with `f`."""
    b, c, h, w = x.shape
    if up > 1:  # (B, C, H, W) -> (B, C, H*up, W*up), the original pixels at the top-left of each cell
        x = F.pad(x.reshape(b, c, h, 1, w, 1), (0, up - 1, 0, 0, 0, up - 1)).reshape(b, c, h * up, w * up)
    x = F.pad(x, [max(p, 0) for p in pad])
    x = x[:, :, max(-pad[2], 0) : x.shape[2] - max(-pad[3], 0), max(-pad[0], 0) : x.shape[3] - max(-pad[1], 0)]
    kernel = (f * gain).flip([0, 1]).to(x.dtype)  # a true convolution
    column, row = kernel.sum(dim=1, keepdim=True), kernel.sum(dim=0, keepdim=True)
    # A separable filter (all of StyleGAN's are) runs as two 1D passes: K + K taps instead of K * K.
    if not kernel.is_meta and torch.allclose(column @ row / kernel.sum(), kernel):
        x = F.conv2d(x, (row / row.sum() * kernel.sum()).expand(c, 1, 1, -1), groups=c)
        return F.conv2d(x, (column / column.sum()).expand(c, 1, -1, 1), groups=c)
    return F.conv2d(x, kernel.expand(c, 1, *f.shape), groups=c)


def bias_act(x: torch.Tensor, bias: torch.Tensor | None, lrelu: bool, clamp: float | None) -> torch.Tensor:
    """(x + bias), leaky ReLU times its gain, clamp; in place on `x`, a fresh intermediate of the caller's."""
    if bias is not None:
        x = x.add_(bias.reshape(1, -1, *([1] * (x.ndim - 2))))
    if lrelu:
        x = F.leaky_relu_(x, 0.2).mul_(LRELU_GAIN)
    return x.clamp_(-clamp, clamp) if clamp is not None else x


class FullyConnected(nn.Module):
    """An equalised-learning-rate linear layer: y = x (W * lr / sqrt(in))^T + b * lr."""

    def __init__(self, c_in: int, c_out: int, lr_multiplier: float = 1.0, lrelu: bool = False) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(c_out, c_in) / lr_multiplier)
        self.bias = nn.Parameter(torch.zeros(c_out))
        self.weight_gain = lr_multiplier / math.sqrt(c_in)
        self.bias_gain = lr_multiplier
        self.lrelu = lrelu

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x @ (self.weight * self.weight_gain).t()
        return bias_act(x, self.bias * self.bias_gain, self.lrelu, None)


class MappingNetwork(nn.Module):
    def __init__(self, config: StyleGAN2Config) -> None:
        super().__init__()
        widths = [config.latent_dim] + [config.w_dim] * config.mapping_layers
        for i in range(config.mapping_layers):
            layer = FullyConnected(widths[i], widths[i + 1], config.mapping_lr_multiplier, lrelu=True)
            self.add_module(f"fc{i}", layer)
        self.num_layers = config.mapping_layers
        self.register_buffer("w_avg", torch.zeros(config.w_dim))  # the average w over training: truncation's centre

    def forward(self, z: torch.Tensor, truncation: float = 1.0) -> torch.Tensor:
        x = z * (z.square().mean(dim=1, keepdim=True) + 1e-8).rsqrt()  # (B, Z), unit second moment
        for i in range(self.num_layers):
            x = getattr(self, f"fc{i}")(x)
        return self.w_avg.lerp(x, truncation) if truncation != 1 else x  # (B, W)


class SynthesisLayer(nn.Module):
    """Modulated 3x3 conv (upsampling when up=2), demodulated, plus constant noise, bias, leaky ReLU."""

    def __init__(self, config: StyleGAN2Config, c_in: int, c_out: int, resolution: int, up: int) -> None:
        super().__init__()
        self.up = up
        self.clamp = config.conv_clamp
        self.register_buffer("resample_filter", fir_filter(config.resample_filter))
        self.affine = FullyConnected(config.w_dim, c_in)  # w -> per-input-channel styles
        self.weight = nn.Parameter(torch.randn(c_out, c_in, 3, 3))
        self.register_buffer("noise_const", torch.randn(resolution, resolution))
        self.noise_strength = nn.Parameter(torch.zeros([]))
        self.bias = nn.Parameter(torch.zeros(c_out))

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        styles = self.affine(w)  # (B, c_in)
        # Modulate the input instead of the weights (same result), so the batch shares one convolution.
        x = x * styles[:, :, None, None]
        if self.up == 1:
            x = F.conv2d(x, self.weight, padding=1)
        else:  # a true convolution of the 2x zero-upsampled input: (B, c, s, s) -> (B, c', 2s+1, 2s+1) -> FIR
            x = F.conv_transpose2d(x, self.weight.transpose(0, 1), stride=2)
            x = upfirdn(x, self.resample_filter, pad=(1, 1, 1, 1), gain=4)
        # Demodulate: scale each output channel to unit expected magnitude for this image's styles.
        demod = (styles.square() @ self.weight.square().sum(dim=(2, 3)).t() + 1e-8).rsqrt()  # (B, c_out)
        noise_and_bias = self.noise_const * self.noise_strength + self.bias[:, None, None]  # (c_out, s, s)
        return bias_act(torch.addcmul(noise_and_bias, x, demod[:, :, None, None]), None, True, self.clamp)


class ToRGB(nn.Module):
    def __init__(self, config: StyleGAN2Config, c_in: int) -> None:
        super().__init__()
        self.clamp = config.conv_clamp
        self.affine = FullyConnected(config.w_dim, c_in)
        self.weight = nn.Parameter(torch.randn(config.channels, c_in, 1, 1))
        self.bias = nn.Parameter(torch.zeros(config.channels))
        self.weight_gain = 1 / math.sqrt(c_in)

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        styles = self.affine(w) * self.weight_gain  # (B, c_in), no demodulation for the image
        return bias_act(F.conv2d(x * styles[:, :, None, None], self.weight), self.bias, False, self.clamp)


class SynthesisBlock(nn.Module):
    """One resolution: (x at s/2, image at s/2) -> (x at s, image at s)."""

    def __init__(self, config: StyleGAN2Config, resolution: int) -> None:
        super().__init__()
        self.first = resolution == 4
        c_out = config.width(resolution)
        self.register_buffer("resample_filter", fir_filter(config.resample_filter))
        if self.first:
            self.const = nn.Parameter(torch.randn(c_out, 4, 4))
        else:
            self.conv0 = SynthesisLayer(config, config.width(resolution // 2), c_out, resolution, up=2)
        self.conv1 = SynthesisLayer(config, c_out, c_out, resolution, up=1)
        self.torgb = ToRGB(config, c_out)

    def forward(self, x: torch.Tensor | None, image: torch.Tensor | None, w: torch.Tensor):
        x = self.const.unsqueeze(0).expand(w.shape[0], -1, -1, -1) if x is None else self.conv0(x, w)
        x = self.conv1(x, w)
        rgb = self.torgb(x, w)
        if image is not None:  # FIR-upsample the image so far and add this block's detail
            rgb = rgb + upfirdn(image, self.resample_filter, up=2, pad=(2, 1, 2, 1), gain=4)
        return x, rgb


class SynthesisNetwork(nn.Module):
    def __init__(self, config: StyleGAN2Config) -> None:
        super().__init__()
        self.resolutions = [2**i for i in range(2, int(math.log2(config.resolution)) + 1)]
        for resolution in self.resolutions:
            self.add_module(f"b{resolution}", SynthesisBlock(config, resolution))

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        x = image = None
        for resolution in self.resolutions:  # one w for every layer: no style mixing here
            x, image = getattr(self, f"b{resolution}")(x, image, w)
        return image


class StyleGAN2Generator(nn.Module):
    architecture = "stylegan2"
    truncates_in_w = True  # gan.sampling hands psi to forward() instead of scaling z

    def __init__(self, config: StyleGAN2Config) -> None:
        super().__init__()
        self.config = config
        self.synthesis = SynthesisNetwork(config)
        self.mapping = MappingNetwork(config)

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    def forward(self, z: torch.Tensor, truncation: float = 1.0) -> torch.Tensor:
        """(B, Z) -> (B, C, R, R), about [-1, 1]; `truncation` psi pulls w towards w_avg."""
        return self.synthesis(self.mapping(z, truncation))
