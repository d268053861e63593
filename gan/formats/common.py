"""What every format reader shares: the files it reads, size limits, tensor headers, the final conversion.

A reader sees a repo through `RepoFiles` (names and sizes up front, contents fetched on demand with a
size limit, from the Hub or a folder; gan.hub provides it). It decides from names, small JSON files
and tensor-shape headers, checks the model's cost (gan.models.budget) and the tensors' names and
shapes against the architecture on the meta device, and only then loads tensors and writes a GAN
studio folder (config.json + model.safetensors) with `convert`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import torch

from gan.checkpoint import MAX_CONFIG_BYTES, parse_json, save_checkpoint
from gan.errors import CheckpointError, InvalidInputError
from gan.formats.pickles import TensorInfo, UnsafePickle, load_torch, read_torch_header
from gan.models import budget, build_generator, get_architecture

TORCH_PICKLES = (".bin", ".pt", ".pth", ".ckpt")  # PyTorch zip checkpoints: header first, then weights_only


class RepoFiles(Protocol):
    label: str  # "owner/name[@rev]" or a folder, for messages
    sizes: dict[str, int | None]  # every file's size as announced (None: unknown)
    max_bytes: int  # the caller's limit for any one file

    def fetch(self, name: str, limit: int | None = None) -> Path: ...


@dataclass
class Loaded:
    """What a reader made of a repo: its family, the file the generator came from, notes for source.json."""

    family: str
    weights: str
    notes: dict[str, Any] = field(default_factory=dict)


def fail(files: RepoFiles, message: str) -> CheckpointError:
    return CheckpointError(f"{files.label}: {message}")


def natural_key(name: str) -> list[Any]:
    """model_10.pt after model_2.pt."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def read_json(files: RepoFiles, name: str) -> dict[str, Any]:
    path = files.fetch(name, limit=MAX_CONFIG_BYTES)
    try:
        data = parse_json(path.read_bytes(), name)
    except CheckpointError as error:
        raise fail(files, str(error)) from error
    if not isinstance(data, dict):
        raise fail(files, f"{name} is not a JSON object")
    return data


def weights_limit(files: RepoFiles, networks: int) -> int:
    """The largest file a family storing `networks` networks may have, within the caller's own limit."""
    return min(files.max_bytes, budget.max_file_bytes(networks))


def read_header(files: RepoFiles, name: str, networks: int) -> Any:
    """A weights file's structure with TensorInfo leaves (shapes, no data); the file is fetched within limits."""
    limit = weights_limit(files, networks)
    path = files.fetch(name, limit=limit)
    if name.endswith(".safetensors"):
        from safetensors import SafetensorError, safe_open

        try:
            with safe_open(str(path), framework="pt") as handle:
                names = list(handle.keys())
                return {key: TensorInfo(tuple(handle.get_slice(key).get_shape()), _dtype(handle, key)) for key in names}
        except (SafetensorError, OSError, ValueError, RuntimeError) as error:
            raise fail(files, f"{name} is not a readable safetensors file ({error})") from error
    try:
        return read_torch_header(path, limit)
    except UnsafePickle as error:
        raise fail(
            files,
            f"{name} is a pickle that needs code execution to load: {error}. GAN studio reads only tensors from "
            "pickles (torch.load with weights_only=True); ask the author for a safetensors export",
        ) from error
    except CheckpointError as error:
        raise fail(files, f"{name} {error}") from error


def _dtype(handle: Any, key: str) -> torch.dtype:
    names = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "F64": torch.float64,
             "I64": torch.int64, "I32": torch.int32, "U8": torch.uint8, "BOOL": torch.bool}  # fmt: skip
    return names.get(handle.get_slice(key).get_dtype(), torch.float32)


def load_tensors(files: RepoFiles, name: str) -> Any:
    """The tensors of a file whose header was read (so it is fetched and within limits)."""
    path = files.fetch(name, limit=files.max_bytes)
    if name.endswith(".safetensors"):
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            return load_file(str(path), device="cpu")
        except (SafetensorError, OSError, ValueError) as error:
            raise fail(files, f"{name} is not a readable safetensors file ({error})") from error
    try:
        return load_torch(path)
    except CheckpointError as error:
        raise fail(files, f"{name} {error}") from error


def state_of(structure: Any) -> dict[str, Any] | None:
    """A flat name -> tensor mapping inside a loaded structure: itself, or its "state_dict" entry."""
    if isinstance(structure, dict) and isinstance(structure.get("state_dict"), dict):
        structure = structure["state_dict"]
    if (
        isinstance(structure, dict)
        and structure
        and all(isinstance(k, str) and isinstance(v, (torch.Tensor, TensorInfo)) for k, v in structure.items())
    ):
        return structure
    return None


def shapes(state: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    return {key: tuple(value.shape) for key, value in state.items()}


def expect_shapes(files: RepoFiles, architecture: str, config: Any, found: dict[str, tuple[int, ...]]) -> None:
    """The model's cost within budget, and `found` names and shapes exactly its own: all on the meta device."""
    generator_class = get_architecture(architecture).generator_class
    try:
        budget.check(generator_class, config)
    except InvalidInputError as error:
        raise fail(files, str(error)) from error
    with torch.device("meta"):
        expected = {k: tuple(v.shape) for k, v in generator_class(config).state_dict().items()}
    missing, unexpected = sorted(set(expected) - set(found)), sorted(set(found) - set(expected))
    if missing or unexpected:
        raise fail(files, f"the weights do not match the architecture: {len(missing)} missing tensors "
                          f"{missing[:3]}, {len(unexpected)} unexpected {unexpected[:3]}")  # fmt: skip
    for key, shape in found.items():
        if shape != expected[key]:
            raise fail(files, f"tensor {key} has shape {shape}, the config needs {expected[key]}")


def convert(files: RepoFiles, stage: Path, architecture: str, config: Any, state: dict[str, torch.Tensor],
            metadata: dict[str, Any]) -> None:  # fmt: skip
    """Build the generator (within budget), load `state` strictly and save a GAN studio folder in `stage`."""
    expect_shapes(files, architecture, config, shapes(state))
    for key, tensor in state.items():
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise fail(files, f"tensor {key} holds NaN or infinite values")
    generator = build_generator(architecture, config, initialise=False)
    generator.load_state_dict({k: v.detach().to(torch.float32) if v.is_floating_point() else v
                               for k, v in state.items()}, strict=True)  # fmt: skip
    save_checkpoint(stage, architecture, config, generator.eval(), metadata=metadata)
