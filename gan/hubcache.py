"""The Hub's files on this machine: pulled models kept for reuse, private copies guarded, both caches bounded.

- `pull_root()` holds one GAN studio folder per pulled commit (`owner--name/<commit>`) and per converted
  local folder (`local/<name>--<key>`). A pull downloads into a folder of its own (`download_dir`), removed
  when the pull ends, whether its files were kept or refused: pulls never fill huggingface_hub's cache.
- A copy of a private repo is served without the Hub (offline, or the Hub down) only to a caller whose token
  pulled it (`record_access`, `may_read_offline`).
- Both caches, `pull_root()` and huggingface_hub's own (`HF_HOME/hub`: the style network and whatever else
  the library keeps), are held to the bounds below by `sweep`, which `gan.hub.pull` runs through
  `after_pull`: at most once per SWEEP_EVERY_S, or sooner once SWEEP_AFTER_BYTES were added, so a pull stays
  cheap however many copies there are. What goes first: copies unused for longer than the age bound, then the
  least recently used until the rest fit.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import math
import os
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from gan.outputs import folder_bytes

# The bounds: one home. Copies are whole folders; "used" means pulled, or served again by a later pull.
PULL_CACHE_MAX_BYTES = 10 << 30  # pulled and converted models in pull_root(); one model is at most ~1 GiB
PULL_CACHE_MAX_COPIES = 200  # also bounds a sweep's work: a copy is a few files
PULL_CACHE_MAX_AGE_S = 30 * 86400  # a copy unused for 30 days goes
HF_CACHE_MAX_BYTES = 10 << 30  # huggingface_hub's cache (HF_HOME/hub): the style network is 80 MB to 550 MB
HF_CACHE_MAX_AGE_S = 30 * 86400  # a repo neither read nor written for 30 days goes
SWEEP_EVERY_S = 600  # a sweep lists both caches: at most this often...
SWEEP_AFTER_BYTES = 1 << 30  # ...unless pulls have added this much since the last one
LEFTOVER_AGE_S = 3600  # a pull's temporary folders older than this were left by a crash
DOWNLOADS = ".downloads"  # pull_root()/.downloads/<one per pull>
ACCESS_NAME = ".access.json"  # beside a copy's files: who may read it without the Hub
MAX_TOKENS_PER_COPY = 16  # salted token hashes kept per private copy (the most recent)

_access_lock = threading.Lock()
_pinned: set[Path] = set()  # copies this process serves for its whole life (an app's default model): never swept


def pull_root() -> Path:
    """Where pulled models are kept when no folder is asked for: beside the Hugging Face cache."""
    from huggingface_hub import constants

    return Path(constants.HF_HOME) / "gan-studio"


@contextlib.contextmanager
def download_dir() -> Iterator[Path]:
    """A folder for one pull's downloads (a huggingface_hub cache of its own), removed when the pull ends."""
    root = pull_root() / DOWNLOADS
    root.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(dir=root))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# -- private copies ------------------------------------------------------------------------------------
#
# Why salted token hashes rather than "no private copies across sessions": gan cannot see a visitor's session
# end, and an app restarted while the Hub is down should still serve its owner the private model they pulled.
# So a private copy keeps, beside its files, sha256(salt + token) for each token that pulled it (never the token;
# the salt is random per copy, so records cannot be matched across copies), and is served offline only to a
# caller presenting one of those tokens. A public copy is served to anyone. A copy without a record (pulled
# before records existed) is treated as private and served to no one offline.


def _digest(salt: str, token: str) -> str:
    return hashlib.sha256(f"{salt}:{token}".encode()).hexdigest()


def _read_access(folder: Path) -> dict[str, Any]:
    path = folder / ACCESS_NAME
    try:
        record = json.loads(path.read_text(encoding="utf-8")) if path.stat().st_size < 1 << 16 else {}
    except (OSError, ValueError, RecursionError):
        return {}
    return record if isinstance(record, dict) else {}


def record_access(folder: Path, private: bool | None, token: str | None) -> None:
    """Note who may read the copy in `folder` without the Hub: anyone (public), or the holders of `token` and of
    the tokens recorded before (private; None, unknown visibility, counts as private)."""
    with _access_lock:
        record = _read_access(folder)
        if private is False:
            updated: dict[str, Any] = {"private": False}
        else:
            kept = record.get("private") is True and isinstance(record.get("salt"), str)
            salt = record["salt"] if kept else secrets.token_hex(16)
            digests = [d for d in record.get("tokens", []) if isinstance(d, str)] if kept else []
            if token and _digest(salt, token) not in digests:
                digests = [*digests, _digest(salt, token)][-MAX_TOKENS_PER_COPY:]
            updated = {"private": True, "salt": salt, "tokens": digests}
        if updated == record:
            return
        handle, temporary = tempfile.mkstemp(prefix=".access-", dir=folder)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(updated, out)
        os.replace(temporary, folder / ACCESS_NAME)


