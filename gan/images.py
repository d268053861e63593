"""Tensors to and from images: grids, PNGs with metadata, GIFs."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image, PngImagePlugin


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """(B, C, H, W) floats in [0, 1] -> (B, H, W, C) uint8."""
    array = (images.detach().float().clamp(0, 1) * 255.0 + 0.5).to(torch.uint8)
    return array.permute(0, 2, 3, 1).cpu().numpy()


def to_pil(images: torch.Tensor) -> list[Image.Image]:
    """(B, C, H, W) floats in [0, 1] -> PIL images (mode L for 1 channel, RGB for 3)."""
    arrays = to_uint8(images)
    if arrays.shape[-1] == 1:
        return [Image.fromarray(a[..., 0], mode="L") for a in arrays]
    return [Image.fromarray(a, mode="RGB") for a in arrays]


def grid_shape(count: int, columns: int = 0) -> tuple[int, int]:
    """(rows, columns) for `count` tiles; columns=0 chooses a near-square grid."""
    columns = columns or math.ceil(math.sqrt(count))
    columns = min(columns, count)
    return math.ceil(count / columns), columns


def make_grid(images: torch.Tensor, columns: int = 0, padding: int = 2, pad_value: float = 1.0) -> torch.Tensor:
    """(B, C, H, W) -> (C, rows*(H+p)+p, cols*(W+p)+p), tiles in reading order."""
    count, channels, height, width = images.shape
    rows, columns = grid_shape(count, columns)
    grid = images.new_full(
        (channels, rows * (height + padding) + padding, columns * (width + padding) + padding), pad_value
    )
    for index in range(count):
        row, col = divmod(index, columns)
        top, left = padding + row * (height + padding), padding + col * (width + padding)
        grid[:, top : top + height, left : left + width] = images[index]
    return grid


def upscale(image: Image.Image, min_side: int) -> Image.Image:
    """Nearest-neighbour upscale by an integer factor so small samples are visible."""
    factor = max(1, math.ceil(min_side / max(1, min(image.size))))
    if factor == 1:
        return image
    return image.resize((image.width * factor, image.height * factor), Image.Resampling.NEAREST)


def save_png(image: Image.Image, path: str | Path, metadata: dict[str, object] | None = None) -> Path:
    """Save a PNG with text chunks (seed, model, truncation...) readable by any PNG tool."""
    info = PngImagePlugin.PngInfo()
    for key, value in (metadata or {}).items():
        info.add_text(str(key), str(value))
    path = Path(path)
    image.save(path, format="PNG", pnginfo=info)
    return path


def save_gif(frames: Sequence[Image.Image], path: str | Path, frame_ms: int = 80, comment: str = "") -> Path:
    """Save an endlessly looping GIF."""
    if not frames:
        raise ValueError("a GIF needs at least one frame")
    path = Path(path)
    frames = [f.convert("RGB") if f.mode not in ("L", "P", "RGB") else f for f in frames]
    frames[0].save(
        path,
        format="GIF",
        save_all=True,
        append_images=list(frames[1:]),
        duration=frame_ms,
        loop=0,
        optimize=False,
        comment=comment.encode()[:255],
    )
    return path


# Uploads: what a visitor or a CLI user hands in.
MAX_UPLOAD_BYTES = 64 << 20  # files larger than 64 MiB are refused before decoding
MAX_UPLOAD_PIXELS = 80_000_000  # more pixels than this (before downscaling) are refused: decoding needs too much memory
MAX_INPUT_SIDE = 2048  # longer sides above this are downscaled on load, with a notice
MIN_INPUT_SIDE = 16  # shorter sides below this are refused: nothing to see or to learn a style from


def load_rgb(
    source: str | Path | Image.Image,
    name: str = "image",
    max_side: int = MAX_INPUT_SIDE,
    min_side: int = MIN_INPUT_SIDE,
) -> tuple[torch.Tensor, list[str]]:
    """An uploaded image -> ((3, H, W) floats in [0, 1], notices for the user).

    Non-images, corrupt or truncated files, decompression bombs and tiny images are
    refused with ImageInputError naming `name`; an image whose longer side passes
    `max_side` is downscaled to it and a notice says so. Transparency is flattened on
    white, EXIF rotation applied, greyscale/palette/CMYK/16-bit converted to RGB.
    """
    from PIL import ImageOps, UnidentifiedImageError

    from gan.errors import ImageInputError

    notes: list[str] = []
    if isinstance(source, Image.Image):
        image = source
    else:
        path = Path(source)
        if not path.is_file():
            raise ImageInputError(f"{name}: no such file {path.name!r}")
        if path.stat().st_size > MAX_UPLOAD_BYTES:
            raise ImageInputError(
                f"{name} is {path.stat().st_size >> 20} MiB; the limit is {MAX_UPLOAD_BYTES >> 20} MiB"
            )
        try:
            image = Image.open(path)
        except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as error:
            raise ImageInputError(f"{name} ({path.name}) is not an image this app can read") from error
    width, height = image.size
    if width * height > MAX_UPLOAD_PIXELS:
        raise ImageInputError(f"{name} is {width}×{height} px: more than {MAX_UPLOAD_PIXELS // 1_000_000} megapixels")
    if min(width, height) < min_side:
        raise ImageInputError(f"{name} is {width}×{height} px; it needs at least {min_side} px on each side")
    try:
        if image.format == "JPEG" and max(width, height) > 2 * max_side:
            image.draft("RGB", (max_side, max_side))  # decode big JPEGs at a reduced scale: fast and small
        image.load()
        image = ImageOps.exif_transpose(image)
        image = _flatten_to_rgb(image)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
        raise ImageInputError(f"{name} is corrupt or truncated: {error.__class__.__name__}") from error
    if max(image.size) > max_side:
        scale = max_side / max(image.size)
        new_size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(new_size, Image.Resampling.LANCZOS)
        notes.append(f"{name} was {width}×{height} px: downscaled to {new_size[0]}×{new_size[1]} (limit {max_side} px)")
    array = np.asarray(image, dtype=np.uint8)  # (H, W, 3)
    return torch.from_numpy(array.copy()).permute(2, 0, 1).float() / 255.0, notes


def _flatten_to_rgb(image: Image.Image) -> Image.Image:
    """Any PIL mode -> RGB; transparent pixels become white, high bit depths are rescaled."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        array = np.asarray(image, dtype=np.float64)
        low, high = float(array.min()), float(array.max())
        array = (array - low) / (high - low or 1.0) * 255.0
        image = Image.fromarray(array.round().astype(np.uint8), mode="L")
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return image.convert("RGB")
