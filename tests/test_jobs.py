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


@pytest.fixture
def start_models(tmp_path):
    """A weights folder with the shipped emoji-smileys and mnist-dcgan and a 64 px colour default (its config only)."""
    import shutil

    weights = tmp_path / "weights"
    for name in ("emoji-smileys", "mnist-dcgan"):
        shutil.copytree(resolve_model(name), weights / name)
    shutil.copytree(resolve_model("emoji-smileys"), weights / "emoji-64")
    for path in (weights / "emoji-64" / "config.json", weights / "emoji-64" / "discriminator" / "config.json"):
        config = json.loads(path.read_text())
        config["model"]["resolution"] = 64
        path.write_text(json.dumps(config))
    return weights


def fake_timer(seconds_at_64):
    return lambda architecture, config, batch, device: seconds_at_64 if config.resolution == 64 else 0.1


def test_colour_pictures_start_from_the_largest_colour_default_the_budget_affords(start_models):
    from gan.jobs import choose_start

    colour = torch.rand(6, 3, 16, 16) * 2 - 1
    choice = choose_start(colour, "cpu", 2, step_seconds=fake_timer(0.5), weights_dir=start_models)
    assert choice.fine_tune and choice.name == "emoji-64" and choice.start == start_models / "emoji-64"
    assert choice.frozen_d_layers == 2 and choice.steps == 240 and choice.model_config.resolution == 64
    assert choice.sentence.startswith("About 240 steps in 2 minutes on this CPU")
    assert "starting from emoji-64 (dcgan, colour 64×64 px) with its 2 lowest discriminator layers frozen" in (
        choice.sentence)  # fmt: skip
    slow = choose_start(colour, "cpu", 2, step_seconds=fake_timer(2.0), weights_dir=start_models)
    assert (
        slow.name == "emoji-smileys" and slow.steps == 1200 and "64 px would get only about 60 steps" in slow.sentence
    )
    by_steps = choose_start(colour, "cpu", 0, steps=500, step_seconds=fake_timer(2.0), weights_dir=start_models)
    assert by_steps.name == "emoji-64" and "About 500 steps (about 16.7 minutes)" in by_steps.sentence


def test_greyscale_pictures_start_from_mnist_and_a_named_start_is_kept(start_models):
    from gan.jobs import choose_start

    grey = (torch.rand(6, 1, 16, 16) * 2 - 1).expand(-1, 3, -1, -1)
    grey = (grey + torch.randn(6, 3, 16, 16) / 255).clamp(-1, 1)  # JPEG's colour noise on grey pictures
    choice = choose_start(grey, "cpu", 2, step_seconds=fake_timer(0.5), weights_dir=start_models)
    assert choice.name == "mnist-dcgan" and choice.model_config.channels == 1 and "greyscale 32×32 px" in (
        choice.sentence)  # fmt: skip
    colour = torch.rand(6, 3, 16, 16) * 2 - 1
    scratch = choose_start(colour, "cpu", 1, "fastgan", shape={"resolution": 64, "width": 8},
                           step_seconds=fake_timer(0.5), weights_dir=start_models)  # fmt: skip
    assert not scratch.fine_tune and scratch.start == "fastgan" and scratch.frozen_d_layers == 0
    assert scratch.model_config.width == 8 and "a new fastgan pair at colour 64×64 px, from scratch" in scratch.sentence
    named = choose_start(colour, "cpu", 1, "mnist-dcgan", step_seconds=fake_timer(0.5), weights_dir=start_models)
    assert named.name == "mnist-dcgan" and named.steps == 600


def test_the_step_probe_runs_the_trainer_here():
    from gan.config import DCGANConfig
    from gan.jobs import measure_step_seconds

    seconds = measure_step_seconds("dcgan", DCGANConfig(width=4, max_width=8, latent_dim=8), 4, torch.device("cpu"))
    assert 0 < seconds < 60


def test_the_cli_says_where_a_run_on_pictures_starts_before_it_trains(tmp_path, capsys):
    from PIL import Image

    colour, grey = tmp_path / "colour", tmp_path / "grey"
    for folder in (colour, grey):
        folder.mkdir()
    generator = torch.Generator().manual_seed(0)
    for index in range(8):
        pixels = (torch.rand(40, 40, 3, generator=generator) * 255).to(torch.uint8)
        Image.fromarray(pixels.numpy()).save(colour / f"{index}.png")
        Image.fromarray(pixels[:, :, 0].numpy()).convert("RGB").save(grey / f"{index}.png")
    # no --minutes: the 1-step budget buys too few steps of any larger default, so the 32 px one is chosen
    assert main(["train", str(colour), "--out", str(tmp_path / "c"), "--steps", "1", "--batch-size", "4"]) == 0
    said = capsys.readouterr().err
    assert "About 1 steps" in said and "starting from emoji-smileys (dcgan, colour 32×32 px)" in said
    record = json.loads((tmp_path / "c" / "config.json").read_text())["metadata"]
    assert record["fine_tuned_from"] == "emoji-smileys" and record["frozen_d_layers"] == 2
    assert main(["train", str(grey), "--out", str(tmp_path / "g"), "--steps", "1", "--batch-size", "4"]) == 0
    assert "starting from mnist-dcgan (dcgan, greyscale 32×32 px)" in capsys.readouterr().err
    assert main(["train", str(colour), "--out", str(tmp_path / "s"), "--init", "none", "--steps", "1",
                 "--batch-size", "4", "--width", "4", "--max-width", "8"]) == 0  # fmt: skip
    assert "a new dcgan pair at colour 32×32 px, from scratch" in capsys.readouterr().err  # the pictures' colour
