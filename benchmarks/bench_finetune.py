"""Our trainer against the origin lesson's GANs at equal wall-clock, on the same MNIST digits.

For each data setting (all 4,000 training digits, or a 100-image few-shot subset), each
time budget and each seed, trains: ours (gan.train defaults: DCGAN 32 px, hinge, spectral norm,
adaptive DiffAugment, EMA, R1; on the 100 digits, real-image jitter) and the lesson's MLP and DCGAN
(benchmarks/lesson_baselines.py).
Scores 1,000 samples of each in a digit classifier's feature space against 1,000 held-out
real digits: Fréchet distance (FD), classes covered, and the median distance from each
sample to its nearest training image, beside the same distance for the held-out digits
(a generator that copies its training set scores far below the held-out value).
Also: steps per second of each trainer configuration (architecture, resolution, batch), and peak memory of a
64 px RGB run at batch 32.

    python benchmarks/bench_finetune.py --minutes 2 5 --seeds 0 1 2            # the issue's grid
    python benchmarks/bench_finetune.py --minutes 1 --seeds 0 --subsets fewshot # a quick look
    python benchmarks/bench_finetune.py --threads 1 --steps 600 1500 --seeds 0 1 2 3 4 --trainers ours --subsets full

--steps gives budgets in steps instead of minutes (ours only; a CPU run is bitwise reproducible, so on a
machine shared with other jobs the scores do not depend on the load); pair them with the steps per second of
a quiet machine (the speed table, run with the same --threads) to read them as minutes.
"""

from __future__ import annotations

import argparse
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from lesson_baselines import LATENT, train_lesson_gan  # noqa: E402

from gan.config import DCGANConfig, FastGANConfig  # noqa: E402
from gan.data import load_builtin, mnist_labels  # noqa: E402
from gan.metrics import digit_report, train_digit_classifier  # noqa: E402
from gan.sampling import latents_for_seeds, render  # noqa: E402
from gan.train import TrainConfig, train  # noqa: E402

SAMPLES = 1000


def train_ours(train32: torch.Tensor, seconds: float, seed: int, steps: int = 10**9) -> tuple[torch.nn.Module, int]:
    config = TrainConfig(steps=steps, time_budget_s=seconds, batch_size=min(64, len(train32)), seed=seed,
                         event_every=10**9, preview_every_s=10**9)  # fmt: skip
    result = list(train(train32, DCGANConfig(), config, "cpu"))[-1].result
    if result.metadata["collapse_restarts"]:
        print(f"seed {seed}: started again {result.metadata['collapse_restarts']} time(s) after a collapse")
    return result.generator, result.metadata["steps"]


def samples_of(trainer: str, generator: torch.nn.Module) -> torch.Tensor:
    """(SAMPLES, 1, 28, 28) in [-1, 1]."""
    if trainer == "ours":
        return (render(generator, latents_for_seeds(range(SAMPLES), generator.latent_dim), "cpu") * 2 - 1)[
            :, :, 2:30, 2:30
        ]
    with torch.no_grad():
        return generator.eval()(torch.randn(SAMPLES, LATENT, generator=torch.Generator().manual_seed(0)))


SPEED_CONFIGS = [  # (architecture, model config, batch): the benchmark's, then the Fine-tune tab's choices
    ("dcgan", DCGANConfig(), 64),
    ("dcgan", DCGANConfig(resolution=64, channels=3), 32),
    ("fastgan", FastGANConfig(resolution=64), 32),
    ("dcgan", DCGANConfig(resolution=128, channels=3), 32),
    ("fastgan", FastGANConfig(resolution=128), 32),
]


def trainer_speeds(steps: int = 30, warmup: int = 5) -> list[tuple[str, float]]:
    """Steps per second of gan.train for each SPEED_CONFIGS entry on 256 random images, after `warmup` steps."""
    rows = []
    for architecture, model_config, batch in SPEED_CONFIGS:
        shape = (256, model_config.channels, model_config.resolution, model_config.resolution)
        config = TrainConfig(steps=steps, batch_size=batch, event_every=1, preview_every_s=10**9)
        times = {e.step: e.elapsed_s for e in train(torch.rand(shape) * 2 - 1, model_config, config, "cpu",
                                                    architecture=architecture)}  # fmt: skip
        name = f"{architecture} {model_config.resolution} px {'RGB' if model_config.channels == 3 else 'grey'}"
        rows.append((f"{name}, batch {batch}", (steps - warmup) / (times[steps] - times[warmup])))
    return rows


