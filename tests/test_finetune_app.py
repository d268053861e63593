"""The Fine-tune tab end to end through gradio_client: upload, stream, stop, use the result."""

import time
import zipfile

import pytest
from conftest import generated_pngs, noise_pngs, train_args
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

pytestmark = pytest.mark.app


@pytest.fixture(scope="module")
def uploads(tmp_path_factory):
    folder = tmp_path_factory.mktemp("uploads")
    (folder / "notes.txt").write_text("not an image")
    return [handle_file(str(path)) for path in [*noise_pngs(folder, count=12, side=40, seed=0), folder / "notes.txt"]]


def test_training_streams_previews_and_the_result_joins_this_visitors_models(app_url, uploads):
    client = Client(app_url, verbose=False)
    job = client.submit(*train_args(uploads, steps=30), api_name="/train")
    preview, health, status, _losses, _d, download, model, = job.result()  # fmt: skip
    updates = job.outputs()
    assert len(updates) >= 3  # intro, streamed events (steps 10, 20, 30), final
    assert "12 images used, 1 skipped" in updates[0][2] and "notes.txt" in updates[0][2]
    assert "Saved as **my-dcgan-1**" in status and "stopped by step budget after 30 steps" in status
    assert "r_t" in health and preview
    assert "Too few images to score the distribution" in status  # 12 pictures: no scores, said plainly
    assert "| near-copies of a training image |" in status  # what can still be said: a copying check
    with zipfile.ZipFile(download) as bundle:
        names = bundle.namelist()
    assert "my-dcgan-1/model.safetensors" in names and "my-dcgan-1/TRAINING.md" in names
    assert "my-dcgan-1/README.md" in names  # the model card
    assert model == "my-dcgan-1"  # the name to generate with, in this session
    assert len(generated_pngs(client, "my-dcgan-1", 0, 2, 1.0)) == 2
    stranger = Client(app_url, verbose=False)  # another visitor never sees this model
    with pytest.raises(AppError, match="unknown model"):
        stranger.predict("my-dcgan-1", 0, 2, 1.0, api_name="/generate")


def test_stop_keeps_the_weights_trained_so_far(app_url, uploads):
    client = Client(app_url, verbose=False)
    job = client.submit(*train_args(uploads, steps=1_000_000, minutes=5), api_name="/train")
    deadline = time.monotonic() + 120
    while len(job.outputs()) < 2 and time.monotonic() < deadline:  # wait for the first streamed step
        time.sleep(0.05)
    assert len(job.outputs()) >= 2, "training did not start streaming"
    client.predict(api_name="/stop_training")
    status = job.result()[2]
    assert "stopped by stop requested" in status and "Saved as" in status


def test_training_without_uploads_is_a_clear_error(app_url):
    client = Client(app_url, verbose=False)
    with pytest.raises(AppError, match="upload some training images"):
        client.predict(*train_args([], steps=5), api_name="/train")
