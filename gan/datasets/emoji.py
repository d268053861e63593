"""Colour emoji with their categories, built from the npm package emoji-datasource-google.

The package (Noto Emoji artwork by Google, Apache License 2.0; metadata MIT) is not shipped. Its tarball
is looked for, in this order:
1. $GAN_STUDIO_EMOJI: the .tgz file, or a folder holding the package unpacked (emoji.json beside img/);
2. the cache folder: $GAN_STUDIO_CACHE, else $XDG_CACHE_HOME/gan-studio, else ~/.cache/gan-studio;
3. fetched into that folder with `npm pack` when npm is installed (`python -m gan.datasets.emoji` does it).

Images: img/google/64/*.png, composited over white and resized like uploads (gan.data.decode_image).
Labels: emoji.json's category (CATEGORIES; "Component", five skin-tone swatches, is left out) and its
subcategory (about 100, such as "face-smiling" or "animal-bird").
Selections: a dataset name "emoji" (every category) or "emoji:" and comma-separated category or subcategory
names in their slug form, e.g. "emoji:smileys-emotion,animals-nature" or "emoji:face-smiling"
(`parse_selection`, `load_selection`; CATEGORY_SLUGS lists the categories).
Split: fixed by each emoji's code point, about 20% held out; skin-tone variants go with their base emoji,
so no held-out emoji has a near twin in training.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from gan.errors import DatasetError, ImageInputError, InvalidInputError

PACKAGE = "emoji-datasource-google"
VERSION = "16.0.0"  # pinned: the split, the labels and the judge's held-out accuracy refer to this release
TARBALL = f"{PACKAGE}-{VERSION}.tgz"
SOURCE_ENV = "GAN_STUDIO_EMOJI"
CACHE_ENV = "GAN_STUDIO_CACHE"
CATEGORIES = (
    "Smileys & Emotion",
    "People & Body",
    "Animals & Nature",
    "Food & Drink",
    "Travel & Places",
    "Activities",
    "Objects",
    "Symbols",
    "Flags",
)
CATEGORY_SLUGS = tuple(re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") for name in CATEGORIES)
SELECTION_PREFIX = "emoji:"
SPLITS = ("train", "held_out", "all")
HELD_OUT_PERCENT = 20
NATIVE_RESOLUTION = 64
IMAGE_DIR = "img/google/64/"
MAX_TARBALL_BYTES = 256 << 20  # 16.0.0's is 74 MB
MAX_MEMBER_BYTES = 16 << 20  # emoji.json is about 1.5 MB, a 64 px PNG a few KB
NPM_TIMEOUT_S = 600
HOW_TO_GET = (
    f"install npm and run `python -m gan.datasets.emoji` (it runs `npm pack {PACKAGE}@{VERSION}` into the cache "
    f"folder), or set {SOURCE_ENV} to the package's .tgz or unpacked folder"
)


@dataclass(frozen=True)
class EmojiSet:
    images: torch.Tensor  # (N, 3, R, R) in [-1, 1]
    category: torch.Tensor  # (N,) int64, index into CATEGORIES
    subcategory: torch.Tensor  # (N,) int64, index into `subcategories`
    subcategories: tuple[str, ...]  # every subcategory of the package in its order, present here or not
    names: tuple[str, ...]  # short names; a skin-tone variant's carries its code, e.g. "santa:1f3fb"
    held_out: torch.Tensor  # (N,) bool: in the fixed held-out split

    def __len__(self) -> int:
        return len(self.names)

    def subset(self, mask: torch.Tensor) -> EmojiSet:
        index = torch.nonzero(mask).flatten()
        return EmojiSet(
            self.images[index],
            self.category[index],
            self.subcategory[index],
            self.subcategories,
            tuple(self.names[i] for i in index.tolist()),
            self.held_out[index],
        )


def cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where fetched data sets live: $GAN_STUDIO_CACHE, else $XDG_CACHE_HOME/gan-studio, else ~/.cache/gan-studio."""
    environ = os.environ if environ is None else environ
    if environ.get(CACHE_ENV):
        return Path(environ[CACHE_ENV]).expanduser()
    base = Path(environ["XDG_CACHE_HOME"]).expanduser() if environ.get("XDG_CACHE_HOME") else Path.home() / ".cache"
    return base / "gan-studio"


