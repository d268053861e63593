"""The Hub tab end to end through gradio_client, against the Hub look-alike. Tokens are passed explicitly."""

from __future__ import annotations

import zipfile
from pathlib import Path

import gradio as gr
import pytest
import torch
from conftest import generated_pngs
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from hub_repos import card, folder_files, huggan_bin_files, trained_sprint_generator
from hub_server import ALICE, MALLORY
from PIL import Image

from gan.checkpoint import load_checkpoint
from gan.config import GenerateConfig
from gan.sampling import generate
from gan.zoo import DEFAULT_MODEL

pytestmark = pytest.mark.app


def test_a_pulled_model_is_in_this_visitors_generate_list_and_nobody_elses(hub, app_url):
    hub.add_repo("huggan/dcgan-app", huggan_bin_files(trained_sprint_generator(), license="mit"))
    visitor, stranger = Client(app_url, verbose=False), Client(app_url, verbose=False)
    report = visitor.predict("huggan/dcgan-app", "", "", api_name="/pull_model")
    assert "Loaded **huggan/dcgan-app**" in report and "huggan_dcgan, 64x64 RGB, latent 100" in report
    assert "license: mit" in report

    first = generated_pngs(visitor, "huggan/dcgan-app", 3, 2, 1.0)[0]
    with Image.open(first) as image:
        assert image.size == (64, 64) and image.mode == "RGB" and image.text["model"] == "huggan/dcgan-app"
    assert "huggan--dcgan-app_seed3" in Path(first).name
    with pytest.raises(AppError, match="unknown model 'huggan/dcgan-app'"):
        stranger.predict("huggan/dcgan-app", 3, 2, 1.0, api_name="/generate")


def test_hub_tab_errors_are_messages_and_the_app_keeps_serving(hub, client, tiny_checkpoint):
    hub.add_repo("nvlabs/stylegan", {"network.pkl": b"\x80\x04", "README.md": card()})
    hub.add_repo("alice/private", folder_files(tiny_checkpoint), private=True)
    for source, message in [
        ("nobody/nothing", "repo nobody/nothing was not found"),
        ("nvlabs/stylegan", "network.pkl is not a readable network pickle"),
        ("alice/private", "is private: log in"),
        (str(tiny_checkpoint), "is not a repo id"),  # the app never reads the server's own folders
    ]:
        with pytest.raises(AppError, match=message):
            client.predict(source, "", "", api_name="/pull_model")
    report = client.predict("alice/private", "", ALICE, api_name="/pull_model")  # a pasted token works
    assert "Loaded **alice/private**" in report
    gallery = generated_pngs(client, DEFAULT_MODEL, 0, 1, 1.0)
    assert len(gallery) == 1


def test_push_with_a_pasted_token_or_an_oauth_token(hub, app_url):
    pasted = Client(app_url, verbose=False)
    message = pasted.predict(DEFAULT_MODEL, "mnist-copy", "private", True, "inherit", ALICE, api_name="/push_model")
    assert f"[alice/mnist-copy]({hub.url}/alice/mnist-copy): private, created" in message
    assert "discriminator/model.safetensors" in hub.files("alice/mnist-copy")

    logged_in = Client(app_url, verbose=False, oauth_token=ALICE)  # what gr.LoginButton gives on a Space
    message = logged_in.predict(DEFAULT_MODEL, "gan-lab/mnist", "public", False, "mit", "", api_name="/push_model")
    assert "public, created" in message
    readme = hub.files("gan-lab/mnist")["README.md"].decode()
    assert "license: mit" in readme and "ylecun/mnist" in readme and "| steps |" in readme
    assert "discriminator/model.safetensors" not in hub.files("gan-lab/mnist")


