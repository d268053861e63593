"""Sharing in the app: the default model a Space shows, "Publish as a Space" in the Hub tab, public links."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import gradio as gr
import httpx
import pytest
import yaml
from conftest import free_port, generated_pngs
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from hub_repos import folder_files
from hub_server import ALICE

import app as studio
from gan.errors import InvalidInputError
from gan.jobs import start_model
from gan.share import permalink_url, samples_permalink, style_permalink
from gan.zoo import DEFAULT_MODEL, DEFAULT_MODEL_ENV, STYLE_EXAMPLES, embedded_models
from ui.common import Session
from ui.links import share_unavailable

pytestmark = pytest.mark.app
ROOT = Path(__file__).resolve().parent.parent


def component(demo: gr.Blocks, kind: type, **attributes):
    (found,) = [b for b in demo.blocks.values() if isinstance(b, kind) and
                all(getattr(b, k, None) == v for k, v in attributes.items())]  # fmt: skip
    return found


def test_the_configured_default_model_is_pulled_at_start_and_offered_to_every_visitor(hub, tiny_checkpoint):
    hub.add_repo("alice/tiny-gan", folder_files(tiny_checkpoint))
    demo = studio.build_app(default_model="alice/tiny-gan")
    model = component(demo, gr.Dropdown, elem_id="generate-model")
    assert model.value == "alice/tiny-gan" and ("alice/tiny-gan", "alice/tiny-gan") in model.choices
    assert not component(demo, gr.Markdown, elem_id="notice").visible
    session = [b for b in demo.blocks.values() if isinstance(b, gr.State) and isinstance(b.value, Session)]
    assert any("alice/tiny-gan" in state.value.models for state in session)


def test_restarted_offline_the_app_shows_its_default_model_from_the_cached_copy(hub, tiny_checkpoint, monkeypatch):
    import huggingface_hub

    hub.add_repo("alice/restart-gan", folder_files(tiny_checkpoint))
    first_name, first_models, _ = start_model("alice/restart-gan")  # the app's first start, online
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)  # restarted with the network down
    demo = studio.build_app(default_model="alice/restart-gan")
    assert component(demo, gr.Dropdown, elem_id="generate-model").value == first_name == "alice/restart-gan"
    assert not component(demo, gr.Markdown, elem_id="notice").visible  # no fallback to the embedded model
    session = [b.value for b in demo.blocks.values() if isinstance(b, gr.State) and isinstance(b.value, Session)]
    assert any(state.models == first_models for state in session)


@pytest.mark.parametrize(
    "spec, message",
    [("nobody/nothing", "The default model nobody/nothing could not be loaded (repo nobody/nothing was not found"),
     ("no-such-model", "The configured default model 'no-such-model' is not one of this app's models")],
)  # fmt: skip
def test_a_default_model_that_fails_falls_back_to_the_embedded_one_with_a_notice(hub, monkeypatch, spec, message):
    monkeypatch.setenv(DEFAULT_MODEL_ENV, spec)  # as a Space's variable, or weights/default_model.txt, would set it
    demo = studio.build_app()
    assert component(demo, gr.Dropdown, elem_id="generate-model").value == DEFAULT_MODEL
    notice = component(demo, gr.Markdown, elem_id="notice")
    assert notice.visible and message in notice.value


def test_publish_as_a_space_from_the_hub_tab(hub, app_url, tiny_checkpoint):
    hub.add_repo("alice/tiny-gan", folder_files(tiny_checkpoint))
    visitor = Client(app_url, verbose=False)
    with pytest.raises(AppError, match="publishing a Space needs a Hugging Face login: paste a token"):
        visitor.predict(DEFAULT_MODEL, "demo", "", "public", "", api_name="/publish_space")
    assert hub.spaces == {}

    visitor.predict("alice/tiny-gan", "", "", api_name="/pull_model")  # this visitor's model, from the Hub
    message = visitor.predict("alice/tiny-gan", "demo", "", "public", ALICE, api_name="/publish_space")
    space = f"[alice/demo]({hub.url}/spaces/alice/demo)"
    assert f"Published {space}: public, created, showing **alice/tiny-gan**" in message
    files = hub.files("alice/demo", repo_type="space")
    assert files["weights/default_model.txt"] == b"alice/tiny-gan\n" and "app.py" in files
    assert "alice/tiny-gan" in yaml.safe_load(files["README.md"].decode().split("---\n")[1])["models"]

    logged_in = Client(app_url, verbose=False, oauth_token=ALICE)  # what gr.LoginButton gives on a Space
    message = logged_in.predict(DEFAULT_MODEL, "gan-lab/demo", "t4-small", "private", "", api_name="/publish_space")
    assert "private, created, showing **mnist-dcgan**" in message
    assert hub.spaces["gan-lab/demo"].hardware == ["t4-small"]
    assert ALICE not in message


def test_share_unavailable_says_why(monkeypatch):
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there: the share server is unreachable at once
    monkeypatch.setenv("HTTPS_PROXY", dead)
    monkeypatch.delenv("SPACE_ID", raising=False)
    started = time.monotonic()
    reason = share_unavailable()
    assert reason is not None and reason.startswith("Gradio's share server api.gradio.app cannot be reached (")
    assert time.monotonic() - started < 5
    monkeypatch.setenv("SPACE_ID", "alice/demo")
    assert "runs on a Hugging Face Space, which is public already" in (share_unavailable() or "")


NO_NETWORK = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy", "all_proxy")


def test_share_without_network_starts_locally_and_says_why():
    """`python app.py --share` in a fresh process; `python -m gan app` is the next test."""
    entry = ["app.py"]
    port, dead = free_port(), f"http://127.0.0.1:{free_port()}"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
    for name in NO_NETWORK:
        env[name] = dead  # no network: every request outside this machine fails at once, whatever this machine has
    env.pop("SPACE_ID", None)
    command = [sys.executable, *entry, "--share", "--port", str(port)]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()  # type: ignore[union-attr]
    output, deadline = [], time.monotonic() + 120
    try:
        while not any("Running on local URL" in line for line in output):
            assert process.poll() is None, "".join(output)
            output.append(lines.get(timeout=max(0.1, deadline - time.monotonic())))
        text = "".join(output)
        assert "* No public link: Gradio's share server api.gradio.app cannot be reached (ConnectError" in text
        assert "GAN studio runs on this machine only" in text and "public URL" not in text
        page = httpx.get(f"http://127.0.0.1:{port}/", trust_env=False, timeout=30)
        assert page.status_code == 200 and "GAN studio" in page.text
        while not lines.empty():  # Gradio prints during launch(): all of it is here once the page has answered
            output.append(lines.get_nowait())
        assert "share=True" not in "".join(output), "".join(output)  # our line only, not Gradio's advice to share
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_python_m_gan_app_share_without_network_starts_locally_and_says_why(monkeypatch, capsys):
    """The CLI's `app` command, run in this process: starting app.py in a fresh process is the test above, and
    `python -m gan` in a fresh process is test_cli's test_module_entry_point_runs_in_a_fresh_process."""
    from gan.cli import main

    port, dead = free_port(), f"http://127.0.0.1:{free_port()}"
    for name in NO_NETWORK:
        monkeypatch.setenv(name, dead)  # no network: every request outside this machine fails at once
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.delenv("SPACE_ID", raising=False)
    served: list[gr.Blocks] = []
    monkeypatch.setattr(gr.Blocks, "block_thread", lambda demo: served.append(demo))  # return instead of serving on
    try:
        assert main(["app", "--share", "--port", str(port)]) == 0
        text = capsys.readouterr().out
        assert "* No public link: Gradio's share server api.gradio.app cannot be reached (ConnectError" in text
        assert "GAN studio runs on this machine only" in text and "public URL" not in text
        assert len(served) == 1 and served[0].local_url.rstrip("/") == f"http://127.0.0.1:{port}"
        page = httpx.get(f"http://127.0.0.1:{port}/", trust_env=False, timeout=30)
        assert page.status_code == 200 and "GAN studio" in page.text
    finally:
        for demo in served:
            demo.close()