def find_package(fetch: bool = True, environ: Mapping[str, str] | None = None) -> Path:
    """The package's tarball or unpacked folder; fetched with npm into cache_dir() when missing and `fetch`."""
    environ = os.environ if environ is None else environ
    if environ.get(SOURCE_ENV):
        path = Path(environ[SOURCE_ENV]).expanduser()
        if not (path.is_file() or (path.is_dir() and _package_root(path) is not None)):
            raise DatasetError(f"{SOURCE_ENV} names no {PACKAGE} tarball nor unpacked package folder")
        return path
    cached = cache_dir(environ) / TARBALL
    if cached.is_file():
        return cached
    if not fetch:
        raise DatasetError(f"the emoji data set is not in the cache; {HOW_TO_GET}")
    return fetch_package(cached.parent)


def npm_available() -> bool:
    return shutil.which("npm") is not None


def fetch_package(folder: Path) -> Path:
    """`npm pack` the pinned release into `folder` (atomically: a broken download leaves nothing behind)."""
    npm = shutil.which("npm")
    if npm is None:
        raise DatasetError(f"the emoji data set is not in the cache and npm is not installed; {HOW_TO_GET}")
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".fetch-") as staging:
        command = [npm, "pack", f"{PACKAGE}@{VERSION}", "--pack-destination", staging, "--ignore-scripts", "--silent"]
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=NPM_TIMEOUT_S, cwd=staging)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise DatasetError(f"npm pack {PACKAGE}@{VERSION} failed: {error.__class__.__name__}") from error
        packed = Path(staging) / TARBALL
        if result.returncode != 0 or not packed.is_file():
            tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
            raise DatasetError(f"npm pack {PACKAGE}@{VERSION} failed (exit {result.returncode}): {tail[0][:200]}")
        os.replace(packed, folder / TARBALL)
    return folder / TARBALL


def _package_root(folder: Path) -> Path | None:
    for root in (folder, folder / "package"):
        if (root / "emoji.json").is_file():
            return root
    return None


@lru_cache(maxsize=1)
def _read_package(path: str, stamp: tuple[int, int]) -> tuple[list[dict], dict[str, bytes]]:
    """(emoji.json's entries, {image file name: 64 px PNG bytes}); `stamp` (size, mtime) refreshes the cache."""
    del stamp
    source = Path(path)
    if source.is_dir():
        root = _package_root(source)
        if root is None:
            raise DatasetError(f"{source.name} holds no emoji.json of {PACKAGE}")
        files = {"package.json": root / "package.json", "emoji.json": root / "emoji.json"}
        members = {name: _read_bounded(file) for name, file in files.items() if file.is_file()}
        images = {p.name: _read_bounded(p) for p in sorted((root / IMAGE_DIR).glob("*.png")) if p.is_file()}
    else:
        if source.stat().st_size > MAX_TARBALL_BYTES:
            raise DatasetError(f"{source.name} is over {MAX_TARBALL_BYTES >> 20} MiB: not the {PACKAGE} tarball")
        members, images = {}, {}
        try:
            with tarfile.open(source, "r:gz") as archive:
                for member in archive:  # one pass through the gzip stream
                    name = member.name.removeprefix("package/")
                    wanted = name in ("package.json", "emoji.json") or (
                        name.startswith(IMAGE_DIR) and name.endswith(".png") and "/" not in name[len(IMAGE_DIR) :]
                    )
                    if not wanted or not member.isfile() or member.size > MAX_MEMBER_BYTES:
                        continue
                    handle = archive.extractfile(member)
                    payload = handle.read(MAX_MEMBER_BYTES + 1) if handle else b""
                    if name.startswith(IMAGE_DIR):
                        images[name[len(IMAGE_DIR) :]] = payload
                    else:
                        members[name] = payload
        except (tarfile.TarError, EOFError, OSError) as error:
            raise DatasetError(
                f"{source.name} is not a readable tarball ({error.__class__.__name__}); delete it and fetch again"
            ) from error
    try:
        version = json.loads(members["package.json"]).get("version") if "package.json" in members else None
        entries = json.loads(members["emoji.json"])
    except (KeyError, ValueError, AttributeError) as error:
        raise DatasetError(f"{source.name} has no readable emoji.json / package.json of {PACKAGE}") from error
    if version != VERSION:
        raise DatasetError(
            f"{source.name} holds {PACKAGE} {version}, not {VERSION} (the release the split and "
            "the colour judge were made from)"
        )
    if not isinstance(entries, list):
        raise DatasetError(f"{source.name}: emoji.json is not a list of emoji")
    return entries, images


