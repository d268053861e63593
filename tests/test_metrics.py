import pytest
import torch

from gan.metrics import (
    RandomFeatures,
    frechet_distance,
    kernel_inception_distance,
    nearest_neighbour_distance,
    precision_recall_coverage,
)


def test_frechet_distance_of_known_gaussians():
    torch.manual_seed(0)
    a = torch.randn(4000, 3)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    shifted = a + torch.tensor([2.0, 0.0, 0.0])
    assert frechet_distance(a, shifted) == pytest.approx(4.0, rel=1e-3)  # |mu diff|^2, same covariance


def test_kid_is_near_zero_for_one_distribution_and_large_for_another():
    torch.manual_seed(0)
    a, b = torch.randn(600, 8), torch.randn(600, 8)
    assert abs(kernel_inception_distance(a, b)) < 20
    assert kernel_inception_distance(a, b + 3) > 1000


def test_precision_recall_coverage_separate_collapse_from_fidelity():
    torch.manual_seed(0)
    real = torch.randn(300, 4)
    same = precision_recall_coverage(real, torch.randn(300, 4))
    collapsed = precision_recall_coverage(real, torch.randn(300, 4) * 0.05)  # all near the mean
    assert same["recall"] > 0.8 and same["coverage"] > 0.7
    assert collapsed["precision"] > 0.9 and collapsed["recall"] < 0.2 and collapsed["coverage"] < 0.3


def test_memorisation_shows_as_zero_nearest_neighbour_distance():
    training = torch.rand(50, 1, 8, 8)
    assert nearest_neighbour_distance(training[:10], training) == 0.0
    assert nearest_neighbour_distance(torch.rand(10, 1, 8, 8), training) > 0.5


def test_random_features_are_fixed_by_the_seed():
    images = torch.rand(40, 3, 32, 32) * 2 - 1
    assert torch.equal(RandomFeatures(3, seed=1)(images), RandomFeatures(3, seed=1)(images))
    assert not torch.equal(RandomFeatures(3, seed=1)(images), RandomFeatures(3, seed=2)(images))
