"""Many visitors at once: isolation, queueing, bounded resources, faults (through gradio_client)."""

from __future__ import annotations

import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import gradio as gr
import pytest
import torch
from conftest import generated_pngs, noise_pngs, train_args, wait_for
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError, ValidationError
from gradio_client.utils import Status
from hub_repos import huggan_bin_files, trained_sprint_generator
from hub_server import ALICE, MALLORY
from PIL import Image

import app as studio
import ui.common
from gan.config import APP
from gan.serving import ExpiringFolders
from gan.zoo import DEFAULT_MODEL, ModelCache, resolve_model
from ui.common import Session, forget_session, fresh_run_dir, user_errors

pytestmark = pytest.mark.app

EXAMPLES = Path(studio.__file__).resolve().parent / "weights" / "style-examples"


@pytest.fixture(scope="module")
def uploads(tmp_path_factory):
    return [handle_file(str(path)) for path in noise_pngs(tmp_path_factory.mktemp("many-uploads"), 10, 32, seed=1)]


def stylize_args(steps: int = 2):
    content, style = EXAMPLES / "content-grace-hopper.jpg", sorted(EXAMPLES.glob("style-*"))[0]
    return [handle_file(str(content)), [handle_file(str(style))], "", 64, steps,
            1.0, 100.0, 0.0, "none", 1.0, 1, 0, "content", 0]  # fmt: skip


def image_model(path: str) -> str:
    with Image.open(path) as image:
        return image.text["model"]


def is_running(job) -> bool:
    return job.status().code in (Status.PROCESSING, Status.ITERATING, Status.PROGRESS, Status.LOG)  # started, not done


def test_eight_visitors_at_once_never_see_each_others_models_images_or_tokens(hub, app_url, uploads):
    hub.add_repo("huggan/iso-a", huggan_bin_files(trained_sprint_generator(), license="mit"))
    hub.add_repo("huggan/iso-b", huggan_bin_files(trained_sprint_generator(num_channels=1), license="mit"))
    visitors = [Client(app_url, verbose=False) for _ in range(8)]
    start = threading.Barrier(len(visitors))

    def puller(client: Client, repo: str) -> dict:
        start.wait()
        client.predict(repo, "", "", api_name="/pull_model")
        return {"model": repo, "images": generated_pngs(client, repo, 0, 2, 1.0)}

    def generator(client: Client, model: str) -> dict:
        start.wait()
        return {"model": model, "images": generated_pngs(client, model, 5, 3, 1.0)}

    def trainer(client: Client) -> dict:
        start.wait()
        result = client.predict(*train_args(uploads, steps=10), api_name="/train")
        images = generated_pngs(client, "my-dcgan-1", 0, 2, 1.0)
        return {"model": "my-dcgan-1", "images": images, "outputs": result}

    def styler(client: Client) -> dict:
        start.wait()
        image, status, _download = client.predict(*stylize_args(), api_name="/stylize")
        return {"model": None, "images": [image], "outputs": status}

    def pusher(client: Client, token: str) -> dict:
        start.wait()
        message = client.predict(DEFAULT_MODEL, "iso-push", "private", False, "inherit", token, api_name="/push_model")
        return {"model": None, "images": [], "outputs": message}

    jobs = [
        (puller, visitors[0], "huggan/iso-a"),
        (puller, visitors[1], "huggan/iso-b"),
        (generator, visitors[2], "mnist-dcgan"),
        (generator, visitors[3], "emoji-smileys"),
        (trainer, visitors[4]),
        (styler, visitors[5]),
        (pusher, visitors[6], ALICE),
        (pusher, visitors[7], MALLORY),
    ]
    with ThreadPoolExecutor(len(jobs)) as pool:
        seen = [f.result(timeout=240) for f in [pool.submit(job[0], *job[1:]) for job in jobs]]

    # each visitor's images come from the model they asked for, in folders nobody else got
    folders = {}
    for index, result in enumerate(seen):
        for path in result["images"]:
            folders.setdefault(str(Path(path).parent), set()).add(index)
            if result["model"]:
                assert image_model(path) == result["model"]
    assert all(len(owners) == 1 for owners in folders.values())
    # a pulled or fine-tuned model exists for its visitor only
    for owner, model in [(0, "huggan/iso-a"), (1, "huggan/iso-b"), (4, "my-dcgan-1")]:
        for other in [i for i in range(len(visitors)) if i != owner]:
            with pytest.raises(AppError, match="unknown model"):
                visitors[other].predict(model, 0, 1, 1.0, api_name="/generate")
    # each push went to its own token's account, and no answer ever carried a token
    assert "[alice/iso-push]" in seen[6]["outputs"] and "[mallory/iso-push]" in seen[7]["outputs"]
    assert {"alice/iso-push", "mallory/iso-push"} <= set(hub.repos)
    for result in seen:
        assert ALICE not in repr(result) and MALLORY not in repr(result)


