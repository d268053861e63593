"""Judges: small classifiers trained here whose features score generated images (gan.quality).

Each lives in `weights/judges/<name>/` as `model.safetensors` + `config.json` (which network, its input, its
class names, how it was trained and its held-out accuracy). That folder has no config.json of its own, so
gan.zoo never mistakes a judge for a generator. The scripts that train them are under benchmarks/
(train_digit_judge.py, train_emoji_judge.py).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from gan.errors import CheckpointError
from gan.metrics import DigitClassifier
from gan.zoo import WEIGHTS_DIR

JUDGES_DIR = WEIGHTS_DIR / "judges"
FORMAT = "gan-studio-judge/1"
CONFIG_NAME, WEIGHTS_NAME = "config.json", "model.safetensors"
MAX_CONFIG_BYTES = 1 << 20


def _block(in_channels: int, out_channels: int, stride: int) -> list[nn.Module]:
    return [nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False), nn.BatchNorm2d(out_channels), nn.ReLU()]


class EmojiJudge(nn.Module):
    """A small CNN for 64x64 RGB images in [-1, 1], trained to name an emoji's subcategory and category.

    `features` is the `feature_dim`-d penultimate layer that gan.quality scores in; `forward` returns
    (subcategory logits, category logits).
    """

    def __init__(
        self, subcategories: int, categories: int, width: int = 32, feature_dim: int = 64, dropout: float = 0.0
    ) -> None:
        super().__init__()
        w = width
        self.body = nn.Sequential(
            *_block(3, w, 2),  # (B, w, 32, 32)
            *_block(w, 2 * w, 2),
            *_block(2 * w, 2 * w, 1),  # (B, 2w, 16, 16)
            *_block(2 * w, 4 * w, 2),
            *_block(4 * w, 4 * w, 1),  # (B, 4w, 8, 8)
            *_block(4 * w, 8 * w, 2),  # (B, 8w, 4, 4)
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),  # (B, 8w)
            nn.Linear(8 * w, feature_dim),
            nn.ReLU(),  # (B, feature_dim)
        )
        self.dropout = nn.Dropout(dropout)  # between features and heads, in training only
        self.subcategory_head = nn.Linear(feature_dim, subcategories)
        self.category_head = nn.Linear(feature_dim, categories)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        return self.body(images)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.dropout(self.body(images))
        return self.subcategory_head(features), self.category_head(features)


@dataclass(frozen=True)
class Judge:
    """A loaded judge: its network (eval, frozen, CPU) and config.json's contents."""

    name: str
    network: nn.Module
    config: dict[str, Any]

    @property
    def resolution(self) -> int:
        return int(self.config["input_resolution"])

    @property
    def channels(self) -> int:
        return int(self.config["channels"])

    @property
    def classes(self) -> tuple[str, ...]:
        """The classes `classify` names: digits, or the emoji categories."""
        return tuple(self.config["classes"])

    def prepare(self, images: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) in [-1, 1] -> the judge's input: its channels (grey <-> RGB) and resolution."""
        if images.shape[1] != self.channels:
            images = images.mean(1, keepdim=True) if self.channels == 1 else images.expand(-1, 3, -1, -1)
        if images.shape[-1] != self.resolution or images.shape[-2] != self.resolution:
            images = F.interpolate(
                images,
                size=(self.resolution, self.resolution),
                mode="bilinear",
                align_corners=False,
                antialias=images.shape[-1] > self.resolution,
            )
        return images

    @torch.no_grad()
    def features(self, images: torch.Tensor) -> torch.Tensor:  # (B, C, H, W) -> (B, feature_dim)
        return self.network.features(self.prepare(images.float()))

    @torch.no_grad()
    def probabilities(self, images: torch.Tensor) -> torch.Tensor:  # (B, C, H, W) -> (B, len(classes))
        logits = self.network(self.prepare(images.float()))
        return (logits[1] if isinstance(logits, tuple) else logits).softmax(1)


NETWORKS = {  # config.json "network" -> constructor from config.json
    "digit-classifier": lambda config: DigitClassifier(),
    "emoji-judge": lambda config: EmojiJudge(
        len(config["subcategories"]), len(config["classes"]), config["width"], config["feature_dim"]
    ),
}


def save_judge(network: nn.Module, folder: str | Path, config: dict[str, Any]) -> Path:
    """Write `model.safetensors` + `config.json` (config must name its "network" in NETWORKS)."""
    if config.get("network") not in NETWORKS:
        raise ValueError(f"unknown judge network {config.get('network')!r}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    state = {key: value.detach().cpu().contiguous() for key, value in network.state_dict().items()}
    save_file(state, str(folder / WEIGHTS_NAME), metadata={"format": FORMAT})
    text = json.dumps({"format": FORMAT, **config}, indent=2, sort_keys=False)
    (folder / CONFIG_NAME).write_text(text + "\n", encoding="utf-8")
    return folder


def load_judge_from(folder: str | Path, name: str | None = None) -> Judge:
    """A judge from its folder, strictly: every tensor name and shape must match its config's network."""
    folder = Path(folder)
    label = name or folder.name
    try:
        if (folder / CONFIG_NAME).stat().st_size > MAX_CONFIG_BYTES:
            raise CheckpointError(f"judge {label}: config.json is over {MAX_CONFIG_BYTES >> 20} MiB")
        config = json.loads((folder / CONFIG_NAME).read_text(encoding="utf-8"))
        if not isinstance(config, dict) or config.get("format") != FORMAT or config.get("network") not in NETWORKS:
            raise CheckpointError(f"judge {label}: config.json is not a {FORMAT} judge config")
        network = NETWORKS[config["network"]](config)
        network.load_state_dict(load_file(str(folder / WEIGHTS_NAME)), strict=True)
        missing = [key for key in ("input_resolution", "channels", "classes") if key not in config]
        if missing:  # checked here so that Judge's properties never fail later
            raise CheckpointError(f"judge {label}: config.json lacks {missing[0]!r}")
    except CheckpointError:
        raise
    except (OSError, ValueError, KeyError, TypeError, RuntimeError, SafetensorError) as error:
        raise CheckpointError(f"judge {label} is unreadable: {error.__class__.__name__}: {str(error)[:200]}") from error
    return Judge(label, network.eval().requires_grad_(False), config)


_cache: dict[str, Judge | None] = {}
_lock = threading.Lock()


def load_judge(name: str, judges_dir: Path = JUDGES_DIR) -> Judge | None:
    """The shipped judge `name` ("digits", "emoji"), loaded once per process; None when its folder is absent."""
    key = str(judges_dir / name)
    with _lock:
        if key not in _cache:
            folder = judges_dir / name
            _cache[key] = load_judge_from(folder, name) if (folder / CONFIG_NAME).is_file() else None
        return _cache[key]
