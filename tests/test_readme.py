"""The README's shell and Python examples stay true: each command line of a ```bash block runs (the quick ones as
written, the slow ones with the tiniest options appended, which argparse lets win), or, where it needs the
network, a server, a GPU or the reader's own files, is parsed by the CLI's own parser and skipped with the reason.
The gradio_client examples run in tests/test_readme_api.py against a live app."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from gan.cli import build_parser, main

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")

# Appended to slow commands: a few steps of a tiny model, a 64 px single-pass style render.
TINY = {
    "train": ["--steps", "2", "--width", "4", "--max-width", "8", "--latent-dim", "8", "--batch-size", "4"],
    "style": ["--size", "64", "--steps", "2", "--levels", "1"],
}
# The setup this suite runs in, and the app's start (tests/test_app.py starts it).
SETUP = ("python3 -m venv", ".venv/bin/pip install", ".venv/bin/python app.py", "bash .ci/run", "docker ")


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def command_lines() -> list[str]:
    """Every command of the README's bash blocks, comments removed, `&&` chains split."""
    lines = []
    for block in blocks("bash"):
        for line in block.splitlines():
            line = re.sub(r"\s+#.*$", "", line).strip()
            if line and not line.startswith("#"):
                lines += [part.strip() for part in line.split(" && ")]
    return lines


def gan_argv(line: str) -> list[str] | None:
    """The arguments after `python -m gan` (or `torchrun ... -m gan`), or None for another command."""
    words = shlex.split(line)
    for start in range(len(words) - 1):
        if words[start] == "-m" and words[start + 1] == "gan":
            return words[start + 2 :]
    return None


def why_not_run(line: str, argv: list[str]) -> str | None:
    """Why a CLI example is only parsed, or None when it runs here."""
    if line.startswith("torchrun"):
        return "needs several GPUs or processes (tests/test_cli.py runs a two-process CPU training)"
    if any(re.fullmatch(r"[A-Z][A-Z-]*/?", word) for word in argv):
        return "names the reader's own files or repos (a placeholder in capitals)"
    if argv[0] in ("pull", "push", "deploy") or any(word.startswith("models/") for word in argv):
        return "talks to the Hub (tests/test_hub.py and tests/test_deploy.py run these against a local stand-in)"
    if argv[0] == "app":
        return "starts a server (tests/test_share_app.py runs `python -m gan app --share`)"
    if argv[0] == "train" and ("--resume" in argv or "--init" in argv):  # each run costs seconds on a busy box
        return "one tiny training here is enough: tests/test_cli.py resumes a run and fine-tunes a checkpoint"
    return None


def test_the_readme_shows_the_cli_and_every_command_line_is_known():
    lines = command_lines()
    assert len(lines) >= 15
    for line in lines:
        assert line.startswith(SETUP) or gan_argv(line) is not None, f"a README command no test covers: {line}"
    assert any(line.startswith("bash .ci/run") for line in lines)
    assert "python3 -m venv .venv && .venv/bin/pip install -r requirements.txt && .venv/bin/python app.py" in README


def test_the_setup_commands_name_files_that_exist():
    """The setup itself is what this suite runs in: here only the files it names are checked."""
    for path in ("requirements.txt", "requirements-test.txt", ".ci/run", "Dockerfile", "app.py"):
        assert (ROOT / path).is_file(), path
    assert "torch==2.9.1" in (ROOT / "requirements.txt").read_text() and "torch==2.9.1 torchvision==0.24.1" in README


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, random_vgg19):
    """The repository root as a reader has it (weights/ bundled), in a scratch folder: outputs land there."""
    folder = tmp_path_factory.mktemp("readme")
    (folder / "weights").symlink_to(ROOT / "weights")
    return folder


CLI_LINES = [line for line in command_lines() if gan_argv(line) is not None]


@pytest.mark.parametrize("line", CLI_LINES, ids=[f"{n}-{' '.join(gan_argv(x)[:2])}" for n, x in enumerate(CLI_LINES)])
def test_a_readme_cli_example_runs(line, workdir, random_vgg19, monkeypatch, capsys):
    argv = gan_argv(line)
    assert argv
    build_parser().parse_args(argv)  # every example parses, run or not (SystemExit on an unknown option)
    reason = why_not_run(line, argv)
    if reason:
        pytest.skip(f"parsed only: {reason}")
    monkeypatch.chdir(workdir)
    monkeypatch.setenv("GAN_STYLE_WEIGHTS", str(random_vgg19))  # the real VGG19 is a download
    code = main([*argv, *TINY.get(argv[0], [])])
    assert code == 0, capsys.readouterr().err


def test_the_readme_python_example_runs():
    (library,) = [block for block in blocks("python") if "gradio_client" not in block]
    names: dict = {}
    exec(compile(library, "README.md library example", "exec"), names)  # our own README's code
    assert tuple(names["images"].shape) == (16, 1, 32, 32) and len(names["frames"]) == 36


@pytest.mark.parametrize("name", ["README.md", "benchmarks/README.md"])
def test_the_readmes_link_to_their_own_sections_and_to_files_that_exist(name):
    path = ROOT / name
    text = path.read_text(encoding="utf-8")
    headings = re.findall(r"^#{1,4} (.+)$", text, flags=re.M)
    anchors = {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}
    for target in re.findall(r"\]\(#([^)]+)\)", text):
        assert target in anchors, f"{name} links to #{target}, which no heading makes"
    for target in re.findall(r"\]\(([\w./-]+)\)", text) + re.findall(r'src="([^"]+)"', text):
        assert (path.parent / target).exists(), f"{name} links to {target}, which is not in the repository"
