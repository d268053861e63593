"""Repos in the formats people actually pushed, built here from scratch (not with GAN studio's own classes)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import torch
from safetensors.torch import save as save_safetensors
from torch import nn


class SprintGenerator(nn.Module):
    """The HugGAN sprint's DCGAN generator, as in huggingface/community-events huggan/pytorch/dcgan."""

    def __init__(self, num_channels: int = 3, latent_dim: int = 100, hidden_size: int = 64) -> None:
        super().__init__()
        h = hidden_size
        self.model = nn.Sequential(
            nn.ConvTranspose2d(latent_dim, h * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(h * 8), nn.ReLU(True),
            nn.ConvTranspose2d(h * 8, h * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(h * 4), nn.ReLU(True),
            nn.ConvTranspose2d(h * 4, h * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(h * 2), nn.ReLU(True),
            nn.ConvTranspose2d(h * 2, h, 4, 2, 1, bias=False), nn.BatchNorm2d(h), nn.ReLU(True),
            nn.ConvTranspose2d(h, num_channels, 4, 2, 1, bias=False), nn.Tanh(),
        )  # fmt: skip

    def forward(self, noise: torch.Tensor) -> torch.Tensor:  # noise: (B, Z, 1, 1)
        return self.model(noise)


def trained_sprint_generator(num_channels: int = 3, latent_dim: int = 100, hidden_size: int = 4) -> SprintGenerator:
    """Random weights and non-trivial BatchNorm statistics, as after training; in eval mode."""
    torch.manual_seed(1)
    generator = SprintGenerator(num_channels, latent_dim, hidden_size)
    with torch.no_grad():
        for module in generator.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.running_mean.normal_(0.0, 0.1)
                module.running_var.uniform_(0.5, 1.5)
                module.num_batches_tracked.fill_(1000)
    return generator.eval()


def card(license: str | None = "mit", tags: tuple[str, ...] = ("gan", "huggan"), downloads_note: str = "") -> bytes:
    meta = [f"license: {license}"] if license else []
    meta += ["tags:", *(f"- {tag}" for tag in tags)]
    return ("---\n" + "\n".join(meta) + "\n---\n# A community GAN\n" + downloads_note).encode()


def torch_bytes(obj: object) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def huggan_bin_files(generator: nn.Module, with_config: bool = False, license: str | None = "mit") -> dict[str, bytes]:
    """What the sprint's push_to_hub left: pytorch_model.bin (a state dict), often no config.json, a card."""
    files = {"pytorch_model.bin": torch_bytes(generator.state_dict()), "README.md": card(license)}
    if with_config:
        m = generator.model
        files["config.json"] = json.dumps(
            {"num_channels": m[12].out_channels, "latent_dim": m[0].in_channels, "hidden_size": m[12].in_channels}
        ).encode()
    return files


def huggan_safetensors_files(generator: nn.Module, config: dict[str, int]) -> dict[str, bytes]:
    """What newer PyTorchModelHubMixin versions push: model.safetensors + config.json of init arguments."""
    state = {k: v.contiguous() for k, v in generator.state_dict().items()}
    return {"model.safetensors": save_safetensors(state), "config.json": json.dumps(config).encode()}


def folder_files(folder: Path) -> dict[str, bytes]:
    """A GAN studio checkpoint folder as repo files."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


class RunsCode:
    """Unpickling this calls `exec`: what a malicious (or merely code-carrying) pickle does."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').write('ran')",))


# -- other projects' checkpoints, made by their own code (see tests/data/formats/README.md) ---------------

FORMATS_DATA = Path(__file__).resolve().parent / "data" / "formats"


def fixture_bytes(name: str) -> bytes:
    return (FORMATS_DATA / name).read_bytes()


def lucidrains_files(variant: str = "1.2.1", run: str = "default") -> dict[str, bytes]:
    """A lightweight-gan run folder as lucidrains' Trainer leaves it: models/<run>/model_<step>.pt + .config.json."""
    return {
        f"models/{run}/model_3.pt": fixture_bytes(f"lightweight_gan_{variant}_model_3.pt"),
        f"models/{run}/.config.json": fixture_bytes(f"lightweight_gan_{variant}.config.json"),
        "README.md": card("mit", ("lightweight-gan", "gan")),
    }


def huggingnft_files() -> dict[str, bytes]:
    """What the HugGAN mixin pushed for huggingnft models: model.pt + config.json of LightweightGAN arguments."""
    return {
        "model.pt": fixture_bytes("lightweight_gan_huggan_model.pt"),
        "config.json": fixture_bytes("lightweight_gan_huggan_config.json"),
        "README.md": card("mit", ("huggingnft", "nft", "huggan", "gan")),
    }


def fastgan_files() -> dict[str, bytes]:
    """A huggan/fastgan-few-shot-* repo: a bare generator state dict, no config."""
    return {
        "pytorch_model.bin": fixture_bytes("huggan_fastgan_pytorch_model.bin"),
        "README.md": card("mit", ("huggan", "gan")),
    }


def stylegan_files(pickle_name: str = "stylegan2_network-snapshot.pkl", tags=("stylegan2", "gan")) -> dict[str, bytes]:
    return {
        "network-snapshot-000200.pkl": fixture_bytes(pickle_name),
        "README.md": card(None, tags),
    }