def _read_bounded(path: Path) -> bytes:
    if path.stat().st_size > MAX_MEMBER_BYTES:
        raise DatasetError(f"{path.name} is over {MAX_MEMBER_BYTES >> 20} MiB: not part of {PACKAGE}")
    return path.read_bytes()


def is_held_out(code: str) -> bool:
    """The fixed split: a base emoji's code point (e.g. "1F600") hashed; about HELD_OUT_PERCENT % are held out."""
    digest = hashlib.sha256(code.upper().encode("ascii")).digest()
    return int.from_bytes(digest[:8], "big") % 100 < HELD_OUT_PERCENT


def _catalogue(entries: list) -> tuple[list[tuple[str, str, int, str, str]], tuple[str, ...]]:
    """[(name, image file, category index, subcategory, base code)] with every skin-tone variant, and subcategories."""
    rows, subcategories = [], {}
    try:
        ordered = sorted((e for e in entries if e.get("category") in CATEGORIES), key=lambda e: int(e["sort_order"]))
        for entry in ordered:
            category, subcategory, base = (
                CATEGORIES.index(entry["category"]),
                str(entry["subcategory"]),
                entry["unified"],
            )
            subcategories.setdefault(subcategory, None)
            if entry.get("has_img_google"):
                rows.append((str(entry["short_name"]), str(entry["image"]), category, subcategory, str(base)))
            for variant in (entry.get("skin_variations") or {}).values():
                if variant.get("has_img_google"):
                    tone = str(variant["unified"]).lower().removeprefix(str(base).lower() + "-")
                    rows.append((f"{entry['short_name']}:{tone}", str(variant["image"]), category, subcategory, base))
    except (AttributeError, KeyError, TypeError, ValueError) as error:
        raise DatasetError(f"emoji.json is not in {PACKAGE}'s format ({error.__class__.__name__}: {error})") from error
    return rows, tuple(subcategories)


@lru_cache(maxsize=2)
def _decoded(path: str, stamp: tuple[int, int], resolution: int) -> tuple[np.ndarray, tuple, tuple[str, ...]]:
    """Every emoji with an image, skin-tone variants included: (N, 3, R, R) uint8, catalogue rows, subcategories."""
    from gan.data import decode_image

    entries, images = _read_package(path, stamp)
    rows, subcategories = _catalogue(entries)
    missing = [row[1] for row in rows if row[1] not in images]
    if missing:  # a tarball cut short still opens: tarfile stops quietly at a truncated header
        raise DatasetError(
            f"{Path(path).name} is incomplete: {len(missing)} of {len(rows)} images are missing "
            f"(first: {missing[0]}); delete it and fetch again"
        )
    kept, pixels = [], []
    for row in rows:
        payload = images[row[1]]
        try:
            image = decode_image(payload, resolution, 3)  # composited over white, LANCZOS, (3, R, R) in [-1, 1]
        except ImageInputError as error:
            raise DatasetError(f"{row[1]} in {PACKAGE} is unreadable: {error}") from error
        pixels.append(((image + 1) * 127.5).round().to(torch.uint8).numpy())
        kept.append(row)
    if not kept:
        raise DatasetError(f"{Path(path).name} holds no {IMAGE_DIR} images")
    return np.stack(pixels), tuple(kept), subcategories


