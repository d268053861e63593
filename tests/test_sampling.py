import pytest
import torch

from gan.checkpoint import load_checkpoint
from gan.config import GenerateConfig, InterpolateConfig
from gan.sampling import generate, interpolate, interpolation_latents, latents_for_seeds, render, slerp


def test_same_seed_same_image_whatever_the_batch(tiny_checkpoint):
    generator = load_checkpoint(tiny_checkpoint).generator
    batch = generate(generator, GenerateConfig(seed=5, count=6), batch_size=4)  # two chunks: 4 + 2
    alone = generate(generator, GenerateConfig(seed=7, count=1))
    assert batch.shape == (6, 1, 32, 32)
    assert torch.allclose(batch[2], alone[0], atol=1e-4)  # float noise only: 1/255 is 4e-3
    assert not torch.allclose(batch[0], batch[1])  # different seeds differ
    assert batch.min() >= 0.0 and batch.max() <= 1.0


def test_latents_depend_only_on_their_seed():
    torch.manual_seed(123)  # global RNG state must not matter
    a = latents_for_seeds([1, 2], 16)
    torch.manual_seed(999)
    b = latents_for_seeds([2], 16)
    assert torch.equal(a[1], b[0])


def test_truncation_zero_collapses_to_the_mean_image(tiny_checkpoint):
    generator = load_checkpoint(tiny_checkpoint).generator
    images = generate(generator, GenerateConfig(seed=0, count=3, truncation=0.0))
    assert torch.allclose(images[0], images[2], atol=1e-6)
    untruncated = generate(generator, GenerateConfig(seed=0, count=3, truncation=1.0))
    assert not torch.allclose(untruncated[0], untruncated[2])


def test_interpolation_keyframes_equal_the_seed_images(tiny_checkpoint):
    generator = load_checkpoint(tiny_checkpoint).generator
    config = InterpolateConfig(seeds=(3, 9, 4), steps=5, loop=False)
    frames = interpolate(generator, config)
    assert frames.shape[0] == config.frame_count == 11
    for index, seed in [(0, 3), (5, 9), (10, 4)]:
        expected = generate(generator, GenerateConfig(seed=seed, count=1))[0]
        assert torch.allclose(frames[index], expected, atol=1e-4), (index, seed)


def test_looping_walk_returns_towards_the_start_and_lerp_differs_from_slerp():
    slerp_walk = interpolation_latents(16, InterpolateConfig(seeds=(0, 1), steps=8, method="slerp", loop=True))
    lerp_walk = interpolation_latents(16, InterpolateConfig(seeds=(0, 1), steps=8, method="lerp", loop=True))
    assert slerp_walk.shape == (16, 16)
    assert torch.equal(slerp_walk[0], latents_for_seeds([0], 16)[0])
    assert torch.allclose(slerp_walk[8], latents_for_seeds([1], 16)[0], atol=1e-6)
    assert not torch.allclose(slerp_walk[4], lerp_walk[4])


def test_slerp_keeps_the_norm_between_equal_norm_vectors():
    a = torch.tensor([1.0, 0.0, 0.0])
    b = torch.tensor([0.0, 1.0, 0.0])
    path = slerp(a, b, torch.linspace(0, 1, 7))
    assert torch.allclose(path.norm(dim=1), torch.ones(7), atol=1e-6)
    assert torch.allclose(path[-1], b, atol=1e-6)


def test_render_reports_progress(tiny_checkpoint):
    generator = load_checkpoint(tiny_checkpoint).generator
    calls = []
    render(generator, latents_for_seeds(range(5), 8), batch_size=2, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(2, 5), (4, 5), (5, 5)]


def test_a_display_size_area_downsamples_and_never_enlarges(tiny_checkpoint):
    import torch.nn.functional as F

    from gan.errors import InvalidInputError

    generator = load_checkpoint(tiny_checkpoint).generator  # 32 px
    full = generate(generator, GenerateConfig(seed=3, count=2))
    small = generate(generator, GenerateConfig(seed=3, count=2, size=8))
    assert small.shape == (2, 1, 8, 8) and torch.allclose(small, F.avg_pool2d(full, 4), atol=1e-6)
    assert torch.equal(generate(generator, GenerateConfig(seed=3, count=2, size=64)), full)
    for size in (-1, 4, 4096, 1.5, True):
        with pytest.raises(InvalidInputError, match="size must be 0"):
            GenerateConfig(size=size)


def test_generators_that_truncate_in_w_get_psi_and_others_get_scaled_latents():
    class Recorder(torch.nn.Module):
        latent_dim = 4

        def __init__(self, in_w: bool) -> None:
            super().__init__()
            self.truncates_in_w, self.calls = in_w, []

        def forward(self, z, truncation=None):
            self.calls.append((z.clone(), truncation))
            return torch.zeros(z.shape[0], 1, 8, 8)

    z = torch.ones(2, 4)
    for in_w, seen_z, seen_psi in ((True, z, 0.3), (False, z * 0.3, None)):
        recorder = Recorder(in_w)
        render(recorder, z, device="cpu", truncation=0.3)
        assert torch.equal(recorder.calls[0][0], seen_z) and recorder.calls[0][1] == seen_psi
