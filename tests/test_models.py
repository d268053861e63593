import pytest
import torch

from gan.config import DCGANConfig, FastGANConfig
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


def test_every_network_is_measured_on_the_meta_device_and_huge_ones_are_refused():
    from gan.errors import InvalidInputError
    from gan.models import budget
    from gan.models.huggan_fastgan import HugGANFastGANConfig
    from gan.models.lightweight_gan import LightweightGANConfig
    from gan.models.stylegan2 import StyleGAN2Config

    published = {  # the published families' usual shapes are within budget
        "stylegan2": StyleGAN2Config(resolution=1024),
        "huggan_fastgan": HugGANFastGANConfig(),
        "lightweight_gan": LightweightGANConfig(resolution=1024, attn_res_layers=(32,)),
    }
    for name, config in published.items():
        cost = budget.check(get_architecture(name).generator_class, config)
        assert 1e6 < cost.parameters < budget.MAX_PARAMETERS and cost.peak_activation_bytes > 0
        assert 1 <= cost.images_per_batch(64) <= 64
    assert budget.check(get_architecture("stylegan2").generator_class, published["stylegan2"]).images_per_batch(64) < 64
    with pytest.raises(InvalidInputError, match=r"would have 2\.7B parameters, above the budget of 100\.0M"):
        build_generator("fastgan", FastGANConfig(resolution=256, width=4096, max_width=4096))
    with pytest.raises(InvalidInputError, match=r"discriminator would have .* above the budget"):
        build_discriminator("dcgan", DCGANConfig(resolution=256, width=4096, max_width=4096))


@pytest.mark.parametrize("name", ["stylegan2", "lightweight_gan", "huggan_fastgan"])
def test_community_generators_have_no_discriminator_to_build(name):
    with pytest.raises(CheckpointError, match="can be sampled but not fine-tuned here"):
        build_discriminator(name, get_architecture(name).config_class())


def test_plain_convolution_stacks_are_bounded_without_running_them_on_the_meta_device():
    from gan.models import budget

    class Exploding(get_architecture("dcgan").generator_class):
        def forward(self, z):
            raise AssertionError("measured by running it")

    cost = budget.measure(Exploding, DCGANConfig())  # the embedded default's shape: no forward pass at all
    exact = budget.measure(type("Run", (get_architecture("dcgan").generator_class,), {"plain_convolutions": False}),
                           DCGANConfig())  # fmt: skip
    assert exact.peak_activation_bytes <= cost.peak_activation_bytes <= 16 * exact.peak_activation_bytes
    for name, config in (("fastgan", FastGANConfig(resolution=256)), ("dcgan", DCGANConfig(resolution=256))):
        arch = get_architecture(name).generator_class
        run = budget.measure(type("Run", (arch,), {"plain_convolutions": False}), config)
        assert run.peak_activation_bytes <= budget.measure(arch, config).peak_activation_bytes  # an upper bound
