"""The Fine-tune tab end to end through gradio_client: upload, stream, stop, use the result."""

import re
import time
import zipfile

import httpx
import pytest
from conftest import generated_pngs, noise_pngs, raw_call, train_args, wait_for
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
    assert len(updates) >= 4  # reading, intro, streamed events (steps 10, 20, 30), final
    assert re.match(r"Reading the uploads: 1 of \d+ files", updates[0][2])  # shown as decoding streams
    intro = next(update[2] for update in updates if "images used" in (update[2] or ""))
    assert "12 images used, 1 skipped" in intro and "notes.txt" in intro and "out of the time budget" in intro
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


@pytest.mark.parametrize(
    "index, value, message",
    [
        (4, float("nan"), "time budget must be a finite number, got nan"),  # NaN would never end the run
        (4, float("inf"), "time budget must be a finite number, got inf"),
        (7, float("inf"), "generator learning rate must be a finite number, got inf"),
        (12, float("nan"), "seed must be a finite number, got nan"),
    ],
)
def test_nan_and_infinity_are_refused_naming_the_field_before_the_run_queues(app_url, index, value, message):
    args = list(train_args([], steps=5))
    args[index] = value
    status, answer = raw_call(app_url, "train", args)
    assert status == 422 and message in answer  # the line's validator: a visitor's message, not a bare 400


def test_an_upload_over_the_apps_size_cap_is_refused(studio_app, app_url, tmp_path, monkeypatch):
    from gan.config import APP

    assert APP.max_upload_bytes == 500 << 20 and studio_app.max_file_size == APP.max_upload_bytes  # launch's default
    monkeypatch.setattr(studio_app, "max_file_size", 4096)  # the cap, scaled down for a test
    big = tmp_path / "big.png"
    big.write_bytes(bytes(5000))
    response = httpx.post(f"{app_url}/gradio_api/upload", files={"files": ("big.png", big.read_bytes())})
    assert response.status_code == 413 and "maximum allowed size of 4096 bytes" in response.text
    with pytest.raises(httpx.HTTPStatusError, match="413"):
        Client(app_url, verbose=False).predict(*train_args([handle_file(str(big))], steps=5), api_name="/train")


def test_cancel_stops_decoding_the_uploads(app_url, uploads, monkeypatch):
    from gan.data import LoadProgress
    from ui import training

    decoded, closed = [], []

    def endless(files, resolution, channels):  # uploads that would take hours to decode
        try:
            while True:
                decoded.append(len(decoded))
                yield LoadProgress(len(decoded), 10**6)
        finally:
            closed.append(len(decoded))

    monkeypatch.setattr(training, "load_images", endless)
    client = Client(app_url, verbose=False)
    job = client.submit(*train_args(uploads, steps=5, minutes=5), api_name="/train")
    wait_for(lambda: job.outputs(), what="the first progress line")
    assert job.outputs()[0][2].startswith("Reading the uploads:") and not closed
    client.predict(api_name="/cancel_training")
    wait_for(lambda: closed, what="decoding to stop")
    assert closed[0] < 10**6


@pytest.fixture(scope="module")
def chained_url(random_vgg19):
    """The app with fine-tunes forced down ZeroGPU's path: a chain of training calls bounded at 1 ms, so each call
    trains one step and the next resumes its state."""
    from conftest import free_port

    from ui import build_app

    demo = build_app(style_weights=random_vgg19, train_call_s=1e-3)
    demo.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True, ssr_mode=False)
    try:
        yield demo.local_url.rstrip("/")
    finally:
        demo.close()


def test_a_run_in_bounded_calls_is_one_run_continued_call_after_call(chained_url, uploads):
    import re

    job = Client(chained_url, verbose=False).submit(*train_args(uploads, steps=4), api_name="/train")
    status, download = job.result()[2], job.result()[5]
    updates = job.outputs()
    said = " ".join(update[2] for update in updates if isinstance(update[2], str))
    assert said.count("continuing in a new call") >= 3  # one step per call: three or more resumptions
    steps = [int(m) for update in updates if isinstance(update[1], str) for m in re.findall(r"step (\d+),", update[1])]
    assert steps == sorted(steps) and steps[-1] == 4  # the step count never goes back: one run
    assert "stopped by step budget after 4 steps" in status and "Saved as **my-dcgan-1**" in status
    with zipfile.ZipFile(download) as bundle:
        assert "my-dcgan-1/model.safetensors" in bundle.namelist()


def test_stop_ends_a_run_in_bounded_calls_and_keeps_its_weights(chained_url, uploads):
    client = Client(chained_url, verbose=False)
    job = client.submit(*train_args(uploads, steps=1_000_000, minutes=5), api_name="/train")
    wait_for(lambda: any("continuing in a new call" in str(update[2]) for update in job.outputs()), 120,
             "a second training call")  # fmt: skip
    client.predict(api_name="/stop_training")
    status = job.result(timeout=120)[2]
    assert "stopped by stop requested" in status and "Saved as" in status
