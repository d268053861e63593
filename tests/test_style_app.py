"""The Style transfer tab end to end through gradio_client (the app runs on random-init VGG19 weights)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError, ValidationError
from PIL import Image

import app as studio

pytestmark = pytest.mark.app

EXAMPLES = Path(studio.__file__).resolve().parent / "weights" / "style-examples"
CONTENT = EXAMPLES / "content-grace-hopper.jpg"
STYLES = sorted(EXAMPLES.glob("style-*"))


def stylize_args(content=CONTENT, styles=STYLES[:1], blend="", size=64, steps=3, preserve="none", levels=1):
    """The /stylize inputs in the tab's order."""
    return [handle_file(str(content)), [handle_file(str(s)) for s in styles], blend, size, steps,
            1.0, 100.0, 0.0, preserve, 1.0, levels, 2, "content", 5]  # fmt: skip


def test_the_tab_stylises_and_the_png_carries_its_settings(client):
    image, status, download = client.predict(*stylize_args(styles=STYLES[:2], blend="2, 1"), api_name="/stylize")
    assert "done: 3 steps" in status
    assert Path(download).suffix == ".png" and Path(image).name == Path(download).name
    with Image.open(image) as png:
        assert max(png.size) == 64 and png.format == "PNG"
        assert png.text["seed"] == "5" and png.text["content"] == CONTENT.name
        assert png.text["styles"] == ", ".join(s.name for s in STYLES[:2])
        assert '"style_blend": [2.0, 1.0]' in png.text["config"] and "vgg19-random" in png.text["weights"]


def test_previews_stream_and_cancel_keeps_the_last_image(client):
    from concurrent.futures import wait

    job = client.submit(*stylize_args(steps=1000), api_name="/stylize")
    for image, _status, _download in job:  # outputs as they stream in
        if image:
            break
    assert job.cancel()
    wait([job.future], timeout=30)
    previews = [out for out in job.outputs() if out[0]]
    assert job.done() and previews
    kept, status, download = previews[-1]
    assert Path(kept).is_file() and Path(download).is_file() and kept.endswith(".png")
    assert re.search(r"step \d+/1000", status) and "done" not in status  # stopped long before the end
    _, status, _ = client.predict(*stylize_args(steps=1), api_name="/stylize")  # and the server serves again
    assert "done: 1 steps" in status


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"content": Path(__file__)}, r"Content image \(test_style_app.py\): not an image"),
        ({"blend": "1, 2"}, "2 style weights given for 1 style image"),
        ({"styles": []}, "at least one style image"),
        ({"size": 4096}, "size must be from 64 to 1024, got 4096"),
        ({"size": 100.5}, "size must be a whole number"),
    ],
)
def test_bad_input_is_a_clear_error(client, overrides, message):
    with pytest.raises((AppError, ValidationError)) as refused:
        client.predict(*stylize_args(**overrides), api_name="/stylize")
    # A refused input (an out-of-range slider, an unreadable image) is refused before it is queued, by the line's
    # validator, with its message; the others by the handler.
    assert re.search(message, str(refused.value))


def test_progress_counts_every_planned_pass_and_its_total_never_changes(client):
    """A coarse pass that settles early counts as done: the total stays the planned one (200 + 3 here)."""
    args = stylize_args(size=96, steps=3, levels=2)
    args[11] = 200  # steps per coarse pass: more than a 48 px pass needs to settle (it does in about 50)
    job = client.submit(*args, api_name="/stylize")
    job.result(timeout=120)
    # (a client that lags behind may find a preview already replaced and removed: that output is an error)
    found = [re.search(r"step (\d+)/(\d+)", out[1]) for out in job.outputs() if isinstance(out, tuple)]
    steps, totals = [int(m.group(1)) for m in found if m], [int(m.group(2)) for m in found if m]
    assert totals and set(totals) == {203} and steps == sorted(steps)  # (positions: tests/test_style.py)
