"""Smooth colour blobs: images a quality score must tell from real ones (tests/test_quality.py and
benchmarks/bench_quality.py use the same)."""

from __future__ import annotations

import torch


def smooth_blobs(count: int, channels: int, size: int, background: float, seed: int = 0) -> torch.Tensor:
    """(count, C, size, size) in [-1, 1]: three soft round blobs of random colour (white if grey) on a plain ground."""
    generator = torch.Generator().manual_seed(seed)
    ys, xs = torch.meshgrid(torch.linspace(0, 1, size), torch.linspace(0, 1, size), indexing="ij")
    images = torch.full((count, channels, size, size), float(background))
    for _ in range(3):
        cx, cy = (torch.rand(count, 1, 1, generator=generator) * 0.6 + 0.2 for _ in range(2))
        radius = torch.rand(count, 1, 1, generator=generator) * 0.15 + 0.08
        weight = torch.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * radius**2))[:, None]  # (count, 1, H, W)
        colour = torch.rand(count, channels, generator=generator) * 2 - 1 if channels == 3 else torch.ones(count, 1)
        images = images * (1 - weight) + colour[:, :, None, None] * weight
    return images.clamp(-1, 1)
