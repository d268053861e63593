"""GAN studio: a Gradio UI over the `gan` package.

This file is layout, wiring and small adapters only: every handler turns
widget values into a `gan` call and the result back into widgets. Per-visitor
state lives in `gr.State`; the one shared object, a bounded cache of loaded
checkpoints, is made in `build_app()` and handed to the handlers.

Run: python app.py [--host 127.0.0.1] [--port 7860] [--share]
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import argparse
import functools
import inspect
import json
import random
import shutil
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import gradio as gr
import spaces
import torch

from gan.config import MAX_SEED, GenerateConfig, InterpolateConfig, parse_seed_list
from gan.data import load_picture
from gan.device import pick_device
from gan.errors import GanError
from gan.images import make_grid, save_gif, save_png, to_pil, upscale
from gan.sampling import generate, interpolate
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
from gan.zoo import DEFAULT_MODEL, ModelCache, embedded_models, resolve_model

OUTPUT_ROOT = Path(tempfile.gettempdir()) / "gan-studio-outputs"
OUTPUT_MAX_AGE_S = 3600  # result folders older than this are removed when a new one is made
UI_MAX_COUNT = 64  # the slider's top; the API accepts up to GenerateConfig's limit
PREVIEW_MIN_SIDE = 256  # small samples (32 px) are upscaled with nearest-neighbour for display
STYLE_EXAMPLES = Path(__file__).resolve().parent / "weights" / "style-examples"
STYLE_UI_MAX_SIZE = 1024  # the size slider's top: larger renders take many minutes even on a GPU
STYLE_UI_MAX_STYLES = 8  # style images per request


def clear_decode_errors(image: gr.Image) -> gr.Image:
    """Make an input gr.Image answer an undecodable upload with a clear message, not Gradio's generic error.

    (Wrapping the instance's preprocess, not subclassing: Gradio writes a .pyi beside any module
    that defines a component subclass.)
    """
    preprocess = image.preprocess

    def checked(payload: Any) -> Any:
        try:
            return preprocess(payload)
        except (OSError, ValueError, SyntaxError) as error:  # PIL's UnidentifiedImageError is an OSError
            name = getattr(payload, "orig_name", None) or "the upload"
            raise gr.Error(f"{image.label or 'image'} ({name}): not an image this app can read") from error

    image.preprocess = checked
    return image


def user_errors(handler: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the package's typed errors into a gr.Error message for the visitor (generators too)."""
    if inspect.isgeneratorfunction(handler):

        @functools.wraps(handler)
        def wrapped_generator(*args: Any, **kwargs: Any) -> Iterator[Any]:
            try:
                yield from handler(*args, **kwargs)
            except GanError as error:
                raise gr.Error(str(error)) from error

        return wrapped_generator

    @functools.wraps(handler)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return handler(*args, **kwargs)
        except GanError as error:
            raise gr.Error(str(error)) from error

    return wrapped


def fresh_output_dir() -> Path:
    """A new folder for one request's files; prunes folders older than OUTPUT_MAX_AGE_S."""
    OUTPUT_ROOT.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - OUTPUT_MAX_AGE_S
    for old in OUTPUT_ROOT.iterdir():
        if old.is_dir() and old.stat().st_mtime < cutoff:
            shutil.rmtree(old, ignore_errors=True)
    return Path(tempfile.mkdtemp(dir=OUTPUT_ROOT))


def model_choices(session: dict[str, Any]) -> list[str]:
    return list(embedded_models()) + list(session.get("models", {}))


def model_folder(name: str, session: dict[str, Any]) -> Path:
    """This visitor's models first (Hub pulls, fine-tunes), then the embedded ones."""
    if name in session.get("models", {}):
        return Path(session["models"][name])
    if name not in embedded_models():
        raise GanError(f"unknown model {name!r}: pick one from the list")
    return resolve_model(name)


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


