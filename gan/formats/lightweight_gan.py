"""lightweight-gan checkpoints: `torch.save({"GAN": state_dict, ...})`, the EMA generator under `GE.`.

Two layouts are read (see gan.models.lightweight_gan):
- huggingnft / HugGAN: `model.pt` (no "version" entry) beside a config.json of LightweightGAN arguments.
- lucidrains' package, releases 1.1.x and 1.2.x: `models/<run>/model_<step>.pt` (with "version")
  beside that run's `.config.json`; the latest step is loaded.
Any other release is refused by name. A bare `{"GAN": ...}` file loads too: the generator's shape is
always read off the tensor shapes, and whatever a config file states must agree with them.
"""

from __future__ import annotations

import math
from pathlib import Path, PurePosixPath
from typing import Any

from gan.checkpoint import CONFIG_NAME
from gan.errors import InvalidInputError
from gan.formats.common import (
    Loaded,
    RepoFiles,
    convert,
    expect_shapes,
    fail,
    load_tensors,
    natural_key,
    read_header,
    read_json,
)
from gan.models.lightweight_gan import LightweightGANConfig

NAME = "lightweight-gan"
HUGGAN_WEIGHTS = "model.pt"  # the HugGAN mixin's file name
RUN_CONFIG = ".config.json"  # lucidrains: models/<run>/.config.json
CONFIG_KEYS = {"attn_res_layers", "freq_chan_attn", "fmap_inverse_coef", "disc_output_size", "image_size"}
SUPPORTED_RELEASES = ("1.1.", "1.2.")  # the generator is the same from 1.1.0 to 1.2.1 (the latest)
SUPPORTED_TEXT = "lightweight-gan 1.1.x and 1.2.x (the current release) and the HugGAN / huggingnft layout"
NETWORKS = 4  # G, GE, D and D_aug's copy of D share the file


def match(files: RepoFiles) -> str | None:
    if CONFIG_NAME in files.sizes and CONFIG_KEYS & set(read_json(files, CONFIG_NAME)):
        if HUGGAN_WEIGHTS not in files.sizes:
            raise fail(files, f"{CONFIG_NAME} describes a lightweight-gan, but there is no {HUGGAN_WEIGHTS}")
        return HUGGAN_WEIGHTS
    runs = [PurePosixPath(n).parent for n in files.sizes if PurePosixPath(n).name == RUN_CONFIG]
    steps = [n for n in files.sizes if PurePosixPath(n).parent in runs and _step(n) is not None]
    return max(steps, key=lambda n: (_step(n), natural_key(n))) if steps else None


def _step(name: str) -> int | None:
    stem = PurePosixPath(name).name
    if stem.startswith("model_") and stem.endswith(".pt") and stem[6:-3].isdigit():
        return int(stem[6:-3])
    return None


def match_keys(keys: set[str]) -> bool:
    return any(k.startswith(("GAN.GE.", "GE.", "GAN.G.")) for k in keys)


def _config_file(files: RepoFiles, weights: str) -> tuple[str | None, dict[str, Any]]:
    for name in (str(PurePosixPath(weights).parent / RUN_CONFIG).removeprefix("./"), CONFIG_NAME):
        if name in files.sizes:
            data = read_json(files, name)
            if name == RUN_CONFIG or name.endswith("/" + RUN_CONFIG) or CONFIG_KEYS & set(data):
                return name, data
    return None, {}