def test_a_model_that_fails_to_push_stays_downloadable(hub, client):
    with pytest.raises(AppError, match="pushing needs a Hugging Face login"):
        client.predict(DEFAULT_MODEL, "x", "public", False, "inherit", "", api_name="/push_model")
    with pytest.raises(AppError, match="this token cannot write to 'gan-lab'"):
        client.predict(DEFAULT_MODEL, "gan-lab/x", "public", False, "inherit", MALLORY, api_name="/push_model")
    assert hub.repos == {}

    archive = client.predict(DEFAULT_MODEL, "gan-lab/x", True, "inherit", api_name="/package_checkpoint")
    with zipfile.ZipFile(archive) as bundle:
        names = set(bundle.namelist())
        assert {"x/config.json", "x/model.safetensors", "x/discriminator/model.safetensors", "x/README.md"} <= names
        folder = Path(archive).parent / "unzipped"
        bundle.extractall(folder)
    reference = load_checkpoint(Path(__file__).resolve().parent.parent / "weights" / DEFAULT_MODEL)
    restored = load_checkpoint(folder / "x")
    config = GenerateConfig(seed=0, count=2)
    assert torch.equal(generate(restored.generator, config), generate(reference.generator, config))


def test_browse_lists_community_checkpoints(hub, client, tiny_checkpoint):
    hub.add_repo("huggan/anime-dcgan", {**folder_files(tiny_checkpoint), "README.md": card()}, downloads=7)
    choice, table = client.predict("", "", api_name="/browse_hub")
    assert f"[huggan/anime-dcgan]({hub.url}/huggan/anime-dcgan) | HugGAN DCGAN (64 px) | 7 |" in table  # by its tags
    assert [value for _label, value in choice["choices"]] == ["huggan/anime-dcgan"]
    _choice, table = client.predict("no-match", "", api_name="/browse_hub")
    assert "No GAN checkpoints matched" in table


def test_push_declares_it_takes_a_token(client):
    named = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert named["/push_model"]["oauth_token"] == "optional" and named["/pull_model"]["oauth_token"] == "optional"


def test_the_login_button_appears_only_when_oauth_is_configured(hub):
    import app as studio

    def blocks(demo: gr.Blocks, kind: type) -> list:
        return [block for block in demo.blocks.values() if isinstance(block, kind)]

    offline = studio.build_app()  # no OAUTH_CLIENT_ID here: a token field, and not one request at build time
    assert not blocks(offline, gr.LoginButton) and hub.requests == []
    assert [t.visible for t in blocks(offline, gr.Textbox) if t.elem_id == "hub-token"] == [True]

    with pytest.warns(UserWarning, match="OAuth features outside of a Space"):
        on_a_space = studio.build_app(oauth=True)
    assert len(blocks(on_a_space, gr.LoginButton)) == 1
    assert [t.visible for t in blocks(on_a_space, gr.Textbox) if t.elem_id == "hub-token"] == [False]
    # Off a real Space, Gradio mocks the login with the machine's own account, asking whoami() while it builds:
    # exactly why the app shows the button only when OAuth is configured.
    assert {path for _, path, _ in hub.requests} == {"/api/whoami-v2"}


def test_pull_fine_tune_push_credits_the_base_model_and_reports_quality(hub, app_url, tmp_path):
    hub.add_repo("huggan/dcgan-base", huggan_bin_files(trained_sprint_generator(), license="cc-by-4.0"))
    visitor = Client(app_url, verbose=False)
    visitor.predict("huggan/dcgan-base", "", "", api_name="/pull_model")
    uploads = []
    for index in range(10):
        path = tmp_path / f"up{index}.png"
        Image.new("RGB", (64, 64), (20 * index, 90, 200 - 15 * index)).save(path)
        uploads.append(handle_file(str(path)))
    # files, start, resolution, colour, minutes, steps, batch, lr_g, lr_d, loss, augment, jitter, seed, resume
    outputs = visitor.predict(uploads, "huggan/dcgan-base", 64, "colour", 0.5, 3, 4, 2e-4, 4e-4, "hinge", "", -1, 0,
                              False, api_name="/train")  # fmt: skip
    tuned = outputs[-1]
    assert tuned.startswith("my-huggan_dcgan")
    message = visitor.predict(tuned, "tuned", "public", True, "inherit", ALICE, api_name="/push_model")
    assert "public, created" in message
    readme = hub.files("alice/tuned")["README.md"].decode()
    assert "base_model: huggan/dcgan-base" in readme and "license: cc-by-4.0" in readme
    assert "near-copies of a training image" in readme and "real vs real" in readme and "| steps | 3 |" in readme