def may_read_offline(folder: Path, token: str | None) -> bool:
    """May a caller holding `token` (None: anonymous) use the copy in `folder` without asking the Hub?"""
    record = _read_access(folder)
    if record.get("private") is False:
        return True
    salt, digests = record.get("salt"), record.get("tokens")
    if not token or record.get("private") is not True or not isinstance(salt, str) or not isinstance(digests, list):
        return False
    wanted = _digest(salt, token)
    return any(isinstance(d, str) and hmac.compare_digest(d, wanted) for d in digests)


def pin(folder: Path) -> None:
    """Keep the copy in `folder` for as long as this process runs, however old or large: sweeps skip it.

    For what a long-running process loads once and serves from memory and disk for weeks (an app's default
    model), which no later pull would mark as used.
    """
    _pinned.add(Path(folder).resolve())


def touch(folder: Path) -> None:
    """Mark a copy as used now: sweeps remove the least recently used first."""
    with contextlib.suppress(OSError):
        os.utime(folder)


# -- bounds ----------------------------------------------------------------------------------------------


class _Sweeps:
    """When to sweep: per process, at most every SWEEP_EVERY_S unless SWEEP_AFTER_BYTES were added meanwhile."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = threading.Lock()
        self.last = -math.inf
        self.added = 0

    def due(self, added: int) -> bool:
        with self._lock:
            self.added += max(0, added)
            if time.monotonic() - self.last < SWEEP_EVERY_S and self.added < SWEEP_AFTER_BYTES:
                return False
            self.last, self.added = time.monotonic(), 0
            return True


_sweeps = _Sweeps()


def after_pull(added_bytes: int, keep: Path | None = None) -> bool:
    """A pull finished, adding `added_bytes` to pull_root(): sweep both caches if it is time. True if it swept.

    `keep`: the folder the pull hands back, never removed by this sweep. A sweep that fails (a file removed
    meanwhile by another process, a permission) never fails the pull.
    """
    if not _sweeps.due(added_bytes) or not _sweeps._running.acquire(blocking=False):
        return False
    try:
        with contextlib.suppress(OSError):
            sweep(keep=[keep] if keep is not None else [])
    finally:
        _sweeps._running.release()
    return True


def sweep(keep: Iterable[Path] = (), now: float | None = None) -> dict[str, int]:
    """Apply the bounds to both caches now; returns how many copies and Hub repos were removed."""
    now = time.time() if now is None else now
    return {"copies": _sweep_pulls(keep, now), "hub_repos": _sweep_hf_cache(now)}


def _sweep_pulls(keep: Iterable[Path], now: float) -> int:
    root = pull_root()
    if not root.is_dir():
        return 0
    kept_paths = {Path(p).resolve() for p in keep} | _pinned
    copies: list[tuple[float, Path]] = []
    groups = [Path(e.path) for e in _entries(root) if e.is_dir(follow_symlinks=False)]
    for group in groups:
        for entry in _entries(group):
            with contextlib.suppress(OSError):
                modified = entry.stat(follow_symlinks=False).st_mtime
                if group.name == DOWNLOADS or entry.name.startswith("."):  # temporary: a crashed pull's
                    if now - modified > LEFTOVER_AGE_S:
                        shutil.rmtree(entry.path, ignore_errors=True)
                elif entry.is_dir(follow_symlinks=False):
                    copies.append((modified, Path(entry.path)))
    # The folders to keep first, then the most recently used: the rest goes once a bound is reached.
    copies.sort(key=lambda item: (item[1].resolve() in kept_paths, item[0]), reverse=True)
    removed, total, count = 0, 0, 0
    for modified, folder in copies:
        size = folder_bytes(folder)
        protected = folder.resolve() in kept_paths
        too_old = now - modified > PULL_CACHE_MAX_AGE_S
        too_many = count >= PULL_CACHE_MAX_COPIES or total + size > PULL_CACHE_MAX_BYTES
        if not protected and (too_old or too_many):
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
        else:
            total, count = total + size, count + 1
    for group in groups:
        if group.name != DOWNLOADS:
            with contextlib.suppress(OSError):
                group.rmdir()  # only when empty
    return removed


def _entries(folder: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as entries:
            return list(entries)
    except OSError:  # removed meanwhile
        return []


def _sweep_hf_cache(now: float) -> int:
    """huggingface_hub's cache, repo by repo (its own scan gives sizes and last use)."""
    from huggingface_hub import constants, scan_cache_dir
    from huggingface_hub.errors import CacheNotFound

    cache = Path(constants.HF_HUB_CACHE)
    if not cache.is_dir():
        return 0
    try:
        repos = scan_cache_dir(cache).repos
    except (CacheNotFound, OSError, ValueError):
        return 0
    removed, total = 0, 0
    for repo in sorted(repos, key=lambda r: max(r.last_accessed, r.last_modified), reverse=True):
        if now - max(repo.last_accessed, repo.last_modified) > HF_CACHE_MAX_AGE_S or (
            total + repo.size_on_disk > HF_CACHE_MAX_BYTES
        ):
            shutil.rmtree(repo.repo_path, ignore_errors=True)
            removed += 1
        else:
            total += repo.size_on_disk
    return removed
