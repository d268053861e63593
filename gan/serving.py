"""Sharing one machine between many requests: short interactive work first, memory handed back after big jobs.

Nothing here knows about a web framework. A server makes one `InteractivePriority` and passes it to
the code that needs it (no module-level state): short requests wrap themselves in
`priority.interactive()`, long loops (training, style transfer) call `priority.yield_to_interactive()`
between steps.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import torch


class InteractivePriority:
    """Lets short interactive requests run ahead of long background loops on the same machine.

    A background loop that calls `yield_to_interactive()` between its steps waits while any
    interactive request runs, and for `grace_s` after the last one ends (the server still encodes
    and sends its result then). It never waits more than `max_wait_s` per call, so under a steady
    stream of interactive requests background work slows down but is never starved.
    """

    def __init__(self, grace_s: float = 0.5, max_wait_s: float = 2.0) -> None:
        if grace_s < 0 or max_wait_s < 0:
            raise ValueError("grace_s and max_wait_s must be >= 0")
        self.grace_s = grace_s
        self.max_wait_s = max_wait_s
        self._active = 0
        self._quiet_from = 0.0  # monotonic time from which background work may run again
        self._changed = threading.Condition()

    @property
    def active(self) -> int:
        """How many interactive requests are running now."""
        with self._changed:
            return self._active

    @contextmanager
    def interactive(self) -> Iterator[None]:
        """Mark the enclosed block as interactive work that background loops make way for."""
        with self._changed:
            self._active += 1
        try:
            yield
        finally:
            with self._changed:
                self._active -= 1
                self._quiet_from = max(self._quiet_from, time.monotonic() + self.grace_s)
                self._changed.notify_all()

    def yield_to_interactive(self) -> float:
        """Wait while interactive work runs (at most `max_wait_s`); return the seconds waited."""
        started = time.monotonic()
        deadline = started + self.max_wait_s
        with self._changed:
            while True:
                now = time.monotonic()
                if now >= deadline:
                    break
                if self._active:
                    self._changed.wait(deadline - now)
                elif now < self._quiet_from:
                    self._changed.wait(min(self._quiet_from, deadline) - now)
                else:
                    break
        return time.monotonic() - started


def release_memory() -> None:
    """Hand memory freed by a finished job back to the system: Python's garbage, PyTorch's CUDA
    cache, and (on glibc) the allocator's free pages, which otherwise stay in the process."""
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    with contextlib.suppress(OSError):
        trim = getattr(ctypes.CDLL(None), "malloc_trim", None)  # the process's own symbols: glibc has it
        if trim is not None:  # musl, macOS: nothing to trim
            trim(0)
