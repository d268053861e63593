import io
import tarfile
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from gan.data import UploadLimits, decode_image, load_builtin, load_image_folder
from gan.errors import ImageInputError, InvalidInputError

FEW = UploadLimits(min_images=2)


def png_bytes(image: Image.Image, fmt: str = "PNG", **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


def write(path, data: bytes):
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    "image",
    [
        Image.new("RGBA", (40, 30), (255, 0, 0, 128)),
        Image.new("P", (30, 40), 3),
        Image.new("CMYK", (32, 32), (0, 255, 0, 0)),
        Image.new("LA", (32, 32), (80, 255)),
        Image.fromarray(np.full((32, 48), 40000, dtype=np.uint16)),  # 16-bit greyscale
        Image.new("1", (32, 32), 1),
    ],
    ids=["rgba", "palette", "cmyk", "la", "16bit", "bilevel"],
)
@pytest.mark.parametrize("channels", [1, 3])
def test_any_mode_becomes_the_models_channels(image, channels):
    tensor = decode_image(png_bytes(image, "TIFF" if image.mode == "CMYK" else "PNG"), 16, channels)
    assert tensor.shape == (channels, 16, 16)
    assert tensor.min() >= -1.0 and tensor.max() <= 1.0


def test_sixteen_bit_values_are_scaled_not_clipped():
    image = Image.fromarray(np.full((32, 32), 32768, dtype=np.uint16))
    tensor = decode_image(png_bytes(image), 8, 1)
    assert abs(float(tensor.mean()) - 0.0) < 0.02  # half of full scale -> mid-grey


def test_transparency_is_composited_over_white():
    tensor = decode_image(png_bytes(Image.new("RGBA", (16, 16), (0, 0, 0, 0))), 8, 3)
    assert torch.allclose(tensor, torch.ones_like(tensor))


def test_animated_gif_uses_its_first_frame():
    frames = [Image.new("L", (16, 16), 0), Image.new("L", (16, 16), 255)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:])
    assert decode_image(buffer.getvalue(), 8, 1).max() < -0.9


def test_folder_with_hostile_files_reports_every_skip(tmp_path):
    for index in range(3):
        write(tmp_path / f"ok{index}.png", png_bytes(Image.new("RGB", (20, 20), (index * 60, 0, 0))))
    write(tmp_path / "notes.txt", b"hello")
    write(tmp_path / "truncated.png", png_bytes(Image.new("RGB", (64, 64), (1, 2, 3)))[:60])
    write(tmp_path / "tiny.png", png_bytes(Image.new("RGB", (4, 4))))
    write(tmp_path / "empty.png", b"")
    data, report = load_image_folder([tmp_path], 16, 3, FEW)
    assert data.shape == (3, 3, 16, 16)
    reasons = dict(report.skipped)
    assert reasons["notes.txt"] == "not an image" and reasons["empty.png"] == "empty file"
    assert "damaged or truncated" in reasons["truncated.png"]
    assert "too small" in reasons["tiny.png"]
    assert "3 images used, 4 skipped" in report.summary()
    assert "Error" not in report.summary()  # plain words, never an exception's class name


def test_decompression_bombs_are_refused_before_decoding(tmp_path):
    for index in range(2):
        write(tmp_path / f"ok{index}.png", png_bytes(Image.new("L", (10, 10))))
    write(tmp_path / "bomb.png", png_bytes(Image.new("L", (300, 300))))
    _, report = load_image_folder([tmp_path], 8, 1, UploadLimits(min_images=2, max_pixels=200 * 200))
    assert "decompression bomb" in dict(report.skipped)["bomb.png"]


def test_too_few_images_is_an_error_that_explains_the_skips(tmp_path):
    write(tmp_path / "a.png", png_bytes(Image.new("L", (10, 10))))
    write(tmp_path / "b.txt", b"x")
    with pytest.raises(ImageInputError, match=r"need at least 8 usable images, got 1(.|\n)*skipped b.txt"):
        load_image_folder([tmp_path], 8, 1)


def make_zip(path, entries: dict[str, bytes]):
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


def test_zip_archive_is_read_in_memory_and_nested_archives_are_skipped(tmp_path):
    image = png_bytes(Image.new("RGB", (12, 12), (9, 9, 9)))
    archive = make_zip(tmp_path / "up.zip", {"a/1.png": image, "a/2.png": image, "inner.zip": b"PK.."})
    data, report = load_image_folder([archive], 8, 3, FEW)
    assert data.shape[0] == 2
    assert dict(report.skipped)["inner.zip"] == "nested archives are not opened"


@pytest.mark.parametrize("name", ["../evil.png", "/etc/evil.png", "a/../../evil.png", "C:/evil.png"])
def test_zip_with_unsafe_paths_is_refused_whole(tmp_path, name):
    image = png_bytes(Image.new("RGB", (12, 12)))
    archive = make_zip(tmp_path / "up.zip", {"ok.png": image, name: image})
    with pytest.raises(ImageInputError, match="unsafe path"):
        load_image_folder([archive], 8, 3, FEW)


def test_tar_links_are_skipped_and_oversized_entries_refused(tmp_path):
    image = png_bytes(Image.new("L", (12, 12)))
    path = tmp_path / "up.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        for name, payload in [("1.png", image), ("2.png", image), ("big.png", b"x" * 5000)]:
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            archive.addfile(info, io.BytesIO(payload))
        link = tarfile.TarInfo("link.png")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        archive.addfile(link)
    data, report = load_image_folder([path], 8, 1, UploadLimits(min_images=2, max_file_bytes=4000))
    reasons = dict(report.skipped)
    assert data.shape[0] == 2
    assert "link" in reasons["link.png"] and reasons["big.png"] == "too large (over 3 KiB)"


def test_total_size_limit_and_corrupt_archives(tmp_path):
    image = png_bytes(Image.new("L", (12, 12)))
    files = [write(tmp_path / f"{i}.png", image) for i in range(4)]
    with pytest.raises(ImageInputError, match="in total"):
        load_image_folder(files, 8, 1, UploadLimits(min_images=2, max_total_bytes=len(image) * 3))
    with pytest.raises(ImageInputError, match="not a readable archive"):
        load_image_folder([write(tmp_path / "bad.zip", b"not a zip at all")], 8, 1, FEW)


def test_builtin_digits_dataset_and_unknown_names():
    digits = load_builtin("digits", 32)
    assert digits.shape == (1797, 1, 32, 32) and digits.min() >= -1 and digits.max() <= 1
    with pytest.raises(InvalidInputError, match="unknown built-in dataset"):
        load_builtin("imagenet")
