import io
import itertools
import json
import tarfile
from pathlib import Path

import pytest
import torch
from emoji_data import emoji_or_skip
from PIL import Image

from gan.data import load_builtin
from gan.datasets import emoji
from gan.datasets.emoji import CATEGORIES, TARBALL, VERSION, cache_dir, find_package, is_held_out, load_emoji
from gan.errors import DatasetError, InvalidInputError


def entry(name, code, category, subcategory, order, variants=(), image=True):
    return {"short_name": name, "unified": code, "image": f"{code.lower()}.png", "category": category,
            "subcategory": subcategory, "sort_order": order, "has_img_google": image,
            "skin_variations": {v: {"unified": f"{code}-{v}", "image": f"{code.lower()}-{v.lower()}.png",
                                    "has_img_google": True} for v in variants}}  # fmt: skip


CATALOGUE = [
    entry("grinning", "1F600", "Smileys & Emotion", "face-smiling", 1),  # held out (by its code's hash)
    entry("wave", "1F44B", "People & Body", "hand-fingers-open", 2, variants=["1F3FB"]),  # training
    entry("dog", "1F415", "Animals & Nature", "animal-mammal", 3),  # training
    entry("apple", "1F34E", "Food & Drink", "food-fruit", 4),  # held out
    entry("rocket", "1F680", "Travel & Places", "transport-air", 5, image=False),  # no Google artwork
    entry("skin-tone-2", "1F3FB", "Component", "skin-tone", 6),  # a swatch, not an emoji: left out
    entry("france", "1F1EB-1F1F7", "Flags", "country-flag", 7),  # training
]