def test_a_results_link_comes_from_the_images_own_metadata(client, app_url):
    shown = generated_pngs(client, DEFAULT_MODEL, 7, 3, 0.55)
    link = samples_permalink(shown, {}, embedded_models())
    assert permalink_url(app_url, link) == f"{app_url}?model={DEFAULT_MODEL}&seed=7&count=3&truncation=0.55"
    with pytest.raises(InvalidInputError, match="these images do not come from one request"):
        samples_permalink(shown[:1] + shown[2:], {}, embedded_models())


def test_a_style_results_link_names_bundled_images_and_never_carries_uploads(client, tmp_path):
    from PIL import Image

    upload = tmp_path / "my-photo.png"
    Image.new("RGB", (48, 40), (200, 30, 90)).save(upload)
    style = STYLE_EXAMPLES / "style-mosaic.png"
    for content, expected, names_images in [
        (STYLE_EXAMPLES / "content-temple.jpg", "?content=content-temple.jpg&styles=style-mosaic.png&size=64", True),
        (upload, "?size=64", False),
    ]:
        args = [handle_file(str(content)), [handle_file(str(style))], "", 64, 2, 1.0, 100.0, 0.0, "none", 1.0, 1, 0,
                "content", 4]  # fmt: skip
        _image, _status, result = client.predict(*args, api_name="/stylize")
        link, named = style_permalink(result, content, [style], STYLE_EXAMPLES)
        url = permalink_url("", link)
        assert url.startswith(f"{expected}&steps=2&") and "style_seed=4" in url and "my-photo" not in url
        assert named is names_images


@pytest.mark.parametrize(
    "content, styles",
    [("SOURCES.md", "style-mosaic.png"), ("content-temple.jpg", "make_style_examples.py"), ("README.md", "x.png")],
)
def test_a_style_link_may_name_only_the_bundled_example_images(content, styles):
    from gan.config import APP
    from gan.share import parse_permalink
    from ui.links import linked_style_values

    assert (STYLE_EXAMPLES / "SOURCES.md").is_file() and (STYLE_EXAMPLES / "make_style_examples.py").is_file()
    link = parse_permalink([("content", content), ("styles", styles), ("size", "64")], APP.link_limits())
    notices: list[str] = []
    updates, found = linked_style_values(link, ["content", "styles", "size"], notices)
    assert not found and notices and "not one of the bundled example images" in notices[0]
    assert updates[:2] == [gr.skip(), gr.skip()]  # no file of that folder reaches the page
    assert updates[2]["value"] == 64  # the link's settings still apply
