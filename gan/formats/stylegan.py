"""NVlabs network pickles (`.pkl`) of StyleGAN2-ADA, read as data; StyleGAN3 ones recognised and refused.

The pickle is a dict (G, D, G_ema, augment_pipe, training_set_kwargs) whose networks carry their
source code. gan.formats.pickles reads it without running any of it; `G_ema`'s constructor
arguments (its `_init_kwargs`) give the architecture, and its parameters and buffers the weights,
which run in GAN studio's own StyleGAN2 generator (gan.models.stylegan2). The weights stay under
NVIDIA's licence, which travels with them into source.json, `python -m gan info` and model cards.
"""

from __future__ import annotations

import operator
from pathlib import Path, PurePosixPath
from typing import Any

from gan.errors import CheckpointError, InvalidInputError
from gan.formats.common import Loaded, RepoFiles, convert, fail, natural_key, weights_limit
from gan.formats.pickles import PersistentObject, UnsafePickle, read_nvlabs_pickle
from gan.models.stylegan2 import StyleGAN2Config

NAME = "stylegan2-ada"
NETWORKS = 4  # G, D, G_ema and the small augment pipe share the file
LICENCE = "nvidia-source-code-license-nc"
LICENCE_NOTE = (
    "NVIDIA Source Code License for StyleGAN2-ADA / StyleGAN3 (non-commercial: research and evaluation only): "
    "the weights were made with NVlabs' code and stay under it"
)
MAPPING_OPTIONS = {"num_layers", "lr_multiplier", "w_avg_beta", "embed_features", "layer_features", "activation"}
SYNTHESIS_OPTIONS = {"channel_base", "channel_max", "num_fp16_res", "conv_clamp", "architecture",
                     "resample_filter", "fp16_channels_last", "use_noise", "activation", "kernel_size"}  # fmt: skip


def match(files: RepoFiles) -> str | None:
    pickles = [n for n in files.sizes if n.endswith(".pkl") and not PurePosixPath(n).name.startswith(".")]
    return max(pickles, key=natural_key) if pickles else None


def read(files: RepoFiles, weights: str, stage: Path, origin: dict[str, Any]) -> Loaded:
    path = files.fetch(weights, limit=weights_limit(files, NETWORKS))
    try:
        data = read_nvlabs_pickle(path)
    except UnsafePickle as error:
        raise fail(files, f"{weights} is a pickle that needs code execution to load: {error}, which is not among "
                          "the few globals a network pickle may use, so GAN studio refuses it") from error  # fmt: skip
    except CheckpointError as error:
        raise fail(files, f"{weights} {error}") from error
    network = data.get("G_ema") if isinstance(data, dict) else None
    if not isinstance(network, PersistentObject):
        raise fail(files, f"{weights} is a pickle without a G_ema network: not an NVlabs StyleGAN snapshot")
    classes = network.class_names()
    if "SynthesisInput" in classes:
        raise fail(files, f"{weights} is a StyleGAN3 (alias-free) network: recognised, but GAN studio does not run "
                          "StyleGAN3 generators yet. It loads StyleGAN2-ADA pickles")  # fmt: skip
    if network.class_name != "Generator" or "SynthesisBlock" not in classes:
        shown = ", ".join(sorted(classes)[:6])
        raise fail(files, f"{weights} holds a network GAN studio does not recognise (classes {shown})")
    try:
        config = _config(network.state.get("_init_kwargs"))
    except (InvalidInputError, TypeError, ValueError) as error:
        raise fail(files, f"{weights}: {error}") from error
    state = {k: v.detach() for k, v in network.state_dict().items()}
    metadata = {"converted_from": f"StyleGAN2-ADA network pickle ({weights})", "licence_note": LICENCE_NOTE,
                **{k: v for k, v in origin.items() if v}}  # fmt: skip
    convert(files, stage, "stylegan2", config, state, metadata)
    notes = {"licence_note": LICENCE_NOTE, "source_sha256": network.source_sha256}
    return Loaded(NAME, weights, notes)


def _config(kwargs: Any) -> StyleGAN2Config:
    """StyleGAN2Config from G_ema's constructor arguments; options this generator lacks are refused by name."""
    if not isinstance(kwargs, dict):
        raise InvalidInputError("G_ema has no constructor arguments (_init_kwargs)")
    mapping, synthesis = dict(kwargs.get("mapping_kwargs") or {}), dict(kwargs.get("synthesis_kwargs") or {})
    for options, known, where in ((mapping, MAPPING_OPTIONS, "mapping"), (synthesis, SYNTHESIS_OPTIONS, "synthesis")):
        unknown = sorted(set(options) - known)
        if unknown:
            raise InvalidInputError(f"unknown {where} options {unknown}: not a StyleGAN2-ADA generator")
    unsupported = {
        "c_dim": (kwargs.get("c_dim", 0), 0),  # conditional models need a class label
        "synthesis architecture": (synthesis.get("architecture", "skip"), "skip"),
        "activation": (synthesis.get("activation", "lrelu"), "lrelu"),
        "mapping activation": (mapping.get("activation", "lrelu"), "lrelu"),
        "kernel_size": (synthesis.get("kernel_size", 3), 3),
        "use_noise": (synthesis.get("use_noise", True), True),
    }
    for name, (value, wanted) in unsupported.items():
        if value != wanted:
            raise InvalidInputError(f"{name}={value!r} is not supported (GAN studio runs {name}={wanted!r})")
    w_dim = kwargs.get("w_dim")
    for name in ("embed_features", "layer_features"):
        if mapping.get(name) not in (None, w_dim):
            raise InvalidInputError(f"mapping {name}={mapping[name]!r} differs from w_dim and is not supported")
    return StyleGAN2Config(
        resolution=_int(kwargs.get("img_resolution")),
        channels=_int(kwargs.get("img_channels")),
        latent_dim=_int(kwargs.get("z_dim")),
        w_dim=_int(w_dim),
        mapping_layers=_int(mapping.get("num_layers", 8)),
        mapping_lr_multiplier=float(mapping.get("lr_multiplier", 0.01)),
        channel_base=_int(synthesis.get("channel_base", 32768)),
        channel_max=_int(synthesis.get("channel_max", 512)),
        conv_clamp=None if synthesis.get("conv_clamp") is None else float(synthesis["conv_clamp"]),
        resample_filter=tuple(_int(t) for t in synthesis.get("resample_filter", (1, 3, 3, 1))),
    )


def _int(value: Any) -> Any:
    """numpy integers as int; anything else as it is, for the config to refuse with its own message."""
    try:
        return operator.index(value) if not isinstance(value, bool) else value
    except TypeError:
        return value
