"""Train the colour judge that gan.quality scores colour images with, and write it to weights/judges/emoji/.

Data: gan.datasets.emoji (npm emoji-datasource-google 16.0.0, fetched into the cache with npm when missing),
its fixed split: the training emoji with their skin-tone variants train it; the held-out base emoji (their
variants are held out too, but are near twins of each other) give the accuracy written to its config and card.
Network: gan.judges.EmojiJudge at 64x64, one head over the subcategories and one over the 9 categories.
Augmentation: mirror images, small shifts and zooms over a white ground, and a random resampling through
16 to 64 px, so that 32 px models' samples (upscaled to 64 for the judge) look familiar to it. No colour
jitter: colour is part of what it should judge.

    python benchmarks/train_emoji_judge.py [--epochs 30] [--out weights/judges/emoji]
"""

from __future__ import annotations

import argparse
import math
import platform
import random
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gan.datasets.emoji import CATEGORIES, PACKAGE, VERSION, load_emoji  # noqa: E402
from gan.judges import JUDGES_DIR, EmojiJudge, save_judge  # noqa: E402

RESOLUTION = 64
RESAMPLE_SIDES = (16, 24, 32, 48, 64)  # 64: no resampling

CARD = """# Emoji judge (colour)

A small CNN (`gan.judges.EmojiJudge`: six convolutions with batch norm, a {feature_dim}-unit layer, heads over
{subcategories} emoji subcategories and {categories} categories) that GAN studio uses to score generated colour
images: Fréchet distance, KID, precision/recall/coverage and categories covered are computed in its
{feature_dim}-d penultimate layer (`gan.quality`). It is a judge, not a product.

- Data: the npm package `{package}` {version} (Noto Emoji artwork by Google, Apache License 2.0), 64x64 PNGs
  composited over white, built by `gan.datasets.emoji` with its fixed split: {train} training images
  (emoji with their skin-tone variants), {held} held-out base emoji.
- Held-out accuracy (base emoji, 64 px): category {category:.3f}, subcategory {subcategory:.3f};
  read from 32 px (downscaled, then upscaled to 64 as 32 px samples are): category {category32:.3f}.
- On its own training images (with their skin-tone variants) it is right more often: category
  {train_category:.3f}. In its features, held-out and training emoji still score as real vs real
  (`benchmarks/bench_quality.py`), but score emoji models against held-out emoji
  (`gan.datasets.emoji.load_emoji(split="held_out")`) where you can: it has seen the training split.
- Trained with `{command}` in {seconds:.0f} s ({machine}).
"""


