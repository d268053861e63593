"""Quality metrics in feature spaces this project owns: the building blocks.

gan.quality assembles them into reports with intervals and verdicts; use that. What is left here for
benchmarks and older callers: the digit classifier and its trainer, the random CNN, FD, KID,
precision/recall/coverage and the nearest-neighbour check as plain functions.
Nothing here is called "FID": that name is reserved for Inception features.
On digits we use a small classifier trained locally (`train_digit_classifier`),
and report Fréchet distance (FD) in its penultimate layer, class coverage, and
nearest-neighbour distances to detect memorisation. Always read an FD beside
the real-vs-real floor (two disjoint halves of the real data).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


class DigitClassifier(nn.Module):
    """A small CNN for 28x28 digits in [-1, 1]; `features` is the 128-d penultimate layer."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # (B, 32, 14, 14)
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # (B, 64, 7, 7)
            nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(),  # (B, 128)
        )  # fmt: skip
        self.head = nn.Linear(128, 10)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        return self.body(images)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(images))


def train_digit_classifier(
    images: torch.Tensor, labels: torch.Tensor, epochs: int = 4, batch_size: int = 64, seed: int = 0
) -> DigitClassifier:
    """Fit the feature network on (N, 1, 28, 28) digits in [-1, 1] with labels 0..9."""
    torch.manual_seed(seed)
    model = DigitClassifier()
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(epochs):
        order = torch.randperm(len(images))
        for start in range(0, len(images), batch_size):
            index = order[start : start + batch_size]
            loss = F.cross_entropy(model(images[index]), labels[index])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    return model.eval().requires_grad_(False)


