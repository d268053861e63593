"""gan.hubcache: private copies only for their token holders, both Hub caches within their bounds."""

from __future__ import annotations

import os
import time
from pathlib import Path

import huggingface_hub.constants
import pytest

from gan import hubcache
from gan.hub import download_file
from gan.hubcache import ACCESS_NAME, may_read_offline, pull_root, record_access, sweep

DAY = 86400.0


@pytest.fixture
def hf_home(tmp_path, monkeypatch) -> Path:
    """A Hugging Face home of this test's own: pull_root() and huggingface_hub's cache under it."""
    home = tmp_path / "hf"
    monkeypatch.setattr(huggingface_hub.constants, "HF_HOME", str(home))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(home / "hub"))
    return home


def copy(name: str, size: int, age_s: float, now: float) -> Path:
    """A pulled copy in pull_root() of `size` bytes, last used `age_s` before `now`."""
    folder = pull_root() / name
    folder.mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(b"\0" * size)
    os.utime(folder, (now - age_s, now - age_s))
    return folder


def test_a_private_copy_is_readable_offline_only_with_a_token_that_pulled_it(tmp_path):
    folder = tmp_path / "copy"
    folder.mkdir()
    assert not may_read_offline(folder, "hf_alice")  # no record (a copy from before records): no one
    record_access(folder, True, "hf_alice")
    assert may_read_offline(folder, "hf_alice")
    assert not may_read_offline(folder, "hf_bob") and not may_read_offline(folder, None)
    record_access(folder, True, "hf_carol")  # another visitor with access pulls the same commit
    assert may_read_offline(folder, "hf_alice") and may_read_offline(folder, "hf_carol")
    assert "hf_alice" not in (folder / ACCESS_NAME).read_text()  # salted hashes only, never a token

    other = tmp_path / "other"
    other.mkdir()
    record_access(other, True, "hf_alice")
    assert (other / ACCESS_NAME).read_text() != (folder / ACCESS_NAME).read_text()  # a salt per copy
    record_access(other, None, "hf_dave")  # visibility unknown: treated as private
    assert may_read_offline(other, "hf_dave") and not may_read_offline(other, None)
    record_access(other, False, None)  # now public: anyone
    assert may_read_offline(other, None)
    record_access(other, True, "hf_erin")  # made private again: earlier readers must prove access again
    assert may_read_offline(other, "hf_erin") and not may_read_offline(other, "hf_alice")


def test_sweeps_remove_old_copies_then_the_least_recently_used_beyond_the_bounds(hf_home, monkeypatch):
    now = time.time()
    monkeypatch.setattr(hubcache, "PULL_CACHE_MAX_BYTES", 3000)
    expired = copy("a--old/1", 100, hubcache.PULL_CACHE_MAX_AGE_S + DAY, now)
    newest = [copy(f"b--m{i}/{i}", 1000, i * 60.0, now) for i in range(4)]  # m0 used last
    kept = copy("c--in-use/9", 1000, 10 * DAY, now)
    stale_download = pull_root() / ".downloads" / "tmp1"
    stale_download.mkdir(parents=True)
    os.utime(stale_download, (now - 2 * hubcache.LEFTOVER_AGE_S,) * 2)
    fresh_download = pull_root() / ".downloads" / "tmp2"
    fresh_download.mkdir()
    stage = pull_root() / "b--m0" / ".pull-x"  # a crashed pull's stage, old
    stage.mkdir()
    os.utime(stage, (now - 2 * hubcache.LEFTOVER_AGE_S,) * 2)

    assert sweep(keep=[kept], now=now) == {"copies": 3, "hub_repos": 0}
    assert not expired.exists() and not expired.parent.exists()  # an emptied repo folder goes too
    assert kept.exists() and newest[0].exists() and newest[1].exists()  # 3000 bytes: the kept one + 2 newest
    assert not newest[2].exists() and not newest[3].exists()
    assert not stale_download.exists() and fresh_download.exists() and not stage.exists()

    monkeypatch.setattr(hubcache, "PULL_CACHE_MAX_COPIES", 1)
    monkeypatch.setattr(hubcache, "_pinned", set())
    hubcache.pin(kept)  # an app's default model: kept for the process's life, whatever its age
    assert sweep(now=now)["copies"] == 2 and kept.exists()  # it counts: the newest copies went instead
    assert not newest[0].exists() and not newest[1].exists()


def test_huggingface_hubs_own_cache_is_bounded_too(hub, hf_home, monkeypatch):
    hub.add_repo("someone/a", {"weights.bin": b"\1" * 4000})
    hub.add_repo("someone/b", {"weights.bin": b"\2" * 4000})
    old = download_file("someone/a", "weights.bin")
    download_file("someone/b", "weights.bin")
    assert str(old).startswith(str(hf_home / "hub"))
    week_ago = time.time() - 7 * DAY
    for path in (hf_home / "hub" / "models--someone--a").rglob("*"):
        os.utime(path, (week_ago, week_ago), follow_symlinks=False)
    monkeypatch.setattr(hubcache, "HF_CACHE_MAX_BYTES", 6000)  # room for one of the two
    assert sweep() == {"copies": 0, "hub_repos": 1}
    assert sorted(p.name for p in (hf_home / "hub").glob("models--*")) == ["models--someone--b"]
    monkeypatch.setattr(hubcache, "HF_CACHE_MAX_AGE_S", 0.0)
    assert sweep(now=time.time() + 1)["hub_repos"] == 1


def test_a_pull_sweeps_only_when_enough_time_passed_or_enough_was_added(monkeypatch):
    monkeypatch.setattr(hubcache, "_sweeps", hubcache._Sweeps())
    swept: list[object] = []
    monkeypatch.setattr(hubcache, "sweep", lambda keep=(), now=None: swept.append(keep))
    assert hubcache.after_pull(0) and len(swept) == 1  # the first pull of a process sweeps
    assert not hubcache.after_pull(10) and not hubcache.after_pull(hubcache.SWEEP_AFTER_BYTES // 2)
    assert hubcache.after_pull(hubcache.SWEEP_AFTER_BYTES // 2, keep=Path("x")) and swept[-1] == [Path("x")]
    hubcache._sweeps.last -= hubcache.SWEEP_EVERY_S
    assert hubcache.after_pull(0) and len(swept) == 3
