import pytest
import torch

from gan.config import DCGANConfig
from gan.errors import CheckpointError
from gan.models import build_discriminator, build_generator, get_architecture


@pytest.mark.parametrize("resolution, channels", [(32, 1), (64, 3), (128, 3), (256, 1)])
def test_generator_and_discriminator_shapes(resolution, channels):
    config = DCGANConfig(resolution=resolution, channels=channels, latent_dim=8, width=2, max_width=8)
    generator = build_generator("dcgan", config)
    discriminator = build_discriminator("dcgan", config)
    images = generator(torch.randn(2, 8))
    assert images.shape == (2, channels, resolution, resolution)
    assert images.abs().max() <= 1.0  # tanh output
    assert discriminator(images).shape == (2,)


def test_unknown_architecture_is_a_checkpoint_error():
    with pytest.raises(CheckpointError, match="unknown architecture 'stylegan9'"):
        get_architecture("stylegan9")
