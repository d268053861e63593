"""Speed of the Generate capability on this machine.

1. A 16-image grid: the bare library call vs the same request through gradio_client, `/grid` (target: client
   <= 1.5 x bare + 150 ms) and `/generate` (the grid and a zip of the 16 PNGs, both received).
2. Click to pixels in the browser (Debian's Chromium): from pressing Generate to the grid and all 16 gallery
   images decoded on the page.
3. App start: seconds from `python app.py` to the page answering (target: < 8 s).
4. Throughput: images per second at batch 64.

    python benchmarks/bench_generate.py [--model mnist-dcgan] [--repeats 20] [--device auto]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from app_process import app_process, free_port  # noqa: E402

from gan.checkpoint import load_checkpoint  # noqa: E402
from gan.config import GenerateConfig  # noqa: E402
from gan.device import pick_device  # noqa: E402
from gan.images import make_grid, to_pil  # noqa: E402
from gan.sampling import generate  # noqa: E402
from gan.zoo import resolve_model  # noqa: E402


def median_seconds(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


PIXELS_SHOWN = """first => {  // the grid of seeds first.. and the 16 gallery images, each decoded
    const decoded = css => [...document.querySelectorAll(css)].filter(img => img.complete && img.naturalWidth);
    const seeds = decoded('#gallery img').map(img => Number((img.src.match(/_seed(\\d+)_/) || [])[1]));
    const grid = decoded('#grid img').some(img => img.src.includes(`_seeds${first}-`));
    return grid && new Set(seeds.filter(seed => seed >= first && seed < first + 16)).size === 16;
}"""


def click_to_pixels_seconds(url: str, repeats: int) -> float:
    """Median seconds from clicking Generate (a new seed each time) to the grid and every gallery image decoded."""
    import shutil

    from playwright.sync_api import sync_playwright

    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
    times = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=flags)
        page = browser.new_page()
        page.goto(url)
        seed = page.locator("#generate-seed input")
        for index in range(repeats + 1):  # the first is a warm-up
            seed.fill(str(1000 + index))
            seed.press("Tab")
            started = time.perf_counter()
            page.get_by_role("button", name="Generate", exact=True).click()
            page.wait_for_function(PIXELS_SHOWN, arg=1000 + index, timeout=60_000)
            if index:
                times.append(time.perf_counter() - started)
        browser.close()
    return statistics.median(times)


def app_start_seconds() -> float:
    with app_process() as app:
        return app.start_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="mnist-dcgan")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    device = pick_device(args.device)
    generator = load_checkpoint(resolve_model(args.model)).generator

    def bare() -> None:
        images = generate(generator, GenerateConfig(seed=0, count=16), device=device)
        to_pil(make_grid(images)[None])

    bare_s = median_seconds(bare, args.repeats)

    from gradio_client import Client

    import app as studio

    demo = studio.build_app()
    demo.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True, ssr_mode=False)
    client = Client(demo.local_url, verbose=False)
    client_s = median_seconds(lambda: client.predict(args.model, 0, 16, 1.0, api_name="/grid"), args.repeats)
    full_s = median_seconds(lambda: client.predict(args.model, 0, 16, 1.0, api_name="/generate"), args.repeats)
    pixels_s = click_to_pixels_seconds(demo.local_url, args.repeats)
    demo.close()

    start_s = statistics.median(app_start_seconds() for _ in range(3))

    batch = generate(generator, GenerateConfig(seed=0, count=64), device=device)  # warm-up
    started = time.perf_counter()
    rounds = 8
    for index in range(rounds):
        batch = generate(generator, GenerateConfig(seed=index * 64, count=64), device=device, batch_size=64)
    if device.type == "cuda":
        torch.cuda.synchronize()
    images_per_s = rounds * 64 / (time.perf_counter() - started)

    budget = 1.5 * bare_s + 0.150
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, device {device}, torch {torch.__version__}")
    print("| measure | value | target |")
    print("|---|---|---|")
    print(f"| 16-image grid, bare library call (median of {args.repeats}) | {bare_s * 1000:.1f} ms | - |")
    print(f"| 16-image grid through gradio_client, /grid (median of {args.repeats}) | {client_s * 1000:.1f} ms | "
          f"<= {budget * 1000:.0f} ms: {'met' if client_s <= budget else 'MISSED'} |")  # fmt: skip
    print(f"| /generate: the grid and a zip of the 16 PNGs, both downloaded by the client | {full_s * 1000:.1f} ms "
          f"| <= {budget * 1000:.0f} ms: {'met' if full_s <= budget else 'MISSED'} |")  # fmt: skip
    print(f"| Generate click to pixels in Chromium: grid and 16 gallery images decoded (median of {args.repeats}) "
          f"| {pixels_s * 1000:.1f} ms | - |")  # fmt: skip
    print(f"| app start to first page (median of 3) | {start_s:.2f} s | < 8 s: {'met' if start_s < 8 else 'MISSED'} |")
    print(f"| throughput at batch 64 ({batch.shape[-1]} px) | {images_per_s:.0f} images/s | - |")


if __name__ == "__main__":
    main()