def load_emoji(
    resolution: int = NATIVE_RESOLUTION,
    split: str = "train",
    skin_tones: bool = False,
    categories: Iterable[str] | None = None,
    fetch: bool = True,
) -> EmojiSet:
    """The emoji of one split ("train", "held_out" or "all"), optionally only some CATEGORIES.

    skin_tones: include the skin-tone variants (about 1,900 more images, mostly People & Body), which
    share their base emoji's split. `fetch`: run npm when the package is not found (see the module doc).
    """
    if split not in SPLITS:
        raise InvalidInputError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    if not isinstance(resolution, int) or not 8 <= resolution <= 256:
        raise InvalidInputError(f"resolution must be an integer from 8 to 256, got {resolution!r}")
    wanted = set(CATEGORIES if categories is None else categories)
    unknown = sorted(wanted - set(CATEGORIES))
    if unknown:
        raise InvalidInputError(f"unknown emoji category {unknown[0]!r}; choose from {', '.join(CATEGORIES)}")
    path = find_package(fetch=fetch)
    stat = path.stat()
    pixels, rows, subcategories = _decoded(str(path), (stat.st_size, stat.st_mtime_ns), resolution)
    held_out = torch.tensor([is_held_out(row[4]) for row in rows])
    keep = torch.tensor([CATEGORIES[row[2]] in wanted and (skin_tones or ":" not in row[0]) for row in rows])
    if split != "all":
        keep &= held_out if split == "held_out" else ~held_out
    index = torch.nonzero(keep).flatten()
    images = torch.from_numpy(pixels[index.numpy()]).float() / 127.5 - 1.0
    return EmojiSet(
        images=images,
        category=torch.tensor([rows[i][2] for i in index.tolist()], dtype=torch.long),
        subcategory=torch.tensor([subcategories.index(rows[i][3]) for i in index.tolist()], dtype=torch.long),
        subcategories=subcategories,
        names=tuple(rows[i][0] for i in index.tolist()),
        held_out=held_out[index],
    )


def slug(name: str) -> str:
    """A category or subcategory as a dataset name writes it: "Smileys & Emotion" -> "smileys-emotion"."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def is_selection(name: str) -> bool:
    """Whether a dataset name selects emoji: "emoji" or "emoji:<names>"."""
    return name == "emoji" or name.startswith(SELECTION_PREFIX)


def parse_selection(name: str) -> tuple[str, ...]:
    """The slugs a dataset name selects, () for all: "emoji:Smileys-Emotion, face-smiling" ->
    ("smileys-emotion", "face-smiling"). Whether a subcategory exists is known only with the package."""
    if not is_selection(name):
        raise InvalidInputError(f"{name!r} is not an emoji selection: write emoji or emoji:<category>,<category>")
    if name == "emoji":
        return ()
    parts = [slug(part) for part in name[len(SELECTION_PREFIX) :].split(",")]
    if not all(parts):
        examples = ", ".join(CATEGORY_SLUGS)
        raise InvalidInputError(
            f"{name!r} names no category: write e.g. emoji:smileys-emotion (categories: {examples})"
        )
    return tuple(dict.fromkeys(parts))


def load_selection(name: str, resolution: int = NATIVE_RESOLUTION, split: str = "train") -> EmojiSet:
    """The emoji a dataset name selects (see the module doc): every emoji of a named category or subcategory."""
    wanted = parse_selection(name)
    every = load_emoji(resolution, split, fetch=True)
    if not wanted:
        return every
    subcategory_slugs = [slug(sub) for sub in every.subcategories]
    unknown = [part for part in wanted if part not in CATEGORY_SLUGS and part not in subcategory_slugs]
    if unknown:
        raise InvalidInputError(
            f"unknown emoji category {unknown[0]!r}; choose from {', '.join(CATEGORY_SLUGS)} "
            "or a subcategory such as face-smiling or animal-bird"
        )
    categories = torch.tensor([CATEGORY_SLUGS[i] in wanted for i in every.category.tolist()], dtype=torch.bool)
    subcategories = torch.tensor([subcategory_slugs[i] in wanted for i in every.subcategory.tolist()], dtype=torch.bool)
    chosen = every.subset(categories | subcategories)
    if not len(chosen):
        raise DatasetError(f"{name} holds no emoji of the {split.replace('_', '-')} split")
    return chosen


def main() -> None:
    """`python -m gan.datasets.emoji`: fetch the package into the cache once (CI runs this); a no-op after."""
    find_package(fetch=True)
    print(f"{PACKAGE} {VERSION}: ready")


if __name__ == "__main__":
    main()
