"""Sharing: a link for each result, a page opened from a link, the app's own address, public share links."""

from __future__ import annotations

import os
import shutil
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import gradio as gr

from gan.card import DEFAULT_SPACE, space_url
from gan.config import APP
from gan.errors import GanError
from gan.hub import endpoint as hub_endpoint
from gan.hub import pull
from gan.share import Permalink, parse_permalink, permalink_url, samples_permalink, style_permalink
from gan.zoo import STYLE_EXAMPLES, embedded_models, example_images
from ui.common import Session, Studio, fresh_output_dir, visitor_token
from ui.gradio_internals import root_url, share_server

LINK_LABEL = "Link to this result: opens this app with the same model and settings"


def this_space() -> str | None:
    """owner/name when running on a Hugging Face Space (the Hub sets SPACE_ID), else None."""
    return os.environ.get("SPACE_ID") or None


def card_space() -> str:
    """The Space that pushed model cards link to: this one when on a Space, else the public GAN studio."""
    return this_space() or DEFAULT_SPACE


def app_url(request: gr.Request | None) -> str:
    """The address a link should open: the Space's page on a Space, else this server as the visitor reached it."""
    if this_space():
        return space_url(this_space() or "", hub_endpoint())
    if request is None or getattr(request, "request", None) is None:
        return ""
    return root_url(request)


def query_pairs(query: str) -> list[tuple[str, str]]:
    """A page's query string ("a=1&b=2", no "?") as its parameters, repeated keys included, in order."""
    return parse_qsl(query or "", keep_blank_values=True)


def share_unavailable(timeout_s: float = 5.0) -> str | None:
    """Why Gradio cannot make a public share link here, or None when it may (it needs its share server)."""
    if this_space():
        return "this app runs on a Hugging Face Space, which is public already: share the Space's address"
    import httpx

    server = share_server()
    try:
        httpx.get(server, timeout=timeout_s).raise_for_status()
    except httpx.HTTPError as error:
        return f"Gradio's share server {urlsplit(server).netloc} cannot be reached ({type(error).__name__}: {error})"
    return None


def notice_text(start_notice: str | None, link_notices: list[str]) -> str:
    """The page's notice line(s): a default model that failed to load, what a link asked for that was ignored."""
    lines = [f"⚠️ {start_notice}"] if start_notice else []
    if link_notices:
        lines += ["⚠️ **Part of this link was ignored:**", "", *(f"- {notice}" for notice in link_notices)]
    return "\n".join(lines)


def result_link(base: str, link: Permalink, note: str = "") -> dict[str, Any]:
    return gr.update(value=permalink_url(base, link), label=LINK_LABEL + (f" ({note})" if note else ""))


def no_link(reason: str) -> dict[str, Any]:
    return gr.update(value="", label=f"No link: {reason}")


def samples_link(shown: list[tuple[str, str]] | None, session: Session, request: gr.Request) -> dict[str, Any]:
    """The link of the images on show, from their own PNG metadata (not from widgets changed since)."""
    if not shown:
        return gr.skip()
    try:
        link = samples_permalink([path for path, _caption in shown], session.models, embedded_models())
    except GanError as error:
        return no_link(str(error))
    return result_link(app_url(request), link)


def style_link(result: str | None, content: str | None, styles: Any, request: gr.Request) -> dict[str, Any]:
    """The link of a finished style image: its settings from its own PNG metadata, bundled images by their bytes."""
    if not result:
        return gr.skip()
    paths = [styles] if isinstance(styles, str) else list(styles or [])
    try:
        link, names_images = style_permalink(result, content, paths, STYLE_EXAMPLES)
    except GanError as error:
        return no_link(str(error))
    note = (
        "" if names_images else "settings only: a link never carries your own images, so whoever opens it adds theirs"
    )
    return result_link(app_url(request), link, note)


# -- a page opened from a link ---------------------------------------------------------------------


