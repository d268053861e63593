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
    assert data.shape == (4, 3, 16, 16)  # the three, and the 4x4 one upscaled
    reasons = dict(report.skipped)
    assert reasons["notes.txt"] == "not an image"
    assert "damaged or truncated" in reasons["truncated.png"]
    assert reasons["empty.png"] == "empty file"
    assert "Error" not in report.summary()  # plain words, never an exception's class name
    assert report.upscaled == ["tiny.png"]
    assert "4 images used, 3 skipped" in report.summary() and "upscaled" in report.summary()


def test_decompression_bombs_are_refused_before_decoding(tmp_path):
    for index in range(2):
        write(tmp_path / f"ok{index}.png", png_bytes(Image.new("L", (10, 10))))
    write(tmp_path / "bomb.png", png_bytes(Image.new("L", (300, 300))))
    _, report = load_image_folder([tmp_path], 8, 1, UploadLimits(min_images=2, max_pixels=200 * 200))
    assert "over the 40,000 limit for one image" in dict(report.skipped)["bomb.png"]


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


def test_the_training_tensor_is_bounded_by_resolution_before_decoding(tmp_path):
    image = png_bytes(Image.new("L", (12, 12), 128))
    files = [write(tmp_path / f"{i:02d}.png", image) for i in range(10)]
    limits = UploadLimits(min_images=2, max_tensor_bytes=4 * 32 * 32 * 4)  # room for four 32 px greyscale images
    assert limits.max_images_at(32, 1) == 4 and limits.max_images_at(16, 1) == 16
    data, report = load_image_folder(files, 32, 1, limits)
    assert data.shape == (4, 1, 32, 32)
    assert dict(report.skipped)["09.png"] == "over the limit of 4 images at 32 px"


def test_a_huge_tar_is_refused_while_listing_before_its_end_is_read(tmp_path):
    image = png_bytes(Image.new("L", (12, 12)))
    path = tmp_path / "many.tar"
    with tarfile.open(path, "w") as archive:
        for index in range(60):
            info = tarfile.TarInfo(f"{index}.png")
            info.size = len(image)
            archive.addfile(info, io.BytesIO(image))
    with path.open("r+b") as handle:  # garbage after the 55th entry: a reader that lists everything fails there
        handle.seek(55 * 1024)
        handle.write(b"\xff" * 4096)
    with pytest.raises(ImageInputError, match="more than 50 entries"):
        load_image_folder([path], 8, 1, UploadLimits(min_images=2, max_archive_entries=50))


def test_a_huge_zip_is_refused_from_its_declared_count_before_its_directory_is_parsed(tmp_path):
    path = make_zip(tmp_path / "many.zip", {f"{i}.png": b"x" for i in range(60)})
    raw = bytearray(path.read_bytes())
    directory = raw.find(b"PK\x01\x02")
    raw[directory : directory + 4] = b"XXXX"  # a corrupt central directory: zipfile itself would refuse it
    path.write_bytes(bytes(raw))
    with pytest.raises(ImageInputError, match="more than 50 entries"):
        load_image_folder([path], 8, 1, UploadLimits(min_images=2, max_archive_entries=50))
    with pytest.raises(ImageInputError, match="not a readable archive"):
        load_image_folder([path], 8, 1, UploadLimits(min_images=2))


def test_decoded_pixels_are_bounded_and_large_jpegs_decode_at_a_reduced_scale(tmp_path):
    photo = png_bytes(Image.new("RGB", (1600, 1600), (90, 120, 200)), "JPEG")
    files = [write(tmp_path / f"{i}.jpg", photo) for i in range(3)]
    files += [write(tmp_path / f"{i}.png", png_bytes(Image.new("RGB", (1600, 1600)))) for i in range(3)]
    data, report = load_image_folder(files, 32, 3, UploadLimits(min_images=2, max_total_pixels=3_000_000))
    assert report.used == ["0.jpg", "1.jpg", "2.jpg", "0.png"]  # JPEGs cost 200x200 each; a PNG 1600x1600
    assert dict(report.skipped)["1.png"] == "not read: the upload passed 3,000,000 pixels"  # 2.68M + 2.56M
    assert data.shape == (4, 3, 32, 32)


def test_loading_reports_progress_per_file_and_can_be_stopped_between_files(tmp_path):
    from gan.data import load_images

    files = [write(tmp_path / f"{i}.png", png_bytes(Image.new("L", (12, 12), 10 * i))) for i in range(9)]
    events = load_images(files, 8, 1)
    first = next(events)
    assert (first.done, first.total, first.data) == (1, 9, None)  # everything listed first, decoded one by one
    events.close()  # a visitor's Cancel between two images
    last = list(load_images(files, 8, 1))[-1]
    assert last.data.shape == (9, 1, 8, 8) and last.data.min() >= -1 and last.report.used[-1] == "8.png"
