"""The generator of lucidrains' lightweight-gan, in the two layouts found on the Hub.

- "huggan": the HugGAN sprint's copy (huggingface/community-events `huggan/pytorch/lightweight_gan`),
  which the huggingnft models (`huggingnft/cryptopunks`, ...) were trained with: nearest upsampling
  and a 3x3 conv per block, linear attention only.
- "lucidrains-1.1": the package from release 1.1.0 to the current 1.2.x: a pixel-shuffle upsampler,
  a 4x4 "same" conv, a noise input per block, and attention that mixes linear and 3x3-local heads.

Tensor names are the originals' (`initial_conv.*`, `layers.<i>.0.*` ...) so the EMA generator's
weights (`GE.*` in their checkpoints) load strictly. An optional blur after upsampling (`antialias`)
shows in the weights as a stored filter.

z (B, Z) -> transposed conv to 4x4 -> GLU -> L2-normalised over channels -> one block per doubling,
each optionally preceded by attention (at the widths in `attn_res_layers`) and followed by a global
context (or frequency-channel) gate that scales the map four doublings later -> 3x3 conv. The
original generates in [0, 1]; this one returns 2x - 1 like every generator here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from gan.config import ModelConfig
from gan.errors import InvalidInputError
from gan.models.noise import const_noise

LAYOUTS = ("huggan", "lucidrains-1.1")
SLE_MAP = {3: 7, 4: 8, 5: 9, 6: 10}  # log2 size of the gate's source -> log2 size it scales
HEADS, DIM_HEAD = 8, 64  # the attention's fixed shape in both layouts


@dataclass(frozen=True)
class LightweightGANConfig(ModelConfig):
    """The original's generator arguments, plus which layout the weights use."""

    resolution: int = 256  # image_size: a power of two, 8..1024
    channels: int = 3  # 3, or 1 for greyscale models
    latent_dim: int = 256
    fmap_max: int = 512
    fmap_inverse_coef: int = 12  # features at 2^n px: 2^(coef - n), capped by fmap_max (3 from 256 px on)
    attn_res_layers: tuple[int, ...] = ()  # widths (px) whose block starts with attention
    freq_chan_attn: bool = False  # frequency-channel gates (FCANet) instead of global context
    antialias: bool = False  # a [1, 2, 1] blur after each upsampling
    layout: str = "lucidrains-1.1"

    label = "lightweight-gan"

    def __post_init__(self) -> None:
        object.__setattr__(self, "attn_res_layers", tuple(self.attn_res_layers))
        r = self.resolution
        if isinstance(r, bool) or not isinstance(r, int) or r < 8 or r > 1024 or r & (r - 1):
            raise InvalidInputError(f"resolution must be a power of two from 8 to 1024, got {r!r}")
        self.check_channels()
        self.check_sizes("latent_dim", "fmap_max")
        if isinstance(self.fmap_inverse_coef, bool) or not isinstance(self.fmap_inverse_coef, int):
            raise InvalidInputError(f"fmap_inverse_coef must be an integer, got {self.fmap_inverse_coef!r}")
        if not 7 <= self.fmap_inverse_coef <= 24:  # below 7 some block would get a fraction of a channel
            raise InvalidInputError(f"fmap_inverse_coef must be from 7 to 24, got {self.fmap_inverse_coef}")
        if any(isinstance(a, bool) or not isinstance(a, int) or a < 1 for a in self.attn_res_layers):
            raise InvalidInputError(f"attn_res_layers must be pixel widths, got {self.attn_res_layers!r}")
        if self.layout not in LAYOUTS:
            raise InvalidInputError(f"layout must be one of {', '.join(LAYOUTS)}, got {self.layout!r}")

    @property
    def features(self) -> list[int]:
        """Channels: the latent, then the output of each block (the original's `features`)."""
        log2 = int(math.log2(self.resolution))
        out = [3 if n >= 8 else min(2 ** (self.fmap_inverse_coef - n), self.fmap_max) for n in range(2, log2)]
        return [self.latent_dim, *out]


