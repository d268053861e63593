"""The HugGAN sprint's DCGAN: `pytorch_model.bin` or `model.safetensors` with `model.0.weight` ... `model.12.weight`.

Recognised by its tensor names; its shape (channels, latent size, width) is read off the weights'
header, and a config.json, when the repo has one, must agree with it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from gan.checkpoint import CONFIG_NAME
from gan.errors import InvalidInputError
from gan.formats.common import (
    Loaded,
    RepoFiles,
    convert,
    expect_shapes,
    fail,
    load_tensors,
    read_header,
    read_json,
    shapes,
    state_of,
)
from gan.models.huggan_dcgan import HugGANDCGANConfig, looks_like_huggan_dcgan

NAME = "huggan-dcgan"
CONFIG_KEYS = {"num_channels": "channels", "latent_dim": "latent_dim", "hidden_size": "hidden_size"}  # theirs: ours


def match_keys(keys: set[str]) -> bool:
    return looks_like_huggan_dcgan(keys)


def read(files: RepoFiles, weights: str, stage: Path, origin: dict[str, Any]) -> Loaded:
    header = state_of(read_header(files, weights, networks=1)) or {}
    try:
        config = HugGANDCGANConfig.from_state_dict(header)
    except InvalidInputError as error:
        raise fail(files, f"{weights}: {error}") from error
    found = shapes(header)
    for key, _shape in list(found.items()):  # very old BatchNorm checkpoints lack the step counter
        if key.endswith(".running_mean") and key.replace("running_mean", "num_batches_tracked") not in found:
            found[key.replace("running_mean", "num_batches_tracked")] = ()
    json_config = read_json(files, CONFIG_NAME) if CONFIG_NAME in files.sizes else {}
    for theirs, ours in CONFIG_KEYS.items():  # a config.json, when present, must agree with the weights
        if theirs in json_config and json_config[theirs] != getattr(config, ours):
            raise fail(files, f"{CONFIG_NAME} does not match the weights: it says {theirs}={json_config[theirs]!r}, "
                              f"the weights have {getattr(config, ours)}")  # fmt: skip
    expect_shapes(files, "huggan_dcgan", config, found)
    state = dict(state_of(load_tensors(files, weights)) or {})
    for key in found:
        state.setdefault(key, torch.zeros((), dtype=torch.long))
    metadata = {"converted_from": f"huggan-dcgan ({weights})", **{k: v for k, v in origin.items() if v}}
    convert(files, stage, "huggan_dcgan", config, state, metadata)
    return Loaded(NAME, weights)
