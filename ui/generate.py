"""The Generate tab: samples by seed (PNGs, a grid, a zip), a latent walk, examples, and samples on show at once."""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
import spaces
import torch

from gan.card import provenance
from gan.checkpoint import Checkpoint
from gan.config import APP, MAX_SEED, GenerateConfig, InterpolateConfig, parse_seed_list
from gan.jobs import model_summary, samples_zip_name, save_grid, save_samples, save_walk, without_paths, zip_files
from gan.sampling import generate, interpolate
from gan.zoo import ModelCache, embedded_models
from ui.common import (
    ZERO_GPU,
    Session,
    Studio,
    checked_number,
    display_note,
    display_size,
    fresh_output_dir,
    slider,
    user_errors,
)
from ui.links import samples_link

TRUNCATION_HINT = "1 = off. 0.5–0.8 trades variety for typical-looking samples; 0 gives the average image."


def model_description(name: str, checkpoint: Checkpoint) -> list[str]:
    """What a model is, where it came from (family, repo, licence) and how it is shown here: never a local path."""
    origin = [without_paths(line) for line in provenance(checkpoint.source)] if checkpoint.source else []
    return [*model_summary(name, checkpoint), *origin, *display_note(checkpoint.config.resolution)]


# On a ZeroGPU Space these run in a forked worker that holds the GPU: their arguments
# are pickled across, so they take the generator itself and plain configs.
@spaces.GPU(duration=60)
def render_seeds(generator: torch.nn.Module, config: GenerateConfig) -> torch.Tensor:
    return generate(generator, config)


@spaces.GPU(duration=60)
def render_walk(generator: torch.nn.Module, config: InterpolateConfig) -> torch.Tensor:
    return interpolate(generator, config)


# One request's files: the grid PNG, the zip of every PNG, and the gallery's (path, caption) per seed.
# The grid and the zip answer the request (what /generate returns: two files); the gallery shows the same PNGs
# a moment later, from a second event that only lists them. A client fetches each returned file on its own
# connection (gradio_client: about 50 ms each on this project's CPU box, most of it its own set-up), so
# returning the 16 PNGs as well made a script wait five times longer than the generator and the grid did.
Samples = tuple[str, str, list[tuple[str, str]]]


def write_samples(name: str, config: GenerateConfig, images: torch.Tensor, out: Path) -> Samples:
    """The PNGs, the grid and the zip of one request, written once into `out` and never changed."""
    paths = save_samples(images, name, config.seeds, config.truncation, out)
    grid = save_grid(images, name, config.seeds, config.truncation, out, APP.preview_min_side * 2)
    archive = zip_files([*paths, grid], out / samples_zip_name(name, config.seeds, config.truncation))
    gallery = [(str(path), f"seed {seed}") for path, seed in zip(paths, config.seeds, strict=True)]
    return str(grid), str(archive), gallery


def first_samples(cache: ModelCache, name: str, folder: Path, out: Path) -> Samples:
    """What the page shows before anyone clicks: the default settings on the first model, rendered at start."""
    checkpoint = cache.get(folder)
    config = GenerateConfig(size=display_size(checkpoint.config.resolution))
    return write_samples(name, config, render_seeds(checkpoint.generator, config), out)


@dataclass
class GenerateTab:
    inputs: dict[str, Any]  # model, seed, count, truncation: what a permalink sets
    grid: gr.Image  # the Style tab may take it as content


