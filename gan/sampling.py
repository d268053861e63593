"""Seed-addressable sampling, truncation and latent interpolation.

Each seed owns its latent: z(seed) is drawn on the CPU from a generator seeded
with that seed alone, so image `seed` is the same whatever the batch it is in
and whatever device runs the network (families with noise inputs use constant
noise: see gan.models.noise). Truncation is psi in [0, 1] for every family: most
scale z towards its mean (zero); StyleGAN pulls w towards its tracked average
w_avg, inside the generator. Images can be shown smaller than the model makes
them (`size`): each batch is area-downsampled as it comes out, so a 1024 px
model's grid never holds its full-size images all at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from gan.config import GenerateConfig, InterpolateConfig, validate_seed, validate_truncation
from gan.device import pick_device
from gan.models import budget

ProgressFn = Callable[[int, int], None]  # (images done, images total)


def latent_for_seed(seed: int, latent_dim: int) -> torch.Tensor:
    """z ~ N(0, I) of shape (Z,), a pure function of the seed."""
    validate_seed(seed)
    rng = torch.Generator(device="cpu").manual_seed(seed)
    return torch.randn(latent_dim, generator=rng)


def latents_for_seeds(seeds: Sequence[int], latent_dim: int) -> torch.Tensor:
    """(B, Z) latents, row i for seeds[i]."""
    return torch.stack([latent_for_seed(seed, latent_dim) for seed in seeds])


def truncate(latents: torch.Tensor, psi: float) -> torch.Tensor:
    """Pull latents towards the mean latent (zero): psi=1 keeps them, psi=0 gives the mean.

    Trades diversity for typicality, like the truncation trick of BigGAN/StyleGAN.
    """
    return latents * validate_truncation(psi)


def truncates_in_w(generator: nn.Module) -> bool:
    """True for generators that truncate in their own latent space (StyleGAN's w): they take psi in forward()."""
    return bool(getattr(generator, "truncates_in_w", False))


def shrink(images: torch.Tensor, size: int) -> torch.Tensor:
    """Area-downsample (B, C, H, W) to (B, C, size, size); `size` 0 or at least H leaves them as they are."""
    if size <= 0 or size >= images.shape[-1]:
        return images
    return F.interpolate(images, size=(size, size), mode="area")


def _batch_size(generator: nn.Module, wanted: int) -> int:
    """Images per forward pass: `wanted`, fewer for models whose activations are large (gan.models.budget)."""
    cost = getattr(generator, "cost", None)
    if cost is None and hasattr(generator, "config"):
        cost = budget.measure(type(generator), generator.config)
        generator.cost = cost
    return cost.images_per_batch(wanted) if cost is not None else wanted


@torch.no_grad()
def render(
    generator: nn.Module,
    latents: torch.Tensor,
    device: str | torch.device | None = None,
    batch_size: int = 64,
    progress: ProgressFn | None = None,
    *,
    truncation: float = 1.0,
    size: int = 0,
) -> torch.Tensor:
    """Run the generator on (B, Z) latents in chunks; return (B, C, H, W) in [0, 1] on the CPU.

    `latents` are plain z. `truncation` psi is applied here: by the generator itself when it
    truncates in w (StyleGAN), else by scaling z (`truncate`). `size`: the images' side, area-
    downsampled batch by batch; 0 = the model's own resolution.
    """
    device = pick_device(device)
    generator = generator.to(device).eval()
    psi = validate_truncation(truncation)
    in_w = truncates_in_w(generator)
    if not in_w:
        latents = truncate(latents, psi)
    batch_size = _batch_size(generator, batch_size)
    outputs = []
    total = latents.shape[0]
    for start in range(0, total, batch_size):
        chunk = latents[start : start + batch_size].to(device)
        images = generator(chunk, truncation=psi) if in_w else generator(chunk)  # (b, C, H, W) in [-1, 1]
        outputs.append(shrink((images.float() + 1.0) / 2.0, size).cpu())
        if progress is not None:
            progress(min(start + batch_size, total), total)
    return torch.cat(outputs).clamp_(0.0, 1.0)


def generate(
    generator: nn.Module,
    config: GenerateConfig,
    device: str | torch.device | None = None,
    batch_size: int = 64,
    progress: ProgressFn | None = None,
) -> torch.Tensor:
    """Images for seeds config.seed .. config.seed+count-1: (count, C, H, W) in [0, 1].

    H = W = config.size when it is set and below the model's resolution, else the model's resolution.
    """
    latents = latents_for_seeds(config.seeds, generator.latent_dim)
    return render(generator, latents, device, batch_size, progress, truncation=config.truncation, size=config.size)


def lerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Straight line from a to b; t has shape (T,), result (T, Z)."""
    t = t[:, None]
    return (1.0 - t) * a[None] + t * b[None]


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation: keeps intermediate latents at a typical norm for a Gaussian prior."""
    a64, b64 = a.double(), b.double()
    cos = torch.dot(a64, b64) / (a64.norm() * b64.norm())
    omega = torch.arccos(cos.clamp(-1.0, 1.0))
    if omega.abs() < 1e-6:  # (anti)parallel: fall back to a line
        return lerp(a, b, t)
    t64 = t.double()[:, None]
    result = (torch.sin((1.0 - t64) * omega) * a64 + torch.sin(t64 * omega) * b64) / torch.sin(omega)
    return result.to(a.dtype)


def interpolation_latents(latent_dim: int, config: InterpolateConfig, truncated: bool = True) -> torch.Tensor:
    """(frames, Z) latents walking seed to seed; frame k*steps is exactly seed k's latent.

    `truncated`: scale them by config.truncation (False for generators that truncate in w themselves).
    """
    keys = latents_for_seeds(config.seeds, latent_dim)
    if config.loop:
        keys = torch.cat([keys, keys[:1]])
    step = lerp if config.method == "lerp" else slerp
    t = torch.arange(config.steps, dtype=torch.float32) / config.steps  # [0, 1): end point is the next key
    frames = [step(keys[i], keys[i + 1], t) for i in range(len(keys) - 1)]
    if not config.loop:
        frames.append(keys[-1:])
    walk = torch.cat(frames)
    return truncate(walk, config.truncation) if truncated else walk


def interpolate(
    generator: nn.Module,
    config: InterpolateConfig,
    device: str | torch.device | None = None,
    batch_size: int = 64,
    progress: ProgressFn | None = None,
) -> torch.Tensor:
    """Frames of a latent walk: (frames, C, H, W) in [0, 1], at config.size when set."""
    latents = interpolation_latents(generator.latent_dim, config, truncated=False)
    return render(generator, latents, device, batch_size, progress, truncation=config.truncation, size=config.size)
