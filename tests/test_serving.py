"""gan.serving: interactive requests first, background loops make way but are never starved."""

from __future__ import annotations

import threading
import time

import pytest

from gan.serving import InteractivePriority


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
