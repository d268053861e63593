"""Device choice: CUDA, then Apple MPS, then CPU, unless the caller names one."""

from __future__ import annotations

import torch

from gan.errors import InvalidInputError


def pick_device(preferred: str | torch.device | None = None) -> torch.device:
    """Return `preferred` if given (and usable), else the best available device.

    `preferred` may be None or "auto" (choose), "cpu", "cuda", "cuda:N" or "mps".
    """
    if preferred is None or preferred == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(preferred)
    except (RuntimeError, TypeError) as error:
        raise InvalidInputError(f"unknown device {preferred!r}: use auto, cpu, cuda or mps") from error
    if device.type == "cuda" and not torch.cuda.is_available():
        raise InvalidInputError("device 'cuda' was asked for, but no CUDA GPU is available")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise InvalidInputError("device 'mps' was asked for, but Apple MPS is not available")
    return device
