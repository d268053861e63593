"""Checkpoints on disk: `config.json` + `model.safetensors`, never pickles.

A checkpoint folder holds the generator at its root and, optionally, the
discriminator in `discriminator/` (same two files), so a pair can be fine-tuned
further. `config.json` looks like::

    {"format": "gan-studio/1", "architecture": "dcgan",
     "model": {...DCGANConfig...}, "metadata": {...free-form: training record...}}

Loading is strict: every tensor name and shape must match the architecture the
config describes, so a wrong or truncated file fails loudly with CheckpointError.
The model a config describes is measured first (gan.models.budget, on the meta
device): a config asking for an absurd network is refused before anything is built.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from gan.errors import CheckpointError, InvalidInputError
from gan.models import budget, build_discriminator, build_generator, get_architecture

FORMAT = "gan-studio/1"
CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
DISCRIMINATOR_DIR = "discriminator"
MAX_CONFIG_BYTES = 1 << 20  # a config.json larger than 1 MiB is not a config
MAX_WEIGHTS_BYTES = budget.MAX_NETWORK_BYTES  # one network within the parameter budget, in float32


@dataclass
class Checkpoint:
    """A loaded generator (and maybe discriminator) with its config and metadata."""

    architecture: str
    config: Any  # the architecture's config dataclass
    generator: nn.Module  # in eval mode, on CPU
    discriminator: nn.Module | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    source: str = ""  # where it came from: a path, a repo id

    @property
    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.generator.parameters())

    def describe(self) -> str:
        c = self.config
        shape = f"{c.resolution}x{c.resolution}, {'RGB' if c.channels == 3 else 'greyscale'}"
        return f"{self.architecture} {shape}, latent {c.latent_dim}, {self.parameter_count / 1e6:.2f}M parameters"


def save_checkpoint(
    folder: str | Path,
    architecture: str,
    config: Any,
    generator: nn.Module,
    discriminator: nn.Module | None = None,
    metadata: dict[str, Any] | None = None,
) -> Path:
    """Write the checkpoint folder and return its path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    _write_one(folder, architecture, config, generator, metadata or {})
    if discriminator is not None:
        _write_one(folder / DISCRIMINATOR_DIR, architecture, config, discriminator, {"role": "discriminator"})
    return folder


def _write_one(folder: Path, architecture: str, config: Any, module: nn.Module, metadata: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    state = {name: tensor.detach().cpu().contiguous() for name, tensor in module.state_dict().items()}
    save_file(state, str(folder / WEIGHTS_NAME), metadata={"format": FORMAT, "architecture": architecture})
    document = {"format": FORMAT, "architecture": architecture, "model": config.to_dict(), "metadata": metadata}
    (folder / CONFIG_NAME).write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")


def read_config(folder: str | Path) -> tuple[str, Any, dict[str, Any]]:
    """Parse and validate `config.json`: (architecture, config dataclass, metadata)."""
    path = Path(folder) / CONFIG_NAME
    if not path.is_file():
        raise CheckpointError(f"no {CONFIG_NAME} in {folder}: not a checkpoint folder")
    if path.stat().st_size > MAX_CONFIG_BYTES:
        raise CheckpointError(f"{path} is larger than {MAX_CONFIG_BYTES} bytes: not a config")
    try:
        document = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CheckpointError(f"{path} is not valid JSON: {error}") from error
    if not isinstance(document, dict) or not isinstance(document.get("model"), dict):
        raise CheckpointError(f"{path} has no 'model' section: not a gan-studio config")
    if document.get("format") != FORMAT:
        raise CheckpointError(f"{path} has format {document.get('format')!r}; expected {FORMAT!r}")
    architecture = get_architecture(str(document.get("architecture")))
    try:
        config = architecture.config_class.from_dict(document["model"])
    except (InvalidInputError, TypeError) as error:
        raise CheckpointError(f"{path} describes an invalid model: {error}") from error
    metadata = document.get("metadata") or {}
    return architecture.name, config, metadata if isinstance(metadata, dict) else {}


def load_state_dict_strict(module: nn.Module, weights_path: Path) -> None:
    """Load safetensors into `module`, requiring the exact tensor names and shapes."""
    if not weights_path.is_file():
        raise CheckpointError(f"missing weights file {weights_path}")
    if weights_path.stat().st_size > MAX_WEIGHTS_BYTES:
        raise CheckpointError(f"{weights_path} is larger than {MAX_WEIGHTS_BYTES >> 20} MB; refusing to load it")
    try:
        state = load_file(str(weights_path), device="cpu")
    except (SafetensorError, OSError, ValueError) as error:
        raise CheckpointError(f"{weights_path} is not a readable safetensors file: {error}") from error
    expected = module.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        raise CheckpointError(
            f"{weights_path} does not match the config: "
            f"{len(missing)} missing tensors {missing[:3]}, {len(unexpected)} unexpected {unexpected[:3]}"
        )
    for name, tensor in state.items():
        if tensor.shape != expected[name].shape:
            raise CheckpointError(
                f"{weights_path}: tensor {name} has shape {tuple(tensor.shape)}, "
                f"the config needs {tuple(expected[name].shape)}"
            )
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise CheckpointError(f"{weights_path}: tensor {name} holds NaN or infinite values")
    module.load_state_dict(state, strict=True)


def load_checkpoint(folder: str | Path, with_discriminator: bool = False) -> Checkpoint:
    """Load a checkpoint folder onto the CPU, in eval mode."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CheckpointError(f"checkpoint folder {folder} does not exist")
    architecture, config, metadata = read_config(folder)
    try:
        generator = build_generator(architecture, config, initialise=False)  # measured first: see gan.models.budget
    except InvalidInputError as error:
        raise CheckpointError(f"{folder / CONFIG_NAME}: {error}") from error
    load_state_dict_strict(generator, folder / WEIGHTS_NAME)
    generator.eval().requires_grad_(False)
    discriminator = None
    if with_discriminator and (folder / DISCRIMINATOR_DIR / WEIGHTS_NAME).is_file():
        d_architecture, d_config, _ = read_config(folder / DISCRIMINATOR_DIR)
        if (d_architecture, d_config) != (architecture, config):
            raise CheckpointError(f"{folder}: the discriminator's config differs from the generator's")
        try:
            discriminator = build_discriminator(architecture, config)
        except InvalidInputError as error:
            raise CheckpointError(f"{folder / DISCRIMINATOR_DIR / CONFIG_NAME}: {error}") from error
        load_state_dict_strict(discriminator, folder / DISCRIMINATOR_DIR / WEIGHTS_NAME)
        discriminator.eval()
    return Checkpoint(architecture, config, generator, discriminator, metadata, source=str(folder))
