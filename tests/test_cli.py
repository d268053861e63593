import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from gan.cli import main

ROOT = Path(__file__).resolve().parent.parent


def test_generate_writes_pngs_with_seed_metadata_a_grid_and_a_gif(tiny_checkpoint, tmp_path):
    out = tmp_path / "out"
    code = main(["generate", "--model", str(tiny_checkpoint), "--seeds", "4,9", "--truncation", "0.5",
                 "--out", str(out), "--grid", "--interpolate", "--steps", "3"])  # fmt: skip
    assert code == 0
    pngs = sorted(out.glob("tiny_seed*.png"))
    assert [p.name for p in pngs] == ["tiny_seed4_psi0.5.png", "tiny_seed9_psi0.5.png"]
    with Image.open(pngs[1]) as image:
        assert image.text["seed"] == "9" and image.text["model"] == "tiny"
    assert len(list(out.glob("tiny_grid_*.png"))) == 1
    (gif,) = out.glob("*.gif")
    with Image.open(gif) as walk:
        assert walk.n_frames == 6  # 2 seeds, looped, 3 frames per segment


def test_bad_input_exits_non_zero_with_one_line(tmp_path, capsys):
    assert main(["generate", "--model", str(tmp_path / "missing"), "--out", str(tmp_path)]) == 2
    assert main(["generate", "--count", "0", "--out", str(tmp_path)]) == 2
    assert main(["generate", "--truncation", "3", "--out", str(tmp_path)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 3 and all(line.startswith("error: ") for line in lines)
    assert "no model" in lines[0] and "count must be" in lines[1] and "truncation" in lines[2]


def test_train_writes_a_loadable_checkpoint_with_its_record(tmp_path):
    out = tmp_path / "run"
    code = main(["train", "digits", "--out", str(out), "--width", "4", "--max-width", "8", "--latent-dim", "8",
                 "--steps", "3", "--batch-size", "4"])  # fmt: skip
    assert code == 0
    assert main(["info", str(out)]) == 0
    import json

    record = json.loads((out / "config.json").read_text())["metadata"]
    assert record["steps"] == 3 and record["data"] == "digits" and record["command"].startswith("python -m gan train")
    assert (out / "samples.png").is_file() and (out / "discriminator" / "model.safetensors").is_file()
    assert "- steps: 3 (12 images seen)" in (out / "TRAINING.md").read_text()


def test_module_entry_point_runs_in_a_fresh_process(tiny_checkpoint, tmp_path):
    command = [sys.executable, "-m", "gan", "generate", "--model", str(tiny_checkpoint), "--count", "2"]
    result = subprocess.run(
        [*command, "--out", str(tmp_path / "out")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "wrote 2 images" in result.stdout


def test_train_on_an_image_folder_then_resume(tmp_path, capsys):
    import numpy as np

    folder = tmp_path / "images"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for index in range(10):
        Image.fromarray((rng.random((36, 36, 3)) * 255).astype(np.uint8)).save(folder / f"{index}.png")
    out = tmp_path / "run"
    shape = ["--width", "4", "--max-width", "8", "--latent-dim", "8", "--batch-size", "4"]
    assert main(["train", str(folder), "--out", str(out), "--channels", "3", "--steps", "3", *shape]) == 0
    assert main(["train", str(folder), "--out", str(out), "--resume", "--steps", "5", "--batch-size", "4"]) == 0
    import json

    record = json.loads((out / "config.json").read_text())["metadata"]
    assert record["steps"] == 5 and record["architecture"] == "dcgan"
    assert record["quality"]["format"] == "gan-studio-quality/1" and record["quality"]["space"] == "emoji"
    printed = capsys.readouterr()
    assert "10 images used, 0 skipped" in printed.err
    assert "Too few images to score the distribution" in printed.out  # 10 images: the copying check only


def test_two_process_data_parallel_run_on_cpu_with_gloo(tmp_path):
    import json
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    from conftest import noise_pngs

    images = tmp_path / "images"  # eight pictures, not a built-in set: rank 0's quality report stays small
    images.mkdir()
    noise_pngs(images, 8, 32, seed=0)
    out = tmp_path / "ddp"
    launcher = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2"]
    launcher += ["--master_addr", "127.0.0.1", "--master_port", str(port)]
    shape = ["--steps", "4", "--width", "4", "--max-width", "8", "--latent-dim", "8", "--batch-size", "4"]
    command = [*launcher, "-m", "gan", "train", str(images), "--out", str(out), "--device", "cpu", *shape]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    record = json.loads((out / "config.json").read_text())["metadata"]
    assert record["world_size"] == 2 and record["steps"] == 4 and record["images_seen"] == 32


# -- hostile inputs: one line on stderr and exit 2, never a traceback ----------------------------------------

OURS = '{"format": "gan-studio/1", "architecture": %s, "model": %s, "metadata": %s}'


@pytest.mark.parametrize(
    "config, message",
    [
        (OURS % ('"dcgan"', "{}", "[" * 100_000 + "]" * 100_000), "nested more than 32 levels deep"),
        (OURS % ('"dcgan"', "{}", '{"a": ' * 200 + "1" + "}" * 200), "nested more than 32 levels deep"),
        (OURS % ('"dcgan"', '{"resolution": ' + "1" * 5000 + "}", "{}"), "a number thousands of digits long"),
        (OURS % ('["dcgan"]', "{}", "{}"), "'architecture' must be a name"),
        (OURS % ('"' + "x" * 100_000 + '"', "{}", "{}"), "unknown architecture 'xxx"),
        (OURS % ('"dcgan"', '{"width": "wide", "max_width": [1]}', "{}"), "describes an invalid model"),
        (OURS % ('"dcgan"', '{"resolution": 1e999}', "{}"), "describes an invalid model"),
        ("[1, 2]", "no 'model' section|is not a JSON object"),
        (OURS % ('"fastgan"', '{"resolution": 256, "width": 4096, "max_width": 4096}', "{}"), "above the budget"),
    ],
    ids=[
        "deep-array",
        "deep-objects",
        "huge-number",
        "list-name",
        "huge-name",
        "wrong-types",
        "infinity",
        "not-object",
        "memory-bomb",
    ],
)
def test_hostile_configs_are_one_line_refusals_in_every_command(tmp_path, capsys, config, message):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text(config)
    (folder / "model.safetensors").write_bytes(b"\0" * 64)
    commands = [
        ["info", str(folder)],
        ["generate", "--model", str(folder), "--out", str(tmp_path / "images")],
        ["pull", str(folder), "--out", str(tmp_path / "pulled")],
        ["train", "digits", "--init", str(folder), "--out", str(tmp_path / "run"), "--steps", "1"],
    ]
    for command in commands:
        assert main(command) == 2, command
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == len(commands) and all(line.startswith("error: ") and len(line) <= 510 for line in lines)
    assert all(re.search(message, line) for line in lines), lines
    assert not (tmp_path / "pulled").exists() and not (tmp_path / "run").exists()


def test_pickles_that_would_run_code_are_refused_in_one_line_without_torchs_advice(tmp_path, capsys):
    from hub_repos import RunsCode, torch_bytes

    marker = tmp_path / "ran"
    evil = torch_bytes({"G": RunsCode(marker)})
    folder = tmp_path / "downloaded"
    folder.mkdir()
    (folder / "pytorch_model.bin").write_bytes(evil)
    run = tmp_path / "run"
    run.mkdir()
    (run / "run_state.pt").write_bytes(evil)
    (tmp_path / "vgg19.pth").write_bytes(evil)
    for name in ("content.png", "style.png"):
        Image.new("RGB", (16, 16), "white").save(tmp_path / name)
    commands = [
        ["pull", str(folder), "--out", str(tmp_path / "pulled")],
        ["train", "digits", "--out", str(run), "--resume", "--steps", "1"],
        ["style", str(tmp_path / "content.png"), str(tmp_path / "style.png"), "--out", str(tmp_path / "out.png"),
         "--style-weights", str(tmp_path / "vgg19.pth"), "--steps", "1"],
    ]  # fmt: skip
    for command in commands:
        assert main(command) == 2, command
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 3 and all("needs code execution to load" in line and "exec" in line for line in lines), lines
    assert not any(advice in err for advice in ("set to `False`", "trust", "add_safe_globals")) and not marker.exists()


def test_torchs_refusal_is_recognised_by_its_type_whatever_its_wording(tmp_path):
    import pickle

    import torch

    from gan.formats.pickles import torch_load_refusal

    older = pickle.UnpicklingError(
        "Weights only load failed. Re-running `torch.load` with `weights_only` set to `False` will likely succeed, "
        "but it can result in arbitrary code execution. Do it only if you got the file from a trusted source.\n "
        "Please file an issue with the following so that we can make `weights_only=True` compatible with your use "
        "case: WeightsUnpickler error: Unsupported global: GLOBAL os.system was not an allowed global by default."
    )
    assert torch_load_refusal(older) == (
        "is a pickle that needs code execution to load (it calls os.system): refused, nothing in it was run"
    )
    (tmp_path / "junk.pt").write_bytes(b"garbage" * 20)
    try:
        torch.load(tmp_path / "junk.pt", weights_only=True)
    except pickle.UnpicklingError as error:  # torch 2.9: the same type for a file that is merely corrupt
        reason = torch_load_refusal(error)
    assert reason.startswith("is not a readable PyTorch checkpoint (") and "weights_only" not in reason


# -- the CLI as a newcomer meets it: help, progress, colour, output folders (issue 17) ----------------------------


def _commands() -> dict:
    import argparse

    from gan.cli import build_parser

    parser = build_parser()
    (sub,) = [action for action in parser._actions if isinstance(action, argparse._SubParsersAction)]
    return {"": parser, **sub.choices}


def test_help_is_built_without_importing_torch():
    code = (
        "import sys\nfrom gan.cli import build_parser\nparser = build_parser()\nparser.format_help()\n"
        "heavy = sorted(name for name in sys.modules if name.split('.')[0] in ('torch', 'gradio', 'numpy'))\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    result = subprocess.run([sys.executable, "-m", "gan", "--help"], cwd=ROOT, capture_output=True, text=True,
                            timeout=60)  # fmt: skip
    assert (
        result.returncode == 0
        and "embedded models (--model, --init, info): emoji-smileys, mnist-dcgan" in result.stdout
    )


def test_every_option_has_help_and_shows_its_default_and_every_command_ends_with_examples():
    import argparse

    from gan.cli import _HelpFormatter

    formatter = _HelpFormatter("python -m gan")
    for name, command in _commands().items():
        assert "examples (run them from the repository root" in command.epilog, name
        for action in command._actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            assert action.help, f"{name} {action.dest} has no help"
            shown = formatter._get_help_string(action) or ""
            if action.option_strings and action.default not in (None, False):
                assert "%(default)s" in shown, f"{name} {action.dest}: its default is not shown"
            if action.default is None and action.option_strings and action.dest not in ("seeds", "init", "out"):
                assert "default" in shown or "else" in shown, f"{name} {action.dest}: say what happens without it"


def test_help_examples_parse_and_name_only_bundled_files_or_marked_placeholders():
    import shlex

    from gan.cli import build_parser

    parser = build_parser()
    examples = [line.strip() for command in _commands().values() for line in command.epilog.splitlines()]
    examples = [line.split("  #")[0] for line in examples if line.startswith("python -m gan ")]
    assert len(examples) >= 12
    for example in examples:
        argv = shlex.split(example)[3:]
        parser.parse_args(argv)  # SystemExit on an unknown option or a bad value
        for word in argv:
            ours = word.startswith(("weights/", "runs/", "out/", "styled/"))
            if ours or not ("/" in word or word.endswith((".png", ".jpg"))):
                continue
            assert word.isupper() or word.startswith(("huggan/", "models/", "PICTURES")), (example, word)
        for word in (w for w in argv if w.startswith("weights/")):
            assert (ROOT / word).exists(), example


def test_grid_help_names_the_file_it_writes(tmp_path):
    import torch

    from gan.jobs import save_grid

    text = _commands()["generate"].format_help().replace("\n", " ")
    written = save_grid(torch.zeros(2, 1, 8, 8), "tiny", [4, 9], 0.5, tmp_path).name
    pattern = re.search(r"(<model>_grid_\S+?\.png)", re.sub(r"\s+", "", text.split("  --grid ")[1])).group(1)
    expected = pattern.replace("<model>", "tiny").replace("<first>", "4").replace("<last>", "9").replace("<psi>", "0.5")
    assert written == expected


def test_model_names_read_without_torch_are_the_embedded_models():
    from gan.cli import model_names
    from gan.zoo import embedded_models

    assert model_names() == list(embedded_models()) and "mnist-dcgan" in model_names()


def test_under_a_time_budget_the_progress_bar_counts_seconds_not_steps():
    from gan.cli import bar_position, train_bar
    from gan.config import TrainConfig

    timed = TrainConfig(steps=4000, time_budget_s=60.0)
    assert train_bar(timed)["total"] == 60 and train_bar(timed)["unit"] == "s"
    assert bar_position(timed, step=3999, elapsed_s=12.4) == 12 and bar_position(timed, 5, 75.0) == 60
    steps = TrainConfig(steps=4000)
    assert train_bar(steps, 100) == {"total": 4000, "initial": 100, "unit": "step"} and bar_position(steps, 7, 9) == 7


def _pictures(folder: Path, colour: bool, count: int = 8) -> Path:
    import numpy as np

    folder.mkdir()
    rng = np.random.default_rng(0)
    for index in range(count):
        pixels = rng.random((36, 36, 3) if colour else (36, 36)) * 255
        Image.fromarray(pixels.astype(np.uint8)).convert("RGB").save(folder / f"{index}.png")  # grey ones as RGB too
    return folder


TINY_RUN = ["--width", "4", "--max-width", "8", "--latent-dim", "8", "--steps", "2", "--batch-size", "4"]


def test_colour_pictures_train_a_colour_model_with_default_options_and_grey_ones_a_grey_model(tmp_path, capsys):
    import json

    colour, grey = _pictures(tmp_path / "colour", True), _pictures(tmp_path / "grey", False)
    assert main(["train", str(colour), "--out", str(tmp_path / "c"), *TINY_RUN]) == 0
    assert main(["train", str(grey), "--out", str(tmp_path / "g"), *TINY_RUN]) == 0
    assert json.loads((tmp_path / "c" / "config.json").read_text())["model"]["channels"] == 3
    assert json.loads((tmp_path / "g" / "config.json").read_text())["model"]["channels"] == 1
    assert "every picture is grey: a greyscale model" in capsys.readouterr().err


def test_a_model_that_fixes_the_channels_says_its_conversion_in_one_line(tmp_path, tiny_checkpoint, capsys):
    import json

    colour = _pictures(tmp_path / "colour", True)
    out = tmp_path / "ft"
    assert main(["train", str(colour), "--out", str(out), "--init", str(tiny_checkpoint), "--steps", "2",
                 "--batch-size", "4"]) == 0  # fmt: skip
    assert json.loads((out / "config.json").read_text())["model"]["channels"] == 1
    said = [line for line in capsys.readouterr().err.splitlines() if line.startswith("colour pictures")]
    assert said == ["colour pictures, trained as greyscale: the model has 1 channel(s)"]


def test_channels_are_chosen_by_one_function_for_the_app_and_the_cli(tmp_path):
    from gan.jobs import load_training_data

    colour = _pictures(tmp_path / "colour", True)
    assert load_training_data([str(colour)], 32)[0].shape[1] == 3
    data, lines = load_training_data([str(colour)], 32, channels=1)
    assert data.shape == (8, 1, 32, 32) and lines[-1].startswith("colour pictures, trained as greyscale")
    data, lines = load_training_data(["digits"], 32, channels=3)
    assert data.shape[1] == 3 and lines == ["greyscale pictures, trained as colour: the model has 3 channel(s)"]


def test_cli_writers_never_write_into_someone_elses_folder_or_file(tmp_path, capsys):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("my notes")
    Image.new("RGB", (8, 8)).save(tmp_path / "photo.png")
    content = str(ROOT / "weights" / "style-examples" / "content-temple.jpg")
    assert main(["generate", "--count", "1", "--out", str(mine)]) == 2
    assert main(["train", "digits", "--out", str(mine), "--steps", "1"]) == 2
    assert main(["style", content, content, "--out", str(tmp_path / "photo.png"), "--steps", "1"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 3 and all("nothing was changed" in line for line in lines), lines
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]
    out = tmp_path / "out"
    assert main(["generate", "--count", "1", "--out", str(out)]) == 0
    assert main(["generate", "--count", "2", "--out", str(out)]) == 0  # a folder of ours takes more images


def test_the_architectures_offered_without_torch_can_train():
    from gan.config import SCRATCH_ARCHITECTURES
    from gan.models import ARCHITECTURES, trainable

    assert all(name in ARCHITECTURES and trainable(name) is None for name in SCRATCH_ARCHITECTURES)
