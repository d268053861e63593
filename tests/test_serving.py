"""gan.serving: interactive requests first, background loops make way but are never starved."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gan.errors import GanError
from gan.serving import ExpiringFolders, InteractivePriority, iterate_in_background


def wait_in_background(priority: InteractivePriority) -> tuple[threading.Thread, threading.Event, list[float]]:
    returned, waited = threading.Event(), []

    def loop_step() -> None:
        waited.append(priority.yield_to_interactive())
        returned.set()

    thread = threading.Thread(target=loop_step, daemon=True)
    thread.start()
    return thread, returned, waited


def test_a_background_step_waits_until_the_interactive_request_ends():
    priority = InteractivePriority(grace_s=0.0, max_wait_s=60)
    with priority.interactive():
        assert priority.active == 1
        thread, returned, waited = wait_in_background(priority)
        assert not returned.wait(0.3)  # still held back while the request runs
    assert returned.wait(10)  # let go as soon as it ends, long before max_wait_s
    thread.join()
    assert 0.3 <= waited[0] < 10 and priority.active == 0


def test_the_wait_is_bounded_so_background_work_is_never_starved():
    priority = InteractivePriority(grace_s=0.0, max_wait_s=0.1)
    with priority.interactive():
        started = time.monotonic()
        waited = priority.yield_to_interactive()
        assert 0.1 <= waited < 5 and time.monotonic() - started < 5


def test_after_a_request_the_background_waits_out_the_grace_period():
    priority = InteractivePriority(grace_s=0.2, max_wait_s=60)
    with priority.interactive():
        pass
    assert priority.yield_to_interactive() >= 0.1  # the server is still sending that request's files
    assert priority.yield_to_interactive() < 0.05  # quiet now: no wait at all


def test_requests_nest_and_overlap():
    priority = InteractivePriority(grace_s=0.0, max_wait_s=60)
    with priority.interactive():
        with priority.interactive():
            assert priority.active == 2
        thread, returned, _ = wait_in_background(priority)
        assert not returned.wait(0.2)  # one request is still running
    assert returned.wait(10)
    thread.join()


def test_bad_settings_are_refused():
    with pytest.raises(ValueError):
        InteractivePriority(grace_s=-1)


def thread_facts(count: int, finished: threading.Event) -> Iterator[tuple[int, int, int]]:
    """Yields (index, native thread id, nice value of that thread); sets `finished` however it ends."""
    try:
        for index in range(count):
            thread_id = threading.get_native_id()
            yield index, thread_id, os.getpriority(os.PRIO_PROCESS, thread_id)
    finally:
        finished.set()


def test_background_items_arrive_in_order_from_another_thread():
    finished = threading.Event()
    items = list(iterate_in_background(lambda: thread_facts(50, finished)))
    assert [index for index, _, _ in items] == list(range(50))
    assert {thread_id for _, thread_id, _ in items} != {threading.get_native_id()}
    assert finished.is_set()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice values are a Linux feature")
def test_background_work_runs_at_a_lower_cpu_priority_and_the_caller_keeps_its_own():
    mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    items = list(iterate_in_background(lambda: thread_facts(3, threading.Event()), niceness=19))
    assert {nice for _, _, nice in items} == {19} != {mine}
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == mine


def test_an_error_in_the_background_is_raised_in_the_caller_with_its_type():
    def failing() -> Iterator[int]:
        yield 1
        raise GanError("the images could not be read")

    received = []
    with pytest.raises(GanError, match="could not be read"):
        for item in iterate_in_background(failing):
            received.append(item)
    assert received == [1]


def test_closing_early_stops_the_background_loop_and_runs_its_cleanup():
    finished = threading.Event()
    items = iterate_in_background(lambda: thread_facts(10**9, finished))  # would run for ever
    assert next(items)[0] == 0
    items.close()  # what a server does when the visitor leaves or cancels
    assert finished.is_set()  # close() returned only after the loop's finally ran
    assert not any(thread.name == "background" for thread in threading.enumerate())


def test_paced_items_make_way_for_interactive_requests():
    priority = InteractivePriority(grace_s=0.0, max_wait_s=60)
    paced = priority.paced(iter(range(3)))
    assert next(paced) == 0  # nothing interactive is running: no wait
    with priority.interactive():
        thread_result: list[int] = []
        thread = threading.Thread(target=lambda: thread_result.append(next(paced)), daemon=True)
        thread.start()
        thread.join(0.3)
        assert thread.is_alive() and not thread_result  # held back while the request runs
    thread.join(10)
    assert thread_result == [1]


def aged_folders(root: Path, names_and_ages_s: dict[str, float], size: int = 1000) -> None:
    root.mkdir(exist_ok=True)
    for name, age_s in names_and_ages_s.items():
        folder = root / name
        folder.mkdir()
        (folder / "weights.bin").write_bytes(b"x" * size)
        stamp = time.time() - age_s
        os.utime(folder, (stamp, stamp))


def test_folders_past_their_age_are_swept_when_a_fresh_one_is_made(tmp_path):
    aged_folders(tmp_path, {"new": 60, "old": 7200})
    fresh = ExpiringFolders(tmp_path, max_age_s=3600, sweep_every_s=0).fresh()
    assert fresh.is_dir() and not any(fresh.iterdir())
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["new", fresh.name])


def test_beyond_the_size_bound_the_oldest_folders_go_first(tmp_path):
    aged_folders(tmp_path, {"newest": 60, "middle": 120, "oldest": 180})
    ExpiringFolders(tmp_path, max_age_s=3600, max_total_bytes=2500, sweep_every_s=0).fresh()
    assert not (tmp_path / "oldest").exists()
    assert (tmp_path / "middle").exists() and (tmp_path / "newest").exists()


def test_sweeps_are_spaced_out_so_a_busy_folder_stays_cheap(tmp_path):
    folders = ExpiringFolders(tmp_path, max_age_s=3600, sweep_every_s=3600)
    folders.fresh()  # the first call sweeps (nothing to remove yet)
    aged_folders(tmp_path, {"old": 7200})
    folders.fresh()
    assert (tmp_path / "old").exists()  # not swept again within the hour
    folders.sweep()  # an explicit sweep always runs
    assert not (tmp_path / "old").exists()


def test_a_stop_flag_survives_pickling_and_is_seen_through_its_copy(tmp_path):
    import pickle

    from gan.serving import StopFlag

    flag = StopFlag(tmp_path / "run" / "stop")
    copy = pickle.loads(pickle.dumps(flag))  # what a forked GPU worker receives
    assert not copy.requested()
    flag.request()
    assert copy.requested()
    flag.clear()
    assert not copy.requested() and not flag.requested()
