import pytest
import torch

from gan.augment import cutout, diff_augment, jitter, translation


def test_translation_shifts_content_and_keeps_gradients():
    torch.manual_seed(0)
    x = torch.zeros(64, 1, 8, 8)
    x[:, :, 3:5, 3:5] = 1.0
    x.requires_grad_(True)
    y = translation(x, strength=1.0)
    assert y.shape == x.shape
    moved = [(y[i, 0] != x[i, 0]).any().item() for i in range(64)]
    assert sum(moved) > 40  # 8 of 9 offsets move the blob
    assert torch.allclose(y.sum(dim=(1, 2, 3)), x.sum(dim=(1, 2, 3)))  # a 1-px shift of a central blob loses nothing
    y.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_cutout_zeroes_a_square_per_image():
    x = torch.ones(4, 3, 16, 16)
    y = cutout(x, strength=0.5)  # 4x4 squares
    zeros = (y == 0).all(dim=1).sum(dim=(1, 2))
    assert torch.equal(zeros, torch.full((4,), 16))


def test_zero_strength_is_identity():
    x = torch.randn(2, 3, 8, 8)
    assert torch.equal(diff_augment(x, "color,translation,cutout", strength=0.0), x)


@pytest.mark.parametrize("background", [-1.0, 1.0])  # black behind digits, white behind emoji
def test_jitter_deforms_each_real_image_its_own_way_and_keeps_the_background(background):
    torch.manual_seed(0)
    x = torch.full((8, 1, 32, 32), background)
    x[:, :, 10:22, 14:18] = -background  # the same bar in every image
    y = jitter(x, strength=1.0)
    assert y.shape == x.shape
    assert y.min() >= -1.0 and y.max() <= 1.0  # bicubic overshoot is clamped to the input's range
    assert all(not torch.allclose(y[i], y[0], atol=1e-3) for i in range(1, 8))  # a fresh draw per image
    # rows the bar never reaches, and corners uncovered by a rotation, keep the background value
    assert torch.allclose(y[:, :, :3, :], torch.tensor(background), atol=1e-4)
    assert torch.allclose(y[:, :, :, :3], torch.tensor(background), atol=1e-4)
    assert (x - y).abs().mean() < 0.25  # mild: the bar moves, it does not vanish
    assert torch.equal(jitter(x, strength=0.0), x)
    flat = torch.full((2, 3, 16, 16), 0.3)
    assert torch.allclose(jitter(flat, strength=1.0), flat, atol=1e-5)  # a plain image gains no dark border
