"""Write the Style tab's bundled examples into weights/style-examples/ from images that ship offline.

Sources (no network): matplotlib's sample data (Grace Hopper, public domain; a DEM of the
Jacksboro fault) and scikit-learn's two sample photos (CC BY 2.0, see SOURCES.md), plus
two procedural textures. Run once: python weights/style-examples/make_style_examples.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

OUT = Path(__file__).resolve().parent  # this folder: the recipe lives beside what it makes


def fit(image: Image.Image, long_side: int) -> Image.Image:
    scale = long_side / max(image.size)
    return image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS)


def centre_square(image: Image.Image) -> Image.Image:
    side = min(image.size)
    left, top = (image.width - side) // 2, (image.height - side) // 2
    return image.crop((left, top, left + side, top + side))


def colormap(values: np.ndarray, name: str) -> Image.Image:
    from matplotlib import colormaps

    rgba = colormaps[name]((values - values.min()) / (np.ptp(values) or 1.0))
    return Image.fromarray((rgba[..., :3] * 255).round().astype(np.uint8))


def marble(side: int = 384, seed: int = 1) -> Image.Image:
    """Veins: a sine of x bent by a few octaves of smooth noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:side, 0:side] / side
    turbulence = np.zeros_like(x)
    for octave in range(1, 6):
        coarse = rng.standard_normal((2 + 2**octave, 2 + 2**octave))
        turbulence += (
            np.asarray(Image.fromarray(coarse.astype(np.float32)).resize((side, side), Image.BICUBIC)) / octave
        )
    return colormap(np.sin(12 * x + 6 * y + 2.5 * turbulence), "twilight_shifted")


def mosaic(side: int = 384, cells: int = 90, seed: int = 2) -> Image.Image:
    """Voronoi tiles in bright colours with dark grout."""
    rng = np.random.default_rng(seed)
    points = rng.uniform(0, side, (cells, 2))
    y, x = np.mgrid[0:side, 0:side]
    distance = np.hypot(x[..., None] - points[:, 0], y[..., None] - points[:, 1])  # (side, side, cells)
    ordered = np.sort(distance, axis=-1)
    nearest = distance.argmin(-1)
    from matplotlib import colormaps

    colours = colormaps["tab20"](rng.integers(0, 20, cells))[:, :3]
    image = colours[nearest] * (np.clip((ordered[..., 1] - ordered[..., 0]) / 3.0, 0, 1)[..., None] * 0.8 + 0.2)
    return Image.fromarray((image * 255).round().astype(np.uint8))


def relief() -> Image.Image:
    """Shaded relief of the Jacksboro fault DEM (matplotlib sample data)."""
    import matplotlib.cbook as cbook
    from matplotlib import colormaps
    from matplotlib.colors import LightSource

    dem = np.load(cbook.get_sample_data("jacksboro_fault_dem.npz", asfileobj=False))["elevation"]
    shaded = LightSource(azdeg=315, altdeg=35).shade(
        dem, cmap=colormaps["gist_earth"], vert_exag=0.05, blend_mode="soft"
    )
    return fit(Image.fromarray((shaded[..., :3] * 255).round().astype(np.uint8)), 384)


def main() -> None:
    import matplotlib.cbook as cbook
    import sklearn.datasets

    OUT.mkdir(parents=True, exist_ok=True)
    sklearn_images = Path(sklearn.datasets.__file__).parent / "images"
    with Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)) as image:
        fit(image.convert("RGB"), 384).save(OUT / "content-grace-hopper.jpg", quality=88)
    with Image.open(sklearn_images / "china.jpg") as image:
        fit(image.convert("RGB"), 384).save(OUT / "content-temple.jpg", quality=88)
    with Image.open(sklearn_images / "flower.jpg") as image:
        fit(centre_square(image.convert("RGB")), 256).save(OUT / "style-flower.jpg", quality=88)
    relief().save(OUT / "style-relief.jpg", quality=88)
    marble().save(OUT / "style-marble.jpg", quality=88)
    mosaic().save(OUT / "style-mosaic.png", optimize=True)
    for path in sorted(OUT.iterdir()):
        print(f"{path.name}: {path.stat().st_size // 1024} KiB")


if __name__ == "__main__":
    main()
