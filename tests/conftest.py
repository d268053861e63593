"""Shared fixtures. Environment first: the libraries read it at import time.

Nothing in this suite may reach the real Hub. A Hub look-alike (tests/hub_server.py)
starts right here, before anything imports huggingface_hub (which reads HF_ENDPOINT
once, at import), and serves the whole session: no test ever points the client at a
dead port, which it would retry for ~23 s.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hub_server import ALICE, FakeHub  # standard library only: safe before the environment is set

assert "huggingface_hub" not in sys.modules, "the Hub endpoint must be set before huggingface_hub is imported"
HUB = FakeHub().start()
HF_HOME = tempfile.mkdtemp(prefix="gan-studio-hf-home-")
atexit.register(shutil.rmtree, HF_HOME, True)

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ["HF_ENDPOINT"] = HUB.url
os.environ["HF_HUB_DISABLE_XET"] = "1"  # uploads take the classic LFS batch API, which the test Hub speaks
os.environ["HF_HOME"] = HF_HOME  # a private cache: no saved login, no stale downloads
os.environ["HF_TOKEN"] = ALICE  # on purpose: the code must never send it unless it is handed over explicitly
os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
os.environ.pop("HF_HUB_OFFLINE", None)
os.environ.pop("OAUTH_CLIENT_ID", None)  # here the app builds its off-Space Hub tab (a token field)
os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest  # noqa: E402
import torch  # noqa: E402

from gan.checkpoint import save_checkpoint  # noqa: E402
from gan.config import DCGANConfig  # noqa: E402
from gan.models import build_discriminator, build_generator  # noqa: E402

torch.set_num_threads(1)

TINY = DCGANConfig(resolution=32, channels=1, latent_dim=8, width=4, max_width=16)


@pytest.fixture
def tiny_config() -> DCGANConfig:
    return TINY


@pytest.fixture(scope="session")
def tiny_checkpoint_made(tmp_path_factory) -> tuple[Path, torch.Tensor]:
    """The tiny checkpoint, made once (building the pair costs ~0.2 s, mostly spectral norm on the meta device),
    and the global RNG state that making it leaves."""
    torch.manual_seed(0)
    generator = build_generator("dcgan", TINY).eval()
    with torch.no_grad():  # DCGAN init gives near-constant images at this size; make seeds visibly differ
        for parameter in generator.parameters():
            parameter.normal_(0.0, 0.5)
    discriminator = build_discriminator("dcgan", TINY)
    folder = save_checkpoint(tmp_path_factory.mktemp("made") / "tiny", "dcgan", TINY, generator, discriminator,
                             {"note": "test"})  # fmt: skip
    return folder, torch.get_rng_state()


@pytest.fixture
def tiny_checkpoint(tiny_checkpoint_made, tmp_path: Path) -> Path:
    """A saved random-initialised tiny DCGAN pair (generator in eval mode): this test's own copy, which it may
    change, with the global RNG where making the pair leaves it."""
    made, rng = tiny_checkpoint_made
    torch.set_rng_state(rng)
    return Path(shutil.copytree(made, tmp_path / "tiny"))


def noise_pngs(folder: Path, count: int, side: int, seed: int) -> list[Path]:
    """`count` greyscale PNGs of random noise, `side` pixels square: training uploads for the app tests."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    paths = []
    for index in range(count):
        path = folder / f"img{index}.png"
        Image.fromarray((rng.random((side, side)) * 255).astype(np.uint8)).save(path)
        paths.append(path)
    return paths


def train_args(uploads: list, steps: int, minutes: float = 0.5) -> tuple:
    """The app's /train inputs for a tiny greyscale DCGAN run from scratch."""
    # files, start, resolution, colour, minutes, steps, batch, lr_g, lr_d, loss, augment, jitter, seed, resume
    return (uploads, "DCGAN from scratch", 32, "greyscale", minutes, steps, 4, 2e-4, 4e-4, "hinge", "auto", -1, 0,
            False)  # fmt: skip


