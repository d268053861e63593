"""How long a quality report takes, and how far apart it puts blobs and real images, in each feature space.

For each space gan.quality can use (the digit judge on MNIST, the emoji judge on emoji, VGG19 and the random
CNN on emoji), scores 500 real images against 500 others of the same set (real vs real) and against 500
smooth colour blobs, the same with 100 images (50 a side, the fewest a report scores), and prints each
distribution score beside its floor, with the separation in units of the 95% half-width of their
difference (above 1: measurably apart). Then times what the CLI (and the Fine-tune tab) run after training:
500 samples of the shipped mnist-dcgan rendered and scored against its 5,000 training digits, and the
shipped emoji-smileys against its 169 training emoji.

    python benchmarks/bench_quality.py [--vgg-weights FILE]   # default: VGG19 with random weights
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the blobs of tests/blobs.py

from blobs import smooth_blobs  # noqa: E402

from gan.checkpoint import load_checkpoint  # noqa: E402
from gan.data import load_builtin  # noqa: E402
from gan.datasets.emoji import load_emoji  # noqa: E402
from gan.quality import assess, assess_generator, choose_space, random_space, vgg_space  # noqa: E402
from gan.style import load_vgg19_weights, save_random_vgg19  # noqa: E402
from gan.zoo import resolve_model  # noqa: E402

KEYS = ("fd", "kid_x1000", "precision", "recall", "coverage")


def shuffled(images: torch.Tensor) -> torch.Tensor:
    return images[torch.randperm(len(images), generator=torch.Generator().manual_seed(0))]


def timed(*args, **kwargs):
    """assess(...) and the CPU seconds it used: on a machine shared with other jobs wall time says little."""
    started = time.process_time()
    report = assess(*args, **kwargs)
    return report, time.process_time() - started


def row(label: str, report, cpu: float) -> str:
    cells = []
    for key in KEYS:
        score = report.score(key)
        if score is None:
            cells.append("-")
            continue
        separation = abs(score.value - score.floor) / score.gap_error if score.gap_error > 0 else float("inf")
        cells.append(f"{score.value:.3g} ± {score.error:.2g} vs {score.floor:.3g} ({separation:.1f})")
    return f"| {report.space} | {label} | " + " | ".join(cells) + f" | {cpu:.1f} ({report.seconds:.1f}) |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vgg-weights", help="VGG19 weights (default: torchvision's random initialisation)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        source = args.vgg_weights or save_random_vgg19(Path(folder) / "vgg19-random.safetensors")
        vgg = load_vgg19_weights(source)
    digits = shuffled(load_builtin("mnist", 32))
    emoji_train = shuffled(load_emoji(32, "train").images)
    emoji_held = shuffled(load_emoji(32, "held_out").images)
    cases = [
        ("digits", digits, smooth_blobs(500, 1, 32, -1.0), choose_space(digits)),
        ("emoji", emoji_train, smooth_blobs(500, 3, 32, 1.0), choose_space(emoji_train)),
        ("vgg19", emoji_train, smooth_blobs(500, 3, 32, 1.0), vgg_space(vgg, "benchmark")),
        ("random", emoji_train, smooth_blobs(500, 3, 32, 1.0), random_space(3, "benchmark")),
    ]
    load = os.getloadavg()[0]
    print(
        f"machine: {platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}, "
        f"load average {load:.1f} at the start; VGG19 weights: {'given' if args.vgg_weights else 'random'}\n"
    )
    print(
        "| space | samples vs 500 real | "
        + " | ".join(f"{k}: value ± 95% vs floor (separation)" for k in KEYS)
        + " | CPU s (wall s) |"
    )
    print("|---|---|" + "---|" * len(KEYS) + "---|")
    for name, images, blobs, space in cases:
        real = images[:500]
        print(row("500 other real images", *timed(images[500:1000], real, space=space)), flush=True)
        print(row("500 smooth blobs", *timed(blobs, real, space=space)), flush=True)
        small = images[1000:1100]  # 50 a side: the smallest comparison a report scores (MIN_PER_SIDE)
        print(row("100 other real images vs 100 real", *timed(images[1100:1200], small, space=space)), flush=True)
        print(row("100 smooth blobs vs 100 real", *timed(blobs[:100], small, space=space)), flush=True)
        if name == "emoji":  # the judge's caveat: its own training emoji sit tighter than unseen ones
            held, other = emoji_held[:189], emoji_held[189:]
            print(row("189 held-out emoji vs 189 training emoji", *timed(held, emoji_train[:189], space=space)))
            print(row("189 held-out emoji vs 189 other held-out", *timed(held, other, space=space)))
    generator = load_checkpoint(resolve_model("mnist-dcgan")).generator
    started, cpu = time.monotonic(), time.process_time()
    report = assess_generator(generator, digits)  # as `gan train mnist` does: all 5,000 digits are its data
    total, cpu = time.monotonic() - started, time.process_time() - cpu
    print(
        f"\nAfter-training path: mnist-dcgan, 500 samples rendered and scored against 500 of its 5,000 training "
        f"digits (the copying check against all 5,000): {cpu:.1f} CPU s, {total:.1f} s wall "
        f"(report alone {report.seconds:.1f} s); load average {os.getloadavg()[0]:.1f} at the end"
    )
    print(row("mnist-dcgan, 500 samples", report, cpu))
    smileys = load_emoji(32, "all", categories=["Smileys & Emotion"]).images  # emoji-smileys' 169 training images
    generator = load_checkpoint(resolve_model("emoji-smileys")).generator
    started, cpu = time.monotonic(), time.process_time()
    report = assess_generator(generator, smileys)
    total, cpu = time.monotonic() - started, time.process_time() - cpu
    print(f"\nemoji-smileys, 169 samples against its 169 training images: {cpu:.1f} CPU s, {total:.1f} s wall")
    print(row("emoji-smileys, 169 samples", report, cpu))
    print("\n".join(report.verdicts))


if __name__ == "__main__":
    main()
