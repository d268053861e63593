"""Quality metrics in feature spaces this project owns.

Nothing here is called "FID": that name is reserved for Inception features.
On digits we use a small classifier trained locally (`train_digit_classifier`),
and report Fréchet distance (FD) in its penultimate layer, class coverage, and
nearest-neighbour distances to detect memorisation. Always read an FD beside
the real-vs-real floor (two disjoint halves of the real data).
"""

from __future__ import annotations

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
    """Fréchet distance between Gaussians fitted to feature sets a (N, D) and b (M, D)."""
    a, b = a.double(), b.double()
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = torch.cov(a.T), torch.cov(b.T)
    # tr(sqrt(cov_a cov_b)) = sum of sqrt eigenvalues of the symmetric sqrt(cov_a) cov_b sqrt(cov_a)
    eigvals, eigvecs = torch.linalg.eigh(cov_a)
    sqrt_a = eigvecs @ torch.diag(eigvals.clamp(min=0).sqrt()) @ eigvecs.T
    middle = torch.linalg.eigvalsh(sqrt_a @ cov_b @ sqrt_a).clamp(min=0).sqrt().sum()
    return float((mu_a - mu_b).square().sum() + torch.trace(cov_a) + torch.trace(cov_b) - 2 * middle)


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
