"""ui/gradio_internals.py: each use of Gradio's internals still finds what it reads.

When a Gradio upgrade moves one of them, a test here fails with the name of what moved, instead of the app
quietly doing the wrong thing (a waiting line that never fills, a link without an address, an unstyled page).
"""

from __future__ import annotations

import inspect

import gradio as gr
import httpx

from gan.config import APP
from ui import CSS, gradio_internals


def test_the_queue_still_keeps_its_lines_by_concurrency_id(studio_app, client):
    client.predict("mnist-dcgan", 0, 1, 1.0, api_name="/generate")  # lines are made when first used
    lines = studio_app._queue.event_queue_per_concurrency_id  # what queued_events reads
    assert "generate" in lines and all(isinstance(line.queue, list) for line in lines.values())
    assert gradio_internals.queued_events(studio_app, "generate") == 0
    assert gradio_internals.queued_events(studio_app, "no-such-line") == 0
    assert set(APP.line_max_waiting) <= {fn.concurrency_id for fn in studio_app.fns.values()}


def test_a_preprocess_wrapper_runs_around_the_components_own():
    number = gradio_internals.after_preprocess(gr.Number(precision=0), lambda payload, own: own(payload))
    assert number.preprocess(3.0) == 3 and isinstance(number.preprocess(3.0), int)
    image = gradio_internals.after_preprocess(gr.Image(type="filepath"), lambda payload, own: ("wrapped", own))
    assert image.preprocess(None)[0] == "wrapped"


def test_an_update_rebuilds_a_component_from_its_constructor_without_its_wrapper(studio_app):
    """Why no visitor-facing check relies on a wrapper alone: after a gr.update Gradio rebuilds the component
    for that session from its constructor arguments (the seed's range is checked in its handler instead)."""
    seed = next(b for b in studio_app.blocks.values() if getattr(b, "elem_id", None) == "generate-seed")
    assert "preprocess" in vars(seed) and "preprocess" not in vars(type(seed)(**seed.constructor_args))


def test_the_root_url_helper_and_the_share_server_are_where_they_were():
    from gradio.route_utils import get_root_url

    assert list(inspect.signature(get_root_url).parameters) == ["request", "route_path", "root_path"]
    assert httpx.URL(gradio_internals.share_server()).scheme == "https"


def test_the_page_style_reaches_launch(studio_app):
    assert studio_app.css == CSS and isinstance(studio_app.theme, gr.themes.Soft)
