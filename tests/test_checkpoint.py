import json

import pytest
import torch
from safetensors.torch import load_file, save_file

from gan.checkpoint import load_checkpoint, save_checkpoint
from gan.config import DCGANConfig
from gan.errors import CheckpointError
from gan.models import build_discriminator, build_generator


def test_round_trip_gives_identical_outputs(tmp_path, tiny_config):
    original = build_generator("dcgan", tiny_config).eval()
    discriminator = build_discriminator("dcgan", tiny_config)
    folder = save_checkpoint(tmp_path / "ck", "dcgan", tiny_config, original, discriminator, {"note": "test"})
    loaded = load_checkpoint(folder, with_discriminator=True)
    z = torch.randn(3, tiny_config.latent_dim)
    assert loaded.config == tiny_config
    assert loaded.metadata == {"note": "test"}
    assert torch.equal(original(z), loaded.generator(z))
    assert loaded.discriminator is not None
    assert loaded.discriminator(original(z)).shape == (3,)


def test_config_that_does_not_match_weights_is_refused(tiny_checkpoint, tiny_config):
    document = json.loads((tiny_checkpoint / "config.json").read_text())
    document["model"]["width"] = tiny_config.width * 2
    (tiny_checkpoint / "config.json").write_text(json.dumps(document))
    with pytest.raises(CheckpointError, match="has shape"):
        load_checkpoint(tiny_checkpoint)


def test_weights_with_missing_tensors_are_refused(tiny_checkpoint):
    state = load_file(str(tiny_checkpoint / "model.safetensors"))
    state.pop(next(iter(state)))
    save_file(state, str(tiny_checkpoint / "model.safetensors"))
    with pytest.raises(CheckpointError, match="1 missing tensors"):
        load_checkpoint(tiny_checkpoint)


def test_corrupt_safetensors_is_refused(tiny_checkpoint):
    path = tiny_checkpoint / "model.safetensors"
    path.write_bytes(path.read_bytes()[:100])  # truncated download
    with pytest.raises(CheckpointError, match="not a readable safetensors file"):
        load_checkpoint(tiny_checkpoint)


def test_garbage_config_and_missing_folder_are_refused(tmp_path, tiny_checkpoint):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "nowhere")
    (tiny_checkpoint / "config.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_checkpoint(tiny_checkpoint)
    (tiny_checkpoint / "config.json").write_text(json.dumps({"format": "other/1", "model": {}}))
    with pytest.raises(CheckpointError, match="expected 'gan-studio/1'"):
        load_checkpoint(tiny_checkpoint)


def test_nan_weights_are_refused(tmp_path, tiny_config):
    generator = build_generator("dcgan", tiny_config)
    with torch.no_grad():
        generator.to_image[0].bias.fill_(float("nan"))
    folder = save_checkpoint(tmp_path / "nan", "dcgan", tiny_config, generator)
    with pytest.raises(CheckpointError, match="NaN"):
        load_checkpoint(folder)


def test_invalid_model_section_is_a_checkpoint_error(tiny_checkpoint):
    document = json.loads((tiny_checkpoint / "config.json").read_text())
    document["model"]["resolution"] = 48
    (tiny_checkpoint / "config.json").write_text(json.dumps(document))
    with pytest.raises(CheckpointError, match="resolution must be a power of two"):
        load_checkpoint(tiny_checkpoint)


def test_saved_config_lists_the_model_fields(tiny_checkpoint, tiny_config):
    document = json.loads((tiny_checkpoint / "config.json").read_text())
    assert document["architecture"] == "dcgan"
    assert DCGANConfig.from_dict(document["model"]) == tiny_config
    assert (tiny_checkpoint / "discriminator" / "model.safetensors").is_file()
