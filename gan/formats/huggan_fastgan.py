"""HugGAN FastGAN (`huggan/fastgan-few-shot-*`): a bare generator state dict with old-style spectral norm.

Recognised by its tensor names (`_init._layers.0._conv.weight_orig`, `_out_1024.0._conv.weight_orig`).
Each spectral-normed weight becomes `weight_orig / sigma`, sigma = u . (W v) from the stored `weight_u`
and `weight_v`: what the original computes in eval mode. The second, 128 px output head is dropped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from gan.errors import InvalidInputError
from gan.formats.common import Loaded, RepoFiles, convert, expect_shapes, fail, load_tensors, read_header, state_of
from gan.models.huggan_fastgan import HugGANFastGANConfig

NAME = "huggan-fastgan"
MARKERS = {"_init._layers.0._conv.weight_orig", "_out_1024.0._conv.weight_orig"}
DROPPED = "_out_128."  # the 128 px head: its output is never shown


def match_keys(keys: set[str]) -> bool:
    return keys >= MARKERS


def _ours(state: dict[str, Any]) -> dict[str, Any]:
    """Source names -> this model's names: weight_orig -> weight; u, v and the 128 px head dropped."""
    out = {}
    for key, value in state.items():
        if key.startswith(DROPPED) or key.endswith(("weight_u", "weight_v")):
            continue
        out[key[: -len("_orig")] if key.endswith("weight_orig") else key] = value
    return out


def _normalised(files: RepoFiles, key: str, state: dict[str, torch.Tensor]) -> torch.Tensor:
    weight, u, v = state[key + "_orig"], state.get(key + "_u"), state.get(key + "_v")
    matrix = weight.transpose(0, 1) if key.startswith("_init.") else weight  # a transposed conv: out is dim 1
    matrix = matrix.reshape(matrix.shape[0], -1)
    if u is None or v is None or u.shape != (matrix.shape[0],) or v.shape != (matrix.shape[1],):
        raise fail(files, f"{key}: the spectral norm's weight_u / weight_v are missing or of the wrong size")
    sigma = torch.dot(u, matrix @ v)
    if not torch.isfinite(sigma) or sigma.abs() < 1e-12:
        raise fail(files, f"{key}: its spectral norm estimate is {sigma.item()}, so the weight cannot be scaled")
    return weight / sigma


def read(files: RepoFiles, weights: str, stage: Path, origin: dict[str, Any]) -> Loaded:
    header = state_of(read_header(files, weights, networks=1)) or {}
    found = {k: tuple(v.shape) for k, v in _ours(header).items()}
    try:
        config = HugGANFastGANConfig.from_shapes(found)
    except InvalidInputError as error:
        raise fail(files, f"{weights}: {error}") from error
    expect_shapes(files, "huggan_fastgan", config, found)
    source = state_of(load_tensors(files, weights)) or {}
    state = _ours(source)
    for key in [k for k in source if k.endswith("weight_orig") and not k.startswith(DROPPED)]:
        state[key[: -len("_orig")]] = _normalised(files, key[: -len("_orig")], source)
    metadata = {"converted_from": f"huggan-fastgan ({weights})", **{k: v for k, v in origin.items() if v}}
    convert(files, stage, "huggan_fastgan", config, state, metadata)
    return Loaded(NAME, weights)