def augment(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """(B, 3, 64, 64) in [-1, 1] -> mirrored, shifted and zoomed over white, resampled through a random size."""
    batch = len(images)
    flip = torch.rand(batch, generator=generator) < 0.5
    images = torch.where(flip[:, None, None, None], images.flip(-1), images)
    scale = 0.85 + 0.3 * torch.rand(batch, generator=generator)  # >1 zooms out
    shift = (torch.rand(batch, 2, generator=generator) - 0.5) * 0.16  # up to 8% of the side
    theta = torch.zeros(batch, 2, 3)
    theta[:, 0, 0], theta[:, 1, 1], theta[:, :, 2] = scale, scale, shift
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    images = F.grid_sample(images - 1, grid, align_corners=False) + 1  # outside the picture: 0 - 1 + 1 = white
    side = RESAMPLE_SIDES[int(torch.randint(len(RESAMPLE_SIDES), (1,), generator=generator))]
    if side != RESOLUTION:
        images = F.interpolate(images, size=(side, side), mode="bilinear", align_corners=False, antialias=True)
        images = F.interpolate(images, size=(RESOLUTION, RESOLUTION), mode="bilinear", align_corners=False)
    return images


def through_32px(images: torch.Tensor) -> torch.Tensor:
    small = F.interpolate(images, size=(32, 32), mode="bilinear", align_corners=False, antialias=True)
    return F.interpolate(small, size=(RESOLUTION, RESOLUTION), mode="bilinear", align_corners=False)


@torch.no_grad()
def accuracy(model: EmojiJudge, images: torch.Tensor, subcategory: torch.Tensor, category: torch.Tensor):
    model.eval()
    sub_logits, cat_logits = zip(*(model(images[i : i + 256]) for i in range(0, len(images), 256)), strict=True)
    sub_hit = torch.cat(sub_logits).argmax(1) == subcategory
    cat_hit = torch.cat(cat_logits).argmax(1) == category
    return float(sub_hit.double().mean()), float(cat_hit.double().mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--feature-dim", type=int, default=64)
    parser.add_argument("--dropout", type=float, default=0.0, help="between features and heads, in training only")
    parser.add_argument("--weight-decay", type=float, default=5e-4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(JUDGES_DIR / "emoji"))
    args = parser.parse_args()

    train = load_emoji(RESOLUTION, "train", skin_tones=True)
    held = load_emoji(RESOLUTION, "held_out")
    print(f"{len(train)} training images, {len(held)} held-out base emoji, {len(train.subcategories)} subcategories")
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    model = EmojiJudge(len(train.subcategories), len(CATEGORIES), args.width, args.feature_dim, args.dropout)
    optimiser = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    steps_per_epoch = math.ceil(len(train) / args.batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, args.lr, total_steps=args.epochs * steps_per_epoch)
    started = time.monotonic()
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(len(train), generator=generator)
        total = 0.0
        for start in range(0, len(train), args.batch_size):
            index = order[start : start + args.batch_size]
            sub_logits, cat_logits = model(augment(train.images[index], generator))
            loss = F.cross_entropy(sub_logits, train.subcategory[index], label_smoothing=0.1)
            loss = loss + F.cross_entropy(cat_logits, train.category[index], label_smoothing=0.1)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            schedule.step()
            total += float(loss.detach()) * len(index)
        if epoch % 5 == 4 or epoch == args.epochs - 1:
            sub, cat = accuracy(model, held.images, held.subcategory, held.category)
            print(
                f"epoch {epoch + 1}: loss {total / len(train):.3f}, held-out subcategory {sub:.3f}, "
                f"category {cat:.3f} ({time.monotonic() - started:.0f} s)",
                flush=True,
            )
    seconds = time.monotonic() - started
    model.eval().requires_grad_(False)
    subcategory, category = accuracy(model, held.images, held.subcategory, held.category)
    _, train_category = accuracy(model, train.images, train.subcategory, train.category)
    _, category32 = accuracy(model, through_32px(held.images), held.subcategory, held.category)
    machine = f"{platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}"
    command = (
        f"python benchmarks/train_emoji_judge.py --epochs {args.epochs} --batch-size {args.batch_size} "
        f"--lr {args.lr} --width {args.width} --feature-dim {args.feature_dim} --dropout {args.dropout} "
        f"--weight-decay {args.weight_decay} --seed {args.seed}"
    )
    print(
        f"held-out accuracy: category {category:.4f}, subcategory {subcategory:.4f}, category from 32 px "
        f"{category32:.4f}; training images' category {train_category:.4f}; {seconds:.0f} s on {machine}"
    )
    config = {
        "network": "emoji-judge",
        "input_resolution": RESOLUTION,
        "channels": 3,
        "width": args.width,
        "feature_dim": args.feature_dim,
        "classes": list(CATEGORIES),
        "subcategories": list(train.subcategories),
        "held_out_accuracy": {
            "category": round(category, 4),
            "subcategory": round(subcategory, 4),
            "category_from_32px": round(category32, 4),
        },
        "training_accuracy": {"category": round(train_category, 4)},
        "data": f"npm {PACKAGE} {VERSION} via gan.datasets.emoji: {len(train)} training images (with skin-tone "
        f"variants), {len(held)} held-out base emoji; Noto Emoji artwork by Google, Apache License 2.0",
        "command": command,
        "machine": machine,
    }
    folder = save_judge(model, args.out, config)
    card = CARD.format(
        feature_dim=args.feature_dim,
        subcategories=len(train.subcategories),
        categories=len(CATEGORIES),
        package=PACKAGE,
        version=VERSION,
        train=len(train),
        held=len(held),
        category=category,
        subcategory=subcategory,
        category32=category32,
        train_category=train_category,
        command=command,
        seconds=seconds,
        machine=machine,
    )
    (folder / "README.md").write_text(card, encoding="utf-8")
    print(f"wrote {folder.name}/ ({(folder / 'model.safetensors').stat().st_size / 2**20:.2f} MiB)")


if __name__ == "__main__":
    main()
