"""The npm emoji package for the tests that need real emoji: .ci/run fetches it once into the cache."""

from __future__ import annotations

import functools

import pytest
import torch

from gan.datasets.emoji import EmojiSet, find_package, load_emoji, npm_available


@functools.cache
def _package_found() -> bool:
    try:
        find_package(fetch=False)
        return True
    except Exception:
        return False


def emoji_or_skip(resolution: int = 32, split: str = "train") -> EmojiSet:
    """The emoji of `split`, fetched with npm when missing; skipped only when npm itself is missing."""
    if not _package_found() and not npm_available():
        pytest.skip("npm is not installed: these tests need the npm package emoji-datasource-google")
    return load_emoji(resolution, split)


def shuffled(images: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """Emoji come sorted by category: shuffle before splitting them into sets of one distribution."""
    return images[torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))]