def test_a_long_run_neither_blocks_quick_requests_nor_lets_its_line_grow_without_bound(app_url, uploads, monkeypatch):
    monkeypatch.setitem(APP.line_max_waiting, "train", 1)
    first, second, third, quick = (Client(app_url, verbose=False) for _ in range(4))
    running = first.submit(*train_args(uploads, steps=10**6, minutes=5), api_name="/train")
    waiting = None
    try:
        wait_for(lambda: is_running(running), what="the first run to start")
        waiting = second.submit(*train_args(uploads, steps=5), api_name="/train")
        place = wait_for(
            lambda: (s := waiting.status()).code == Status.IN_QUEUE and s.rank is not None and s, what="a place"
        )
        assert place.rank == 0 and place.queue_size >= 1  # the waiting visitor is told where they stand

        with pytest.raises(ValidationError, match=r"the line for fine-tuning runs is full \(1 waiting\)"):
            third.predict(*train_args(uploads, steps=5), api_name="/train")

        assert len(generated_pngs(quick, DEFAULT_MODEL, 0, 4, 1.0)) == 4 and is_running(running)  # during the run

        running.cancel()  # the first visitor gives up: the line moves on at once
        assert "stopped by step budget after 5 steps" in waiting.result(timeout=120)[2]
    finally:
        running.cancel()
        if waiting is not None:
            waiting.cancel()


def test_running_out_of_memory_is_a_message_for_that_visitor(tmp_path):
    @user_errors
    def greedy() -> None:
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 80.00 GiB")

    @user_errors
    def greedy_stream():
        yield 1
        raise MemoryError

    with pytest.raises(gr.Error, match="ran out of memory for this request"):
        greedy()
    with pytest.raises(gr.Error, match="other visitors' work is unaffected"):
        list(greedy_stream())


def test_an_ended_session_forgets_its_runs_but_not_shared_models(tmp_path, monkeypatch):
    monkeypatch.setattr(ui.common, "RUN_FOLDERS", ExpiringFolders(tmp_path / "runs", max_age_s=3600))
    run = fresh_run_dir()
    shutil.copytree(resolve_model(DEFAULT_MODEL), run / "my-dcgan-1")
    embedded = resolve_model(DEFAULT_MODEL)  # shared by everyone: never deleted
    cache = ModelCache(max_models=4)
    cache.get(run / "my-dcgan-1")
    cache.get(embedded)
    session = Session(models={"my-dcgan-1": str(run / "my-dcgan-1"), "pulled": str(embedded)})
    forget_session(session, cache)
    assert not run.exists() and (embedded / "model.safetensors").exists()
    assert len(cache) == 0  # nothing this visitor used stays loaded on their account


def test_when_a_session_expires_its_fine_tuned_run_is_deleted(uploads, random_vgg19, tmp_path, monkeypatch):
    from conftest import free_port

    monkeypatch.setattr(ui.common, "RUN_FOLDERS", ExpiringFolders(tmp_path / "runs", max_age_s=3600))
    demo = studio.build_app(style_weights=random_vgg19, session_ttl_s=2)
    demo.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True, ssr_mode=False)
    try:
        client = Client(demo.local_url, verbose=False)
        client.predict(*train_args(uploads, steps=3), api_name="/train")
        runs = wait_for(lambda: list((tmp_path / "runs").iterdir()), what="the saved run")
        assert (runs[0] / "my-dcgan-1" / "model.safetensors").exists()
        wait_for(lambda: not runs[0].exists(), timeout_s=30, what="the expired session's run to be deleted")
    finally:
        demo.close()
