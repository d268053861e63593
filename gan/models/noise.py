"""Fixed noise inputs, so that a family whose layers add random noise still follows the seed contract.

StyleGAN keeps a constant noise map per layer in its weights; lightweight-gan and FastGAN draw fresh
noise at every call, so the same seed would give a different image each time. Here every noise layer
gets its own constant map instead: drawn once from a CPU generator seeded with the layer's index, the
same for every image, every batch and every device (as StyleGAN's `noise_mode="const"`). A latent walk
then changes only with the latent. Tests pass explicit noise to compare with the original code.
"""

from __future__ import annotations

import torch

NOISE_SEED = 20_240  # the first layer's noise seed; layer k uses NOISE_SEED + k


def const_noise(layer: int, height: int, width: int, like: torch.Tensor) -> torch.Tensor:
    """(1, 1, H, W) standard normal noise for noise layer `layer`, on `like`'s device and dtype."""
    if like.is_meta:  # measuring a network's cost: shapes only
        return torch.empty(1, 1, height, width, device="meta", dtype=like.dtype)
    rng = torch.Generator(device="cpu").manual_seed(NOISE_SEED + layer)
    return torch.randn(1, 1, height, width, generator=rng).to(device=like.device, dtype=like.dtype)
