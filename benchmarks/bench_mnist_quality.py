"""Is the embedded MNIST checkpoint clearly better than the origin lesson's GAN?

Trains the lesson's MLP GAN (benchmarks/lesson_baselines.py) on the same 5,000
MNIST digits for the same wall-clock time that the embedded checkpoint's
training took, then scores both in the feature space of a small digit
classifier trained here: Fréchet distance (FD) to real digits beside the
real-vs-real floor, classes covered, and nearest-neighbour distance to the
training set (memorisation check).

    python benchmarks/bench_mnist_quality.py [--model mnist-dcgan] [--seconds S] [--samples 2500] [--skip-lesson]
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from lesson_baselines import LATENT, train_lesson_mlp_gan

from gan.checkpoint import load_checkpoint
from gan.data import load_builtin, mnist_labels
from gan.metrics import digit_report, train_digit_classifier
from gan.sampling import latents_for_seeds, render
from gan.zoo import resolve_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="mnist-dcgan")
    parser.add_argument("--seconds", type=float, default=0, help="lesson training time; 0 = the model's own")
    parser.add_argument("--samples", type=int, default=2500)
    parser.add_argument("--skip-lesson", action="store_true", help="score the checkpoint only (the lesson's "
                        "row does not change with it)")  # fmt: skip
    args = parser.parse_args()

    real32 = load_builtin("mnist", 32)  # (5000, 1, 32, 32): 28x28 digits padded by 2
    real = real32[:, :, 2:30, 2:30]  # (5000, 1, 28, 28), exactly the original pixels
    labels = torch.from_numpy(mnist_labels()).long()
    order = torch.randperm(len(real), generator=torch.Generator().manual_seed(0))  # the set is sorted by label
    real, labels = real[order], labels[order]
    started = time.monotonic()
    classifier = train_digit_classifier(real, labels)
    accuracy = float((classifier(real).argmax(1) == labels).double().mean())
    print(f"digit classifier: {time.monotonic() - started:.0f} s, training accuracy {accuracy:.3f}")

    half = len(real) // 2
    n = min(args.samples, half)
    floor = digit_report(classifier, real[:n], real[half : half + n], real)
    # leave-one-out nearest neighbour of real digits: the distance a non-copying generator should show
    loo = torch.cdist(real[:n].flatten(1).double(), real.flatten(1).double())
    loo[torch.arange(n), torch.arange(n)] = float("inf")
    real_nn = float(loo.min(dim=1).values.median())

    checkpoint = load_checkpoint(resolve_model(args.model))
    ours = render(checkpoint.generator, latents_for_seeds(range(n), checkpoint.generator.latent_dim), "cpu")
    ours = ours[:, :, 2:30, 2:30] * 2 - 1
    ours_report = digit_report(classifier, ours, real[half : half + n], real)

    seconds = args.seconds or float(checkpoint.metadata.get("seconds", 600))
    lesson_report = None
    if not args.skip_lesson:
        started = time.monotonic()
        lesson_g, lesson_steps = train_lesson_mlp_gan(real, seconds)
        print(f"lesson MLP GAN: {lesson_steps} steps in {time.monotonic() - started:.0f} s")
        with torch.no_grad():
            lesson = lesson_g(torch.randn(n, LATENT, generator=torch.Generator().manual_seed(0)))
        lesson_report = digit_report(classifier, lesson, real[half : half + n], real)

    print(f"\nmachine: {platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}")
    print(f"{n} samples each, FD in the digit classifier's 128-d features against {n} real digits\n")
    print(
        "| generator | training | FD (lower is better) | classes covered (>=2%) | median NN distance to training set |"
    )
    print("|---|---|---|---|---|")
    print(f"| real vs real (floor) | - | {floor.fd:.2f} | {floor.classes_covered}/10 | {real_nn:.2f} (leave-one-out) |")
    meta = checkpoint.metadata
    print(f"| ours: {args.model} | {meta.get('steps')} steps, {meta.get('seconds')} s | {ours_report.fd:.2f} | "
          f"{ours_report.classes_covered}/10 | {ours_report.nn_distance:.2f} |")  # fmt: skip
    if lesson_report is not None:
        print(f"| lesson MLP GAN | {lesson_steps} steps, {seconds:.0f} s | {lesson_report.fd:.2f} | "
              f"{lesson_report.classes_covered}/10 | {lesson_report.nn_distance:.2f} |")  # fmt: skip
    print(f"\nclass shares, ours: {ours_report.class_shares}")
    if lesson_report is not None:
        print(f"class shares, lesson: {lesson_report.class_shares}")


if __name__ == "__main__":
    main()
