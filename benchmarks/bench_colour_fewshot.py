"""Colour few-shot fine-tuning, scored by the emoji judge: ours against the lesson's DCGAN adapted to colour.

Data: 100 emoji of one category (the training split, a fixed shuffle). Each trainer runs for each time
budget and seed; as many samples as real images are scored by gan.quality.assess in the emoji judge's
features against every emoji of that category (training split and held-out); the copying check compares each
sample's nearest training image with that of the category's emoji that were not trained on.

Trainers:
  scratch   gan.train's defaults from scratch, DCGAN 32 px RGB (what a colour upload trained before transfer)
  auto      where the app and the CLI start a colour upload (gan.jobs.choose_start), when this build has it
  lesson    the lesson's DCGAN (benchmarks/lesson_baselines.py) with 3 channels at 32 px, same loop and optimiser

    python benchmarks/bench_colour_fewshot.py --minutes 2 --seeds 0 1 2 --threads 2
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
from pathlib import Path

import torch
from torch import nn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from lesson_baselines import LATENT, train_lesson_gan  # noqa: E402

from gan.config import DCGANConfig  # noqa: E402
from gan.datasets.emoji import CATEGORIES, load_emoji  # noqa: E402
from gan.quality import assess, choose_space  # noqa: E402
from gan.sampling import latents_for_seeds, render  # noqa: E402
from gan.train import TrainConfig, train  # noqa: E402

KEYS = ("fd", "precision", "recall", "coverage")


def train_lesson(data: torch.Tensor, seconds: float, seed: int, count: int) -> tuple[torch.Tensor, int]:
    """The lesson's DCGAN and loop (lesson_baselines.py) on (N, 3, 32, 32) data; `count` samples in [-1, 1]."""
    generator, steps = train_lesson_gan("dcgan", data, seconds, seed=seed)
    with torch.no_grad():
        return generator(torch.randn(count, LATENT, generator=torch.Generator().manual_seed(0))), steps


def train_ours(data: torch.Tensor, seconds: float, seed: int, start: str, count: int) -> tuple[torch.Tensor, int, str]:
    """gan.train from scratch (DCGAN 32 px RGB) or from where the app starts a colour upload."""
    config = TrainConfig(steps=10**9, time_budget_s=seconds, seed=seed, event_every=10**9, preview_every_s=10**9)
    kwargs, model_config, described = {}, DCGANConfig(resolution=32, channels=3), "DCGAN 32 px RGB from scratch"
    if start == "auto":
        from gan.jobs import choose_start  # only in builds that have it

        plan = choose_start(data, device="cpu", minutes=seconds / 60)
        kwargs = {"architecture": plan.architecture, "init": plan.init}
        model_config, described = plan.model_config, plan.sentence
        data = nn.functional.interpolate(data, size=model_config.resolution, mode="bilinear", antialias=True)
    result = list(train(data, model_config, config, "cpu", **kwargs))[-1].result
    samples = render(result.generator, latents_for_seeds(range(count), result.generator.latent_dim), "cpu")
    return samples * 2 - 1, result.metadata["steps"], described


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--category", default="Smileys & Emotion", choices=CATEGORIES)
    parser.add_argument("--minutes", type=float, nargs="+", default=[2.0, 5.0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--trainers", nargs="+", default=["scratch", "auto", "lesson"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--grids", type=Path, help="write each run's first 16 samples as a PNG grid here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    everything = load_emoji(32, split="all", categories=[args.category])
    training = everything.subset(~everything.held_out).images
    training = training[torch.randperm(len(training), generator=torch.Generator().manual_seed(0))[:100]]
    space = choose_space(everything.images, "emoji")
    # The copying check's floor: the category's other emoji (never trained on), nearest training image.
    others = everything.images[~(everything.images[:, None] == training[None]).flatten(2).all(2).any(1)]
    floor = assess(others, everything.images, training, space).score("nn_distance").value
    rows: dict[tuple[float, str], list[dict[str, float]]] = {}
    for minutes in args.minutes:
        for trainer in args.trainers:
            for seed in args.seeds:
                if trainer == "lesson":
                    samples, steps = train_lesson(training, minutes * 60, seed, len(everything))
                    described = "lesson DCGAN, 3 channels, 32 px"
                else:
                    samples, steps, described = train_ours(training, minutes * 60, seed, trainer, len(everything))
                samples = nn.functional.interpolate(samples, size=32, mode="bilinear", antialias=True)
                report = assess(samples, everything.images, training, space)
                row = {key: report.score(key).value for key in KEYS}
                row |= {"steps": steps, "copies": report.score("near_copies").value}
                row |= {"nn": report.score("nn_distance").value, "nn_floor": floor}
                rows.setdefault((minutes, trainer), []).append(row)
                print(f"{minutes:g} min {trainer} seed {seed} ({described}): {row}", flush=True)
                if args.grids:
                    from gan.images import make_grid, save_png, to_pil

                    args.grids.mkdir(parents=True, exist_ok=True)
                    grid = to_pil(make_grid((samples[:16] + 1) / 2, columns=4)[None])[0]
                    save_png(grid, args.grids / f"{trainer}-{minutes:g}min-seed{seed}.png")

    def cell(values: list[float], digits: int = 2) -> str:
        shown = f"{statistics.mean(values):.{digits}f}"
        return shown if len(values) == 1 else f"{shown} ± {statistics.stdev(values):.{digits}f}"

    print(f"\nmachine: {platform.machine()}, {os.cpu_count()} cores, {args.threads} threads, "
          f"torch {torch.__version__}; "
          f"{args.category}: 100 training emoji, {len(everything)} real; seeds {args.seeds}")  # fmt: skip
    print("| budget | trainer | FD | precision | recall | coverage | NN dist. (held-out) | near-copies | steps |")
    print("|---|---|---|---|---|---|---|---|---|")
    for (minutes, trainer), runs in rows.items():
        scores = " | ".join(cell([r[key] for r in runs], 1 if key == "fd" else 2) for key in KEYS)
        print(f"| {minutes:g} min | {trainer} | {scores} | {cell([r['nn'] for r in runs])} "
              f"({runs[0]['nn_floor']:.2f}) | {cell([r['copies'] for r in runs])} | "
              f"{statistics.mean(r['steps'] for r in runs):.0f} |")  # fmt: skip


if __name__ == "__main__":
    main()