def open_linked_model(link: Permalink, session: Session, token: str | None) -> str:
    """The model a link names, pulled into this visitor's session if it is a Hub repo not yet there."""
    assert link.model is not None
    if "/" not in link.model:
        if link.model in embedded_models() or link.model in session.models:
            return link.model
        raise GanError(f"this app has no model {link.model!r}")
    name = link.model_name or link.model
    if name not in session.models:
        result = pull(link.model, link.revision, token, allow_local=False)
        session.add(result.name, result.folder)
        name = result.name
    return name


def linked_style_values(link: Permalink, keys: list[str], notices: list[str]) -> tuple[list[Any], bool]:
    """Updates for the Style tab's inputs (by link key) from a link (bundled example images only), and whether
    every image it names exists."""
    found = bool(link.content and link.styles)
    if bool(link.content) != bool(link.styles):
        notices.append("ignored `content` and `styles`: a style link names both its content and its style images")
    wanted = [link.content, *link.styles] if found else []
    images = example_images()
    missing = [name for name in wanted if name not in images]  # only pictures: never the folder's other files
    if missing:
        notices.append(f"ignored {', '.join(f'`{name}`' for name in missing)}: not one of the bundled example images")
        found = False
    copies = fresh_output_dir() if found else None  # served from the temp folder, wherever the app was started

    def example(name: str) -> str:
        assert copies is not None
        return str(shutil.copy2(images[name], copies / name))

    updates: list[Any] = []
    for key in keys:
        if key == "content" and found and link.content:
            updates.append(example(link.content))
        elif key == "styles" and found:
            updates.append([example(name) for name in link.styles])
        elif key in link.style:
            updates.append(gr.update(value=link.style[key]))
        else:
            updates.append(gr.skip())
    return updates, found


def wire_permalinks(
    studio: Studio,
    notice: gr.Markdown,
    tabs: gr.Tabs,
    generate_inputs: dict[str, Any],
    style_inputs: dict[str, Any],
    start_notice: str | None,
) -> None:
    """A page opened with a link applies it (never an error page: what cannot be used becomes a notice) and sets
    `studio.linked` to what it asks to run. A page without one costs the server nothing: the browser reads its own
    query string, and only a non-empty one reaches the server."""
    limits = APP.link_limits()
    query = gr.Textbox(visible=False)

    def on_open(query: str, session: Session, oauth_token: gr.OAuthToken | None) -> tuple:
        link = parse_permalink(query_pairs(query), limits)
        if link.empty and not link.notices:  # no link (or only Gradio's and the Hub's own parameters)
            return (gr.skip(),) * (4 + len(generate_inputs) + len(style_inputs))
        notices = list(link.notices)
        model_update, model_failed = gr.skip(), False
        if link.model:
            try:
                name = open_linked_model(link, session, visitor_token(None, oauth_token))
                model_update = gr.update(choices=session.choices(), value=name)
            except GanError as error:
                notices.append(f"the model {link.model_name} could not be opened, so its result is not shown: {error}")
                model_failed = True
        generate_updates = [gr.update(value=link.generate[key]) if key in link.generate else gr.skip()
                            for key in generate_inputs if key != "model"]  # fmt: skip
        style_updates, images_found = linked_style_values(link, list(style_inputs), notices)
        run = None
        if link.opens == "generate" and (link.model or link.generate) and not model_failed:
            run = "generate"
        elif link.opens == "style" and images_found:
            run = "style"
        shown = bool(start_notice or notices)
        return (gr.update(value=notice_text(start_notice, notices), visible=shown), gr.Tabs(selected=link.opens),
                model_update, *generate_updates, session, run or gr.skip(), *style_updates)  # fmt: skip

    studio.demo.load(None, None, query, js="() => window.location.search.slice(1)")
    query.change(
        on_open,
        [query, studio.session],
        [notice, tabs, *generate_inputs.values(), studio.session, studio.linked, *style_inputs.values()],
        api_visibility="private",
        concurrency_limit=APP.open_link_concurrency,  # one link's Hub pull holds up no other page
    )
