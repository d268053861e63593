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
        [*command, "--out", str(tmp_path)],
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
