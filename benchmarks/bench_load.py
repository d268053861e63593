"""Many visitors at once: the real app (`python app.py`, its own process) on loopback, driven by N
gradio_client sessions from this process.

Phases:
1. warm-up: one request of each kind (caches filled: model, VGG19, trainer code paths);
2. idle: one visitor asks for `--idle-requests` generations back to back (the idle latency);
3. load: `--visitors` sessions for `--seconds`: one fine-tunes (time budget --train-minutes, repeated),
   one stylises (repeated), the rest generate with a think time between requests (people read results);
   generate latency counts from the click until every result file has arrived;
4. after: resident memory and temp-folder sizes once the load has stopped.

Targets (issue 7, CPU): generate p95 under load <= 3 x its idle p95 while a fine-tune runs; resident
memory back within 10% of its level before the load; temp folders bounded.

    python benchmarks/bench_load.py [--visitors 8] [--seconds 150] [--think-s 1.0] [--background both]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import torch  # noqa: E402
from app_process import app_process  # noqa: E402
from gradio_client import Client, handle_file  # noqa: E402
from PIL import Image  # noqa: E402

import app as studio  # noqa: E402  (only its folder constants: the app runs in a process of its own)
from gan.style import StyleConfig, save_random_vgg19  # noqa: E402


def rss_mib(pid: int) -> float:
    """Resident memory of the app's process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def folder_mib(path: Path) -> float:
    total = 0
    for folder, _dirs, files in os.walk(path):  # folders the app removes meanwhile are skipped, not errors
        for name in files:
            with contextlib.suppress(FileNotFoundError):
                total += os.stat(os.path.join(folder, name)).st_size
    return total / 2**20


def temp_folders() -> dict[str, Path]:
    gradio_cache = Path(os.environ.get("GRADIO_TEMP_DIR", Path(tempfile.gettempdir()) / "gradio"))
    return {"outputs": studio.OUTPUT_FOLDERS.root, "runs": studio.RUN_FOLDERS.root, "gradio": gradio_cache}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


@dataclass
class Record:
    generate_s: list[float] = field(default_factory=list)
    completed: dict[str, int] = field(default_factory=lambda: {"generate": 0, "style": 0, "train": 0})
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, seconds: float | None = None) -> None:
        with self.lock:
            self.completed[kind] += 1
            if kind == "generate" and seconds is not None:
                self.generate_s.append(seconds)


def make_uploads(folder: Path, count: int = 24) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(0)
    paths = []
    for index in range(count):
        colour = tuple(rng.randrange(256) for _ in range(3))
        path = folder / f"img{index}.png"
        Image.new("RGB", (64, 64), colour).save(path)
        paths.append(str(path))
    return paths


def file_urls(value: object) -> list[str]:
    """Every file URL in a gradio_client result (nested lists and dicts)."""
    if isinstance(value, dict):
        own = [value["url"]] if isinstance(value.get("url"), str) else []
        return own + [url for v in value.values() if isinstance(v, dict | list) for url in file_urls(v)]
    if isinstance(value, list | tuple):
        return [url for v in value for url in file_urls(v)]
    return []


def generate_once(client: Client, seed: int, count: int) -> float:
    """Seconds from the click to every result file received, fetched the way a browser does (one kept-alive
    connection). gradio_client's own downloader opens a connection per file, ~70 ms each here, which
    would measure the client rather than the app."""
    started = time.perf_counter()
    result = client.predict("mnist-dcgan", seed, count, 1.0, api_name="/generate")
    with httpx.Client() as http:
        for url in file_urls(result):
            http.get(url).raise_for_status()
    return time.perf_counter() - started


def train_once(client: Client, uploads: list[str], steps: int, minutes: float) -> None:
    client.predict(
        [handle_file(p) for p in uploads], "DCGAN from scratch", 32, "colour", minutes, steps, 16,
        2e-4, 4e-4, "hinge", "auto", -1, 0, False, api_name="/train",
    )  # fmt: skip


