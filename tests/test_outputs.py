"""gan.outputs: a folder a person names is written only when nothing of theirs can be lost."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gan.errors import InvalidInputError
from gan.outputs import MARKER_NAME, claim_output_folder, mark_output_folder, replace_folder


def files_in(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def pulled_folder(folder: Path, marked: bool = True) -> Path:
    """A checkpoint folder as `gan.hub.pull --out` leaves it (the weights need not be real here)."""
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"format": "gan-studio/1", "architecture": "dcgan", "model": {}}))
    (folder / "model.safetensors").write_bytes(b"weights")
    (folder / "source.json").write_text(json.dumps({"repo_id": "a/b"}))
    if marked:
        mark_output_folder(folder, "checkpoint")
    return folder


def test_a_new_path_or_an_empty_folder_may_be_written(tmp_path):
    assert claim_output_folder(tmp_path / "new" / "deeper", "checkpoint") == tmp_path / "new" / "deeper"
    (tmp_path / "empty").mkdir()
    assert claim_output_folder(tmp_path / "empty", "images") == tmp_path / "empty"
    assert not (tmp_path / "new").exists()  # a claim creates nothing


def test_a_folder_gan_studio_wrote_may_be_written_again_and_a_marker_lists_its_files(tmp_path):
    folder = pulled_folder(tmp_path / "pulled")
    assert claim_output_folder(folder, "checkpoint") == folder
    record = json.loads((folder / MARKER_NAME).read_text())
    assert record["kind"] == "checkpoint" and record["files"] == ["config.json", "model.safetensors", "source.json"]
    legacy = pulled_folder(tmp_path / "pulled-before-markers", marked=False)  # config.json + source.json: a pull's
    assert claim_output_folder(legacy, "checkpoint") == legacy


def target_of(tmp: Path, case: str) -> Path:
    """A path a person might name by mistake, made under `tmp` (where tmp/work is the current folder)."""
    if case == "file":
        (tmp / "notes.txt").write_text("mine")
        return tmp / "notes.txt"
    if case == "under-a-file":
        (tmp / "f").write_text("x")
        return tmp / "f" / "sub"
    if case == "link":
        (tmp / "empty").mkdir()
        (tmp / "link").symlink_to(tmp / "empty")
        return tmp / "link"
    return {"current-folder": tmp / "work", "above-it": tmp, "home": tmp / "home"}[case]


@pytest.mark.parametrize(
    "case, message",
    [
        ("file", "is a file, not a folder"),
        ("under-a-file", "is a file, so"),
        ("link", "is a link"),
        ("current-folder", "is the current folder"),
        ("above-it", "is the current folder, the home folder or a folder above them"),
        ("home", "the home folder"),
    ],
)
def test_files_links_and_the_folders_a_person_works_in_are_refused(tmp_path, monkeypatch, case, message):
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "thesis.tex").write_text("years of work")
    (tmp_path / "home").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    path = target_of(tmp_path, case)
    before = files_in(tmp_path)
    with pytest.raises(InvalidInputError, match=message):
        claim_output_folder(path, "checkpoint")
    assert files_in(tmp_path) == before
    with pytest.raises(InvalidInputError, match="current folder"):
        claim_output_folder(".", "checkpoint")  # `--out .`, even in an empty folder


def test_folders_of_someone_else_or_of_another_kind_or_with_added_files_are_refused(tmp_path, tiny_checkpoint):
    transformers = tmp_path / "bert"
    transformers.mkdir()
    (transformers / "config.json").write_text(json.dumps({"model_type": "bert", "architectures": ["BertModel"]}))
    (transformers / "model.safetensors").write_bytes(b"someone's weights")
    with pytest.raises(InvalidInputError, match="bert exists and is not a folder GAN studio wrote; nothing was chan"):
        claim_output_folder(transformers, "checkpoint")
    with pytest.raises(InvalidInputError, match="is not a folder GAN studio wrote"):
        claim_output_folder(tiny_checkpoint, "checkpoint")  # a model trained here, never marked: not a pull's to lose

    run = tmp_path / "run"
    run.mkdir()
    (run / "samples.png").write_bytes(b"png")
    mark_output_folder(run, "run")
    with pytest.raises(InvalidInputError, match="is a training run folder GAN studio wrote, not a checkpoint folder"):
        claim_output_folder(run, "checkpoint")
    assert claim_output_folder(run, "run") == run

    pulled = pulled_folder(tmp_path / "pulled")
    (pulled / "my notes.txt").write_text("added later by hand")
    with pytest.raises(InvalidInputError, match=r"holds files GAN studio did not write there \(my notes\.txt\)"):
        claim_output_folder(pulled, "checkpoint")
    mark_output_folder(pulled, "checkpoint")  # a writer that adds files records them
    assert claim_output_folder(pulled, "checkpoint") == pulled


def test_replace_folder_swaps_the_whole_folder_and_leaves_nothing_beside_it(tmp_path):
    target = pulled_folder(tmp_path / "models" / "x")
    (target / "discriminator").mkdir()
    (target / "discriminator" / "model.safetensors").write_bytes(b"old d")
    mark_output_folder(target, "checkpoint")
    stage = tmp_path / "models" / ".pull-1"
    stage.mkdir()
    (stage / "model.safetensors").write_bytes(b"new")
    replace_folder(stage, target, "checkpoint")
    assert sorted(files_in(target)) == [MARKER_NAME, "model.safetensors"] and not stage.exists()
    assert [p.name for p in (tmp_path / "models").iterdir()] == ["x"]

    (target / "added.txt").write_text("a person's")  # between a claim and the replacement: checked again
    stage.mkdir()
    with pytest.raises(InvalidInputError, match="did not write there"):
        replace_folder(stage, target, "checkpoint")
    assert (target / "added.txt").read_text() == "a person's"


def test_a_replacement_that_fails_halfway_puts_the_old_folder_back(tmp_path, monkeypatch):
    target = pulled_folder(tmp_path / "x")
    before = files_in(target)
    stage = tmp_path / ".pull-2"
    stage.mkdir()
    rename = Path.rename

    def failing(self: Path, other):
        if self == stage:
            raise OSError("disk full")
        return rename(self, other)

    monkeypatch.setattr(Path, "rename", failing)
    with pytest.raises(OSError, match="disk full"):
        replace_folder(stage, target, "checkpoint")
    assert files_in(target) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".pull-2", "x"]