def read(files: RepoFiles, weights: str, stage: Path, origin: dict[str, Any]) -> Loaded:
    header = read_header(files, weights, networks=NETWORKS)
    if not isinstance(header, dict) or not isinstance(header.get("GAN"), dict):
        raise fail(files, f"{weights} is not a lightweight-gan checkpoint (no 'GAN' entry)")
    version = header.get("version")
    if version is not None and (not isinstance(version, str) or not version.startswith(SUPPORTED_RELEASES)):
        raise fail(files, f"{weights} was saved by lightweight-gan {version}, whose generator differs: GAN studio "
                          f"loads {SUPPORTED_TEXT}")  # fmt: skip
    prefix = "GE." if any(k.startswith("GE.") for k in header["GAN"]) else "G."
    found = {k[len(prefix) :]: tuple(v.shape) for k, v in header["GAN"].items() if k.startswith(prefix)}
    layout = "lucidrains-1.1" if "layers.0.0.0.net.0.weight" in found else "huggan"
    if version is not None and layout != "lucidrains-1.1":
        raise fail(files, f"{weights} says lightweight-gan {version} but holds a generator of another layout")
    config_name, stated = _config_file(files, weights)
    try:
        config = _infer(found, layout, stated)
    except (InvalidInputError, KeyError, TypeError, ValueError) as error:
        raise fail(files, f"{weights}: {error}") from error
    _agree(files, config_name, stated, config)
    expect_shapes(files, "lightweight_gan", config, found)
    state = {k[len(prefix) :]: v for k, v in load_tensors(files, weights)["GAN"].items() if k.startswith(prefix)}
    metadata = {"converted_from": f"lightweight-gan {version or 'HugGAN layout'} ({weights})",
                **{k: v for k, v in origin.items() if v}}  # fmt: skip
    convert(files, stage, "lightweight_gan", config, state, metadata)
    notes = {"version": version or "huggan", "generator": "EMA (GE)" if prefix == "GE." else "G (no EMA copy)"}
    return Loaded(NAME, weights, notes)


def _infer(found: dict[str, tuple[int, ...]], layout: str, stated: dict[str, Any]) -> LightweightGANConfig:
    """The generator's arguments from its tensor shapes (fmap_max and its slope from a config when stated)."""
    latent_dim = found["initial_conv.0.weight"][0]
    channels = found["out_conv.weight"][0]
    if channels == 4 or stated.get("transparent"):
        raise InvalidInputError("transparent (RGBA) lightweight-gan models are not supported")
    conv = "layers.{}.0.2.1.weight" if layout != "huggan" else "layers.{}.0.2.weight"
    blocks = next(i for i in range(64) if conv.format(i) not in found)
    widths = [found[conv.format(i)][0] // 2 for i in range(blocks)]
    fmap_max = stated.get("fmap_max") or max([w for n, w in enumerate(widths, 2) if n < 8] or [latent_dim])
    coef = stated.get("fmap_inverse_coef") or next(
        (n + int(math.log2(w)) for n, w in enumerate(widths, 2) if n < 8 and w < fmap_max), 12
    )
    return LightweightGANConfig(
        resolution=2 ** (blocks + 2),
        channels=channels,
        latent_dim=latent_dim,
        fmap_max=fmap_max,
        fmap_inverse_coef=coef,
        attn_res_layers=tuple(2 ** (i + 2) for i in range(blocks) if f"layers.{i}.2.norm.g" in found),
        freq_chan_attn=any(k.endswith(".1.dct_weights") for k in found),
        antialias=any(k.endswith(".0.1.f") for k in found),
        layout=layout,
    )


def _agree(files: RepoFiles, name: str | None, stated: dict[str, Any], config: LightweightGANConfig) -> None:
    """What a config file says must be what the weights hold."""
    pairs = {
        "image_size": config.resolution,
        "latent_dim": config.latent_dim,
        "greyscale": config.channels == 1,
        "freq_chan_attn": config.freq_chan_attn,
        "attn_res_layers": sorted(config.attn_res_layers),
    }
    for key, held in pairs.items():
        said = stated.get(key)
        if key == "attn_res_layers" and isinstance(said, list):
            said = sorted(said)
        if key in stated and said != held:
            raise fail(files, f"{name} does not match the weights: it says {key}={stated[key]!r}, the weights have "
                              f"{held!r}")  # fmt: skip
