"""Folders a person names for GAN studio to write into: what is already there is never lost.

Every writer that takes a folder from its user (`pull --out`; the CLI's `generate --out` and `train --out`)
follows one rule, `claim_output_folder(path, kind)`, before it writes anything (`style --out`, a file, follows
`claim_output_file`: a new file, or a PNG GAN studio wrote):

- a path that does not exist yet, or an empty folder, may be used;
- a folder GAN studio itself wrote as the same `kind`, holding only files it recorded there, may be
  written again (replaced whole by `replace_folder`, or added to);
- everything else is refused with one line that says why: a file, a link, the current folder or one
  above it, the home folder, a folder of someone else's files (a Transformers model with its own
  config.json, a photo collection), a folder GAN studio wrote as another kind (a training run is not a
  pull's to replace), or one of ours to which a person added files.

What a folder holds is recorded in a small marker file (`MARKER_NAME`) by `mark_output_folder` once the
writer is done, so a later claim can tell our files from a person's. Checkpoint folders and training runs
written before the marker existed are recognised by their own files (see `_LEGACY`).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from gan.card import SAMPLES_NAME, SOURCE_NAME
from gan.checkpoint import CONFIG_NAME, DISCRIMINATOR_DIR, WEIGHTS_NAME, has_our_config, parse_json
from gan.errors import CheckpointError, InvalidInputError
from gan.train import RUN_STATE_NAME

MARKER_NAME = ".gan-studio.json"
MAX_MARKER_BYTES = 4 << 20  # a marker lists file names; 4 MiB is tens of thousands of them
KINDS = {  # kind -> what it is, for messages
    "checkpoint": "checkpoint folder (python -m gan pull)",
    "run": "training run folder (python -m gan train)",
    "images": "folder of generated images (python -m gan generate)",
}
_CHECKPOINT_FILES = {
    CONFIG_NAME,
    WEIGHTS_NAME,
    f"{DISCRIMINATOR_DIR}/{CONFIG_NAME}",
    f"{DISCRIMINATOR_DIR}/{WEIGHTS_NAME}",
}
_LEGACY = {  # kind -> (a file that must be there, every file such a folder may hold): folders from before the marker
    "checkpoint": (SOURCE_NAME, _CHECKPOINT_FILES | {SOURCE_NAME}),
    "run": (RUN_STATE_NAME, _CHECKPOINT_FILES | {RUN_STATE_NAME, SAMPLES_NAME, "TRAINING.md", "README.md"}),
}


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown output kind {kind!r}; one of {', '.join(KINDS)}")


def claim_output_folder(path: str | Path, kind: str) -> Path:
    """May `path` be written as a `kind` folder (see KINDS)? Its absolute path if so; InvalidInputError if not.

    Allowed: a path that does not exist (nor its parents need to, as long as none of them is a file), an
    empty folder, or a folder GAN studio wrote as `kind` whose every file it recorded. Nothing is created,
    changed or removed here: the writer does that, and calls `mark_output_folder` when it is done.
    """
    _check_kind(kind)
    given = str(path)
    target = Path(os.path.abspath(Path(path).expanduser()))  # not resolve(): a link must be seen as a link
    what = KINDS[kind].split(" (")[0]
    if target.is_symlink():
        raise InvalidInputError(f"{given} is a link: name a real folder to write the {what} to")
    cwd = Path.cwd().resolve()
    real = target.resolve()
    if real == cwd or real in cwd.parents or real == Path.home().resolve() or real == Path(real.anchor):
        raise InvalidInputError(
            f"{given} is the current folder, the home folder or a folder above them: name a new folder for the {what}"
        )
    if target.exists() and not target.is_dir():
        raise InvalidInputError(f"{given} is a file, not a folder: name a new or empty folder for the {what}")
    _check_parents(target, given)
    if not target.exists() or not any(target.iterdir()):
        return target
    reason = _why_not_ours(target, kind)
    if reason:
        raise InvalidInputError(f"{given} {reason}; nothing was changed: name a new or empty folder for the {what}")
    return target


def _check_parents(target: Path, given: str) -> None:
    """The nearest existing folder above `target` must be a folder (not a file) for `target` to be written."""
    for parent in target.parents:
        if parent.exists():
            if not parent.is_dir():
                raise InvalidInputError(f"{parent} is a file, so {given} cannot be written: choose another path")
            return


def claim_output_file(path: str | Path, keys: tuple[str, ...]) -> Path:
    """May the PNG file `path` be written? Its absolute path if it does not exist yet, or if it is a PNG GAN studio
    wrote (its text chunks hold every one of `keys`, the settings the writer records); InvalidInputError if not:
    a folder, a link, or anybody else's file is never overwritten."""
    given = str(path)
    target = Path(os.path.abspath(Path(path).expanduser()))
    if target.is_symlink():
        raise InvalidInputError(f"{given} is a link: name a new file to write")
    if target.is_dir():
        raise InvalidInputError(f"{given} is a folder: name a .png file to write")
    _check_parents(target, given)
    if target.exists():
        from PIL import Image

        try:
            with Image.open(target) as image:
                text = dict(getattr(image, "text", {}) or {})
        except (OSError, ValueError, SyntaxError):  # an unreadable file is someone else's
            text = {}
        if not all(key in text for key in keys):
            raise InvalidInputError(f"{given} exists and is not an image GAN studio wrote: nothing was changed; "
                                    "name a new file")  # fmt: skip
    return target


