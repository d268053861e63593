"""gan.jobs: what the app and the CLI both do, done once."""

from __future__ import annotations

import json

import pytest
import torch

from gan.checkpoint import load_checkpoint
from gan.cli import main
from gan.images import png_metadata
from gan.jobs import (
    describe_start,
    model_summary,
    publication_state,
    sample_name,
    save_grid,
    save_samples,
    seed_text,
    short_name,  # fmt: skip
    style_metadata,
    without_paths,
)
from gan.share import permalink_query, samples_permalink, style_permalink
from gan.style import StyleConfig
from gan.zoo import STYLE_EXAMPLES, embedded_models, resolve_model


def test_seed_text_is_what_the_seed_parser_reads():
    from gan.config import parse_seed_list

    for seeds in ([0, 1, 2, 3], [3, 7, 8, 9, 42], [5], [9, 8]):
        assert parse_seed_list(seed_text(seeds)) == seeds
    assert seed_text(range(16)) == "0-15"


def test_samples_are_named_and_tagged_the_same_way_whoever_writes_them(tmp_path):
    images = torch.rand(2, 1, 8, 8)
    paths = save_samples(images, "alice/gan@abc", [4, 5], 0.7, tmp_path)
    assert [p.name for p in paths] == [sample_name("alice/gan@abc", 4, 0.7), "alice--gan@abc_seed5_psi0.7.png"]
    assert png_metadata(paths[0]) == {"model": "alice/gan@abc", "seed": 4, "truncation": 0.7}
    grid = save_grid(images, "m", [4, 5], 0.7, tmp_path, min_side=64)
    assert png_metadata(grid)["seeds"] == "4-5" and grid.name == "m_grid_seeds4-5_psi0.7.png"


def test_a_png_written_by_the_cli_opens_as_a_link_in_the_app(tmp_path):
    assert main(["generate", "--model", "mnist-dcgan", "--seed", "42", "--count", "2", "--truncation", "0.7",
                 "--out", str(tmp_path)]) == 0  # fmt: skip
    pngs = sorted(tmp_path.glob("mnist-dcgan_seed*_psi0.7.png"))
    link = samples_permalink(pngs, {}, embedded_models())
    assert permalink_query(link) == "model=mnist-dcgan&seed=42&count=2&truncation=0.7"


def test_a_style_png_from_the_cli_carries_the_same_json_settings_and_links(tmp_path, random_vgg19):
    content, style = STYLE_EXAMPLES / "content-temple.jpg", STYLE_EXAMPLES / "style-mosaic.png"
    out = tmp_path / "styled.png"
    assert main(["style", str(content), str(style), "--out", str(out), "--size", "64", "--steps", "1", "--levels",
                 "1", "--style-weights", str(random_vgg19)]) == 0  # fmt: skip
    meta = png_metadata(out)
    assert meta["config"] == json.loads(json.dumps(style_metadata(content, [style], StyleConfig(
        size=64, steps=1, levels=1), 1, str(random_vgg19))["config"]))  # fmt: skip
    assert meta["weights"] == random_vgg19.name  # a file by its name: never a path of this machine
    link, named = style_permalink(out, content, [style], STYLE_EXAMPLES)
    assert named and permalink_query(link).startswith("content=content-temple.jpg&styles=style-mosaic.png&size=64&")


def test_descriptions_never_show_a_machines_paths_and_pinned_models_are_short(tiny_checkpoint):
    checkpoint = load_checkpoint(tiny_checkpoint)
    checkpoint.metadata.update(steps=3, seconds=1, data="/home/me/photos /srv/x/pics.zip https://hf.co/d/x")
    sha = "0123456789abcdef0123456789abcdef01234567"
    lines = model_summary(f"alice/tiny@{sha}", checkpoint)
    assert lines[0].startswith("**alice/tiny@0123456**: dcgan 32x32")
    assert lines[1] == "trained 3 steps in 1 s on photos pics.zip https://hf.co/d/x"
    assert lines[2] == f"pinned to commit `{sha}`"
    assert model_summary("alice/tiny@main", checkpoint)[2] == "pinned to revision `main`"  # a branch, not a commit
    assert without_paths(r"C:\Users\me\a.png and ./b/c.jpg") == "a.png and c.jpg"
    assert short_name("alice/tiny@main") == "alice/tiny@main"


def test_what_fine_tuning_a_model_does_to_pictures_is_said_before_training():
    config = load_checkpoint(resolve_model("mnist-dcgan")).config
    assert describe_start("mnist-dcgan", config).startswith("mnist-dcgan makes greyscale 32×32 px images")


@pytest.mark.parametrize("created, private, words", [(True, False, "public, created"),
                                                     (False, True, "private, updated (it existed")])  # fmt: skip
def test_one_sentence_for_a_publication_both_ways(created, private, words):
    assert publication_state(created, private).startswith(words)