def build_generate_tab(studio: Studio, first_model: str, start: Session, first: Samples) -> GenerateTab:
    """Widgets, then handlers; every result gets a link. `first`: the samples on show when the page opens."""
    defaults, walk_defaults, cache, priority = GenerateConfig(), InterpolateConfig(), studio.cache, studio.priority
    with gr.Row(equal_height=True):
        model = gr.Dropdown(start.choices(), value=first_model, label="Model", scale=2, allow_custom_value=True,
                            elem_id="generate-model")  # fmt: skip  # custom values: Session.folder() checks them
        model_info = gr.Markdown(
            "  \n".join(model_description(first_model, cache.get(start.folder(first_model)))),
            label="Description",
            elem_id="generate-model-info",
        )
    with gr.Row(equal_height=True):
        # No minimum here: Gradio's own check would answer -5 without naming the field; GenerateConfig names it.
        seed = checked_number(gr.Number(defaults.seed, label="First seed", precision=0, elem_id="generate-seed"),
                              "first seed")  # fmt: skip
        dice = gr.Button("Random seed", scale=0, elem_id="generate-dice")
        count = slider((1, APP.max_count, 1), defaults.count, "Images", "images", integer=True)
        truncation = slider((0.0, 1.0, APP.truncation_step), defaults.truncation, "Truncation ψ", "truncation",
                            info=TRUNCATION_HINT, elem_id="generate-truncation")  # fmt: skip
    generate_button = gr.Button("Generate", variant="primary", elem_id="generate-run")
    progress = gr.Markdown(elem_id="generate-progress")  # progress and errors show here, never over the samples
    gallery = gr.Gallery(first[2], label="Samples", columns=8, format="png",
                         interactive=False, buttons=["download", "fullscreen"],
                         elem_id="gallery")  # fmt: skip
    with gr.Row():
        grid = gr.Image(
            first[0], label="Grid", format="png", type="filepath", interactive=False, height=320, elem_id="grid"
        )
        downloads = gr.File(
            first[1], label="All PNGs and the grid (zip)", interactive=False, height=80, elem_id="downloads"
        )
    link = gr.Textbox(label="Link to this result", placeholder="Generate, and a link that reproduces the result "
                      "appears here", buttons=["copy"], interactive=False, elem_id="generate-link")  # fmt: skip
    rows = [[name, 42 + index, defaults.count, psi] for index, (name, psi) in enumerate(_example_pairs())]
    examples = gr.Examples(rows, [model, seed, count, truncation], label="Examples: click one to generate it",
                           example_labels=[f"{name}, seed {seed_}, ψ {psi:g}" for name, seed_, _, psi in rows],
                           api_visibility="private")  # fmt: skip
    with gr.Accordion("Latent interpolation", open=False):
        with gr.Row():
            walk_seeds = gr.Textbox(", ".join(map(str, walk_defaults.seeds)), label="Seeds to visit")
            walk_steps = slider((*APP.walk_steps, 1), walk_defaults.steps, "Frames per segment", "frames", integer=True)
            walk_method = gr.Radio(["slerp", "lerp"], value=walk_defaults.method, label="Path")
            walk_loop = gr.Checkbox(walk_defaults.loop, label="Loop back")
        walk_button = gr.Button("Interpolate")
        with gr.Row():
            walk_gif = gr.Image(label="Animation", type="filepath", format="gif", interactive=False)
            walk_grid = gr.Image(label="Frames", type="filepath", format="png", interactive=False)
        walk_files = gr.File(label="Download (GIF, frame grid)", file_count="multiple", interactive=False, height=80)

    def interactive(handler: Callable[..., Any]) -> Callable[..., Any]:
        """Training and style steps make way while `handler` runs (its PNG and zip writing included)."""

        @functools.wraps(handler)
        def first_in_line(*args: Any, **kwargs: Any) -> Any:
            with priority.interactive():
                return handler(*args, **kwargs)

        return first_in_line

    def sample(name: str, seed: int, count: int, truncation: float, session: Session):
        checkpoint = cache.get(session.folder(name))
        config = GenerateConfig(seed=seed, count=count, truncation=float(truncation),
                                size=display_size(checkpoint.config.resolution))  # fmt: skip
        return config, render_seeds(checkpoint.generator, config)

    @user_errors
    @interactive
    def on_generate(model: str, seed: int, count: int, truncation: float, session: Session) -> Samples:
        """Images for seeds seed..seed+count-1 of a model: their grid, and a zip of every PNG (one per seed, the
        seed in its name and metadata) with the grid."""
        config, images = sample(model, seed, count, truncation, session)
        return write_samples(model, config, images, fresh_output_dir())

    @user_errors
    @interactive
    def on_grid(model: str, seed: int, count: int, truncation: float, session: Session) -> str:
        """Only the grid PNG of seeds seed..seed+count-1: one picture per call, the quickest answer."""
        config, images = sample(model, seed, count, truncation, session)
        return str(save_grid(images, model, config.seeds, config.truncation, fresh_output_dir(),
                             APP.preview_min_side * 2))  # fmt: skip

    @user_errors
    @interactive
    def on_interpolate(model: str, seeds: str, frames: int, method: str, loop: bool, truncation: float,
                       session: Session) -> tuple[str, str, list[str]]:  # fmt: skip
        """A latent walk through the seeds (e.g. "1, 5, 9"): a looping GIF and a grid of its frames."""
        walk = parse_seed_list(seeds, limit=APP.walk_max_seeds)
        checkpoint = cache.get(session.folder(model))
        config = InterpolateConfig(tuple(walk), frames, method, float(truncation), bool(loop),
                                   size=display_size(checkpoint.config.resolution))  # fmt: skip
        images = render_walk(checkpoint.generator, config)
        gif, grid = save_walk(images, model, config, fresh_output_dir(), APP.preview_min_side, grid=True)
        return str(gif), str(grid), [str(gif), str(grid)]

    @user_errors
    def describe_model(model: str, session: Session) -> str:
        """What a model is: architecture, image size, parameters, how it was trained or where it came from."""
        return "  \n".join(model_description(model, cache.get(session.folder(model))))

    def random_seed() -> int:
        return random.randint(0, MAX_SEED)

    def on_linked_generate(run: str | None, *values: Any) -> Samples | tuple[Any, Any, Any]:
        return on_generate(*values) if run == "generate" else (gr.skip(), gr.skip(), gr.skip())

    inputs = {"model": model, "seed": seed, "count": count, "truncation": truncation}
    run_args = [*inputs.values(), studio.session]
    shown = gr.State(first[2])  # the gallery rows (path, caption) of the last request, handed to the next event
    outputs = [grid, downloads, shown]
    lane = {"concurrency_id": "generate", "concurrency_limit": APP.generate_concurrency,  # never behind training
            "show_progress_on": [progress]}  # fmt: skip
    events = [
        generate_button.click(on_generate, run_args, outputs, api_name="generate", **lane),
        dice.click(random_seed, None, seed, queue=False, api_visibility="private").then(
            on_generate, run_args, outputs, api_visibility="private", **lane),
        examples.load_input_event.then(on_generate, run_args, outputs, api_visibility="private", **lane),
        studio.linked.change(on_linked_generate, [studio.linked, *run_args], outputs, api_visibility="private", **lane),
    ]  # fmt: skip
    for event in events:
        event.success(show_samples, shown, gallery, queue=False, api_visibility="private").success(
            samples_link, [gallery, studio.session], link, queue=False, api_visibility="private")  # fmt: skip
    # cheap: off ZeroGPU the grid skips the queue, so it never waits behind a training run
    grid_button = gr.Button(visible=False)  # carries the API-only /grid endpoint
    grid_button.click(on_grid, run_args, grid, api_name="grid", queue=ZERO_GPU)
    model.change(describe_model, [model, studio.session], model_info, api_name="describe_model")
    walk_inputs = [model, walk_seeds, walk_steps, walk_method, walk_loop, truncation, studio.session]
    walk_button.click(on_interpolate, walk_inputs, [walk_gif, walk_grid, walk_files], api_name="interpolate",
                      concurrency_id="generate")  # fmt: skip
    return GenerateTab(inputs, grid)


def show_samples(rows: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The gallery of a request's PNGs, already written: nothing is computed here."""
    return rows


def _example_pairs() -> list[tuple[str, float]]:
    """(model, ψ) rows for the examples: each embedded model untruncated, then truncated."""
    return [(name, psi) for psi in (1.0, 0.7) for name in embedded_models()]
