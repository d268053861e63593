"""GAN studio: a Gradio UI over the `gan` package.

This file is layout, wiring and small adapters only: every handler turns
widget values into a `gan` call and the result back into widgets. Per-visitor
state lives in `gr.State`; the one shared object, a bounded cache of loaded
checkpoints, is made in `build_app()` and handed to the handlers.

Run: python app.py [--host 127.0.0.1] [--port 7860] [--share]   (or: python -m gan app ...)
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import spaces  # ZeroGPU: must be imported before anything touches CUDA (torch included)

# isort: split
import argparse
import contextlib
import functools
import inspect
import json
import random
import re
import shutil
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import gradio as gr
import torch

from gan.card import DEFAULT_SPACE, read_source, space_url, write_bundle
from gan.checkpoint import Checkpoint, load_checkpoint
from gan.config import MAX_SEED, GenerateConfig, InterpolateConfig, parse_seed_list
from gan.data import load_image_folder, load_picture
from gan.deploy import DeployConfig, deploy
from gan.device import pick_device
from gan.errors import GanError, HubError
from gan.hub import browse, pull, push
from gan.hub import endpoint as hub_endpoint
from gan.images import make_grid, png_text, save_gif, save_png, to_pil, upscale
from gan.metrics import evaluate_generator
from gan.models import get_architecture
from gan.runs import save_run, zip_run
from gan.sampling import generate, interpolate
from gan.serving import ExpiringFolders, InteractivePriority, iterate_in_background, release_memory
from gan.share import Permalink, bundled_example, link_model, parse_permalink, permalink_url, style_link_settings
from gan.style import (
    PRESERVE_COLORS,
    StyleConfig,
    StyleEvent,
    VGG19Weights,
    VGG19WeightsCache,
    default_weights_source,
    parse_blend_weights,
    stylize,
)
from gan.train import FEW_SHOT_MAX_IMAGES, RunState, TrainConfig, TrainEvent, train
from gan.zoo import DEFAULT_MODEL, ModelCache, configured_default_model, embedded_models, resolve_model

OUTPUT_MAX_AGE_S = 3600  # result folders older than this are removed (swept every 30 s, as new ones are made)
OUTPUT_FOLDERS = ExpiringFolders(Path(tempfile.gettempdir()) / "gan-studio-outputs", OUTPUT_MAX_AGE_S)
RUN_MAX_AGE_S = 24 * 3600
RUNS_MAX_BYTES = 2 * 2**30  # all visitors' fine-tuned runs together; the oldest go first
RUN_FOLDERS = ExpiringFolders(Path(tempfile.gettempdir()) / "gan-studio-runs", RUN_MAX_AGE_S, RUNS_MAX_BYTES)
QUEUE_MAX_SIZE = 64  # waiting events, all kinds together; beyond it a visitor is told the queue is full
LINE_MAX_WAITING = {"train": 4, "style": 8}  # long jobs that may wait at once: the rest of the queue stays open
UI_MAX_COUNT = 64  # the slider's top; the API accepts up to GenerateConfig's limit
ZERO_GPU = spaces.config.Config.zero_gpu  # on ZeroGPU every GPU call must go through the queue
PREVIEW_MIN_SIDE = 256  # small samples (32 px) are upscaled with nearest-neighbour for display
STYLE_EXAMPLES = Path(__file__).resolve().parent / "weights" / "style-examples"
STYLE_UI_MAX_SIZE = 1024  # the size slider's top: larger renders take many minutes even on a GPU
STYLE_UI_MAX_STYLES = 8  # style images per request
PUBLISH_HARDWARE = ("cpu-basic", "cpu-upgrade", "zero-a10g", "t4-small", "t4-medium", "l4x1", "a10g-small")
LICENSES = ["inherit", "apache-2.0", "mit", "cc-by-4.0", "cc-by-sa-4.0", "cc-by-nc-4.0", "openrail", "other"]


class UnreadableUpload(str):
    """What an input image that cannot be decoded becomes: its message, for the handler to raise.
    (Raising in preprocess itself would also fire in the queue's validator, where Gradio answers a bare 400.)"""


def clear_decode_errors(image: gr.Image) -> gr.Image:
    """Make an input gr.Image answer an undecodable upload with a clear message, not Gradio's generic error:
    the handler receives an UnreadableUpload and raises it.

    (Wrapping the instance's preprocess, not subclassing: Gradio writes a .pyi beside any module
    that defines a component subclass.)
    """
    preprocess = image.preprocess

    def checked(payload: Any) -> Any:
        try:
            return preprocess(payload)
        except (OSError, ValueError, SyntaxError):  # PIL's UnidentifiedImageError is an OSError
            name = getattr(payload, "orig_name", None) or "the upload"
            return UnreadableUpload(f"{image.label or 'image'} ({name}): not an image this app can read")

    image.preprocess = checked
    return image


OUT_OF_MEMORY = (
    "the machine ran out of memory for this request: try fewer images, a smaller size or a smaller batch "
    "(other visitors' work is unaffected)"
)


@contextlib.contextmanager
def _as_visitor_messages() -> Iterator[None]:
    """The package's typed errors, and running out of memory, become a gr.Error for this visitor."""
    try:
        yield
    except GanError as error:
        raise gr.Error(str(error)) from error
    except (torch.OutOfMemoryError, MemoryError) as error:
        release_memory()
        raise gr.Error(OUT_OF_MEMORY) from error


def user_errors(handler: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the package's typed errors, and running out of memory, into a gr.Error message for this
    visitor only (plain and generator handlers); the app keeps serving everyone else."""
    if inspect.isgeneratorfunction(handler):

        @functools.wraps(handler)
        def streaming(*args: Any, **kwargs: Any) -> Iterator[Any]:
            with _as_visitor_messages():
                yield from handler(*args, **kwargs)

        return streaming

    @functools.wraps(handler)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        with _as_visitor_messages():
            return handler(*args, **kwargs)

    return wrapped


def releasing_memory(handler: Callable[..., Iterator[Any]]) -> Callable[..., Iterator[Any]]:
    """For big streaming jobs (training, style): however they end (done, error, Stop, a closed tab),
    hand the memory they freed back to the system so a day of them does not grow the process."""

    @functools.wraps(handler)
    def run(*args: Any, **kwargs: Any) -> Iterator[Any]:
        try:
            yield from handler(*args, **kwargs)
        finally:
            release_memory()

    return run


class WaitingLines:
    """Bounds how many long jobs of each kind wait in Gradio's queue, so fine-tuning runs cannot fill the
    whole queue and lock quick requests out (Gradio bounds only the total, `max_size`). A refused visitor
    gets the reason as a validation message, before anything is queued."""

    def __init__(self, demo: gr.Blocks, limits: dict[str, int]) -> None:
        self.demo = demo
        self.limits = limits

    def waiting(self, concurrency_id: str) -> int:
        """Events queued (not yet running) on one concurrency line. Reads Gradio's queue, which has no
        public API for this; tests/test_app_many_visitors.py notices if that ever changes."""
        lines = getattr(getattr(self.demo, "_queue", None), "event_queue_per_concurrency_id", {})
        line = lines.get(concurrency_id)
        return len(line.queue) if line is not None else 0

    def validator(self, concurrency_id: str, what: str, input_count: int) -> Callable[..., list[Any]]:
        """A Gradio `validator=` that refuses a new `concurrency_id` job while its line is full."""

        def check(*_values: Any) -> list[Any]:
            waiting = self.waiting(concurrency_id)
            verdicts = [gr.validate(True, "")] * input_count
            if waiting >= self.limits[concurrency_id]:
                verdicts[0] = gr.validate(
                    False, f"the line for {what} is full ({waiting} waiting): please try again in a few minutes"
                )
            return verdicts

        return check


def fresh_output_dir() -> Path:
    """A folder for one request's files (kept OUTPUT_MAX_AGE_S)."""
    return OUTPUT_FOLDERS.fresh()


def forget_session(session: dict[str, Any], cache: ModelCache) -> None:
    """A visitor's session has ended: drop their models from the shared cache and delete the runs they
    fine-tuned (only folders under RUN_FOLDERS: pulled Hub models live in a shared cache of their own)."""
    runs_root = RUN_FOLDERS.root.resolve()
    for folder in session.get("models", {}).values():
        cache.forget(folder)
        run_dir = Path(folder).resolve().parent  # save_run writes fresh_run_dir()/name
        if run_dir.parent == runs_root:
            shutil.rmtree(run_dir, ignore_errors=True)


def model_choices(session: dict[str, Any]) -> list[str]:
    return list(embedded_models()) + list(session.get("models", {}))


def file_label(name: str) -> str:
    """A model name as a file-name part: Hub names look like owner/name@revision."""
    return name.replace("/", "--").replace("\\", "--")


def oauth_configured() -> bool:
    """True on a Space with `hf_oauth: true` (it sets OAUTH_CLIENT_ID); then the Hub tab shows a login button.

    Off a Space, Gradio's login button asks the Hub who the local user is when the app
    starts, which fails offline: there the tab offers a token field instead.
    """
    return bool(os.environ.get("OAUTH_CLIENT_ID"))


def visitor_token(token_text: str | None, oauth_token: gr.OAuthToken | None) -> str | None:
    """The logged-in visitor's OAuth token, else the pasted one. Used for one call, never stored."""
    if oauth_token is not None and oauth_token.token:
        return oauth_token.token
    return (token_text or "").strip() or None


def write_token(
    token_text: str | None, oauth_token: gr.OAuthToken | None, oauth: bool, doing: str, after: str = ""
) -> str:
    """The visitor's token for a write (`doing`, e.g. "pushing"), or a HubError saying how to log in."""
    token = visitor_token(token_text, oauth_token)
    if not token:
        how = "log in with Hugging Face" if oauth else "paste a token with write access"
        raise HubError(f"{doing} needs a Hugging Face login: {how}." + (f" {after}" if after else ""))
    return token


def model_folder(name: str, session: dict[str, Any]) -> Path:
    """This visitor's models first (Hub pulls, fine-tunes), then the embedded ones."""
    if name in session.get("models", {}):
        return Path(session["models"][name])
    if name not in embedded_models():
        raise GanError(f"unknown model {name!r}: pick one from the list")
    return resolve_model(name)


# -- sharing: permalinks, the Space's default model, public links ----------------------------------


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
    raw = getattr(request, "request", None) if request is not None else None
    if raw is None:
        return ""
    from gradio.route_utils import get_root_url

    path = raw.url.path
    route = path[path.index("/gradio_api/") :] if "/gradio_api/" in path else path
    return get_root_url(raw, route, None)


def query_pairs(request: gr.Request | None) -> list[tuple[str, str]]:
    """The page's query parameters, repeated keys included, in order."""
    params = getattr(request, "query_params", None) if request is not None else None
    if params is None:
        return []
    return list(params.multi_items()) if hasattr(params, "multi_items") else list(dict(params).items())


def start_model(spec: str) -> tuple[str, dict[str, str], str | None]:
    """The model shown first: (its name, models every visitor gets, a notice if the configured one failed).

    `spec` is an embedded model's name or a Hub repo id (pulled now, anonymously): see
    gan.zoo.configured_default_model and `python -m gan deploy --model`.
    """
    if spec in embedded_models():
        return spec, {}, None
    if "/" in spec:
        try:
            result = pull(spec, allow_local=False)
            return result.name, {result.name: str(result.folder)}, None
        except GanError as error:
            notice = f"The default model {spec} could not be loaded ({error}): showing {DEFAULT_MODEL} instead."
    else:
        notice = f"The configured default model {spec!r} is not one of this app's models: showing {DEFAULT_MODEL}."
    print(notice, file=sys.stderr)
    return DEFAULT_MODEL, {}, notice


def share_unavailable(timeout_s: float = 5.0) -> str | None:
    """Why Gradio cannot make a public share link here, or None when it may (it needs its share server)."""
    if this_space():
        return "this app runs on a Hugging Face Space, which is public already: share the Space's address"
    import httpx
    from gradio.networking import GRADIO_API_SERVER

    try:
        httpx.get(GRADIO_API_SERVER, timeout=timeout_s).raise_for_status()
    except httpx.HTTPError as error:
        host = urlsplit(GRADIO_API_SERVER).netloc
        return f"Gradio's share server {host} cannot be reached ({type(error).__name__}: {error})"
    return None


def notice_text(start_notice: str | None, link_notices: list[str]) -> str:
    """The page's notice line(s): a default model that failed to load, what a link asked for that was ignored."""
    lines = [f"⚠️ {start_notice}"] if start_notice else []
    if link_notices:
        lines += ["⚠️ **Part of this link was ignored:**", "", *(f"- {notice}" for notice in link_notices)]
    return "\n".join(lines)


def result_link(base: str, link: Permalink, note: str = "") -> dict[str, Any]:
    label = "Link to this result: opens this app with the same model and settings"
    return gr.update(value=permalink_url(base, link), label=label + (f" ({note})" if note else ""))


def no_link(reason: str) -> dict[str, Any]:
    return gr.update(value="", label=f"No link: {reason}")


# On a ZeroGPU Space these run in a forked worker that holds the GPU: their arguments
# are pickled across, so they take the generator itself and plain configs.
@spaces.GPU(duration=60)
def render_seeds(generator: torch.nn.Module, config: GenerateConfig) -> torch.Tensor:
    return generate(generator, config)


@spaces.GPU(duration=60)
def render_walk(generator: torch.nn.Module, config: InterpolateConfig) -> torch.Tensor:
    return interpolate(generator, config)


@spaces.GPU(duration=120)
def render_style(
    content: torch.Tensor, styles: list[torch.Tensor], weights: VGG19Weights, config: StyleConfig
) -> Iterator[StyleEvent]:
    yield from stylize(content, styles, weights, config, device=pick_device("auto"))


def style_examples(folder: Path = STYLE_EXAMPLES) -> list[list[Any]]:
    """[content, [style]] pairs from the bundled images; empty if the folder is missing."""
    contents = sorted(folder.glob("content-*"))
    styles = sorted(folder.glob("style-*"))
    if not contents or not styles:
        return []
    pairs = [[str(contents[i % len(contents)]), [str(style)]] for i, style in enumerate(styles)]
    pairs.append([str(contents[0]), [str(styles[0]), str(styles[-1])]])  # a blend of two styles
    return pairs


def build_app(
    cache: ModelCache | None = None,
    oauth: bool | None = None,
    style_weights: str | Path | None = None,
    queue_size: int = QUEUE_MAX_SIZE,
    session_ttl_s: float = RUN_MAX_AGE_S,
    default_model: str | None = None,
) -> gr.Blocks:
    """The whole UI. `oauth`: show Hugging Face login (default: when running on a Space with OAuth).
    `style_weights`: VGG19 weights for style transfer, a file or a Hub repo id; None reads $GAN_STYLE_WEIGHTS
    now, else uses torchvision's cache or the default Hub repo, loaded on first use.
    `queue_size`: events that may wait at once. `session_ttl_s`: a visitor's models and runs are
    forgotten this long after their last change (Gradio also ends a session an hour after its tab closes).
    `default_model`: the model shown first, an embedded name or a Hub repo id (pulled now); None reads
    $GAN_STUDIO_DEFAULT_MODEL, else weights/default_model.txt, else the embedded default."""
    cache = cache or ModelCache(max_models=4)
    first_model, start_models, start_notice = start_model(default_model or configured_default_model())
    # Generation runs ahead of training and style steps. On a CPU they compete for the same cores, so long
    # jobs wait out each request; a GPU overlaps them, so there a long job only yields a moment.
    priority = InteractivePriority(grace_s=0.0, max_wait_s=0.05) if torch.cuda.is_available() else InteractivePriority()
    style_networks = VGG19WeightsCache(style_weights or default_weights_source())
    oauth = oauth_configured() if oauth is None else oauth
    defaults = GenerateConfig()
    walk_defaults = InterpolateConfig()

    @user_errors
    def describe_model(name: str, session: dict[str, Any]) -> str:
        checkpoint = cache.get(model_folder(name, session))
        lines = [f"**{name}**: {checkpoint.describe()}"]
        meta = checkpoint.metadata
        if "steps" in meta:
            lines.append(f"trained {meta['steps']} steps in {meta.get('seconds', '?')} s on {meta.get('data', '?')}")
        return "  \n".join(lines)

    def sample(name: str, seed: float, count: float, truncation: float, session: dict[str, Any]):
        config = GenerateConfig(seed=_as_int(seed, "seed"), count=_as_int(count, "count"), truncation=float(truncation))
        return config, render_seeds(cache.get(model_folder(name, session)).generator, config)

    def save_grid(name: str, config: GenerateConfig, images: torch.Tensor, out: Path) -> Path:
        first, last = config.seeds[0], config.seeds[-1]
        return save_png(
            upscale(to_pil(make_grid(images)[None])[0], PREVIEW_MIN_SIDE * 2),
            out / f"{file_label(name)}_grid_seeds{first}-{last}_psi{config.truncation:g}.png",
            {"model": name, "seeds": f"{first}-{last}", "truncation": config.truncation},
        )

    def interactive(handler: Callable[..., Any]) -> Callable[..., Any]:
        """Training and style steps make way while `handler` runs (its PNG and zip writing included)."""

        @functools.wraps(handler)
        def first_in_line(*args: Any, **kwargs: Any) -> Any:
            with priority.interactive():
                return handler(*args, **kwargs)

        return first_in_line

    @user_errors
    @interactive
    def on_generate(
        name: str, seed: float, count: float, truncation: float, session: dict[str, Any], progress=gr.Progress()
    ) -> tuple[list[tuple[str, str]], str, str]:
        progress(0, desc="generating")
        config, images = sample(name, seed, count, truncation, session)
        out = fresh_output_dir()
        gallery = []
        for seed_i, image in zip(config.seeds, to_pil(images), strict=True):
            meta = {"model": name, "seed": seed_i, "truncation": config.truncation}
            path = save_png(image, out / f"{file_label(name)}_seed{seed_i}_psi{config.truncation:g}.png", meta)
            gallery.append((str(path), f"seed {seed_i}"))
        grid_path = save_grid(name, config, images, out)
        zip_path = out / f"{file_label(name)}_seeds{config.seeds[0]}-{config.seeds[-1]}_psi{config.truncation:g}.zip"
        with zipfile.ZipFile(zip_path, "w") as archive:
            for path, _caption in gallery:
                archive.write(path, Path(path).name)
            archive.write(grid_path, grid_path.name)
        return gallery, str(grid_path), str(zip_path)

    @user_errors
    @interactive
    def on_grid(name: str, seed: float, count: float, truncation: float, session: dict[str, Any]) -> str:
        """API shortcut: only the grid PNG, for scripts that want one picture per call."""
        config, images = sample(name, seed, count, truncation, session)
        return str(save_grid(name, config, images, fresh_output_dir()))

    @user_errors
    @interactive
    def on_interpolate(
        name: str,
        seeds_text: str,
        steps: float,
        method: str,
        loop: bool,
        truncation: float,
        session: dict[str, Any],
        progress=gr.Progress(),
    ) -> tuple[str, str, list[str]]:
        seeds = parse_seed_list(seeds_text, limit=16)
        config = InterpolateConfig(tuple(seeds), _as_int(steps, "steps"), method, float(truncation), bool(loop))
        progress(0, desc=f"rendering {config.frame_count} frames")
        frames = render_walk(cache.get(model_folder(name, session)).generator, config)
        out = fresh_output_dir()
        pil_frames = [upscale(f, PREVIEW_MIN_SIDE) for f in to_pil(frames)]
        label = f"{file_label(name)}_{config.method}_seeds{'-'.join(map(str, seeds))}"[:120]
        gif = save_gif(pil_frames, out / f"{label}.gif", config.frame_ms, comment=f"model={name} seeds={seeds}")
        strip = frames[:: max(1, len(frames) // 16)][:16]  # (<=16, C, H, W) evenly spaced frames
        grid = save_png(
            upscale(to_pil(make_grid(strip, columns=8)[None])[0], 512),
            out / f"{label}_grid.png",
            {"model": name, "seeds": seeds_text, "method": config.method},
        )
        return str(gif), str(grid), [str(gif), str(grid)]

    def random_seed() -> int:
        return random.randint(0, MAX_SEED)

    # Result files are written once into a fresh random folder and never changed: served from where they lie,
    # Gradio skips hashing and copying each into its cache (a tenth of the app's CPU under load, profiled).
    gr.set_static_paths([OUTPUT_FOLDERS.root])
    with gr.Blocks(title="GAN studio", delete_cache=(3600, 3600)) as demo:
        session = gr.State(  # this visitor's own models: name -> checkpoint folder
            {"models": start_models},
            time_to_live=session_ttl_s,
            delete_callback=lambda ended: forget_session(ended, cache),
        )
        linked = gr.State(None)  # what a permalink asks to run on load: {"run": "generate" | "style"}
        gr.Markdown(
            "# GAN studio\nGenerate images with GANs, fine-tune them on your pictures, "
            "load and share them on the Hugging Face Hub, transfer styles."
        )
        notice = gr.Markdown(notice_text(start_notice, []), visible=bool(start_notice), elem_id="notice")
        lines = WaitingLines(demo, LINE_MAX_WAITING)
        with gr.Tabs() as tabs:
            with gr.Tab("Generate", id="generate"):
                with gr.Row():
                    model = gr.Dropdown(
                        [*embedded_models(), *start_models], value=first_model, label="Model", scale=2,
                        allow_custom_value=True, elem_id="generate-model",
                    )  # fmt: skip  # custom values: this visitor's own models are checked by model_folder()
                    model_info = gr.Markdown()
                with gr.Row():
                    seed = gr.Number(defaults.seed, label="First seed", precision=0, minimum=0, maximum=MAX_SEED)
                    dice = gr.Button("🎲 Random seed", scale=0)
                    count = gr.Slider(1, UI_MAX_COUNT, defaults.count, step=1, label="Images")
                    truncation = gr.Slider(0.0, 1.0, defaults.truncation, step=0.05, label="Truncation ψ (1 = off)")
                generate_button = gr.Button("Generate", variant="primary")
                gallery = gr.Gallery(
                    label="Samples (seed in caption and file name)",
                    columns=8,
                    format="png",
                    height="auto",
                    elem_id="gallery",
                )
                with gr.Row():
                    grid_image = gr.Image(label="Grid", format="png", type="filepath", interactive=False)
                    downloads = gr.File(label="Download all PNGs and the grid (zip)")
                generate_link = gr.Textbox(
                    label="Link to this result", placeholder="Generate, and a link that reproduces the result "
                    "appears here", buttons=["copy"], interactive=False, elem_id="generate-link",
                )  # fmt: skip
                grid_only = gr.Button(visible=False)  # carries the API-only /grid endpoint
                with gr.Accordion("Latent interpolation", open=False):
                    with gr.Row():
                        walk_seeds = gr.Textbox(", ".join(map(str, walk_defaults.seeds)), label="Seeds to visit")
                        walk_steps = gr.Slider(2, 60, walk_defaults.steps, step=1, label="Frames per segment")
                        walk_method = gr.Radio(["slerp", "lerp"], value=walk_defaults.method, label="Path")
                        walk_loop = gr.Checkbox(walk_defaults.loop, label="Loop back")
                    walk_button = gr.Button("Interpolate")
                    with gr.Row():
                        walk_gif = gr.Image(label="Animation", type="filepath", format="gif", interactive=False)
                        walk_grid = gr.Image(label="Frames", type="filepath", format="png", interactive=False)
                    walk_files = gr.File(label="Download (GIF, frame grid)", file_count="multiple")
            with gr.Tab("Fine-tune", id="finetune"):
                finetune_start = build_finetune_tab(cache, session, model, priority, lines)
            with gr.Tab("Style transfer", id="style"):
                style_inputs = build_style_tab(style_networks, grid_image, linked, priority, lines)
            with gr.Tab("Hub", id="hub") as hub_tab:
                build_hub_tab(hub_tab, session, model, finetune_start, oauth)

        model.change(describe_model, [model, session], model_info, api_name="describe_model")
        demo.load(describe_model, [model, session], model_info, api_name="describe_default_model")
        dice.click(random_seed, None, seed, api_name="random_seed")
        generate_event = generate_button.click(
            on_generate,
            [model, seed, count, truncation, session],
            [gallery, grid_image, downloads],
            api_name="generate",
            concurrency_id="generate",  # its own line: never waits behind a training run or a style render
            concurrency_limit=4,  # short; most of a request is encoding and sending files
        )
        grid_only.click(  # cheap: off ZeroGPU it skips the queue, so it never waits behind a training run
            on_grid, [model, seed, count, truncation, session], grid_image, api_name="grid", queue=ZERO_GPU
        )
        walk_button.click(
            on_interpolate,
            [model, walk_seeds, walk_steps, walk_method, walk_loop, truncation, session],
            [walk_gif, walk_grid, walk_files],
            api_name="interpolate",
            concurrency_id="generate",
        )

        # -- permalinks: open what a link names on load; a link for each result -------------------------
        limits = {"count": (count.minimum, count.maximum)}
        for key, widget in style_inputs.items():
            if getattr(widget, "minimum", None) is not None and getattr(widget, "maximum", None) is not None:
                limits[key] = (widget.minimum, widget.maximum)

        def open_linked_model(link: Permalink, session_: dict[str, Any], token: str | None) -> tuple[str, dict]:
            """The model a link names, pulled into this visitor's session if it is a Hub repo not yet there."""
            assert link.model is not None
            if "/" not in link.model:
                if link.model in embedded_models() or link.model in session_.get("models", {}):
                    return link.model, session_
                raise GanError(f"this app has no model {link.model!r}")
            name = link.model_name or link.model
            if name in session_.get("models", {}):
                return name, session_
            result = pull(link.model, link.revision, token, allow_local=False)
            return result.name, {**session_, "models": {**session_.get("models", {}), result.name: str(result.folder)}}

        def on_open(session_: dict[str, Any], request: gr.Request, oauth_token: gr.OAuthToken | None) -> tuple:
            """Apply a permalink's settings (never an error page: what cannot be used becomes a notice)."""
            link = parse_permalink(query_pairs(request), limits)
            if link.empty and not link.notices:  # no link (or only Gradio's and the Hub's own parameters)
                return (gr.skip(),) * (8 + len(style_inputs))
            notices = list(link.notices)
            model_update, model_failed = gr.skip(), False
            if link.model:
                try:
                    name, session_ = open_linked_model(link, session_, visitor_token(None, oauth_token))
                    model_update = gr.update(choices=model_choices(session_), value=name)
                except GanError as error:
                    notices.append(f"the model {link.model_name} could not be opened, so its result is not shown: "
                                   f"{error}")  # fmt: skip
                    model_failed = True
            generate_updates = [gr.update(value=link.generate[key]) if key in link.generate else gr.skip()
                                for key in ("seed", "count", "truncation")]  # fmt: skip
            style_updates, images_found = linked_style_values(link, style_inputs, notices)
            run = None
            if link.opens == "generate" and (link.model or link.generate) and not model_failed:
                run = "generate"
            elif link.opens == "style" and images_found:
                run = "style"
            return (
                gr.update(value=notice_text(start_notice, notices), visible=bool(start_notice or notices)),
                gr.Tabs(selected=link.opens),
                model_update,
                *generate_updates,
                session_,
                {"run": run} if run else gr.skip(),
                *style_updates,
            )

        @user_errors
        def on_linked_generate(
            run: dict[str, str] | None, name: str, seed_: float, count_: float, truncation_: float,
            session_: dict[str, Any], progress=gr.Progress(),
        ) -> tuple[Any, Any, Any]:  # fmt: skip
            if not run or run.get("run") != "generate":
                return gr.skip(), gr.skip(), gr.skip()
            return on_generate(name, seed_, count_, truncation_, session_, progress)

        def on_result_link(shown: list[tuple[str, str]] | None, session_: dict[str, Any], request: gr.Request):
            """The link of the images on show, from their own PNG metadata (not from widgets changed since)."""
            if not shown:
                return gr.skip()
            first, last = png_text(shown[0][0]), png_text(shown[-1][0])
            try:
                seed_0, name, psi = int(first["seed"]), first["model"], float(first["truncation"])
                if int(last["seed"]) != seed_0 + len(shown) - 1 or last.get("model") != name:
                    return no_link("these images do not come from one request")
                folder = session_.get("models", {}).get(name)
                repo, revision = link_model(name, folder, embedded_models())
                settings = {"seed": seed_0, "count": len(shown), "truncation": psi}
                return result_link(app_url(request), Permalink(model=repo, revision=revision, generate=settings))
            except (KeyError, ValueError) as error:  # InvalidInputError is a ValueError: its message says why
                return no_link(str(error) if isinstance(error, GanError) else "these images carry no settings")

        demo.load(
            on_open,
            session,
            [notice, tabs, model, seed, count, truncation, session, linked, *style_inputs.values()],
            api_name="open_link",
            concurrency_limit=16,  # every page load runs it: a link pulling a Hub model must not hold up the rest
        )
        linked_generate = linked.change(
            on_linked_generate,
            [linked, model, seed, count, truncation, session],
            [gallery, grid_image, downloads],
            api_name="linked_generate",
            concurrency_id="generate",
        )
        for event in (generate_event, linked_generate):
            event.success(on_result_link, [gallery, session], generate_link, api_name="result_link")
    demo.queue(default_concurrency_limit=1, max_size=queue_size)
    return demo


def linked_style_values(link: Permalink, inputs: dict[str, Any], notices: list[str]) -> tuple[list[Any], bool]:
    """Updates for the Style tab's inputs from a link (bundled example images only), and whether all images exist."""
    updates: list[Any] = []
    found = bool(link.content and link.styles)
    copies = fresh_output_dir() if found else None  # served from the temp folder, wherever the app was started

    def example(name: str) -> str:
        assert copies is not None
        return str(shutil.copy2(STYLE_EXAMPLES / name, copies / name))

    for key in inputs:
        if key == "content" and link.content:
            if (STYLE_EXAMPLES / link.content).is_file() and copies is not None:
                updates.append(example(link.content))
                continue
            notices.append(f"ignored `content={link.content}`: not one of the bundled example images")
            found = False
        elif key == "styles" and link.styles:
            missing = [name for name in link.styles if not (STYLE_EXAMPLES / name).is_file()]
            if not missing and copies is not None:
                updates.append([example(name) for name in link.styles])
                continue
            notices.append(f"ignored `styles`: {', '.join(missing)} is not one of the bundled example images")
            found = False
        elif key in link.style:
            updates.append(gr.update(value=link.style[key]))
            continue
        updates.append(gr.skip())
    return updates, found


def build_hub_tab(
    hub_tab: gr.Tab, session: gr.State, generate_model: gr.Dropdown, finetune_start: gr.Dropdown, oauth: bool
) -> None:
    """Load community checkpoints into this visitor's lists; push their models with a card (zip first)."""

    @user_errors
    def on_browse(search: str, token_text: str, oauth_token: gr.OAuthToken | None) -> tuple[dict[str, Any], str]:
        models = browse(search or "", token=visitor_token(token_text, oauth_token))
        if not models:
            return gr.update(choices=[], value=None), "No GAN checkpoints matched: type any repo id below instead."
        rows = [f"| [{m.repo_id}]({hub_endpoint()}/{m.repo_id}) | {m.downloads} | {m.likes} |" for m in models]
        title = f"{len(models)} checkpoint{'s' if len(models) > 1 else ''}, most downloaded first:"
        table = "\n".join([title, "", "| repo | downloads | likes |", "|---|---|---|", *rows])
        return gr.update(choices=[(m.label, m.repo_id) for m in models], value=None), table

    def on_pick(repo_id: str | None) -> str:
        return repo_id or ""

    @user_errors
    def on_pull(
        source: str, revision: str, token_text: str, session: dict[str, Any], oauth_token: gr.OAuthToken | None
    ) -> tuple[str, dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]]:
        result = pull(
            source, (revision or "").strip() or None, visitor_token(token_text, oauth_token), allow_local=False
        )
        session = {**session, "models": {**session.get("models", {}), result.name: str(result.folder)}}
        report = "\n".join(
            [
                f"Loaded **{result.name}**: now selected in the Generate tab, for this session only.",
                "",
                *(f"- {line}" for line in result.describe()),
            ]
        )
        choices = model_choices(session)
        return (
            report,
            gr.update(choices=choices, value=result.name),  # Generate
            gr.update(choices=[*FROM_SCRATCH, *choices]),  # Fine-tune's "Start from"
            gr.update(choices=choices, value=result.name),  # Push
            session,
        )

    def on_hub_open(session: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """Models fine-tuned since the tab was last shown join the push and publish lists."""
        return gr.update(choices=model_choices(session)), gr.update(choices=model_choices(session))

    @user_errors
    def on_publish(
        name: str,
        space: str,
        hardware: str | None,
        visibility: str,
        token_text: str,
        session: dict[str, Any],
        oauth_token: gr.OAuthToken | None,
    ) -> str:
        """Publish this app as the visitor's own Space, showing `name` first: a demo of their model."""
        token = write_token(token_text, oauth_token, oauth, "publishing a Space")
        folder = model_folder(name, session)
        # A model pulled from the Hub is named by its repo (the Space pulls it); one made here is copied in.
        model: str | Path = name if name in embedded_models() or read_source(folder).get("repo_id") else folder
        config = DeployConfig(space, model, hardware or None, private=visibility == "private")
        result = deploy(config, token)
        state = "created" if result.created else "updated (it existed, so its visibility was left as it was)"
        shown = "private" if result.private else "public"
        return (
            f"Published [{result.space_id}]({result.url}): {shown}, {state}, showing **{result.default_model}** "
            f"first. The Hub builds and starts it in a few minutes ([commit]({result.commit_url})).\n\n"
            f"Link to it on any model and seed: `{result.url}?model=owner/name&seed=0`."
        )

    @user_errors
    def on_package(name: str, repo: str, with_discriminator: bool, license: str, session: dict[str, Any]) -> str:
        """The folder a push uploads, as a zip: made before pushing, so it stays downloadable if the push fails."""
        repo_id = (repo or "").strip() or f"your-name/{file_label(name)}"
        out = fresh_output_dir()
        bundle = out / (re.sub(r"[^A-Za-z0-9_.-]+", "-", repo_id.split("/")[-1]).strip(".-") or "checkpoint")
        files = write_bundle(
            model_folder(name, session),
            bundle,
            repo_id,
            with_discriminator=bool(with_discriminator),
            license=None if license in (None, "", "inherit") else license,
            app_space=card_space(),
            endpoint=hub_endpoint(),
        )
        zip_path = out / f"{bundle.name}-checkpoint.zip"
        with zipfile.ZipFile(zip_path, "w") as archive:
            for relative in files:
                archive.write(bundle / relative, f"{bundle.name}/{relative}")
        return str(zip_path)

    @user_errors
    def on_push(
        name: str,
        repo: str,
        visibility: str,
        with_discriminator: bool,
        license: str,
        token_text: str,
        session: dict[str, Any],
        oauth_token: gr.OAuthToken | None,
    ) -> str:
        token = write_token(
            token_text, oauth_token, oauth, "pushing", "Your checkpoint stays downloadable as a zip."
        )  # fmt: skip
        result = push(
            model_folder(name, session),
            repo,
            token,
            private=visibility == "private",
            with_discriminator=bool(with_discriminator),
            license=None if license in (None, "", "inherit") else license,
            app_space=card_space(),
        )
        state = "created" if result.created else "updated (it existed, so its visibility was left as it was)"
        shown = "private" if result.private else "public"
        return (
            f"Pushed **{name}** to [{result.repo_id}]({result.url}): {shown}, {state}. [Commit]({result.commit_url})."
        )

    gr.Markdown(
        "Load a community GAN from the Hugging Face Hub into this session, or push one of your models "
        "to your account with a model card. Formats: GAN studio and HugGAN DCGAN checkpoints; "
        "pickles that run code (StyleGAN `.pkl`) and lightweight-gan are refused, with the reason."
    )
    with gr.Row():
        if oauth:
            gr.LoginButton()
        hub_token = gr.Textbox(
            label="Hugging Face token (private repos and pushing; used for one request, never stored)",
            type="password",
            placeholder="hf_...",
            visible=not oauth,
            elem_id="hub-token",
        )
    with gr.Row():
        with gr.Column():
            gr.Markdown("### Load a model")
            with gr.Row():
                hub_search = gr.Textbox(label="Search (optional)", placeholder="e.g. mnist, anime")
                browse_button = gr.Button("🔎 Find GAN checkpoints", scale=0)
            hub_list = gr.Dropdown([], label="Community checkpoints (tags gan, huggan, dcgan)")
            hub_found = gr.Markdown(elem_id="hub-found")
            hub_repo = gr.Textbox(
                label="Repo id or URL",
                placeholder="owner/name or https://huggingface.co/owner/name",
                elem_id="hub-repo",
            )
            hub_revision = gr.Textbox(label="Revision (optional)", placeholder="main, a tag or a commit")
            pull_button = gr.Button("Load", variant="primary")
            pull_report = gr.Markdown(elem_id="pull-report")
        with gr.Column():
            gr.Markdown("### Push a model")
            push_model = gr.Dropdown(
                list(embedded_models()), value=DEFAULT_MODEL, label="Model", allow_custom_value=True
            )
            push_repo = gr.Textbox(label="Repo name", placeholder="my-gan (your namespace) or org/my-gan")
            with gr.Row():
                push_visibility = gr.Radio(["public", "private"], value="public", label="Visibility")
                push_license = gr.Dropdown(LICENSES, value="inherit", label="Licence")
            push_with_d = gr.Checkbox(False, label="Include the discriminator (to fine-tune further)")
            push_button = gr.Button("Push to the Hub", variant="primary")
            push_files = gr.File(label="The checkpoint, card and samples (zip): yours even if the push fails")
            push_result = gr.Markdown(elem_id="push-result")
    gr.Markdown(
        "### Publish a demo Space\nYour own copy of this app on the Hub, opening on the model you choose "
        "(one you fine-tuned here is copied into it; one from the Hub is loaded when it starts)."
    )
    with gr.Row():
        publish_model = gr.Dropdown(
            list(embedded_models()), value=DEFAULT_MODEL, label="Model it shows first", allow_custom_value=True
        )
        publish_space = gr.Textbox(label="Space name", placeholder="my-gan-demo (your namespace) or org/my-gan-demo")
        publish_hardware = gr.Dropdown(
            [("keep (new Space: free cpu-basic)", ""), *((h, h) for h in PUBLISH_HARDWARE)], value="",
            label="Hardware (paid hardware bills your account)",
        )  # fmt: skip
        publish_visibility = gr.Radio(["public", "private"], value="public", label="Visibility")
    publish_button = gr.Button("Publish as a Space", variant="primary")
    publish_result = gr.Markdown(elem_id="publish-result")

    gr.on(
        [browse_button.click, hub_search.submit],
        on_browse,
        [hub_search, hub_token],
        [hub_list, hub_found],
        api_name="browse_hub",
    )
    hub_list.input(on_pick, hub_list, hub_repo, api_name="pick_checkpoint")
    hub_tab.select(on_hub_open, session, [push_model, publish_model], api_name="hub_models")
    gr.on(
        [pull_button.click, hub_repo.submit],
        on_pull,
        [hub_repo, hub_revision, hub_token, session],
        [pull_report, generate_model, finetune_start, push_model, session],
        api_name="pull_model",
    )
    publish_button.click(
        on_publish,
        [publish_model, publish_space, publish_hardware, publish_visibility, hub_token, session],
        publish_result,
        api_name="publish_space",
    )
    push_button.click(
        on_package,
        [push_model, push_repo, push_with_d, push_license, session],
        push_files,
        api_name="package_checkpoint",
    ).success(
        on_push,
        [push_model, push_repo, push_visibility, push_with_d, push_license, hub_token, session],
        push_result,
        api_name="push_model",
    )


FROM_SCRATCH = {  # Fine-tune tab "start from" choices that build a new pair instead of loading one
    "DCGAN from scratch": "dcgan",
    "FastGAN from scratch (few-shot, 64 px and up)": "fastgan",
}
PLOT_MAX_ROWS = 3000
UI_UPDATE_EVERY_S = 1.0  # a training run refreshes its plots and badges this often (previews: whenever one comes)


def fresh_run_dir() -> Path:
    """A folder for one fine-tuning run (kept RUN_MAX_AGE_S, within RUNS_MAX_BYTES for all runs)."""
    return RUN_FOLDERS.fresh()


def training_gpu_seconds(data: torch.Tensor, model_config: Any, config: TrainConfig, *args: Any) -> int:
    """ZeroGPU duration: the time budget plus room for start-up and saving."""
    return int(config.time_budget_s) + 60


@spaces.GPU(duration=training_gpu_seconds)
def run_training(
    data: torch.Tensor,
    model_config: Any,
    config: TrainConfig,
    architecture: str,
    init: Checkpoint | None,
    resume: RunState | None,
    control: dict[str, bool],
    between_steps: Callable[[], object] | None = None,
) -> Iterator[TrainEvent]:
    # On ZeroGPU this runs in a forked worker: `control` is a copy there, so Stop acts through Cancel.
    def should_stop() -> bool:
        if between_steps is not None:
            between_steps()  # e.g. wait while a visitor's generate request runs
        return bool(control.get("stop"))

    yield from train(data, model_config, config, None, should_stop, architecture, init, resume)


def health_markdown(event: TrainEvent) -> str:
    h = event.health
    badges = " · ".join(f"**{badge}**" for badge in h.badges())
    return (
        f"{badges}  \nstep {event.step}, {event.elapsed_s:.0f} s · r_t {h.r_t:+.2f} · augmentation "
        f"{h.augment_strength:.2f} · preview diversity {h.diversity:.3f} · D steps skipped {h.d_steps_skipped}"
    )


def quality_markdown(quality: dict[str, dict[str, float]]) -> str:
    """Generated-vs-real numbers beside the real-vs-real floor (fixed random CNN features)."""
    rows = [("FD", "fd", "lower"), ("KID x1000", "kid_x1000", "lower"), ("precision", "precision", "higher"),
            ("recall", "recall", "higher"), ("coverage", "coverage", "higher"),
            ("nearest training image (px)", "nn_distance", "near the floor; far lower = copying")]  # fmt: skip
    lines = ["| quality (random-CNN features) | generated | real vs real | better |", "|---|---|---|---|"]
    for label, key, better in rows:
        lines.append(f"| {label} | {quality['generated'][key]:.3g} | {quality['real_floor'][key]:.3g} | {better} |")
    return "\n".join(lines)


def build_finetune_tab(
    cache: ModelCache,
    session: gr.State,
    generate_model: gr.Dropdown,
    priority: InteractivePriority,
    lines: WaitingLines,
) -> gr.Dropdown:
    """Upload images, pick a start, train with live previews; the result joins this visitor's models.

    Returns the "Start from" dropdown, so other tabs (the Hub's pulls) can add this visitor's models to it.
    """
    defaults = TrainConfig()
    control = gr.State({"stop": False})  # per visitor: Stop sets it, the running loop reads it
    gr.Markdown(
        "Train a GAN on your own images (at least 8; 100+ is better). Start from scratch or fine-tune a model; "
        "the result appears in the Generate tab's model list and can be downloaded."
    )
    with gr.Row():
        with gr.Column():
            uploads = gr.File(
                label="Training images: image files or a zip/tar archive",
                elem_id="train-uploads",
                file_count="multiple",
            )  # no file_types filter: gan.data reports each file it skips, and why
            start = gr.Dropdown(
                [*FROM_SCRATCH, *embedded_models()], value="DCGAN from scratch", label="Start from",
                allow_custom_value=True,
            )  # fmt: skip
            with gr.Row():
                resolution = gr.Dropdown([32, 64, 128, 256], value=64, label="Resolution (from scratch)")
                colour = gr.Radio(["colour", "greyscale"], value="colour", label="Images (from scratch)")
            minutes = gr.Slider(0.5, 10, 2, step=0.5, label="Time budget (minutes)")
            resume = gr.Checkbox(False, label="Resume my last run (same images)")
            with gr.Accordion("Advanced settings", open=False):
                steps = gr.Number(100_000, precision=0, label="Step budget for this run")
                batch = gr.Slider(4, 128, 32, step=4, label="Batch size")
                lr_g = gr.Number(defaults.lr_g, minimum=0, label="Generator learning rate (0 = auto: 4e-4, or "
                                 f"2e-4 on up to {FEW_SHOT_MAX_IMAGES:,} images without jitter)")  # fmt: skip
                lr_d = gr.Number(defaults.lr_d, minimum=0, label="Discriminator learning rate (0 = auto: twice "
                                 "the generator's)")  # fmt: skip
                loss = gr.Radio(["hinge", "nonsaturating"], value=defaults.loss, label="Loss")
                augment = gr.Textbox(
                    defaults.augment, label="DiffAugment: auto, none (empty), or color,translation,cutout"
                )
                jitter = gr.Slider(
                    -1, 2, defaults.jitter, step=0.25, label="Real-image jitter: mild rotation, scale, shift, warp "
                    f"(-1 = auto: 1 for up to {FEW_SHOT_MAX_IMAGES:,} greyscale images, else 0)",
                )  # fmt: skip
                seed = gr.Number(0, precision=0, label="Seed")
            with gr.Row():
                train_button = gr.Button("Train", variant="primary")
                stop_button = gr.Button("Stop (keep weights)")
                cancel_button = gr.Button("Cancel", variant="stop")
        with gr.Column():
            preview = gr.Image(label="Fixed-seed preview (EMA generator)", format="png", type="pil",
                               interactive=False, elem_id="train-preview")  # fmt: skip
            health = gr.Markdown(elem_id="train-health")
            status = gr.Markdown(elem_id="train-status")
            loss_plot = gr.LinePlot(x="step", y="value", color="series", label="Losses")
            d_plot = gr.LinePlot(x="step", y="value", color="series", label="Mean D logit: real vs generated")
            download = gr.File(label="Trained model (zip: safetensors, config, model card, samples, record)")

    @user_errors
    @releasing_memory
    def on_train(
        files: list[str] | None, start_name: str, res: int, colour_mode: str, minutes_: float, steps_: float,
        batch_: float, lr_g_: float, lr_d_: float, loss_: str, augment_: str, jitter_: float, seed_: float,
        resume_: bool,
        session_: dict[str, Any], control_: dict[str, bool], progress=gr.Progress(),
    ) -> Iterator[tuple[Any, ...]]:  # fmt: skip
        import pandas as pd

        if not files:
            raise GanError("upload some training images first (image files or a zip/tar archive)")
        run_state, init = None, None
        if resume_:
            if not session_.get("last_run"):
                raise GanError("there is no earlier run in this session to resume")
            run_state = RunState.load(session_["last_run"])
            architecture, model_config = run_state.architecture, run_state.model_config
        elif start_name in FROM_SCRATCH:
            architecture = FROM_SCRATCH[start_name]
            shape = {"resolution": int(res), "channels": 3 if colour_mode == "colour" else 1}
            model_config = get_architecture(architecture).config_class(**shape)
        else:
            init = load_checkpoint(model_folder(start_name, session_), with_discriminator=True)
            architecture, model_config = init.architecture, init.config
        config = TrainConfig(
            steps=(run_state.step if run_state else 0) + _as_int(steps_, "step budget"),
            time_budget_s=float(minutes_) * 60,
            batch_size=_as_int(batch_, "batch size"),
            lr_g=float(lr_g_),
            lr_d=float(lr_d_),
            loss=loss_,
            augment=(augment_ or "").strip(),
            jitter=float(jitter_),
            seed=_as_int(seed_, "seed"),
            preview_every_s=2.0,
        )
        data, report = load_image_folder(files, model_config.resolution, model_config.channels)
        control_["stop"] = False
        intro = f"Training {architecture} at {model_config.resolution} px on {report.summary()}".replace("\n", "  \n")
        yield gr.skip(), "starting...", intro, gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        losses, outputs, pending_notes = [], [], []
        event, last_update = None, 0.0
        # Off ZeroGPU training shares this machine with everyone's requests: it runs in a thread at a low CPU
        # priority and pauses between steps while a generate request runs. (On ZeroGPU it runs in a worker
        # process of its own, so there is nothing to share.)
        if ZERO_GPU:
            events = run_training(data, model_config, config, architecture, init, run_state, control_)
        else:
            events = iterate_in_background(
                lambda: run_training(data, model_config, config, architecture, init, run_state, control_,
                                     priority.yield_to_interactive),
                name="fine-tune",
            )  # fmt: skip
        with contextlib.closing(events):  # leaving early (an error, a closed tab) stops the loop's thread now
            for event in events:
                losses += [{"step": event.step, "value": v, "series": f"loss {k}"} for k, v in event.losses.items()]
                outputs += [{"step": event.step, "value": event.d_real, "series": "D(real)"},
                            {"step": event.step, "value": event.d_fake, "series": "D(fake)"}]  # fmt: skip
                if event.result is None:
                    pending_notes += event.notes
                    recent = event.elapsed_s - last_update < UI_UPDATE_EVERY_S
                    if event.preview is None and not pending_notes and recent:
                        continue  # plots and badges: about once a second is enough, and each update costs CPU to send
                    last_update = event.elapsed_s
                    progress(min(event.elapsed_s / config.time_budget_s, 1.0), desc=f"step {event.step}")
                    image = to_pil(event.preview[None])[0] if event.preview is not None else gr.skip()
                    notes, pending_notes = "  \n".join(pending_notes), []
                    yield (image, health_markdown(event), notes or gr.skip(),
                           pd.DataFrame(losses[-PLOT_MAX_ROWS:]), pd.DataFrame(outputs[-PLOT_MAX_ROWS:]),
                           gr.skip(), gr.skip(), gr.skip())  # fmt: skip
        assert event is not None and event.result is not None
        progress(1.0, desc="measuring quality")
        quality = evaluate_generator(event.result.generator, data)
        name = f"my-{architecture}-{len(session_['models']) + 1}"
        folder = save_run(fresh_run_dir() / name, event.result, event.preview,
                          {"command": "GAN studio Fine-tune tab", "data": report.summary().splitlines()[0],
                           "data_shape": list(data.shape), "quality": quality})  # fmt: skip
        session_["models"][name] = str(folder)
        session_["last_run"] = str(folder)
        done = "  \n".join([*event.notes, f"Saved as **{name}**: pick it in the Generate tab, or download it below."])
        done += "\n\n" + quality_markdown(quality)
        yield (to_pil(event.preview[None])[0], health_markdown(event), done,
               pd.DataFrame(losses[-PLOT_MAX_ROWS:]), pd.DataFrame(outputs[-PLOT_MAX_ROWS:]), str(zip_run(folder)),
               gr.Dropdown(choices=model_choices(session_), value=name), session_)  # fmt: skip

    def request_stop(control_: dict[str, bool]) -> str:
        control_["stop"] = True
        return "Stopping after this step; the weights so far will be kept..."

    train_inputs = [uploads, start, resolution, colour, minutes, steps, batch, lr_g, lr_d, loss, augment, jitter, seed,
                    resume, session, control]  # fmt: skip
    train_event = train_button.click(
        on_train,
        train_inputs,
        [preview, health, status, loss_plot, d_plot, download, generate_model, session],
        api_name="train", concurrency_id="train", concurrency_limit=1,
        validator=lines.validator("train", "fine-tuning runs", len(train_inputs)),
    )  # fmt: skip
    stop_button.click(request_stop, control, status, api_name="stop_training", queue=False)
    cancel_button.click(None, None, None, cancels=[train_event], api_name="cancel_training")
    return start


def build_style_tab(
    style_networks: VGG19WeightsCache,
    generated_grid: gr.Image,
    linked: gr.State,
    priority: InteractivePriority,
    lines: WaitingLines,
) -> dict[str, gr.components.Component]:
    """Content and style uploads, weights and sliders, live preview, Stop, download; examples that ship offline.

    Returns the inputs a permalink sets, by their link key (gan.share.STYLE_FIELDS, plus content and styles);
    `linked` turning to {"run": "style"} stylises at once (a permalink's result).
    """
    style_defaults = StyleConfig()
    gr.Markdown(
        "Render a picture in the style of one or more others (Gatys et al.'s Gram-matrix method on VGG19 "
        "features, coarse to fine). Stop keeps the current image."
    )
    with gr.Row():
        with gr.Column():
            style_content = clear_decode_errors(
                gr.Image(
                    label="Content image",
                    type="filepath",
                    format="png",
                    height=300,
                    elem_id="style-content",
                )
            )
            use_grid = gr.Button("Use the Generate tab's grid as content", size="sm")
            style_files = gr.File(
                label="Style images (one or more)",
                file_count="multiple",
                file_types=["image"],
                height=160,
                elem_id="style-files",
            )
            style_blend = gr.Textbox(
                label="Style blend weights, one per style image (empty = equal)", placeholder="e.g. 2, 1"
            )
        with gr.Column():
            style_output = gr.Image(
                label="Result (live preview)",
                type="filepath",
                format="png",
                interactive=False,
                height=400,
                elem_id="style-output",
            )
            style_status = gr.Markdown(elem_id="style-status")
            style_download = gr.File(label="Download PNG", elem_id="style-download")
            style_link = gr.Textbox(
                label="Link to this result", placeholder="Stylise, and a link to the result appears here",
                buttons=["copy"], interactive=False, elem_id="style-link",
            )  # fmt: skip
    with gr.Row():
        style_size = gr.Slider(
            64, STYLE_UI_MAX_SIZE, _style_ui_size(style_defaults), step=32, label="Size (longer side, px)",
            elem_id="style-size",
        )  # fmt: skip
        style_steps = gr.Slider(1, 1000, style_defaults.steps, step=1, label="Steps at full size",
                                elem_id="style-steps")  # fmt: skip
        style_preserve = gr.Radio(
            list(PRESERVE_COLORS), value=style_defaults.preserve_colors, label="Preserve content colours"
        )
    with gr.Row():
        style_content_weight = gr.Slider(0, 10, style_defaults.content_weight, step=0.1, label="Content weight")
        style_style_weight = gr.Slider(0, 1000, style_defaults.style_weight, step=1, label="Style weight")
        style_tv_weight = gr.Slider(0, 100, style_defaults.tv_weight, step=0.5, label="Smoothness (TV)")
    with gr.Accordion("More settings", open=False), gr.Row():
        style_scale = gr.Slider(0.25, 2.0, style_defaults.style_scale, step=0.05, label="Style scale")
        style_levels = gr.Slider(1, 3, style_defaults.levels, step=1, label="Coarse-to-fine passes")
        style_coarse_steps = gr.Slider(
            0, 1000, style_defaults.coarse_steps, step=1, label="Steps per coarse pass",
            elem_id="style-coarse-steps",
        )  # fmt: skip
        style_init = gr.Radio(["content", "noise"], value=style_defaults.init, label="Start from")
        style_seed = gr.Number(style_defaults.seed, label="Seed", precision=0, minimum=0, maximum=MAX_SEED)
    with gr.Row():
        stylize_button = gr.Button("Stylise", variant="primary", elem_id="style-run")
        stop_button = gr.Button("Stop", variant="stop", elem_id="style-stop")
    examples = style_examples()
    if examples:
        gr.Examples(examples, [style_content, style_files], label="Bundled examples (offline images)")

    @user_errors
    @releasing_memory
    def on_stylize(
        content_path: str | None,
        style_paths: list[str] | str | None,
        blend_text: str,
        size: float,
        steps: float,
        content_weight: float,
        style_weight: float,
        tv_weight: float,
        preserve_colors: str,
        style_scale: float,
        levels: float,
        coarse_steps: float,
        init: str,
        seed: float,
        progress=gr.Progress(),
    ) -> Iterator[tuple[str | None, str, str | None]]:
        """Yield (preview PNG, status, download PNG) now and then; the last yield is the finished image."""
        if not content_path:
            raise GanError("upload a content image, or pick an example")
        if isinstance(content_path, UnreadableUpload):
            raise GanError(content_path)
        style_paths = [style_paths] if isinstance(style_paths, str) else list(style_paths or [])
        if not style_paths:
            raise GanError("upload at least one style image, or pick an example")
        if len(style_paths) > STYLE_UI_MAX_STYLES:
            raise GanError(f"at most {STYLE_UI_MAX_STYLES} style images, got {len(style_paths)}")
        content, notes = load_picture(content_path, "content image")
        styles = []
        for index, path in enumerate(style_paths, 1):
            style, style_notes = load_picture(path, f"style image {index} ({Path(path).name})")
            styles.append(style)
            notes += style_notes
        size = _as_int(size, "size")  # the slider's range is enforced by Gradio
        config = StyleConfig(
            size=size, steps=_as_int(steps, "steps"), levels=_as_int(levels, "levels"),
            coarse_steps=_as_int(coarse_steps, "coarse steps"), content_weight=float(content_weight),
            style_weight=float(style_weight), tv_weight=float(tv_weight), preserve_colors=preserve_colors,
            style_scale=float(style_scale), init=init, seed=_as_int(seed, "seed"),
            style_blend=parse_blend_weights(blend_text, len(styles)),
        )  # fmt: skip
        progress(0, desc="loading the feature network")
        weights = style_networks.get()
        out = fresh_output_dir()
        stem = f"{Path(content_path).stem[:40]}_styled_{size}px_seed{config.seed}"
        # Previews are served in place (result folders are a static path): a file is removed only once a newer
        # preview has replaced it on the page for a preview interval, so the browser has fetched it by then.
        previews: list[Path] = []
        yield None, _style_status(notes, "starting…"), None
        final = None
        if ZERO_GPU:
            events = render_style(content, styles, weights, config)
        else:  # share the machine: a low-priority thread that lets generate requests go first between steps
            events = iterate_in_background(
                lambda: priority.paced(render_style(content, styles, weights, config)), name="style"
            )
        with contextlib.closing(events):  # leaving early (an error, a closed tab) stops the loop's thread now
            for event in events:
                progress((event.step, event.total_steps), desc=f"{event.size[1]}×{event.size[0]} px", unit="steps")
                if event.result is not None:
                    final = event
                elif event.preview is not None:
                    preview_path = out / f"{stem}_step{event.step:05d}.png"
                    save_png(to_pil(event.preview[None])[0], preview_path, {"step": event.step, "seed": config.seed})
                    previews.append(preview_path)
                    if len(previews) > 2:
                        previews.pop(0).unlink(missing_ok=True)
                    line = f"step {event.step}/{event.total_steps} at {event.size[1]}×{event.size[0]} px"
                    yield (
                        str(preview_path),
                        _style_status(notes, f"{line}, loss {event.losses['total']:.4g}"),
                        str(preview_path),
                    )
        assert final is not None and final.result is not None
        metadata = {
            "content": Path(content_path).name,
            "styles": ", ".join(Path(p).name for p in style_paths),
            "seed": config.seed,
            "steps": final.step,
            "weights": weights.source,
            "config": json.dumps(asdict(config)),
        }
        path = save_png(to_pil(final.result[None])[0], out / f"{stem}.png", metadata)
        done = (
            f"done: {final.step} steps in {final.elapsed_s:.0f} s, loss {final.losses.get('total', float('nan')):.4g}"
        )
        yield str(path), _style_status(notes + final.notes, done), str(path)
        for preview in previews:  # the page shows the finished image now
            preview.unlink(missing_ok=True)

    def on_stop() -> str:
        return "Stopped: the current image is kept (download it below)."

    def use_generated(grid: str | None) -> str:
        if not grid:
            raise gr.Error("generate images in the Generate tab first")
        return grid

    def on_linked_stylize(run: dict[str, str] | None, *values: Any, progress=gr.Progress()) -> Iterator[tuple]:
        if not run or run.get("run") != "style":
            yield gr.skip(), gr.skip(), gr.skip()
            return
        yield from on_stylize(*values, progress=progress)

    def on_style_link(result: str | None, content_path: str | None, style_paths: Any, request: gr.Request):
        """The link of the finished image: its settings from its own PNG metadata, bundled images by their bytes."""
        meta = png_text(result) if result else {}
        if "config" not in meta:
            return gr.skip() if not result else no_link("only a finished image has a link: Stylise again")
        style_paths = [style_paths] if isinstance(style_paths, str) else list(style_paths or [])
        names = ", ".join(Path(p).name for p in style_paths)
        if not content_path or meta.get("content") != Path(content_path).name or meta.get("styles") != names:
            return no_link("the images changed since this result: Stylise again for a link")
        try:
            link = Permalink(style=style_link_settings(json.loads(meta["config"])))
        except (ValueError, TypeError) as error:
            return no_link(f"this result's settings cannot be linked ({error})")
        content_name = bundled_example(content_path, STYLE_EXAMPLES)
        style_names = [bundled_example(path, STYLE_EXAMPLES) for path in style_paths]
        if content_name and style_names and all(style_names):
            link.content, link.styles = content_name, tuple(name for name in style_names if name)
            return result_link(app_url(request), link)
        note = "settings only: a link never carries your own images, so whoever opens it adds theirs"
        return result_link(app_url(request), link, note)

    inputs = {
        "content": style_content, "styles": style_files, "blend": style_blend, "size": style_size,
        "steps": style_steps, "content_weight": style_content_weight, "style_weight": style_style_weight,
        "tv_weight": style_tv_weight, "preserve_colors": style_preserve, "style_scale": style_scale,
        "levels": style_levels, "coarse_steps": style_coarse_steps, "init": style_init, "style_seed": style_seed,
    }  # fmt: skip  # in on_stylize's order
    style_event = stylize_button.click(
        on_stylize, list(inputs.values()), [style_output, style_status, style_download], api_name="stylize",
        concurrency_id="style", concurrency_limit=1,
        validator=lines.validator("style", "style renders", len(inputs)),
    )  # fmt: skip
    linked_event = linked.change(
        on_linked_stylize, [linked, *inputs.values()], [style_output, style_status, style_download],
        api_name="linked_stylize", concurrency_id="style",
    )  # fmt: skip
    stylize_button.click(None, None, style_link, js="() => ''")  # a new run: the old link no longer applies
    for event in (style_event, linked_event):
        event.success(on_style_link, [style_download, style_content, style_files], style_link,
                      api_name="style_result_link")  # fmt: skip
    stop_button.click(on_stop, None, style_status, api_name="stop_stylize", cancels=[style_event, linked_event],
                      queue=False)  # fmt: skip
    use_grid.click(use_generated, generated_grid, style_content, api_name="use_generated_grid")
    return inputs


def _style_ui_size(defaults: StyleConfig) -> int:
    """The config's size on a GPU; on a CPU a smaller default that renders in about a minute."""
    return defaults.size if torch.cuda.is_available() else min(defaults.size, 256)


def _style_status(notes: list[str], line: str) -> str:
    return "  \n".join([*(f"⚠️ {note}" for note in notes), line])


def _as_int(value: float | int | None, name: str) -> int:
    """Gradio numbers arrive as floats; refuse 2.5 rather than silently rounding it."""
    if value is None or float(value) != int(value):
        raise GanError(f"{name} must be a whole number, got {value!r}")
    return int(value)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="GAN studio web app")
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", "7860")))
    parser.add_argument("--share", action="store_true", help="ask Gradio for a public share link")
    args = parser.parse_args(argv)
    demo = build_app()
    share = args.share
    if share and (reason := share_unavailable()):
        print(f"* No public link: {reason}. GAN studio runs on this machine only.", flush=True)
        share = False
    demo.launch(
        server_name=args.host,
        server_port=args.port,
        share=share,
        ssr_mode=False,
        theme=gr.themes.Soft(),
        prevent_thread_lock=True,
    )
    if share and not demo.share_url:  # Gradio printed its own reason (often the tunnel program's download)
        print("* No public link: Gradio could not open its share tunnel. GAN studio runs on this machine only.",
              flush=True)  # fmt: skip
    demo.block_thread()


if __name__ == "__main__":
    main()
