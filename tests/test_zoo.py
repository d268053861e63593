import pytest

from gan.errors import CheckpointError
from gan.zoo import DEFAULT_MODEL, ModelCache, embedded_models, resolve_model


def test_the_default_model_is_embedded():
    assert DEFAULT_MODEL in embedded_models()
    assert resolve_model(None) == embedded_models()[DEFAULT_MODEL]


def test_resolve_accepts_folders_and_refuses_unknown_names(tiny_checkpoint):
    assert resolve_model(str(tiny_checkpoint)) == tiny_checkpoint
    with pytest.raises(CheckpointError, match="no model 'nope'"):
        resolve_model("nope")


def test_model_cache_is_bounded_and_reuses_entries(tiny_checkpoint, tmp_path):
    import shutil

    copies = [shutil.copytree(tiny_checkpoint, tmp_path / f"copy{i}") for i in range(3)]
    cache = ModelCache(max_models=2)
    first = cache.get(copies[0])
    assert cache.get(copies[0]) is first  # hit
    cache.get(copies[1])
    cache.get(copies[2])  # evicts copies[0], the least recently used
    assert len(cache) == 2
    assert cache.get(copies[0]) is not first


def test_the_configured_default_model_comes_from_the_environment_then_weights_then_the_constant(tmp_path):
    from gan.zoo import DEFAULT_MODEL_ENV, DEFAULT_MODEL_FILE, configured_default_model

    assert configured_default_model(tmp_path, {}) == DEFAULT_MODEL
    (tmp_path / DEFAULT_MODEL_FILE).write_text("alice/tuned@v2\n")
    assert configured_default_model(tmp_path, {}) == "alice/tuned@v2"
    assert configured_default_model(tmp_path, {DEFAULT_MODEL_ENV: " emoji-smileys "}) == "emoji-smileys"
    assert configured_default_model(tmp_path, {DEFAULT_MODEL_ENV: ""}) == "alice/tuned@v2"


def test_shipped_checkpoints_skip_the_cost_check_and_others_keep_it(tiny_checkpoint, monkeypatch):
    from gan.models import budget

    measured = []
    original = budget.check
    monkeypatch.setattr(budget, "check", lambda *args, **kwargs: measured.append(args) or original(*args, **kwargs))
    cache = ModelCache()
    shipped = cache.get(resolve_model(DEFAULT_MODEL))
    assert measured == [] and shipped.generator.cost.peak_activation_bytes > 0  # batch sizing still knows its cost
    cache.get(tiny_checkpoint)  # a folder from anywhere else is measured before it is built
    assert len(measured) == 1


def test_the_style_examples_are_the_bundled_pictures_only(tmp_path):
    from gan.zoo import STYLE_EXAMPLES, example_images, style_examples

    bundled = set(example_images())
    assert {"content-temple.jpg", "style-mosaic.png"} <= bundled and not {
        "SOURCES.md",
        "make_style_examples.py",
    } & bundled
    assert all((STYLE_EXAMPLES / name).is_file() for name in bundled)
    for name in ("content-a.png", "style-b.jpg", "style-notes.txt", "content-c.py", "SOURCES.md"):
        (tmp_path / name).write_bytes(b"x")
    assert list(example_images(tmp_path)) == ["content-a.png", "style-b.jpg"]
    assert style_examples(tmp_path) == [(tmp_path / "content-a.png", (tmp_path / "style-b.jpg",)),
                                        (tmp_path / "content-a.png", (tmp_path / "style-b.jpg",) * 2)]  # fmt: skip
