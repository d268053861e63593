"""A visitor's few colour pictures and two minutes: the automatic start (gan.jobs.choose_start) against the
from-scratch default it replaced, at equal wall-clock, scored by the emoji judge.

Data: 100 emoji of one category the shipped colour models never saw (default travel-places, drawn with seed 0 from
the fixed training split of gan.datasets.emoji, 64 px). Runs: "scratch", the Fine-tune tab's former default (a new
DCGAN, colour 64 px, batch 32), "auto", wherever choose_start starts colour pictures (a shipped colour model
fine-tuned with FreezeD), and "lesson", the origin lesson's DCGAN and loop (benchmarks/lesson_baselines.py) in colour
at 32 px, each for the same minutes and thread count. Scores: as many samples as real images of the whole category
(both splits) against them in the emoji judge's features, all at 32 px (64 px samples area-downscaled: the judge
reads 32 px emoji about as well as 64 px ones, see its card), with the copying check against the 100 training
pictures; its floor is the nearest training picture of the category's other emoji (never trained on). Writes each
run's 16-image grid (seeds 0-15) to benchmarks/results/ for counting by eye.

    python benchmarks/bench_auto_start.py --minutes 2 --seeds 0 --threads 2
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from lesson_baselines import LATENT, train_lesson_gan  # noqa: E402

from gan.datasets.emoji import load_selection  # noqa: E402
from gan.images import make_grid, to_pil  # noqa: E402
from gan.jobs import AUTO, choose_start, plan_training  # noqa: E402
from gan.quality import assess  # noqa: E402
from gan.sampling import latents_for_seeds, render  # noqa: E402
from gan.train import TrainConfig, train  # noqa: E402

BATCH = 32  # the app's batch (gan.config.APP.train_batch)
SCORED_AT = 32


def at(images: torch.Tensor, side: int) -> torch.Tensor:
    return images if images.shape[-1] == side else F.interpolate(images, size=(side, side), mode="area")


def run(kind: str, pictures: torch.Tensor, minutes: float, seed: int, count: int) -> tuple[torch.Tensor, dict]:
    """`count` samples in [-1, 1] (the first 16 for seeds 0-15) of a `kind` run, and what the run did."""
    if kind == "lesson":
        started = time.monotonic()
        generator, steps = train_lesson_gan("dcgan", at(pictures, 32), minutes * 60, seed=seed)
        with torch.no_grad():
            samples = generator(torch.randn(count, LATENT, generator=torch.Generator().manual_seed(0)))
        return samples, {"label": "lesson DCGAN, colour 32 px", "steps": steps, "seconds": time.monotonic() - started}
    if kind == "auto":
        choice = choose_start(pictures, "cpu", minutes, AUTO, BATCH)
        start = plan_training(choice.architecture, choice.model_config.to_dict(), choice.start)
        label = f"auto: {choice.name}"
    else:
        start = plan_training("dcgan", {"resolution": 64, "channels": 3})
        label = "scratch: dcgan 64 px"
    data = at(pictures, start.model_config.resolution)
    config = TrainConfig(steps=10**9, time_budget_s=minutes * 60, batch_size=BATCH, seed=seed, event_every=10**9,
                         preview_every_s=10**9)  # fmt: skip
    events = train(data, start.model_config, config, "cpu", architecture=start.architecture, init=start.init)
    result = list(events)[-1].result
    samples = render(result.generator, latents_for_seeds(range(count), result.generator.latent_dim), "cpu") * 2 - 1
    return samples, {"label": label, "steps": result.metadata["steps"], "seconds": result.metadata["seconds"]}


def cells(report):
    """A score's cell: value ± its 95% half-width (real vs real)."""

    def cell(key: str) -> str:
        score = report.score(key)
        return "-" if score is None else f"{score.value:.3g} ± {score.error:.2g} ({score.floor:.3g})"

    return cell


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--category", default="travel-places")
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--kinds", nargs="+", default=["scratch", "auto", "lesson"])
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    selection = f"emoji:{args.category}"
    train_split = load_selection(selection, 64, "train").images
    chosen = torch.randperm(len(train_split), generator=torch.Generator().manual_seed(0))[: args.count]
    pictures = train_split[chosen]  # (count, 3, 64, 64)
    real = at(load_selection(selection, 64, "all").images, SCORED_AT)
    trained = at(pictures, SCORED_AT)
    others = real[~(real[:, None] == trained[None]).flatten(2).all(2).any(1)]  # the category's emoji never trained on
    floor = assess(others, real, trained, "emoji").score("nn_distance").value
    print(f"{platform.machine()}, {args.threads} threads, torch {torch.__version__}; {len(pictures)} {args.category} "
          f"emoji, scored against all {len(real)} at {SCORED_AT} px; {time.strftime('%Y-%m-%d')}")  # fmt: skip
    print("| run | seed | steps | FD | precision | recall | coverage | categories | near-copies | nearest / floor |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    results = ROOT / "benchmarks" / "results"
    results.mkdir(parents=True, exist_ok=True)
    for seed in args.seeds:
        for kind in args.kinds:
            samples, info = run(kind, pictures, args.minutes, seed, len(real))
            report = assess(at(samples, SCORED_AT), real, trained, "emoji")
            cell = cells(report)
            nearest = report.score("nn_distance")
            classes = report.classes
            print(f"| {info['label']} | {seed} | {info['steps']} in {info['seconds']:.0f} s | {cell('fd')} | "
                  f"{cell('precision')} | {cell('recall')} | {cell('coverage')} | "
                  f"{classes.covered if classes else '-'} of {classes.present if classes else '-'} | "
                  f"{cell('near_copies')} | {nearest.value:.1f} / {floor:.1f} |", flush=True)  # fmt: skip
            grid = (samples[:16] + 1) / 2
            to_pil(make_grid(grid, columns=4)[None])[0].save(results / f"auto_start_{kind}_seed{seed}.png")


if __name__ == "__main__":
    main()