def build_app(cache: ModelCache | None = None, style_weights: str | Path | None = None) -> gr.Blocks:
    """The app. `style_weights`: VGG19 weights for style transfer (a file or Hub repo id); None reads
    $GAN_STYLE_WEIGHTS now, else torchvision's cache or the default Hub repo on first use."""
    cache = cache or ModelCache(max_models=4)
    style_networks = VGG19WeightsCache(style_weights or default_weights_source())
    defaults = GenerateConfig()
    walk_defaults = InterpolateConfig()
    style_defaults = StyleConfig()

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
            out / f"{name}_grid_seeds{first}-{last}_psi{config.truncation:g}.png",
            {"model": name, "seeds": f"{first}-{last}", "truncation": config.truncation},
        )

    @user_errors
    def on_generate(
        name: str, seed: float, count: float, truncation: float, session: dict[str, Any], progress=gr.Progress()
    ) -> tuple[list[tuple[str, str]], str, str]:
        progress(0, desc="generating")
        config, images = sample(name, seed, count, truncation, session)
        out = fresh_output_dir()
        gallery = []
        for seed_i, image in zip(config.seeds, to_pil(images), strict=True):
            meta = {"model": name, "seed": seed_i, "truncation": config.truncation}
            path = save_png(image, out / f"{name}_seed{seed_i}_psi{config.truncation:g}.png", meta)
            gallery.append((str(path), f"seed {seed_i}"))
        grid_path = save_grid(name, config, images, out)
        zip_path = out / f"{name}_seeds{config.seeds[0]}-{config.seeds[-1]}_psi{config.truncation:g}.zip"
        with zipfile.ZipFile(zip_path, "w") as archive:
            for path, _caption in gallery:
                archive.write(path, Path(path).name)
            archive.write(grid_path, grid_path.name)
        return gallery, str(grid_path), str(zip_path)

    @user_errors
    def on_grid(name: str, seed: float, count: float, truncation: float, session: dict[str, Any]) -> str:
        """API shortcut: only the grid PNG, for scripts that want one picture per call."""
        config, images = sample(name, seed, count, truncation, session)
        return str(save_grid(name, config, images, fresh_output_dir()))

    @user_errors
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
        label = f"{name}_{config.method}_seeds{'-'.join(map(str, seeds))}"[:120]
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

    @user_errors
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
        preview_path: Path | None = None
        yield None, _style_status(notes, "starting…"), None
        final = None
        for event in render_style(content, styles, weights, config):
            progress((event.step, event.total_steps), desc=f"{event.size[1]}×{event.size[0]} px", unit="steps")
            if event.result is not None:
                final = event
            elif event.preview is not None:
                old, preview_path = preview_path, out / f"{stem}_step{event.step:05d}.png"
                save_png(to_pil(event.preview[None])[0], preview_path, {"step": event.step, "seed": config.seed})
                if old is not None:
                    old.unlink(missing_ok=True)  # already handed to Gradio, which keeps its own copy
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
        if preview_path is not None:
            preview_path.unlink(missing_ok=True)
        done = (
            f"done: {final.step} steps in {final.elapsed_s:.0f} s, loss {final.losses.get('total', float('nan')):.4g}"
        )
        yield str(path), _style_status(notes + final.notes, done), str(path)

    def on_stop() -> str:
        return "Stopped: the current image is kept (download it below)."

    def use_generated(grid: str | None) -> str:
        if not grid:
            raise gr.Error("generate images in the Generate tab first")
        return grid

    with gr.Blocks(title="GAN studio", delete_cache=(3600, 3600)) as demo:
        session = gr.State({"models": {}})  # this visitor's own models: name -> checkpoint folder
        gr.Markdown("# GAN studio\nGenerate images with GANs, fine-tune them on your pictures, transfer styles.")
        with gr.Tabs():
            with gr.Tab("Generate", id="generate"):
                with gr.Row():
                    model = gr.Dropdown(
                        list(embedded_models()), value=DEFAULT_MODEL, label="Model", scale=2, allow_custom_value=True
                    )  # custom values: this visitor's own models are checked by model_folder()
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
                gr.Markdown("Fine-tuning on your own images is not available yet in this version.")
            with gr.Tab("Style transfer", id="style"):
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
                    style_content_weight = gr.Slider(
                        0, 10, style_defaults.content_weight, step=0.1, label="Content weight"
                    )
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
            with gr.Tab("Hub", id="hub"):
                gr.Markdown("Loading from and pushing to the Hugging Face Hub is not available yet in this version.")

        model.change(describe_model, [model, session], model_info, api_name="describe_model")
        demo.load(describe_model, [model, session], model_info, api_name="describe_default_model")
        dice.click(random_seed, None, seed, api_name="random_seed")
        generate_button.click(
            on_generate,
            [model, seed, count, truncation, session],
            [gallery, grid_image, downloads],
            api_name="generate",
            concurrency_id="gpu",
            concurrency_limit=1,
        )
        grid_only.click(on_grid, [model, seed, count, truncation, session], grid_image, api_name="grid")
        walk_button.click(
            on_interpolate,
            [model, walk_seeds, walk_steps, walk_method, walk_loop, truncation, session],
            [walk_gif, walk_grid, walk_files],
            api_name="interpolate",
            concurrency_id="gpu",
        )
        style_event = stylize_button.click(
            on_stylize,
            [style_content, style_files, style_blend, style_size, style_steps, style_content_weight,
             style_style_weight, style_tv_weight, style_preserve, style_scale, style_levels, style_coarse_steps,
             style_init, style_seed],
            [style_output, style_status, style_download],
            api_name="stylize",
            concurrency_id="gpu",
        )  # fmt: skip
        stop_button.click(on_stop, None, style_status, api_name="stop_stylize", cancels=[style_event], queue=False)
        use_grid.click(use_generated, grid_image, style_content, api_name="use_generated_grid")
    demo.queue(default_concurrency_limit=1, max_size=64)
    return demo


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


def main() -> None:
    parser = argparse.ArgumentParser(description="GAN studio web app")
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", "7860")))
    parser.add_argument("--share", action="store_true", help="ask Gradio for a public share link")
    args = parser.parse_args()
    build_app().launch(
        server_name=args.host, server_port=args.port, share=args.share, ssr_mode=False, theme=gr.themes.Soft()
    )


if __name__ == "__main__":
    main()