def fake_package(folder, version=VERSION, catalogue=CATALOGUE):
    """A tarball laid out like npm's emoji-datasource-google: package/{package.json, emoji.json, img/google/64/}."""
    files = {"package/package.json": json.dumps({"version": version}).encode(),
             "package/emoji.json": json.dumps(catalogue).encode()}  # fmt: skip
    colours = itertools.cycle([(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (0, 255, 255)])
    for item in catalogue:
        names = [item["image"], *(v["image"] for v in item["skin_variations"].values())]
        for name in names:
            image = Image.new("RGBA", (64, 64), (0, 0, 0, 0))  # transparent ground, as the package's PNGs
            image.paste(Image.new("RGBA", (32, 32), (*next(colours), 255)), (16, 16))
            buffer = io.BytesIO()
            image.save(buffer, "PNG")
            files[f"package/img/google/64/{name}"] = buffer.getvalue()
    path = folder / TARBALL
    with tarfile.open(path, "w:gz") as archive:
        for name, payload in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            archive.addfile(info, io.BytesIO(payload))
    return path


@pytest.fixture
def package(tmp_path, monkeypatch):
    monkeypatch.delenv(emoji.SOURCE_ENV, raising=False)
    monkeypatch.setenv(emoji.CACHE_ENV, str(tmp_path))
    emoji._read_package.cache_clear()
    emoji._decoded.cache_clear()
    return fake_package(tmp_path)


def test_the_split_the_labels_and_the_pictures_of_a_package(package):
    train, held = load_emoji(16, "train"), load_emoji(16, "held_out")
    assert train.names == ("wave", "dog", "france") and held.names == ("grinning", "apple")
    assert all(not is_held_out(code) for code in ("1F44B", "1F415")) and is_held_out("1F600")
    assert [CATEGORIES[i] for i in train.category] == ["People & Body", "Animals & Nature", "Flags"]
    assert [train.subcategories[i] for i in train.subcategory] == ["hand-fingers-open", "animal-mammal", "country-flag"]
    assert "skin-tone" not in train.subcategories  # the Component category is left out
    assert train.images.shape == (3, 3, 16, 16) and train.images.min() >= -1 and train.images.max() <= 1
    assert torch.allclose(train.images[:, :, 0, 0], torch.ones(3, 3))  # transparency composited over white
    with_tones = load_emoji(16, "all", skin_tones=True)
    assert with_tones.names == ("grinning", "wave", "wave:1f3fb", "dog", "apple", "france")
    assert with_tones.held_out.tolist() == [True, False, False, False, True, False]  # a variant goes with its base
    food = load_emoji(16, "all", categories=["Food & Drink"])
    assert food.names == ("apple",) and len(food.subset(food.held_out)) == 1


def test_bad_requests_and_bad_packages_fail_with_a_message(package, tmp_path, monkeypatch):
    with pytest.raises(InvalidInputError, match="unknown emoji category 'Faces'"):
        load_emoji(16, categories=["Faces"])
    with pytest.raises(InvalidInputError, match="split must be one of"):
        load_emoji(16, "test")
    with pytest.raises(InvalidInputError, match="resolution"):
        load_emoji(4)
    other = tmp_path / "other"
    other.mkdir()
    monkeypatch.setenv(emoji.SOURCE_ENV, str(fake_package(other, version="15.1.0")))
    with pytest.raises(DatasetError, match=r"holds emoji-datasource-google 15\.1\.0, not 16\.0\.0"):
        load_emoji(16)
    broken = other / "broken.tgz"
    broken.write_bytes(package.read_bytes()[: package.stat().st_size // 2])  # a download cut short
    monkeypatch.setenv(emoji.SOURCE_ENV, str(broken))
    with pytest.raises(DatasetError, match=r"is incomplete|not a readable tarball"):
        load_emoji(16)
    monkeypatch.setenv(emoji.SOURCE_ENV, str(tmp_path / "missing"))
    with pytest.raises(DatasetError, match="names no emoji-datasource-google tarball"):
        find_package()


def test_an_unpacked_package_folder_works_as_well_as_the_tarball(package, tmp_path, monkeypatch):
    unpacked = tmp_path / "unpacked"
    with tarfile.open(package) as archive:
        archive.extractall(unpacked, filter="data")
    monkeypatch.setenv(emoji.SOURCE_ENV, str(unpacked))
    assert load_emoji(16, "all").names == ("grinning", "wave", "dog", "apple", "france")


def test_without_npm_and_without_a_cached_package_the_message_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.delenv(emoji.SOURCE_ENV, raising=False)
    monkeypatch.setenv(emoji.CACHE_ENV, str(tmp_path / "empty"))
    monkeypatch.setattr(emoji.shutil, "which", lambda name: None)
    with pytest.raises(DatasetError, match="npm is not installed"):
        find_package(fetch=True)
    with pytest.raises(DatasetError, match="not in the cache"):
        find_package(fetch=False)
    assert not (tmp_path / "empty" / TARBALL).exists()


def test_the_cache_folder_follows_the_environment(tmp_path):
    assert cache_dir({"GAN_STUDIO_CACHE": str(tmp_path)}) == tmp_path
    assert cache_dir({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "gan-studio"


def test_the_real_package_builds_its_fixed_split():
    train = emoji_or_skip(32, "train")
    held = emoji_or_skip(32, "held_out")
    assert len(train) + len(held) == 1906  # every emoji of 16.0.0 with Google artwork, components left out
    assert 0.17 < len(held) / (len(train) + len(held)) < 0.23
    assert not set(train.names) & set(held.names)
    assert set(CATEGORIES) == {CATEGORIES[i] for i in held.category}  # every category in both splits
    assert train.images.shape[1:] == (3, 32, 32)
    assert load_builtin("emoji", 32).shape == train.images.shape  # the CLI's `gan train emoji`


def test_the_built_in_set_emoji_smileys_is_what_the_embedded_model_was_trained_on():
    emoji_or_skip()  # skipped without npm
    smileys = load_builtin("emoji-smileys", 32)
    weights = Path(__file__).resolve().parent.parent / "weights"
    record = json.loads((weights / "emoji-smileys" / "config.json").read_text())["metadata"]
    assert tuple(smileys.shape) == tuple(record["data_shape"]) == (169, 3, 32, 32)
    assert record["command"].startswith("python -m gan train emoji-smileys ") and record["data"] == "emoji-smileys"


def test_selections_name_categories_and_subcategories_as_dataset_names(package):
    from gan.datasets.emoji import load_selection, parse_selection

    assert parse_selection("emoji") == () and parse_selection("emoji:Smileys & Emotion, food-drink") == (
        "smileys-emotion", "food-drink")  # fmt: skip
    assert load_selection("emoji:food-drink", 16, "all").names == ("apple",)
    assert load_selection("emoji:smileys-emotion,animal-mammal,flags", 16, "all").names == ("grinning", "dog", "france")
    assert load_selection("emoji:animals-nature,flags", 16).names == ("dog", "france")  # the training split
    assert load_selection("emoji", 16, "held_out").names == ("grinning", "apple")
    assert load_builtin("emoji:animals-nature", 16).shape == (1, 3, 16, 16)  # the CLI's `gan train emoji:...`
    with pytest.raises(InvalidInputError, match="unknown emoji category 'faces'; choose from smileys-emotion, "):
        load_selection("emoji:faces", 16)
    with pytest.raises(InvalidInputError, match="names no category"):
        load_selection("emoji:", 16)
    with pytest.raises(DatasetError, match="emoji:food-drink holds no emoji of the train split"):
        load_selection("emoji:food-drink", 16)  # its one emoji is held out


def test_the_real_package_names_its_categories_as_the_selections_do():
    from gan.datasets.emoji import CATEGORY_SLUGS, load_selection

    emoji_or_skip(32, "train")
    assert CATEGORY_SLUGS[0] == "smileys-emotion" and "animals-nature" in CATEGORY_SLUGS
    both = load_selection("emoji:smileys-emotion,animals-nature", 32)
    assert {CATEGORIES[i] for i in both.category} == {"Smileys & Emotion", "Animals & Nature"}
    assert len(load_selection("emoji:face-smiling", 32, "all")) == 14  # a subcategory: 14 smiling faces
