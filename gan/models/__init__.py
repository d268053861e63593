"""Model families, by name. Add a family by adding a file and an entry in ARCHITECTURES.

Families made here (dcgan, fastgan) have a discriminator and train. Families converted from other
projects' checkpoints (gan.formats) may have none: `trainable` says why they cannot be fine-tuned.
Every network is measured on the meta device and held to gan.models.budget before it is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from torch import nn

from gan.config import DCGANConfig, FastGANConfig
from gan.errors import CheckpointError
from gan.models import budget
from gan.models.dcgan import DCGANDiscriminator, DCGANGenerator, init_weights
from gan.models.fastgan import FastGANDiscriminator, FastGANGenerator
from gan.models.huggan_dcgan import HugGANDCGANConfig, HugGANDCGANDiscriminator, HugGANDCGANGenerator
from gan.models.huggan_fastgan import HugGANFastGANConfig, HugGANFastGANGenerator
from gan.models.lightweight_gan import LightweightGANConfig, LightweightGANGenerator
from gan.models.stylegan2 import StyleGAN2Config, StyleGAN2Generator


@dataclass(frozen=True)
class Architecture:
    name: str
    config_class: type
    generator_class: type[nn.Module]
    discriminator_class: type[nn.Module] | None = None
    why_not_trainable: str = ""  # shown when a discriminator_class is missing


ARCHITECTURES: dict[str, Architecture] = {
    "dcgan": Architecture("dcgan", DCGANConfig, DCGANGenerator, DCGANDiscriminator),
    "fastgan": Architecture("fastgan", FastGANConfig, FastGANGenerator, FastGANDiscriminator),
    # Checkpoints of other projects, converted on pull (see gan.formats).
    "huggan_dcgan": Architecture("huggan_dcgan", HugGANDCGANConfig, HugGANDCGANGenerator, HugGANDCGANDiscriminator),
    "huggan_fastgan": Architecture(
        "huggan_fastgan",
        HugGANFastGANConfig,
        HugGANFastGANGenerator,
        why_not_trainable="its 1024 px FastGAN discriminator is not implemented here, and the repos hold none",
    ),
    "lightweight_gan": Architecture(
        "lightweight_gan",
        LightweightGANConfig,
        LightweightGANGenerator,
        why_not_trainable="lightweight-gan's discriminator (with its auxiliary decoders) is not implemented here",
    ),
    "stylegan2": Architecture(
        "stylegan2",
        StyleGAN2Config,
        StyleGAN2Generator,
        why_not_trainable="StyleGAN2 training (its discriminator, R1 and path-length regularisation, ADA) is not "
        "implemented here",
    ),
}


def get_architecture(name: str) -> Architecture:
    try:
        return ARCHITECTURES[name]
    except KeyError:
        known = ", ".join(sorted(ARCHITECTURES))
        raise CheckpointError(f"unknown architecture {name!r}; known: {known}") from None


def trainable(architecture: str) -> str | None:
    """None if GAN studio can train or fine-tune this family, else why not (a sentence for a person)."""
    arch = get_architecture(architecture)
    if arch.discriminator_class is not None:
        return None
    return f"{architecture} models can be sampled but not fine-tuned here: {arch.why_not_trainable}"


def build_generator(architecture: str, config: Any, initialise: bool = True, trusted: bool = False) -> nn.Module:
    """A generator for `config`, after checking its cost (InvalidInputError past gan.models.budget); `trusted`
    (a config that ships with the app) skips the check, which is for configs from elsewhere."""
    arch = get_architecture(architecture)
    cost = None if trusted else budget.check(arch.generator_class, config)
    model = arch.generator_class(config)
    model.cost = cost or budget.plain_cost(model)  # read by gan.sampling to size its batches (None: it measures)
    if initialise:
        init_weights(model)
    return model


def build_discriminator(architecture: str, config: Any) -> nn.Module:
    arch = get_architecture(architecture)
    if arch.discriminator_class is None:
        raise CheckpointError(trainable(architecture) or architecture)
    budget.check(arch.discriminator_class, config, role="discriminator")
    model = arch.discriminator_class(config)
    init_weights(model)
    return model


__all__ = [
    "ARCHITECTURES",
    "Architecture",
    "DCGANDiscriminator",
    "DCGANGenerator",
    "FastGANDiscriminator",
    "FastGANGenerator",
    "HugGANDCGANDiscriminator",
    "HugGANDCGANGenerator",
    "build_discriminator",
    "build_generator",
    "get_architecture",
    "trainable",
]