def style_once(client: Client, content: str, style: str, size: int, steps: int) -> None:
    d = StyleConfig()
    client.predict(
        handle_file(content), [handle_file(style)], "", size, steps, d.content_weight, d.style_weight, d.tv_weight,
        "none", d.style_scale, 1, 0, "content", 0, api_name="/stylize",
    )  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--visitors", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=150)
    parser.add_argument("--think-s", type=float, default=1.0, help="mean pause between a generating visitor's requests")
    parser.add_argument("--count", type=int, default=8, help="images per generate request")
    parser.add_argument("--idle-requests", type=int, default=60)
    parser.add_argument("--style-size", type=int, default=128)
    parser.add_argument("--style-steps", type=int, default=20)
    parser.add_argument("--train-minutes", type=float, default=2.0, help="the fine-tuning visitor's time budget")
    parser.add_argument(
        "--background", choices=["both", "train", "style", "none"], default="both", help="long jobs beside generation"
    )
    args = parser.parse_args()
    if args.visitors < 3:
        parser.error("--visitors must be at least 3 (one fine-tunes, one stylises, the rest generate)")

    scratch = Path(tempfile.mkdtemp(prefix="bench-load-"))
    weights = save_random_vgg19(scratch / "vgg19-random.safetensors", seed=0)
    uploads = make_uploads(scratch / "uploads")
    content, style = str(scratch / "uploads" / "img0.png"), str(scratch / "uploads" / "img1.png")
    try:
        with app_process({**os.environ, "GAN_STYLE_WEIGHTS": str(weights)}) as app:
            return run_load(args, app.pid, app.url, uploads, content, style)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def run_load(args: argparse.Namespace, pid: int, url: str, uploads: list[str], content: str, style: str) -> int:
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}")
    print(f"app at {url}; {args.visitors} visitors for {args.seconds:.0f} s, think time {args.think_s} s")

    warm = Client(url, verbose=False, download_files=False)
    started = time.perf_counter()
    generate_once(warm, 0, args.count)
    style_once(warm, content, style, args.style_size, 3)
    train_once(warm, uploads, 5, 0.5)
    print(f"warm-up {time.perf_counter() - started:.1f} s")

    idle = [generate_once(warm, seed, args.count) for seed in range(args.idle_requests)]
    idle_p50, idle_p95 = statistics.median(idle), percentile(idle, 95)
    print(f"idle generate ({args.count} images): p50 {idle_p50 * 1000:.0f} ms, p95 {idle_p95 * 1000:.0f} ms")

    rss_before = rss_mib(pid)
    disk_before = {name: folder_mib(path) for name, path in temp_folders().items()}
    record = Record()
    stop_at = time.monotonic() + args.seconds
    training = threading.Event()

    def trainer() -> None:
        client = Client(url, verbose=False, download_files=False)
        while time.monotonic() < stop_at:
            training.set()
            try:
                train_once(client, uploads, 100_000, args.train_minutes)
                record.add("train")
            except Exception as error:
                record.errors.append(f"train: {error}")
        training.clear()

    def styler() -> None:
        client = Client(url, verbose=False, download_files=False)
        while time.monotonic() < stop_at:
            try:
                style_once(client, content, style, args.style_size, args.style_steps)
                record.add("style")
            except Exception as error:
                record.errors.append(f"style: {error}")

    def generator(index: int) -> None:
        client = Client(url, verbose=False, download_files=False)
        rng = random.Random(index)
        training.wait(timeout=30)  # measure generate while the fine-tune runs
        while time.monotonic() < stop_at:
            try:
                seconds = generate_once(client, rng.randrange(10_000), args.count)
                if training.is_set():
                    record.add("generate", seconds)
            except Exception as error:
                record.errors.append(f"generate: {error}")
            time.sleep(rng.uniform(0.5, 1.5) * args.think_s)

    samples: list[tuple[float, float, float]] = []  # (t, RSS MiB, temp MiB)
    done = threading.Event()

    def sampler() -> None:
        t0 = time.monotonic()
        while not done.wait(5.0):  # walking the temp folders costs CPU that the app would miss
            samples.append((time.monotonic() - t0, rss_mib(pid), sum(folder_mib(p) for p in temp_folders().values())))

    threads = [threading.Thread(target=trainer)] if args.background in ("both", "train") else []
    threads += [threading.Thread(target=styler)] if args.background in ("both", "style") else []
    if args.background in ("style", "none"):
        training.set()  # measure generate without a fine-tune
    threads += [threading.Thread(target=generator, args=(i,)) for i in range(args.visitors - 2)]
    monitor = threading.Thread(target=sampler)
    monitor.start()
    load_started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    load_s = time.monotonic() - load_started
    done.set()
    monitor.join()

    rss_after = rss_mib(pid)
    disk_after = {name: folder_mib(path) for name, path in temp_folders().items()}
    under = record.generate_s
    total = sum(record.completed.values())
    print(f"\nload: {load_s:.0f} s, completed {record.completed} ({total / load_s:.2f} requests/s)")
    if under:
        p50, p95 = statistics.median(under), percentile(under, 95)
        verdict = "met" if p95 <= 3 * idle_p95 else "MISSED"
        print(f"generate under load, background {args.background} ({len(under)} requests): p50 {p50 * 1000:.0f} ms, "
              f"p95 {p95 * 1000:.0f} ms = {p95 / idle_p95:.2f} x idle p95 (target <= 3 x: {verdict})")  # fmt: skip
    peak = max((s[1] for s in samples), default=rss_after)
    change = (rss_after - rss_before) / rss_before
    print(f"resident memory: before {rss_before:.0f} MiB, peak {peak:.0f} MiB, after {rss_after:.0f} MiB "
          f"({change:+.1%}; target within 10%: {'met' if abs(change) <= 0.10 else 'MISSED'})")  # fmt: skip
    for name in disk_before:
        print(f"temp folder {name}: {disk_before[name]:.1f} MiB before, {disk_after[name]:.1f} MiB after")
    if samples:
        step = max(1, len(samples) // 10)
        print("t (s), RSS (MiB), temp (MiB): " + "; ".join(f"{t:.0f}, {r:.0f}, {d:.1f}" for t, r, d in samples[::step]))
    if record.errors:
        print(f"{len(record.errors)} errors, first: {record.errors[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
