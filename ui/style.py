"""The Style transfer tab: content and style images, every pass shown, a live preview, Stop keeps the newest image."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
import spaces
import torch
from PIL import Image

from gan.config import APP, MAX_SEED
from gan.data import load_picture
from gan.device import pick_device
from gan.errors import GanError
from gan.images import save_png, to_pil
from gan.jobs import short_name, style_metadata, style_stem, without_paths
from gan.serving import iterate_in_background
from gan.style import (
    PRESERVE_COLORS,
    StyleConfig,
    StyleEvent,
    VGG19Weights,
    VGG19WeightsCache,
    parse_blend_weights,
    plan_levels,  # fmt: skip
    stylize,
)
from gan.zoo import style_examples
from ui.common import (
    ZERO_GPU,
    RunControl,
    Studio,
    UnreadableUpload,
    checked_number,
    fresh_output_dir,
    readable_image,  # fmt: skip
    releasing_memory,
    slider,
    user_errors,
)
from ui.links import style_link

UNAVAILABLE = (
    "**Style transfer is not available on this server.** It needs a feature network (VGG19 weights) that this "
    "server does not have, so *Stylise* is off. Everything else works.\n\n"
    "<details><summary>For the server's operator</summary>\n\n{fix}\n\n</details>"
)


@spaces.GPU(duration=120)
def render_style(
    content: torch.Tensor, styles: list[torch.Tensor], weights: VGG19Weights, config: StyleConfig, control: RunControl
) -> Iterator[StyleEvent]:
    # On ZeroGPU this runs in a forked worker: `control` is a copy there, so Stop acts through cancelling.
    yield from stylize(content, styles, weights, config, pick_device("auto"), should_stop=lambda: control.stop)


def availability(networks: VGG19WeightsCache) -> tuple[dict[str, Any], dict[str, Any]]:
    """(notice, Stylise button) updates: when no weights can be had, say so and switch Stylise off."""
    problem = networks.problem()
    notice = UNAVAILABLE.format(fix=without_paths(str(problem))) if problem else ""
    return gr.update(value=notice, visible=bool(problem)), gr.update(interactive=problem is None)


def passes_text(content: str | None, size: int, steps: int, levels: int, coarse_steps: int) -> str:
    """Every pass a render will run, coarse to fine, with its step budget (a coarse pass may end early)."""
    try:
        shape = (size, size)
        if content and not isinstance(content, UnreadableUpload):
            with Image.open(content) as image:  # reads the header only
                shape = (image.height, image.width)
        plan = plan_levels(StyleConfig(size=size, steps=steps, levels=levels, coarse_steps=coarse_steps), shape)
    except (GanError, OSError, ValueError):
        return ""
    shown = [f"{side} px: {'up to ' if index < len(plan) - 1 else ''}{budget} steps"
             for index, (side, budget) in enumerate(plan)]  # fmt: skip
    return f"Passes: {' → '.join(shown)} · {sum(budget for _, budget in plan)} steps at most"


def example_thumbnails(folder: Path) -> list[tuple[str, str, tuple[str, ...]]]:
    """(thumbnail, content, styles) for each bundled example, copied into `folder` (served from there): the
    thumbnail shows the content beside its style images."""
    found = []
    for index, (content, styles) in enumerate(style_examples()):
        copies = [str(shutil.copy2(path, folder / path.name)) for path in (content, *styles)]
        pictures = []
        for path in copies:
            with Image.open(path) as image:
                pictures.append(image.convert("RGB").resize((96 * image.width // image.height, 96)))
        sheet = Image.new("RGB", (sum(p.width for p in pictures) + 4 * (len(pictures) - 1), 96), "white")
        left = 0
        for picture in pictures:
            sheet.paste(picture, (left, 0))
            left += picture.width + 4
        thumbnail = save_png(sheet, folder / f"example-{index}.png")
        found.append((str(thumbnail), copies[0], tuple(copies[1:])))
    return found


@dataclass
class StyleTab:
    inputs: dict[str, Any]  # by permalink key (gan.share.STYLE_FIELDS, plus content and styles)


def build_style_tab(studio: Studio, networks: VGG19WeightsCache, generated_grid: gr.Image, files: Path) -> StyleTab:
    """Inputs, every pass of the render, live preview, Stop, download; examples that ship offline (copied to
    `files`). `studio.linked` turning to "style" stylises at once (a permalink's result)."""
    defaults, control = StyleConfig(), gr.State(RunControl())
    size_value = defaults.size if torch.cuda.is_available() else min(defaults.size, APP.style_cpu_size)
    gr.Markdown("Render a picture in the style of one or more others (Gatys et al.'s Gram-matrix method on VGG19 "
                "features, coarse to fine). Stop keeps the newest image.")  # fmt: skip
    notice_update, button_update = availability(networks)
    unavailable = gr.Markdown(notice_update["value"], visible=notice_update["visible"], elem_id="style-unavailable")
    with gr.Row():
        with gr.Column():
            content = readable_image(gr.Image(label="Content image", type="filepath", format="png", height=300,
                                              elem_id="style-content"))  # fmt: skip
            use_grid = gr.Button("Use the Generate tab's grid as content", size="sm")
            styles = gr.File(label="Style images (one or more)", file_count="multiple", file_types=["image"],
                             height=160, elem_id="style-files")  # fmt: skip
            blend = gr.Textbox(
                "", label="Style blend weights, one per style image (empty = equal)", placeholder="e.g. 2, 1"
            )
        with gr.Column():
            output = gr.Image(label="Result", show_label=False, type="filepath", format="png", interactive=False,
                              height=400, elem_id="style-output")  # fmt: skip
            status = gr.Markdown(label="Status", elem_id="style-status")
            progress = gr.Markdown(elem_id="style-progress")  # progress shows here: never over the preview
            download = gr.File(label="Download PNG", interactive=False, height=80, elem_id="style-download")
            link = gr.Textbox(label="Link to this result", placeholder="Stylise, and a link to the result appears here",
                              buttons=["copy"], interactive=False, elem_id="style-link")  # fmt: skip
    with gr.Row():
        size = slider(APP.style_size_range, size_value, "Size (longer side, px)", "size", True, elem_id="style-size")
        steps = slider(
            APP.style_steps_range, defaults.steps, "Steps at full size", "steps", True, elem_id="style-steps"
        )
        levels = slider(APP.style_levels_range, defaults.levels, "Passes (coarse to fine)", "passes", True,
                        elem_id="style-levels")  # fmt: skip
        coarse_steps = slider(APP.style_coarse_steps_range, defaults.coarse_steps, "Steps per coarse pass (at most)",
                              "coarse steps", True, elem_id="style-coarse-steps")  # fmt: skip
    passes = gr.Markdown(passes_text(None, size_value, defaults.steps, defaults.levels, defaults.coarse_steps),
                         elem_id="style-passes")  # fmt: skip
    with gr.Row():
        content_weight = slider(
            APP.style_content_weight_range, defaults.content_weight, "Content weight", "content weight"
        )
        style_weight = slider(APP.style_weight_range, defaults.style_weight, "Style weight", "style weight")
        tv_weight = slider(APP.style_tv_weight_range, defaults.tv_weight, "Smoothness (TV)", "smoothness")
        preserve = gr.Radio(list(PRESERVE_COLORS), value=defaults.preserve_colors, label="Preserve content colours")
    with gr.Accordion("More settings", open=False), gr.Row():
        style_scale = slider(APP.style_scale_range, defaults.style_scale, "Style scale", "style scale")
        init = gr.Radio(["content", "noise"], value=defaults.init, label="Start from")
        seed = checked_number(gr.Number(defaults.seed, label="Seed", precision=0, minimum=0, maximum=MAX_SEED), "seed")
    with gr.Row():
        stylize_button = gr.Button("Stylise", variant="primary", interactive=button_update["interactive"],
                                   elem_id="style-run")  # fmt: skip
        stop_button = gr.Button("Stop (keep the newest image)", variant="stop", elem_id="style-stop")
    examples = example_thumbnails(files)
    picker = gr.Gallery([(thumb, _caption(c, s)) for thumb, c, s in examples], label="Examples: click one to use it",
                        columns=6, allow_preview=False, object_fit="contain", interactive=False, buttons=[],
                        elem_id="style-examples")  # fmt: skip

    @user_errors
    @releasing_memory
    def on_stylize(content: str | None, styles: list[str] | None, blend: str, size: int, steps: int,
                   content_weight: float, style_weight: float, tv_weight: float, preserve_colors: str,
                   style_scale: float, levels: int, coarse_steps: int, init: str, seed: int, control: RunControl,
                   progress=gr.Progress()) -> Iterator[tuple[str | None, str, str | None]]:  # fmt: skip
        """Render the content image in the style of the style images (blend: one weight each, e.g. "2, 1"); streams
        (preview, status, PNG); the last is the finished image, its settings in its PNG text."""
        content_image, style_images, style_paths, notes = load_inputs(content, styles)
        config = StyleConfig(size=size, steps=steps, levels=levels, coarse_steps=coarse_steps,
                             content_weight=float(content_weight), style_weight=float(style_weight),
                             tv_weight=float(tv_weight), preserve_colors=preserve_colors,
                             style_scale=float(style_scale), init=init, seed=seed,
                             style_blend=parse_blend_weights(blend, len(style_images)))  # fmt: skip
        progress(0, desc="loading the feature network")
        weights = networks.get()
        out, stem = fresh_output_dir(), style_stem(content or "content", config)
        yield None, status_text(notes, "starting…"), None
        control.stop, control.running, previews = False, True, []
        try:
            final = yield from stream_previews(content_image, style_images, weights, config, control, out / stem,
                                               previews, notes, progress)  # fmt: skip
        finally:
            control.running = False
        assert final.result is not None
        metadata = style_metadata(content or "content", style_paths, config, final.step, weights.source)
        path = save_png(to_pil(final.result[None])[0], out / f"{stem}.png", metadata)
        done = (
            f"done: {final.step} steps in {final.elapsed_s:.0f} s, loss {final.losses.get('total', float('nan')):.4g}"
        )
        yield str(path), status_text(notes + final.notes, done), str(path)
        for preview in previews:  # the page shows the finished image now
            preview.unlink(missing_ok=True)

    def stream_previews(content_image, style_images, weights, config, control, stem: Path, previews: list[Path],
                        notes, progress):  # fmt: skip
        """Yield each preview as it comes (a PNG beside `stem`, listed in `previews`); returns the final event.
        Previews are served in place: one is removed only once two newer ones have replaced it, so the browser
        has fetched it by then."""
        if ZERO_GPU:
            events = render_style(content_image, style_images, weights, config, control)
        else:  # share the machine: a low-priority thread that lets generate requests go first between steps
            events = iterate_in_background(lambda: studio.priority.paced(
                render_style(content_image, style_images, weights, config, control)), name="style")  # fmt: skip
        with contextlib.closing(events):  # leaving early (an error, a closed tab) stops the loop's thread now
            for event in events:
                progress(
                    (event.position, event.planned_steps), desc=f"{event.size[1]}×{event.size[0]} px", unit="steps"
                )
                if event.result is not None:
                    return event
                if event.preview is not None:
                    previews.append(save_png(to_pil(event.preview[None])[0], Path(f"{stem}_step{event.step:05d}.png")))
                    if len(previews) > 2:
                        previews.pop(0).unlink(missing_ok=True)
                    line = f"step {event.position}/{event.planned_steps} at {event.size[1]}×{event.size[0]} px"
                    shown = str(previews[-1])  # also the download: a cancelled render leaves its newest preview
                    yield shown, status_text(notes, f"{line}, loss {event.losses['total']:.4g}"), shown
        raise GanError("the render ended without an image")

    def on_stop(control: RunControl) -> tuple[str, Any]:
        """Stop the running render: it ends with the newest image, saved with its settings."""
        if not control.running:
            return "There is no render to stop.", gr.skip()
        control.stop = True
        return "Stopping: the newest image will be kept…", gr.update(interactive=networks.problem() is None)

    def on_linked_stylize(run: str | None, *values: Any, progress=gr.Progress()) -> Iterator[tuple]:
        if run != "style":
            yield gr.skip(), gr.skip(), gr.skip()
            return
        yield from on_stylize(*values, progress=progress)

    def use_generated(grid: str | None) -> str:
        if not grid:
            raise gr.Error("generate images in the Generate tab first", print_exception=False)
        return grid

    def pick_example(evt: gr.SelectData) -> tuple[str, list[str], str]:
        _thumbnail, content_path, style_paths = examples[evt.index]
        return content_path, list(style_paths), ""

    inputs = {"content": content, "styles": styles, "blend": blend, "size": size, "steps": steps,
              "content_weight": content_weight, "style_weight": style_weight, "tv_weight": tv_weight,
              "preserve_colors": preserve, "style_scale": style_scale, "levels": levels, "coarse_steps": coarse_steps,
              "init": init, "style_seed": seed}  # fmt: skip  # in on_stylize's order
    run_inputs, outputs = [*inputs.values(), control], [output, status, download]
    lane = {"concurrency_id": "style", "show_progress_on": [progress]}  # the preview stays visible, progress beside
    busy = {"fn": lambda: gr.update(interactive=False), "outputs": stylize_button, "queue": False,
            "api_visibility": "private"}  # fmt: skip
    idle = {"fn": lambda: availability(networks), "outputs": [unavailable, stylize_button], "queue": False,
            "api_visibility": "private"}  # fmt: skip
    style_event = stylize_button.click(**busy).then(
        on_stylize, run_inputs, outputs, api_name="stylize", concurrency_limit=1,
        validator=studio.lines.validator("style", "style renders", len(run_inputs)), **lane)  # fmt: skip
    linked_event = studio.linked.change(**busy).then(
        on_linked_stylize, [studio.linked, *run_inputs], outputs, api_visibility="private", **lane)  # fmt: skip
    for event in (style_event, linked_event):
        event.then(**idle)
        event.success(style_link, [download, content, styles], link, queue=False, api_visibility="private")
    stylize_button.click(None, None, link, js="() => ''")  # a new run: the old link no longer applies
    stop_button.click(on_stop, control, [status, stylize_button], api_name="stop_stylize", queue=False,
                      cancels=[style_event, linked_event] if ZERO_GPU else None)  # fmt: skip
    use_grid.click(use_generated, generated_grid, content, api_visibility="private")
    picker.select(pick_example, None, [content, styles, blend], queue=False, api_visibility="private")
    gr.on([content.change, size.change, steps.change, levels.change, coarse_steps.change], passes_text,
          [content, size, steps, levels, coarse_steps], passes, queue=False, api_visibility="private")  # fmt: skip
    studio.demo.load(**idle)
    return StyleTab(inputs)


def load_inputs(content: str | None, styles: list[str] | str | None) -> tuple[Any, list[Any], list[str], list[str]]:
    """(content, style images, style paths, notes) decoded from the uploads, or a GanError saying what is wrong."""
    if not content:
        raise GanError("upload a content image, or pick an example")
    if isinstance(content, UnreadableUpload):
        raise GanError(content)
    paths = [styles] if isinstance(styles, str) else list(styles or [])
    if not paths:
        raise GanError("upload at least one style image, or pick an example")
    if len(paths) > APP.style_max_styles:
        raise GanError(f"at most {APP.style_max_styles} style images, got {len(paths)}")
    picture, notes = load_picture(content, "content image")
    pictures = []
    for index, path in enumerate(paths, 1):
        style, style_notes = load_picture(path, f"style image {index} ({Path(path).name})")
        pictures.append(style)
        notes += style_notes
    return picture, pictures, paths, notes


def status_text(notes: list[str], line: str) -> str:
    return "  \n".join([*(f"⚠️ {note}" for note in notes), line])


def _caption(content: str, styles: tuple[str, ...]) -> str:
    def name(path: str) -> str:
        return short_name(Path(path).stem.split("-", 1)[-1])

    return f"{name(content)} × {' + '.join(name(style) for style in styles)}"
