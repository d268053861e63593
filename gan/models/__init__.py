"""Model families, by name. Add a family by adding a file and an entry in ARCHITECTURES."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from torch import nn

from gan.config import DCGANConfig, FastGANConfig
from gan.errors import CheckpointError
from gan.models.dcgan import DCGANDiscriminator, DCGANGenerator, init_weights
from gan.models.fastgan import FastGANDiscriminator, FastGANGenerator
from gan.models.huggan_dcgan import HugGANDCGANConfig, HugGANDCGANDiscriminator, HugGANDCGANGenerator


@dataclass(frozen=True)
class Architecture:
    name: str
    config_class: type
    generator_class: type[nn.Module]
    discriminator_class: type[nn.Module]


ARCHITECTURES: dict[str, Architecture] = {
    "dcgan": Architecture("dcgan", DCGANConfig, DCGANGenerator, DCGANDiscriminator),
    "fastgan": Architecture("fastgan", FastGANConfig, FastGANGenerator, FastGANDiscriminator),
    # Checkpoints of the HugGAN community sprint, converted on pull (see gan.hub).
    "huggan_dcgan": Architecture("huggan_dcgan", HugGANDCGANConfig, HugGANDCGANGenerator, HugGANDCGANDiscriminator),
}


def get_architecture(name: str) -> Architecture:
    try:
        return ARCHITECTURES[name]
    except KeyError:
        known = ", ".join(sorted(ARCHITECTURES))
        raise CheckpointError(f"unknown architecture {name!r}; known: {known}") from None


def build_generator(architecture: str, config: Any) -> nn.Module:
    model = get_architecture(architecture).generator_class(config)
    init_weights(model)
    return model


def build_discriminator(architecture: str, config: Any) -> nn.Module:
    model = get_architecture(architecture).discriminator_class(config)
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
]