def peak_memory_64px() -> float:
    """Peak resident memory (GiB) of a fresh process training a 64 px RGB DCGAN at batch 32 for 20 steps."""
    code = (
        "import resource, torch\n"
        "from gan.config import DCGANConfig\nfrom gan.train import TrainConfig, train\n"
        "data = torch.rand(256, 3, 64, 64) * 2 - 1\n"
        "list(train(data, DCGANConfig(resolution=64, channels=3), TrainConfig(steps=20, batch_size=32), 'cpu'))\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    output = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return int(output.stdout.split()[-1]) / 2**20  # ru_maxrss is in KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, nargs="+", default=[2.0, 5.0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--subsets", nargs="+", default=["full", "fewshot"], choices=["full", "fewshot"])
    parser.add_argument("--trainers", nargs="+", default=["ours", "lesson-mlp", "lesson-dcgan"])
    parser.add_argument("--steps", type=int, nargs="+", help="step budgets instead of --minutes (ours only)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-speed", action="store_true")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    real32 = load_builtin("mnist", 32)
    labels = torch.from_numpy(mnist_labels()).long()
    order = torch.randperm(len(real32), generator=torch.Generator().manual_seed(0))  # the set is sorted by label
    real32, labels = real32[order], labels[order]
    real = real32[:, :, 2:30, 2:30]
    held_out = real[4000:]  # never trained on
    classifier = train_digit_classifier(real, labels)

    rows: dict[tuple[str, float, str], list[dict[str, float]]] = {}
    for subset in args.subsets:
        count = 4000 if subset == "full" else 100
        train32, train28 = real32[:count], real[:count]
        held_nn = digit_report(classifier, held_out, held_out, train28).nn_distance
        budgets = [(f"{steps} steps", 0.0, steps) for steps in args.steps or []] or [
            (f"{minutes:g} min", minutes * 60, 10**9) for minutes in args.minutes
        ]
        for budget, seconds, step_budget in budgets:  # seconds 0: no time limit
            for trainer in args.trainers:
                for seed in args.seeds:
                    started = time.monotonic()
                    if trainer == "ours":
                        generator, steps = train_ours(train32, seconds, seed, step_budget)
                    else:
                        generator, steps = train_lesson_gan(
                            trainer.removeprefix("lesson-"), train28, seconds, seed=seed
                        )
                    elapsed = time.monotonic() - started
                    report = digit_report(classifier, samples_of(trainer, generator), held_out, train28)
                    row = {"fd": report.fd, "classes": report.classes_covered, "nn": report.nn_distance,
                           "held_nn": held_nn, "steps_per_s": steps / elapsed}  # fmt: skip
                    rows.setdefault((subset, budget, trainer), []).append(row)
                    print(f"{subset} {budget} {trainer} seed {seed}: {row}", flush=True)

    def cell(values: list[float], digits: int = 1) -> str:
        if len(values) == 1:
            return f"{values[0]:.{digits}f}"
        return f"{statistics.mean(values):.{digits}f} ± {statistics.stdev(values):.{digits}f}"

    def worst_ratio(values: list[float]) -> str:
        return f"{max(values):.1f} / {statistics.median(values):.1f} = {max(values) / statistics.median(values):.2f}x"

    print(f"\nmachine: {platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}; "
          f"seeds {args.seeds}; FD of {SAMPLES} samples vs {len(held_out)} held-out digits")  # fmt: skip
    print("| data | budget | trainer | FD (lower better) | worst seed FD / median | classes covered (worst seed) "
          "| NN dist. to training (held-out real) | steps/s |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for (subset, budget, trainer), runs in rows.items():
        print(f"| {subset} | {budget} | {trainer} | {cell([r['fd'] for r in runs])} | "
              f"{worst_ratio([r['fd'] for r in runs])} | {min(r['classes'] for r in runs):.0f}/10 | "
              f"{cell([r['nn'] for r in runs], 2)} "
              f"({runs[0]['held_nn']:.2f}) | {cell([r['steps_per_s'] for r in runs])} |")  # fmt: skip
    if not args.skip_speed:
        print("\n| trainer configuration (256 random images) | steps/s |\n|---|---|")
        for name, rate in trainer_speeds():
            print(f"| {name} | {rate:.2f} |")
    if not args.skip_memory:
        print(f"\npeak memory, 64 px RGB DCGAN at batch 32 (20 steps, fresh process): {peak_memory_64px():.2f} GiB")
    print(f"this process's peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB")


if __name__ == "__main__":
    main()
