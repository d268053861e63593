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

from gan.errors import CheckpointError, InvalidInputError, one_line
from gan.models import budget, build_discriminator, build_generator, get_architecture

FORMAT = "gan-studio/1"
CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
DISCRIMINATOR_DIR = "discriminator"
MAX_CONFIG_BYTES = 1 << 20  # a config.json larger than 1 MiB is not a config
MAX_JSON_DEPTH = 32  # configs, source.json and markers nest 4 or 5 levels; deeper is not ours, nor worth walking
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
    document = parse_json(path.read_bytes(), str(path))
    if not isinstance(document, dict) or not isinstance(document.get("model"), dict):
        raise CheckpointError(f"{path} has no 'model' section: not a gan-studio config")
    if document.get("format") != FORMAT:
        raise CheckpointError(f"{path} has format {one_line(repr(document.get('format')), 60)}; expected {FORMAT!r}")
    name = document.get("architecture")
    if not isinstance(name, str):
        raise CheckpointError(f"{path}: 'architecture' must be a name like \"dcgan\", got {one_line(repr(name), 60)}")
    architecture = get_architecture(one_line(name, 60))
    try:
        config = architecture.config_class.from_dict(document["model"])
    except (InvalidInputError, TypeError) as error:
        raise CheckpointError(f"{path} describes an invalid model: {one_line(error)}") from error
    metadata = document.get("metadata") or {}
    return architecture.name, config, metadata if isinstance(metadata, dict) else {}


def has_our_config(folder: str | Path) -> bool:
    """Does `folder` hold a config.json in GAN studio's format (whatever else is in it, and whether it loads)?"""
    path = Path(folder) / CONFIG_NAME
    try:
        document = parse_json(path.read_bytes(), CONFIG_NAME) if path.stat().st_size <= MAX_CONFIG_BYTES else None
    except (OSError, CheckpointError):
        return False
    return isinstance(document, dict) and document.get("format") == FORMAT


def parse_json(data: bytes | str, label: str) -> Any:
    """JSON from a file anyone may have written: UTF-8, at most MAX_JSON_DEPTH levels deep, numbers of at most
    4300 digits (Python's limit). Anything else is a CheckpointError naming `label`, never a RecursionError."""
    try:
        value = json.loads(data.decode("utf-8") if isinstance(data, bytes) else data)
    except RecursionError:  # the decoder recurses once per level: a 1 MB file can nest 500,000 deep
        raise CheckpointError(f"{label} is nested more than {MAX_JSON_DEPTH} levels deep: not a config") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CheckpointError(f"{label} is not valid JSON ({one_line(error, 120)})") from None
    except ValueError:  # an integer longer than sys.get_int_max_str_digits()
        raise CheckpointError(f"{label} is not a config: it holds a number thousands of digits long") from None
    if _json_depth(value) > MAX_JSON_DEPTH:
        raise CheckpointError(f"{label} is nested more than {MAX_JSON_DEPTH} levels deep: not a config")
    return value


def _json_depth(value: Any) -> int:
    """How many containers deep `value` goes, walked without recursion (and no further than MAX_JSON_DEPTH + 1)."""
    deepest, pending = 0, [(value, 1)]
    while pending and deepest <= MAX_JSON_DEPTH:
        item, level = pending.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is not None:
            deepest = max(deepest, level)
            pending.extend((child, level + 1) for child in children)
    return deepest


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


def load_checkpoint(folder: str | Path, with_discriminator: bool = False, trusted: bool = False) -> Checkpoint:
    """Load a checkpoint folder onto the CPU, in eval mode. `trusted`: one that ships with the app (gan.zoo), whose
    config needs no cost check before building (gan.models.budget)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CheckpointError(f"checkpoint folder {folder} does not exist")
    architecture, config, metadata = read_config(folder)
    try:
        generator = build_generator(architecture, config, initialise=False, trusted=trusted)  # see gan.models.budget
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
