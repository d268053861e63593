"""The README's gradio_client examples run as written, against this session's app."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import noise_pngs

pytestmark = pytest.mark.app
ROOT = Path(__file__).resolve().parent.parent


def client_examples() -> list[str]:
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    return [block for block in blocks if "gradio_client" in block]


def test_the_readme_shows_a_generate_a_train_and_a_stylize_example():
    found = " ".join(client_examples())
    assert all(f'api_name="/{name}"' in found for name in ("generate", "train", "stylize"))


@pytest.mark.parametrize("index", range(3))
def test_a_readme_client_example_runs_as_written(index, app_url, tmp_path, monkeypatch):
    (tmp_path / "photos").mkdir()
    noise_pngs(tmp_path / "photos", count=10, side=32, seed=index)  # "a folder of your pictures"
    (tmp_path / "weights").symlink_to(ROOT / "weights")  # the bundled style examples, as from the repo's root
    monkeypatch.chdir(tmp_path)
    code = client_examples()[index].replace("http://127.0.0.1:7860", app_url)
    names: dict = {}
    exec(compile(code, f"README.md example {index + 1}", "exec"), names)  # our own README's code
    if "gallery" in names:
        assert names["gallery"] and Path(names["grid_png"]).is_file()
    if "png" in names:
        assert Path(names["png"]).is_file() and "done: 10 steps" in names["status"]