class ChanNorm(nn.Module):
    """Normalise over channels at each pixel, then a learnt scale and shift."""

    def __init__(self, dim: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.g = nn.Parameter(torch.ones(1, dim, 1, 1))
        self.b = nn.Parameter(torch.zeros(1, dim, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        var, mean = torch.var_mean(x, dim=1, unbiased=False, keepdim=True)
        return (x - mean) / (var + self.eps).sqrt() * self.g + self.b


class PreNorm(nn.Module):
    def __init__(self, dim: int, fn: nn.Module) -> None:
        super().__init__()
        self.fn = fn
        self.norm = ChanNorm(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(self.norm(x))


class DepthWiseConv(nn.Module):
    def __init__(self, dim_in: int, dim_out: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(dim_in, dim_in, 3, padding=1, groups=dim_in, bias=False),
            nn.Conv2d(dim_in, dim_out, 1, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def _heads(t: torch.Tensor) -> torch.Tensor:
    """(B, H*C, X, Y) -> (B*H, X*Y, C)."""
    b, _, x, y = t.shape
    return t.reshape(b * HEADS, -1, x * y).transpose(1, 2)


def _linear_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    """Softmax over features for q, over positions for k; O(N) in pixels. Returns (B, H*C, X, Y)."""
    q, k, v = _heads(q).softmax(dim=-1) * DIM_HEAD**-0.5, _heads(k).softmax(dim=-2), _heads(v)
    out = q @ (k.transpose(1, 2) @ v)  # (B*H, N, C)
    b, _, x, y = shape
    return out.transpose(1, 2).reshape(b, -1, x, y)


class LinearAttention(nn.Module):
    """The HugGAN copy's attention: linear attention, GELU, 1x1 conv."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        inner = HEADS * DIM_HEAD
        self.to_q = nn.Conv2d(dim, inner, 1, bias=False)
        self.to_kv = DepthWiseConv(dim, inner * 2)
        self.to_out = nn.Conv2d(inner, dim, 1)

    def forward(self, fmap: torch.Tensor) -> torch.Tensor:
        k, v = self.to_kv(fmap).chunk(2, dim=1)
        return self.to_out(F.gelu(_linear_attention(self.to_q(fmap), k, v, fmap.shape)))


class LinearAndLocalAttention(nn.Module):
    """lightweight-gan 1.1+: linear attention beside full attention over each pixel's 3x3 neighbourhood."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        inner = HEADS * DIM_HEAD
        self.to_lin_q = nn.Conv2d(dim, inner, 1, bias=False)
        self.to_lin_kv = DepthWiseConv(dim, inner * 2)
        self.to_q = nn.Conv2d(dim, inner, 1, bias=False)
        self.to_kv = nn.Conv2d(dim, inner * 2, 1, bias=False)
        self.to_out = nn.Conv2d(inner * 2, dim, 1)

    def forward(self, fmap: torch.Tensor) -> torch.Tensor:
        b, _, x, y = fmap.shape
        k, v = self.to_lin_kv(fmap).chunk(2, dim=1)
        linear = F.gelu(_linear_attention(self.to_lin_q(fmap), k, v, fmap.shape))

        q = self.to_q(fmap).reshape(b * HEADS, DIM_HEAD, x * y).transpose(1, 2) * DIM_HEAD**-0.5  # (BH, N, D)
        k, v = (t.reshape(b * HEADS, DIM_HEAD, x, y) for t in self.to_kv(fmap).chunk(2, dim=1))
        k, v = (F.unfold(t, 3, padding=1).reshape(b * HEADS, DIM_HEAD, 9, x * y).permute(0, 3, 2, 1) for t in (k, v))
        sim = torch.einsum("bnd,bnjd->bnj", q, k)  # (BH, N, 9): each pixel against its neighbours
        attn = (sim - sim.amax(dim=-1, keepdim=True)).softmax(dim=-1)
        local = torch.einsum("bnj,bnjd->bnd", attn, v).transpose(1, 2).reshape(b, -1, x, y)
        return self.to_out(torch.cat((linear, local), dim=1))


class GlobalContext(nn.Module):
    """A channel gate from attention-pooled features: (B, C, H, W) -> (B, C_out, 1, 1) in (0, 1)."""

    def __init__(self, chan_in: int, chan_out: int) -> None:
        super().__init__()
        self.to_k = nn.Conv2d(chan_in, 1, 1)
        hidden = max(3, chan_out // 2)
        self.net = nn.Sequential(
            nn.Conv2d(chan_in, hidden, 1), nn.LeakyReLU(0.1), nn.Conv2d(hidden, chan_out, 1), nn.Sigmoid()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        context = self.to_k(x).flatten(2).softmax(dim=-1)  # (B, 1, N)
        pooled = torch.einsum("bin,bcn->bci", context, x.flatten(2)).unsqueeze(-1)  # (B, C, 1, 1)
        return self.net(pooled)


def dct_weights(width: int, channels: int) -> torch.Tensor:
    """FCANet's fixed 2D DCT bases: 16 frequencies, each shared by a block of channels. (1, C, W, W)."""
    freqs = [(0, f) for f in range(8)] + [(f, 0) for f in range(8)]
    position = torch.arange(width, dtype=torch.float32) + 0.5

    def basis(freq: int) -> torch.Tensor:
        values = torch.cos(math.pi * freq * position / width) / math.sqrt(width)
        return values * (1.0 if freq == 0 else math.sqrt(2.0))

    weights = torch.zeros(1, channels, width, width)
    part = channels // len(freqs)
    for i, (u, v) in enumerate(freqs):
        weights[:, i * part : (i + 1) * part] = basis(u)[:, None] * basis(v)[None, :]
    return weights


class FCANet(nn.Module):
    """A channel gate from fixed DCT pooling instead of attention pooling."""

    def __init__(self, chan_in: int, chan_out: int, width: int) -> None:
        super().__init__()
        self.register_buffer("dct_weights", dct_weights(width, chan_in))
        hidden = max(3, chan_out // 4)
        self.net = nn.Sequential(
            nn.Conv2d(chan_in, hidden, 1), nn.LeakyReLU(0.1), nn.Conv2d(hidden, chan_out, 1), nn.Sigmoid()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net((x * self.dct_weights).sum(dim=(2, 3), keepdim=True))


class Blur(nn.Module):
    """The normalised [1, 2, 1] x [1, 2, 1] filter with reflected borders (kornia's filter2d defaults)."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("f", torch.tensor([1.0, 2.0, 1.0]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        kernel = self.f[None, :] * self.f[:, None]
        kernel = (kernel / kernel.abs().sum()).expand(x.shape[1], 1, 3, 3)
        return F.conv2d(F.pad(x, (1, 1, 1, 1), mode="reflect"), kernel, groups=x.shape[1])


class PixelShuffleUpsample(nn.Module):
    """(B, C, s, s) -> (B, C, 2s, 2s): 1x1 conv to 4C, SiLU, pixel shuffle."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(dim, dim * 4, 1), nn.SiLU(), nn.PixelShuffle(2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class Noise(nn.Module):
    def __init__(self, index: int) -> None:
        super().__init__()
        self.index = index
        self.weight = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        if noise is None:
            noise = const_noise(self.index, x.shape[2], x.shape[3], x)
        return x + self.weight * noise


def up_block(config: LightweightGANConfig, chan_in: int, chan_out: int, index: int) -> nn.Sequential:
    """(B, chan_in, s, s) -> (B, chan_out, 2s, 2s); positions match the original's Sequential."""
    blur = Blur() if config.antialias else nn.Identity()
    if config.layout == "huggan":
        conv: list[nn.Module] = [nn.Conv2d(chan_in, chan_out * 2, 3, padding=1)]
        return nn.Sequential(nn.Upsample(scale_factor=2), blur, *conv, nn.BatchNorm2d(chan_out * 2), nn.GLU(dim=1))
    same = nn.Sequential(nn.ZeroPad2d((2, 1, 2, 1)), nn.Conv2d(chan_in, chan_out * 2, 4))  # an even kernel, "same"
    return nn.Sequential(
        PixelShuffleUpsample(chan_in), blur, same, Noise(index), nn.BatchNorm2d(chan_out * 2), nn.GLU(dim=1)
    )


class LightweightGANGenerator(nn.Module):
    architecture = "lightweight_gan"

    def __init__(self, config: LightweightGANConfig) -> None:
        super().__init__()
        self.config = config
        z = config.latent_dim
        self.initial_conv = nn.Sequential(nn.ConvTranspose2d(z, z * 2, 4), nn.BatchNorm2d(z * 2), nn.GLU(dim=1))
        features = config.features
        self.log2_sizes = list(range(2, int(math.log2(config.resolution))))  # block i works at 2^(i+2) -> 2^(i+3)
        out_channels = dict(zip(self.log2_sizes, features[1:], strict=True))
        self.layers = nn.ModuleList()
        for index, (n, chan_in, chan_out) in enumerate(zip(self.log2_sizes, features[:-1], features[1:], strict=True)):
            attention = LinearAttention if config.layout == "huggan" else LinearAndLocalAttention
            attn = PreNorm(chan_in, attention(chan_in)) if 2**n in config.attn_res_layers else None
            sle = None
            if n in SLE_MAP and SLE_MAP[n] <= math.log2(config.resolution):
                gate_out = out_channels[SLE_MAP[n] - 1]
                sle = (
                    FCANet(chan_out, gate_out, 2 ** (n + 1))
                    if config.freq_chan_attn
                    else GlobalContext(chan_out, gate_out)
                )
            self.layers.append(nn.ModuleList([up_block(config, chan_in, chan_out, index), sle, attn]))
        self.out_conv = nn.Conv2d(features[-1], config.channels, 3, padding=1)

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    def forward(self, z: torch.Tensor, noise: list[torch.Tensor] | None = None) -> torch.Tensor:
        """(B, Z) -> (B, C, R, R) in [-1, 1]. `noise` (1.1+ layout): one (B, 1, H, W) map per block."""
        x = F.normalize(self.initial_conv(z[:, :, None, None]), dim=1)  # (B, Z, 4, 4)
        gates: dict[int, torch.Tensor] = {}
        for index, (n, (up, sle, attn)) in enumerate(zip(self.log2_sizes, self.layers, strict=True)):
            if attn is not None:
                x = attn(x) + x
            for layer in up:
                x = layer(x, noise[index]) if isinstance(layer, Noise) and noise is not None else layer(x)
            if sle is not None:
                gates[SLE_MAP[n]] = sle(x)
            if n + 1 in gates:
                x = x * gates[n + 1]
        return self.out_conv(x) * 2.0 - 1.0  # the original's [0, 1] -> [-1, 1]