@torch.no_grad()
def batched(fn: Callable[[torch.Tensor], torch.Tensor], images: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    return torch.cat([fn(images[i : i + batch_size]) for i in range(0, len(images), batch_size)])


def frechet_distance(a: torch.Tensor, b: torch.Tensor) -> float:
    """Fréchet distance between Gaussians fitted to feature sets a (N, D) and b (M, D), in doubles."""
    a, b = a.double(), b.double()
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = torch.cov(a.T), torch.cov(b.T)
    # tr sqrt(cov_a cov_b) = sum of sqrt eigenvalues of L^T cov_b L, cov_a = L L^T: one Cholesky and one
    # eigvalsh, several times cheaper than a symmetric square root
    eye = torch.eye(len(cov_a), dtype=cov_a.dtype)
    lower, info = torch.linalg.cholesky_ex(cov_a + 1e-9 * cov_a.diagonal().mean() * eye)
    if info:  # not positive definite even with the jitter: the slower symmetric square root
        eigvals, eigvecs = torch.linalg.eigh(cov_a)
        lower = eigvecs @ torch.diag(eigvals.clamp(min=0).sqrt())
    middle = torch.linalg.eigvalsh(lower.T @ cov_b @ lower).clamp(min=0).sqrt().sum()
    return float((mu_a - mu_b).square().sum() + cov_a.trace() + cov_b.trace() - 2 * middle)


@dataclass
class DigitReport:
    fd: float  # Fréchet distance to the reference set in classifier features
    classes_covered: int  # classes holding at least 2% of the samples
    class_shares: list[float]
    nn_distance: float  # median distance from each sample to its nearest training image (pixels)


def digit_report(
    classifier: DigitClassifier, samples: torch.Tensor, reference: torch.Tensor, training: torch.Tensor
) -> DigitReport:
    """Score (N, 1, 28, 28) samples in [-1, 1] against real reference and training digits."""
    fd = frechet_distance(batched(classifier.features, samples), batched(classifier.features, reference))
    predictions = batched(classifier, samples).argmax(1)
    shares = torch.bincount(predictions, minlength=10).double() / len(predictions)
    return DigitReport(
        fd=fd,
        classes_covered=int((shares >= 0.02).sum()),
        class_shares=[round(float(s), 3) for s in shares],
        nn_distance=nearest_neighbour_distance(samples, training),
    )


def nearest_neighbour_distance(samples: torch.Tensor, training: torch.Tensor) -> float:
    """Median L2 distance (in pixel space) from each sample to its closest training image.

    Compare with the same number for held-out real images: a much smaller value
    means the generator is copying its training set.
    """
    flat_samples, flat_training = samples.flatten(1).double(), training.flatten(1).double()
    distances = torch.cdist(flat_samples, flat_training).min(dim=1).values
    return float(distances.median())


# --- metrics for arbitrary uploads: a fixed random CNN, KID, precision/recall/coverage ---------


class RandomFeatures(nn.Module):
    """A fixed-seed, untrained CNN: multi-scale pooled features (256-d) for any image size.

    Random convolutional features are a weak but honest feature space for sets that
    no pretrained network here knows; always read them beside the real-vs-real floor.
    """

    def __init__(self, channels: int, seed: int = 0) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        widths = [channels, 32, 64, 96, 128]
        self.convs = nn.ModuleList(nn.Conv2d(a, b, 3, stride=2, padding=1) for a, b in itertools.pairwise(widths))
        with torch.no_grad():
            for conv in self.convs:
                conv.weight.copy_(
                    torch.randn(conv.weight.shape, generator=generator) * (2 / conv.weight[0].numel()) ** 0.5
                )
                conv.bias.zero_()
        self.eval().requires_grad_(False)

    def forward(self, images: torch.Tensor) -> torch.Tensor:  # (B, C, H, W) in [-1, 1] -> (B, 256)
        pooled, x = [], images
        for conv in self.convs[:2]:
            x = F.relu(conv(x))
        for conv in self.convs[2:]:
            x = F.relu(conv(x))
            pooled.append(x.mean(dim=(2, 3)))
        return torch.cat([*pooled, x.amax(dim=(2, 3))[:, :32]], dim=1)


def kernel_inception_distance(a: torch.Tensor, b: torch.Tensor, subsets: int = 10, subset_size: int = 200) -> float:
    """KID: unbiased MMD^2 with the cubic polynomial kernel, averaged over random subsets (x1000)."""
    a, b = a.double(), b.double()
    dim = a.shape[1]
    size = min(subset_size, len(a), len(b))
    generator = torch.Generator().manual_seed(0)
    total = 0.0
    for _ in range(subsets):
        x = a[torch.randperm(len(a), generator=generator)[:size]]
        y = b[torch.randperm(len(b), generator=generator)[:size]]
        kxx, kyy, kxy = [(u @ v.T / dim + 1) ** 3 for u, v in ((x, x), (y, y), (x, y))]
        off = size * (size - 1)
        total += float((kxx.sum() - kxx.trace()) / off + (kyy.sum() - kyy.trace()) / off - 2 * kxy.mean())
    return 1000 * total / subsets


def precision_recall_coverage(real: torch.Tensor, fake: torch.Tensor, k: int = 5) -> dict[str, float]:
    """Kynkäänniemi precision/recall and Naeem coverage with k-nearest-neighbour balls in feature space."""
    real, fake = real.double(), fake.double()
    k = min(k, len(real) - 1, len(fake) - 1)
    real_radius = torch.cdist(real, real).kthvalue(k + 1, dim=1).values  # +1: the point itself is at 0
    fake_radius = torch.cdist(fake, fake).kthvalue(k + 1, dim=1).values
    real_to_fake = torch.cdist(real, fake)  # (R, F)
    precision = (real_to_fake <= real_radius[:, None]).any(dim=0).double().mean()
    recall = (real_to_fake <= fake_radius[None, :]).any(dim=1).double().mean()
    coverage = (real_to_fake.min(dim=1).values <= real_radius).double().mean()
    return {"precision": float(precision), "recall": float(recall), "coverage": float(coverage)}
