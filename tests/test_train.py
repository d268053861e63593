import math

import pytest
import torch

from gan.config import DCGANConfig
from gan.errors import InvalidInputError
from gan.train import TrainConfig, train

TINY = DCGANConfig(resolution=32, channels=1, latent_dim=8, width=4, max_width=16)


def tiny_data(count: int = 40) -> torch.Tensor:
    torch.manual_seed(1)
    return torch.rand(count, 1, 32, 32) * 2 - 1


def test_a_few_steps_give_finite_losses_an_ema_generator_and_a_preview():
    config = TrainConfig(steps=6, batch_size=4, event_every=2, preview_every_s=0.0, preview_count=4)
    events = list(train(tiny_data(), TINY, config, device="cpu"))
    assert [e.step for e in events] == [2, 4, 6, 6]
    assert all(math.isfinite(v) for e in events for v in e.losses.values())
    assert events[0].preview is not None and events[0].preview.shape[0] == 1
    result = events[-1].result
    assert result is not None and all(e.result is None for e in events[:-1])
    assert result.metadata["steps"] == 6 and result.metadata["stopped_by"] == "step budget"
    assert not result.generator.training
    assert result.generator(torch.randn(2, 8)).shape == (2, 1, 32, 32)


def test_ema_generator_differs_from_a_fresh_one_after_training():
    config = TrainConfig(steps=5, batch_size=4, event_every=100, ema_half_life_images=1, ema_rampup=0)
    result = list(train(tiny_data(), TINY, config, device="cpu"))[-1].result
    from gan.models import build_generator

    torch.manual_seed(config.seed)
    fresh = build_generator("dcgan", TINY)
    moved = [not torch.equal(a, b) for a, b in zip(fresh.parameters(), result.generator.parameters(), strict=True)]
    assert any(moved)


def test_stop_request_ends_cleanly_with_usable_weights():
    calls = {"n": 0}

    def stop_after_three() -> bool:
        calls["n"] += 1
        return calls["n"] >= 3

    events = list(train(tiny_data(), TINY, TrainConfig(steps=1000, batch_size=4), "cpu", should_stop=stop_after_three))
    result = events[-1].result
    assert result.metadata["steps"] == 3
    assert result.metadata["stopped_by"] == "stop requested"
    assert torch.isfinite(result.generator(torch.randn(1, 8))).all()


def test_wrongly_shaped_data_and_bad_configs_are_refused():
    with pytest.raises(InvalidInputError, match="data has shape"):
        next(train(torch.zeros(4, 3, 32, 32), TINY, TrainConfig(steps=1)))
    with pytest.raises(InvalidInputError, match="loss must be"):
        TrainConfig(loss="wasserstein")
    with pytest.raises(InvalidInputError, match="unknown augmentation"):
        TrainConfig(augment="translation,rotate")
