import torch
from PIL import Image

from gan.images import grid_shape, make_grid, png_text, save_gif, save_png, to_pil, upscale


def test_grid_layout_and_tile_placement():
    images = torch.zeros(5, 1, 4, 4)
    images[4] = 1.0  # last tile white
    grid = make_grid(images, columns=3, padding=1, pad_value=0.5)
    assert grid_shape(5, 3) == (2, 3)
    assert grid.shape == (1, 2 * 5 + 1, 3 * 5 + 1)
    assert torch.all(grid[:, 6:10, 6:10] == 1.0)  # row 1, column 1
    assert grid[0, 0, 0] == 0.5


def test_png_metadata_and_modes(tmp_path):
    grey, rgb = to_pil(torch.rand(1, 1, 8, 8))[0], to_pil(torch.rand(1, 3, 8, 8))[0]
    assert (grey.mode, rgb.mode) == ("L", "RGB")
    path = save_png(rgb, tmp_path / "x.png", {"seed": 42, "model": "m"})
    with Image.open(path) as image:
        assert image.text == {"seed": "42", "model": "m"}
    assert png_text(path) == {"seed": "42", "model": "m"}
    (tmp_path / "not.png").write_bytes(b"text")
    assert png_text(tmp_path / "not.png") == {} and png_text(tmp_path / "missing.png") == {}


def test_gif_has_every_frame_and_loops(tmp_path):
    frames = to_pil(torch.linspace(0, 1, 6).view(6, 1, 1, 1).expand(6, 1, 8, 8).contiguous())
    path = save_gif(frames, tmp_path / "walk.gif", frame_ms=50)
    with Image.open(path) as gif:
        assert gif.n_frames == 6
        assert gif.info["loop"] == 0


def test_upscale_uses_integer_factor():
    assert upscale(Image.new("L", (32, 32)), 100).size == (128, 128)
    assert upscale(Image.new("L", (300, 300)), 100).size == (300, 300)
