"""Sharing one machine between many requests: short interactive work first, memory handed back after big jobs.

Nothing here knows about a web framework. A server makes one `InteractivePriority` and passes it to
the code that needs it (no module-level state): short requests wrap themselves in
`priority.interactive()`, long loops (training, style transfer) call `priority.yield_to_interactive()`
between steps, and run through `iterate_in_background`, which gives them a thread of their own at a
lower operating-system priority, so a request that arrives in the middle of a step still gets the cores.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import queue
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import torch

from gan.outputs import folder_bytes

T = TypeVar("T")

BACKGROUND_NICENESS = 19  # Linux: the lowest CPU priority; a busy request thread gets ~98% of a shared core


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

    def paced(self, items: Iterator[T]) -> Iterator[T]:
        """Yield the items of a background loop, making way for interactive work before each one."""
        try:
            for item in items:
                self.yield_to_interactive()
                yield item
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()


class StopFlag:
    """A visitor's "stop" that reaches the process a long job runs in, also a forked worker (ZeroGPU runs each GPU
    call in one, and hands it a pickled copy of its arguments: a flag in memory would be that copy's, which the
    visitor's Stop never touches). The flag is the existence of a file, so it pickles as a path and any process
    on the machine sees it. Checking it is one stat() call."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def request(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.touch()

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)

    def requested(self) -> bool:
        return self.path.exists()


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


def lower_this_thread_priority(niceness: int = BACKGROUND_NICENESS) -> bool:
    """Lower the CPU priority of the calling thread (and of the threads it starts from now on, such as
    PyTorch's worker pool for it) by raising its nice value. Linux only: there a nice value belongs to
    one thread. Returns whether it was lowered; raising niceness needs no privileges."""
    if not sys.platform.startswith("linux") or niceness <= 0:
        return False
    try:
        thread_id = threading.get_native_id()
        current = os.getpriority(os.PRIO_PROCESS, thread_id)
        os.setpriority(os.PRIO_PROCESS, thread_id, max(current, min(niceness, 19)))
    except OSError:
        return False
    return True


def iterate_in_background(
    make_items: Callable[[], Iterator[T]], niceness: int = BACKGROUND_NICENESS, name: str = "background"
) -> Iterator[T]:
    """Run the iterator `make_items()` in a new thread at a lower CPU priority and yield its items here.

    The caller's thread (a web server's worker, say) keeps its priority; the work itself, including
    PyTorch's own threads for it, runs at `niceness`, so the operating system runs any other busy thread
    first, even in the middle of a step. An exception in the iterator is raised here, unchanged.

    Closing this generator (a visitor left, a job was cancelled) closes the inner iterator in its own
    thread after its current item, so its `finally` blocks run, and waits for that.
    """
    handed_over: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=16)
    closing = threading.Event()

    def hand_over(kind: str, value: object) -> bool:
        while not closing.is_set():
            try:
                handed_over.put((kind, value), timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        lower_this_thread_priority(niceness)
        items: Iterator[T] | None = None
        try:
            items = make_items()
            for item in items:
                if not hand_over("item", item):
                    break
        except BaseException as error:  # handed to the caller's thread, which raises it
            hand_over("error", error)
        else:
            hand_over("done", None)
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=work, name=name, daemon=True)
    thread.start()
    try:
        while True:
            kind, value = handed_over.get()
            if kind == "done":
                return
            if kind == "error":
                assert isinstance(value, BaseException)
                raise value
            yield value  # type: ignore[misc]
    finally:
        closing.set()
        thread.join()


class ExpiringFolders:
    """Fresh folders under one root for requests' files, with the old ones swept away: folders older
    than `max_age_s` first, then (with `max_total_bytes`) the oldest others until the rest fit, so a day
    of traffic cannot fill the disk.

    A sweep lists every folder under the root, and a busy hour leaves thousands: `fresh()` sweeps at
    most once per `sweep_every_s`, so making a folder stays cheap however many there are.
    """

    def __init__(
        self, root: Path, max_age_s: float, max_total_bytes: int | None = None, sweep_every_s: float = 30.0
    ) -> None:
        self.root = Path(root)
        self.max_age_s = max_age_s
        self.max_total_bytes = max_total_bytes
        self.sweep_every_s = sweep_every_s
        self._last_sweep = -float("inf")
        self._sweeping = threading.Lock()

    def fresh(self) -> Path:
        """A new, empty folder under the root (sweeping first when the last sweep is old enough)."""
        self.root.mkdir(parents=True, exist_ok=True)
        if time.monotonic() - self._last_sweep >= self.sweep_every_s and self._sweeping.acquire(blocking=False):
            try:  # one request sweeps; others arriving meanwhile go straight on
                self._last_sweep = time.monotonic()
                self.sweep()
            finally:
                self._sweeping.release()
        return Path(tempfile.mkdtemp(dir=self.root))

    def sweep(self) -> None:
        """Remove folders past their age, then the oldest until the rest fit in `max_total_bytes`."""
        cutoff = time.time() - self.max_age_s
        kept: list[tuple[float, Path]] = []
        with os.scandir(self.root) as entries:
            for entry in entries:
                with contextlib.suppress(OSError):  # removed meanwhile by another process: fine
                    if not entry.is_dir(follow_symlinks=False):
                        continue
                    modified = entry.stat(follow_symlinks=False).st_mtime
                    if modified < cutoff:
                        shutil.rmtree(entry.path, ignore_errors=True)
                    else:
                        kept.append((modified, Path(entry.path)))
        if self.max_total_bytes is None:
            return
        sizes = {folder: folder_bytes(folder) for _, folder in kept}
        total = sum(sizes.values())
        for _, folder in sorted(kept):  # oldest first
            if total <= self.max_total_bytes:
                break
            shutil.rmtree(folder, ignore_errors=True)
            total -= sizes[folder]