def _why_not_ours(folder: Path, kind: str) -> str | None:
    """None if `folder` is a `kind` folder GAN studio wrote and holds nothing else; else the reason, for a person."""
    marker = folder / MARKER_NAME
    if marker.is_file() and not marker.is_symlink():
        record = _read_marker(marker)
        if record is None:
            return "holds an unreadable GAN studio marker"
        if record.get("kind") != kind:
            other = KINDS.get(str(record.get("kind")), "folder of another kind")
            return f"is a {other.split(' (')[0]} GAN studio wrote, not a {KINDS[kind].split(' (')[0]}"
        listed = {name for name in record.get("files", []) if isinstance(name, str)}
    elif kind in _LEGACY and has_our_config(folder) and (folder / _LEGACY[kind][0]).is_file():
        listed = _LEGACY[kind][1]
    else:
        return "exists and is not a folder GAN studio wrote"
    strangers = _unlisted(folder, listed, kind)
    if strangers:
        shown = ", ".join(strangers[:3]) + (", ..." if len(strangers) > 3 else "")
        return f"holds files GAN studio did not write there ({shown})"
    return None


def _read_marker(path: Path) -> dict | None:
    try:
        if path.stat().st_size > MAX_MARKER_BYTES:
            return None
        record = parse_json(path.read_bytes(), MARKER_NAME)
    except (OSError, CheckpointError):
        return None
    return record if isinstance(record, dict) else None


def _unlisted(folder: Path, listed: set[str], kind: str, most: int = 4) -> list[str]:
    """Up to `most` files (or links, or odd entries) under `folder` that are not in `listed`; stops early."""
    found: list[str] = []
    for parent, dirs, files in os.walk(folder):
        base = Path(parent).relative_to(folder)
        for name in dirs:
            if (Path(parent) / name).is_symlink():  # os.walk does not enter links: a link is not ours
                found.append((base / name).as_posix())
        for name in files:
            relative = (base / name).as_posix()
            legacy_preview = kind == "run" and relative.startswith("previews/") and relative.endswith(".png")
            if relative != MARKER_NAME and relative not in listed and not legacy_preview:
                found.append(relative)
        if len(found) >= most:
            break
    return found


def mark_output_folder(path: str | Path, kind: str) -> Path:
    """Record that GAN studio wrote the folder `path` as `kind`, listing every file now in it; returns the marker.

    Writers call it once they are done (and a writer that adds files calls it again), so the folder can be
    claimed again later without risking anything a person put there afterwards.
    """
    _check_kind(kind)
    folder = Path(path)
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() and p.name != MARKER_NAME)
    marker = folder / MARKER_NAME
    handle, temporary = tempfile.mkstemp(prefix=".marker-", dir=folder)
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump({"written_by": "GAN studio", "kind": kind, "files": files}, out, indent=1)
    os.replace(temporary, marker)
    return marker


def replace_folder(stage: str | Path, target: str | Path, kind: str) -> Path:
    """Put the finished folder `stage` at `target`, a folder `claim_output_folder` allowed (checked again here).

    `stage` must be on the same file system (a hidden sibling of `target`, say): a new `target` appears in one
    rename; an existing one is moved aside, replaced in one rename, and only then removed, so an interrupted
    replacement leaves either the old folder or the new one, never a mix.
    """
    stage, target = Path(stage), Path(os.path.abspath(Path(target).expanduser()))
    claim_output_folder(target, kind)  # a person may have added files since the first claim
    mark_output_folder(stage, kind)
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        stage.rename(target)
        return target
    aside = Path(tempfile.mkdtemp(prefix=f".{target.name}-old-", dir=target.parent))
    old = aside / target.name
    try:
        target.rename(old)
        try:
            stage.rename(target)
        except OSError:
            old.rename(target)  # put the old folder back before reporting the failure
            raise
    except OSError:
        with contextlib.suppress(OSError):
            aside.rmdir()  # only ever removes it empty: the old folder is back in place or still inside
        raise
    shutil.rmtree(aside, ignore_errors=True)
    return target


def folder_bytes(folder: Path) -> int:
    """Bytes of every file below `folder` (links not followed; files removed meanwhile count 0)."""
    total = 0
    for parent, _dirs, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.stat(os.path.join(parent, name), follow_symlinks=False).st_size
    return total
