import pytest

from gan.config import MAX_SEED, DCGANConfig, GenerateConfig, InterpolateConfig, parse_seed_list
from gan.errors import InvalidInputError


@pytest.mark.parametrize(
    "kwargs",
    [{"resolution": 48}, {"resolution": 16}, {"resolution": 512}, {"channels": 2}, {"latent_dim": 0}, {"width": -1}],
)
def test_invalid_model_configs_raise_typed_errors(kwargs):
    with pytest.raises(InvalidInputError):
        DCGANConfig(**kwargs)


def test_model_config_round_trips_through_dict_and_rejects_unknown_keys():
    config = DCGANConfig(resolution=64, channels=3, latent_dim=32, width=8)
    assert DCGANConfig.from_dict(config.to_dict()) == config
    with pytest.raises(InvalidInputError, match="unknown DCGAN config keys: depth"):
        DCGANConfig.from_dict({**config.to_dict(), "depth": 3})


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"seed": -1}, "seed must be"),
        ({"seed": MAX_SEED + 1}, "seed must be"),
        ({"seed": 1.5}, "seed must be"),
        ({"seed": True}, "seed must be"),
        ({"count": 0}, "count must be"),
        ({"count": 100_000}, "count must be"),
        ({"truncation": 1.5}, "truncation must be"),
        ({"truncation": -0.1}, "truncation must be"),
        ({"seed": MAX_SEED, "count": 2}, "largest seed"),
    ],
)
def test_generate_config_rejects_bad_values(kwargs, message):
    with pytest.raises(InvalidInputError, match=message):
        GenerateConfig(**kwargs)


def test_generate_config_seeds_are_consecutive():
    assert GenerateConfig(seed=10, count=3).seeds == [10, 11, 12]


def test_interpolate_config_validation_and_frame_count():
    assert InterpolateConfig(seeds=(1, 2, 3), steps=4, loop=True).frame_count == 12
    assert InterpolateConfig(seeds=(1, 2, 3), steps=4, loop=False).frame_count == 9
    with pytest.raises(InvalidInputError, match="at least two seeds"):
        InterpolateConfig(seeds=(1,))
    with pytest.raises(InvalidInputError, match="method"):
        InterpolateConfig(method="cubic")
    with pytest.raises(InvalidInputError, match="frames asked for"):
        InterpolateConfig(seeds=tuple(range(16)), steps=60)


def test_parse_seed_list():
    assert parse_seed_list("3, 7, 10-12") == [3, 7, 10, 11, 12]
    for bad, message in [("", "no seeds"), ("a", "not a seed"), ("5-2", "backwards"), ("-3", "not a seed")]:
        with pytest.raises(InvalidInputError, match=message):
            parse_seed_list(bad)
    with pytest.raises(InvalidInputError, match="at most 4"):
        parse_seed_list("0-9", limit=4)