def generated_pngs(client, *args) -> list[str]:
    """What /generate returns (the grid and a zip of every PNG): the sample PNGs, unpacked, in seed order."""
    import zipfile

    _grid, archive = client.predict(*args, api_name="/generate")
    folder = Path(archive).with_suffix("")
    with zipfile.ZipFile(archive) as bundle:
        names = [name for name in bundle.namelist() if "_grid_" not in name]
        bundle.extractall(folder, names)
    return [str(folder / name) for name in sorted(names, key=lambda name: int(name.split("_seed")[1].split("_")[0]))]


def wait_for(condition, timeout_s: float = 60, what: str = "condition"):
    """Poll `condition()` until it returns something truthy (a bounded wait, never a fixed sleep)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


def raw_call(app_url: str, api_name: str, data: list) -> tuple[int, str]:
    """Call an endpoint over Gradio's HTTP API with what gradio_client cannot send (NaN, Infinity: httpx refuses to
    encode them, a hand-written request need not): (HTTP status of the call, the refusal or the event stream)."""
    import json

    import httpx

    url = f"{app_url}/gradio_api/call/{api_name}"
    headers = {"content-type": "application/json"}
    response = httpx.post(url, content=json.dumps({"data": data}), headers=headers, timeout=60)
    if response.status_code != 200:
        return response.status_code, response.text
    return 200, httpx.get(f"{url}/{response.json()['event_id']}", timeout=120).text


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def random_vgg19(tmp_path_factory) -> Path:
    """VGG19 feature weights with torchvision's random initialisation: style transfer's stand-in for ImageNet ones."""
    from gan.style import save_random_vgg19

    return save_random_vgg19(tmp_path_factory.mktemp("vgg19") / "vgg19-random.safetensors", seed=0)


@pytest.fixture(scope="session")
def studio_app(random_vgg19):
    """The real app, launched once on 127.0.0.1 for the whole session, on the embedded checkpoint."""
    import app as studio

    demo = studio.build_app(style_weights=random_vgg19)
    demo.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True, ssr_mode=False)
    try:
        yield demo
    finally:
        demo.close()


@pytest.fixture(scope="session")
def app_url(studio_app):
    return studio_app.local_url.rstrip("/")


@pytest.fixture
def hub() -> FakeHub:
    """The session's Hub look-alike, emptied for this test."""
    HUB.reset()
    return HUB


@pytest.fixture(scope="session")
def client(app_url):
    from gradio_client import Client

    return Client(app_url, verbose=False)


CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]  # fmt: skip


CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")  # the first on PATH drives the browser tests
_CHROMIUM: list = []  # (playwright, browser): one Chromium for the whole session, started on first use


def chromium():
    """An installed headless Chromium (the first of CHROMIUM_NAMES on PATH), driven by Playwright (never
    `playwright install`); each page gets a context of its own, so visitors stay apart while the browser starts
    once."""
    if not _CHROMIUM:
        import shutil

        found = (shutil.which(name) for name in CHROMIUM_NAMES)
        executable = next((path for path in found if path), None)
        if executable is None:
            pytest.fail(f"no Chromium ({', '.join(CHROMIUM_NAMES)}) on PATH: run the README's test command")
        from playwright.sync_api import sync_playwright

        playwright = sync_playwright().start()
        _CHROMIUM.extend([playwright, playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)])
    return _CHROMIUM[1]


def pytest_sessionfinish(session, exitstatus):
    if _CHROMIUM:
        playwright, browser = _CHROMIUM
        browser.close()
        playwright.stop()


@contextlib.contextmanager
def open_page(url: str, viewport: dict[str, int] | None = None):
    """The app's page in a fresh browser context (no cookies or storage from any other page)."""
    context = chromium().new_context(viewport=viewport) if viewport else chromium().new_context()
    try:
        page = context.new_page()
        page.goto(url, wait_until="domcontentloaded")
        yield page
    finally:
        context.close()


def fill_number(field, text: str, attempts: int = 3) -> None:
    """Type into a number field and commit it with Tab. A field that has only just mounted can drop the
    typed text when it loses focus (seen on a loaded CI machine), so check the value and type again."""
    field.wait_for(state="visible")
    for _ in range(attempts):
        field.fill(text)
        field.press("Tab")
        if field.input_value() == text:
            return
    raise AssertionError(f"the field kept {field.input_value()!r} after {attempts} tries to enter {text!r}")
