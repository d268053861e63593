"""GAN studio's own format: config.json ({"format": "gan-studio/1", ...}) + model.safetensors [+ discriminator/].

The config is read first and the model it describes is measured against the budget before the
weights are fetched; the files are then copied as they are (gan.hub loads them strictly to validate).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from gan.checkpoint import CONFIG_NAME, DISCRIMINATOR_DIR, FORMAT, MAX_CONFIG_BYTES, WEIGHTS_NAME, read_config
from gan.errors import CheckpointError, InvalidInputError
from gan.formats.common import Loaded, RepoFiles, fail, read_json, weights_limit
from gan.models import budget, get_architecture

NAME = "gan-studio"


def match(files: RepoFiles) -> str | None:
    if CONFIG_NAME not in files.sizes or read_json(files, CONFIG_NAME).get("format") != FORMAT:
        return None
    if WEIGHTS_NAME not in files.sizes:
        raise fail(files, f"{CONFIG_NAME} is a GAN studio config, but there is no {WEIGHTS_NAME}")
    return WEIGHTS_NAME


def read(files: RepoFiles, weights: str, stage: Path, origin: dict[str, Any]) -> Loaded:
    config_path = files.fetch(CONFIG_NAME, limit=MAX_CONFIG_BYTES)
    try:
        architecture, config, _ = read_config(config_path.parent)
        arch = get_architecture(architecture)
        budget.check(arch.generator_class, config)
        if arch.discriminator_class is not None:
            budget.check(arch.discriminator_class, config, role="discriminator")
    except (CheckpointError, InvalidInputError) as error:
        detail = str(error).replace(str(config_path), CONFIG_NAME)
        raise fail(files, detail) from error
    shutil.copyfile(config_path, stage / CONFIG_NAME)
    shutil.copyfile(files.fetch(WEIGHTS_NAME, limit=weights_limit(files, 1)), stage / WEIGHTS_NAME)
    d_config, d_weights = f"{DISCRIMINATOR_DIR}/{CONFIG_NAME}", f"{DISCRIMINATOR_DIR}/{WEIGHTS_NAME}"
    if d_config in files.sizes and d_weights in files.sizes:
        (stage / DISCRIMINATOR_DIR).mkdir()
        shutil.copyfile(files.fetch(d_config, limit=MAX_CONFIG_BYTES), stage / d_config)
        shutil.copyfile(files.fetch(d_weights, limit=weights_limit(files, 1)), stage / d_weights)
    return Loaded(NAME, WEIGHTS_NAME)
