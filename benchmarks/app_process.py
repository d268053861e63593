"""The real app (`python app.py`) in a process of its own on a free loopback port, for benchmarks."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class RunningApp:
    pid: int
    url: str
    start_s: float  # from launching the process to the page answering


@contextmanager
def app_process(env: dict[str, str] | None = None, timeout_s: float = 60) -> Iterator[RunningApp]:
    """Start `python app.py`, wait until its page answers, stop it on leaving the block."""
    port = free_port()
    started = time.perf_counter()
    command = [sys.executable, "app.py", "--port", str(port)]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    try:
        while True:
            try:
                with urllib.request.urlopen(url, timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                if time.perf_counter() - started > timeout_s:
                    raise RuntimeError(f"the app did not answer within {timeout_s:.0f} s") from None
                time.sleep(0.05)
        yield RunningApp(process.pid, url, time.perf_counter() - started)
    finally:
        process.terminate()
        process.wait(timeout=30)
