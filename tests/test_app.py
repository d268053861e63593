"""The app end to end through gradio_client, as an API user would call it."""

import zipfile
from pathlib import Path

import pytest
from conftest import generated_pngs, raw_call
from gradio_client.exceptions import AppError
from PIL import Image

from gan.checkpoint import load_checkpoint
from gan.config import GenerateConfig
from gan.images import to_pil
from gan.sampling import generate
from gan.zoo import DEFAULT_MODEL, resolve_model

pytestmark = pytest.mark.app


def test_generate_returns_a_grid_and_a_zip_of_seeded_pngs_equal_to_the_library(client):
    grid, archive = client.predict(DEFAULT_MODEL, 40, 4, 0.8, api_name="/generate")  # two files, however many images
    assert Path(grid).suffix == ".png"
    with zipfile.ZipFile(archive) as bundle:
        names = bundle.namelist()
    assert len(names) == 5 and f"{DEFAULT_MODEL}_seed43_psi0.8.png" in names
    first = Path(generated_pngs(client, DEFAULT_MODEL, 40, 4, 0.8)[0])
    assert first.name == f"{DEFAULT_MODEL}_seed40_psi0.8.png"
    expected = to_pil(generate(load_checkpoint(resolve_model(DEFAULT_MODEL)).generator, GenerateConfig(40, 1, 0.8)))[0]
    with Image.open(first) as served:
        assert served.text["seed"] == "40"
        assert served.convert("L").tobytes() == expected.tobytes()


def test_grid_endpoint_returns_one_png_tiling_the_seeds(client):
    grid = client.predict(DEFAULT_MODEL, 0, 16, 1.0, api_name="/grid")
    with Image.open(grid) as image:
        assert image.text["seeds"] == "0-15" and image.text["model"] == DEFAULT_MODEL
        assert image.width == image.height >= 4 * 32  # 4x4 tiles of 32 px, upscaled


def test_interpolate_returns_a_gif_with_every_frame(client):
    gif, grid, files = client.predict(DEFAULT_MODEL, "1, 2, 3", 4, "slerp", True, 1.0, api_name="/interpolate")
    with Image.open(gif) as walk:
        assert walk.n_frames == 12
    assert Path(grid).suffix == ".png" and len(files) == 2


@pytest.mark.parametrize(
    "args, message",
    [
        ((DEFAULT_MODEL, -5, 4, 1.0), "seed must be an integer from 0 to 4294967295, got -5"),
        ((DEFAULT_MODEL, 0, 0, 1.0), "images must be from 1 to 64, got 0"),
        ((DEFAULT_MODEL, 0, 10_000, 1.0), "images must be from 1 to 64, got 10000"),
        ((DEFAULT_MODEL, 0, 4, 7.0), "truncation must be from 0 to 1, got 7"),
        ((DEFAULT_MODEL, 0, 2.5, 1.0), "images must be a whole number, got 2.5"),
        (("no-such-model", 0, 4, 1.0), "unknown model"),
    ],
)
def test_bad_input_is_a_clear_error_and_the_server_keeps_serving(client, args, message):
    with pytest.raises(AppError, match=message):
        client.predict(*args, api_name="/generate")
    assert len(generated_pngs(client, DEFAULT_MODEL, 0, 1, 1.0)) == 1


@pytest.mark.parametrize(
    "args, message",
    [
        ((DEFAULT_MODEL, float("nan"), 4, 1.0), "first seed must be a finite number, got nan"),
        ((DEFAULT_MODEL, 0, float("inf"), 1.0), "images must be a finite number, got inf"),
        ((DEFAULT_MODEL, 0, 4, float("nan")), "truncation must be a finite number, got nan"),
    ],
)
def test_nan_and_infinity_are_refused_naming_the_field(app_url, client, args, message):
    status, answer = raw_call(app_url, "generate", list(args))  # gradio_client cannot send NaN: httpx refuses it
    assert status == 200 and "event: error" in answer and message in answer
    assert len(generated_pngs(client, DEFAULT_MODEL, 0, 1, 1.0)) == 1


def test_bad_interpolation_seeds_are_a_clear_error(client):
    with pytest.raises(AppError, match="not a seed"):
        client.predict(DEFAULT_MODEL, "1, x", 4, "slerp", True, 1.0, api_name="/interpolate")


PUBLIC_ENDPOINTS = {  # the verbs a script calls; UI plumbing is not listed
    "/generate", "/grid", "/interpolate", "/describe_model", "/train", "/stop_training", "/cancel_training",
    "/stylize", "/stop_stylize", "/browse_hub", "/pull_model", "/package_checkpoint", "/push_model", "/publish_space",
}  # fmt: skip
COUNTS = {"seed", "count", "frames", "steps", "batch_size", "size", "levels", "coarse_steps"}  # whole numbers


def test_the_api_lists_only_verbs_each_described_with_named_typed_parameters_and_labelled_results(client):
    api = client.view_api(print_info=False, return_format="dict")
    assert set(api["named_endpoints"]) == PUBLIC_ENDPOINTS and not api["unnamed_endpoints"]
    for name, endpoint in api["named_endpoints"].items():
        description = endpoint["description"]
        assert description and "\n" not in description and len(description) < 240, name
        for parameter in endpoint["parameters"]:
            assert not parameter["parameter_name"].startswith("param_") and parameter["label"], (name, parameter)
            if parameter["parameter_name"] in COUNTS:
                assert parameter["python_type"]["type"] == "int", (name, parameter["parameter_name"])
        for value in endpoint["returns"]:
            assert value["label"] and not value["label"].startswith("value_"), (name, value)


def test_model_description_names_the_architecture(client):
    text = client.predict(DEFAULT_MODEL, api_name="/describe_model")
    assert "dcgan 32x32, greyscale" in text


def test_a_visitors_mistake_is_one_log_line_and_a_bug_keeps_its_traceback(client, caplog, capfd):
    import logging

    import gradio as gr

    from ui.common import user_errors

    caplog.set_level(logging.WARNING, logger="gan_studio")
    with pytest.raises(AppError, match="unknown model"):
        client.predict("no-such-model", 0, 1, 1.0, api_name="/generate")
    lines = [record.getMessage() for record in caplog.records if record.name == "gan_studio"]
    assert lines == ["visitor error in on_generate: unknown model 'no-such-model': pick one from the list"]
    assert "Traceback" not in capfd.readouterr().err

    @user_errors
    def broken() -> None:
        raise KeyError("a bug")

    with pytest.raises(KeyError):  # not turned into a visitor's message: Gradio logs it with its traceback
        broken()
    with pytest.raises(gr.Error) as refused:
        user_errors(lambda: (_ for _ in ()).throw(MemoryError()))()
    assert refused.value.print_exception is False
