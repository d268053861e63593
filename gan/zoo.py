"""The checkpoints that ship in `weights/`, name-or-path resolution, and a bounded model cache.

Every sub-folder of `weights/` holding a `config.json` is a model named after the folder.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path

from gan.checkpoint import CONFIG_NAME, Checkpoint, load_checkpoint
from gan.data import IMAGE_SUFFIXES
from gan.errors import CheckpointError

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
DEFAULT_MODEL = "mnist-dcgan"  # the embedded default: works offline, on CPU
DEFAULT_MODEL_ENV = "GAN_STUDIO_DEFAULT_MODEL"  # the model the app shows first: an embedded name or a Hub repo id
DEFAULT_MODEL_FILE = "default_model.txt"  # the same, in weights/: written by `python -m gan deploy` for a Space
STYLE_EXAMPLES = WEIGHTS_DIR / "style-examples"  # bundled content-*/style-* images (offline, with their sources)


def embedded_models(weights_dir: Path = WEIGHTS_DIR) -> dict[str, Path]:
    """name -> folder, for every checkpoint folder in `weights_dir`, sorted by name."""
    if not weights_dir.is_dir():
        return {}
    return {p.name: p for p in sorted(weights_dir.iterdir()) if (p / CONFIG_NAME).is_file()}


def configured_default_model(weights_dir: Path = WEIGHTS_DIR, environ: Mapping[str, str] | None = None) -> str:
    """The model the app shows first: $GAN_STUDIO_DEFAULT_MODEL, else weights/default_model.txt, else DEFAULT_MODEL.

    The value is an embedded model's name or a Hub repo id (owner/name[@revision]); the app checks it.
    """
    environ = os.environ if environ is None else environ
    value = (environ.get(DEFAULT_MODEL_ENV) or "").strip()
    path = weights_dir / DEFAULT_MODEL_FILE
    if not value and path.is_file():
        value = path.read_text(encoding="utf-8", errors="replace").strip()[:300]
    return value or DEFAULT_MODEL


def example_images(folder: Path = STYLE_EXAMPLES) -> dict[str, Path]:
    """name -> path of each bundled example picture (content-* and style-* image files), sorted by name: all a style
    link may name. The folder's other files (sources, the script that made them) are not examples."""
    if not folder.is_dir():
        return {}
    return {path.name: path for path in sorted(folder.iterdir())
            if path.name.startswith(("content-", "style-")) and path.suffix.lower() in IMAGE_SUFFIXES
            and path.is_file() and not path.is_symlink()}  # fmt: skip


def style_examples(folder: Path = STYLE_EXAMPLES) -> list[tuple[Path, tuple[Path, ...]]]:
    """(content, styles) pairs from the bundled images: each style once, then a blend of two; [] without them."""
    images = example_images(folder)
    contents = [path for name, path in images.items() if name.startswith("content-")]
    styles = [path for name, path in images.items() if name.startswith("style-")]
    if not contents or not styles:
        return []
    pairs = [(contents[i % len(contents)], (style,)) for i, style in enumerate(styles)]
    pairs.append((contents[0], (styles[0], styles[-1])))
    return pairs


def resolve_model(name_or_path: str | None, weights_dir: Path = WEIGHTS_DIR) -> Path:
    """An embedded model's name, or a path to a checkpoint folder -> that folder."""
    name_or_path = name_or_path or DEFAULT_MODEL
    models = embedded_models(weights_dir)
    if name_or_path in models:
        return models[name_or_path]
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        return path
    known = ", ".join(models) or "none"
    raise CheckpointError(f"no model {name_or_path!r}: not an embedded model ({known}) nor a checkpoint folder")


class ModelCache:
    """A size-bounded, thread-safe LRU of loaded checkpoints, keyed by folder.

    The app makes one per process and hands it to its handlers explicitly.
    Loaded checkpoints are never mutated, so visitors may share them.
    """

    def __init__(self, max_models: int = 4) -> None:
        self.max_models = max_models
        self._entries: OrderedDict[str, Checkpoint] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, folder: str | Path) -> Checkpoint:
        key = str(Path(folder).resolve())
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        shipped = Path(key).is_relative_to(WEIGHTS_DIR)  # the app's own checkpoints need no cost check
        checkpoint = load_checkpoint(key, trusted=shipped)  # outside the lock: loading can take a while
        with self._lock:
            self._entries[key] = checkpoint
            while len(self._entries) > self.max_models:
                self._entries.popitem(last=False)
        return checkpoint

    def forget(self, folder: str | Path) -> bool:
        """Drop one checkpoint (its folder is going away); True if it was loaded."""
        with self._lock:
            return self._entries.pop(str(Path(folder).resolve()), None) is not None

    def __len__(self) -> int:
        return len(self._entries)
