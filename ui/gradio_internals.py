"""Every use of Gradio's internals in the UI, in one place.

Gradio has no public API for these; each is a line or two, and tests/test_gradio_internals.py fails
loudly (not with a quietly wrong answer) when a Gradio upgrade moves one of them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import gradio as gr


def queued_events(demo: gr.Blocks, concurrency_id: str) -> int:
    """Events waiting (not yet running) on one concurrency line of `demo`'s queue."""
    line = demo._queue.event_queue_per_concurrency_id.get(concurrency_id)
    return len(line.queue) if line is not None else 0


def after_preprocess(component: Any, convert: Callable[[Any, Callable[[Any], Any]], Any]) -> Any:
    """Let `convert(payload, preprocess)` run the component's own preprocess and replace what it returns
    or raises (e.g. an undecodable image becomes a message the handler raises)."""
    preprocess = component.preprocess
    component.preprocess = lambda payload: convert(payload, preprocess)
    return component


def root_url(request: gr.Request) -> str:
    """The address the visitor used to reach this server (behind proxies too), without a trailing slash."""
    from gradio.route_utils import get_root_url

    raw = request.request
    path = raw.url.path
    route = path[path.index("/gradio_api/") :] if "/gradio_api/" in path else path
    return get_root_url(raw, route, None)


def share_server() -> str:
    """The Gradio server that hands out *.gradio.live share links."""
    from gradio.networking import GRADIO_API_SERVER

    return GRADIO_API_SERVER


def set_page_style(demo: gr.Blocks, css: str, theme: Any) -> None:
    """Make `css` and `theme` the page's defaults whoever launches `demo` (the tests, `python app.py`, a Space),
    without each caller passing them to launch() (where Gradio 6 moved them from gr.Blocks)."""
    demo._deprecated_css = css
    demo._deprecated_theme = theme


def set_launch_defaults(demo: gr.Blocks, **defaults: Any) -> None:
    """Make `defaults` (e.g. max_file_size) launch()'s defaults whoever launches `demo`; a caller's own value wins."""
    launch = demo.launch

    @functools.wraps(launch)
    def launch_with_defaults(*args: Any, **kwargs: Any) -> Any:
        return launch(*args, **{**defaults, **kwargs})

    demo.launch = launch_with_defaults  # type: ignore[method-assign]
