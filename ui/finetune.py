"""The Fine-tune tab: upload pictures, pick a start, train with a live preview; the result joins the visitor's
models."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import gradio as gr
import torch

from gan.config import APP
from gan.data import ARCHIVE_SUFFIXES, IMAGE_SUFFIXES, UploadLimits, load_image_folder
from gan.errors import GanError
from gan.jobs import (
    AUTO,
    StartChoice,
    TrainingStart,
    choose_start,
    describe_start,
    fine_tune_refusal,
    plan_training,
    save_trained,
)
from gan.losses import LOSSES
from gan.models import get_architecture
from gan.quality import report_markdown
from gan.serving import StopFlag
from gan.train import FEW_SHOT_MAX_IMAGES, TrainConfig, TrainEvent, auto_learning_rates
from ui.common import RunControl, Session, Studio, checked_number, fresh_run_dir, releasing_memory, slider, user_errors
from ui.training import health_markdown, preview_image, read_uploads, step_seconds, stream_events, training_events

FROM_SCRATCH = {  # "Start from" choices that build a new pair instead of loading one: label -> architecture
    "DCGAN from scratch": "dcgan",
    "FastGAN from scratch (few-shot, 64 px and up)": "fastgan",
}
COLOURS = {"colour": 3, "greyscale": 1}
AUTO_LABEL = "Auto: a model that fits your pictures and the time budget"
AUTO_NOTE = "Colour pictures fine-tune the colour default, greyscale ones mnist-dcgan (early D layers frozen: FreezeD)."


def upload_summary(files: list[str] | None) -> tuple[dict[str, Any], str]:
    """The uploaded pictures as a thumbnail strip, and a count (archives are opened when training starts)."""
    paths = [Path(path) for path in files or []]
    images = [str(path) for path in paths if path.suffix.lower() in IMAGE_SUFFIXES]
    archives = sum(path.name.lower().endswith(ARCHIVE_SUFFIXES) for path in paths)
    parts = [f"**{len(images)} image{'s' * (len(images) != 1)}**"] if images or not archives else []
    parts += [f"**{archives} archive{'s' * (archives != 1)}**"] if archives else []
    other = len(paths) - len(images) - archives
    parts += [f"{other} other file{'s' * (other != 1)} (checked when training starts)"] if other else []
    return gr.update(value=images, visible=bool(images)), ("Uploaded: " + " · ".join(parts)) if paths else ""


def build_finetune_tab(studio: Studio, generate_model: gr.Dropdown) -> gr.Dropdown:
    """Upload images, pick a start, train with live previews; the result joins this visitor's models. Returns
    "Start from", to which the Hub tab adds this visitor's pulls."""
    defaults, control = TrainConfig(), gr.State(RunControl())  # per visitor: Stop sets it, the loop reads it
    rates, few_shot_rates = auto_learning_rates(FEW_SHOT_MAX_IMAGES + 1, 0.0), auto_learning_rates(1, 0.0)
    gr.Markdown("Train a GAN on your own images (at least 8; 100+ is better). Start from scratch or fine-tune a "
                "model; the result appears in the Generate tab's model list and can be downloaded.")  # fmt: skip
    with gr.Row():
        with gr.Column():
            uploads = gr.File(label="Training images: image files or a zip/tar archive", file_count="multiple",
                              height=140, elem_id="train-uploads")  # fmt: skip  # gan.data says what it skips, and why
            upload_count = gr.Markdown(elem_id="train-count")
            strip = gr.Gallery(show_label=False, columns=12, rows=1, height=72, allow_preview=False, object_fit="cover",
                               interactive=False, buttons=[], visible=False, elem_id="train-strip")  # fmt: skip
            start = gr.Dropdown(start_choices(studio.session.value), value=AUTO,
                                label="Start from", allow_custom_value=True, elem_id="train-start")  # fmt: skip
            with gr.Row():
                first_arch = get_architecture(FROM_SCRATCH[next(iter(FROM_SCRATCH))]).config_class
                resolution = gr.Dropdown(list(first_arch.RESOLUTIONS), value=APP.train_resolution, interactive=False,
                                         label="Resolution", elem_id="train-resolution")  # fmt: skip  # auto: chosen
                colour = gr.Radio(
                    list(COLOURS), value="colour", label="Images", interactive=False, elem_id="train-colour"
                )
            start_note = gr.Markdown(AUTO_NOTE, elem_id="train-start-note")
            with gr.Row(equal_height=True):
                minutes = slider(APP.train_minutes_range, APP.train_minutes, "Time budget (minutes)", "time budget",
                                 scale=2)  # fmt: skip
                resume = gr.Checkbox(False, label="Resume my last run (same images)")
            with gr.Accordion("Advanced settings", open=False):
                steps = checked_number(gr.Number(APP.train_steps, precision=0, minimum=1, label="Step budget for "
                                                 "this run"), "step budget")  # fmt: skip
                batch_size = slider(APP.train_batch_range, APP.train_batch, "Batch size", "batch size", integer=True)
                lr_g = checked_number(gr.Number(defaults.lr_g, minimum=0, label=f"Generator learning rate (0 = auto: "
                                                f"{rates[0]:g}, or {few_shot_rates[0]:g} on up to "
                                                f"{FEW_SHOT_MAX_IMAGES:,} images without jitter)"),
                                      "generator learning rate")  # fmt: skip
                lr_d = checked_number(gr.Number(defaults.lr_d, minimum=0, label="Discriminator learning rate (0 = "
                                                "auto: twice the generator's)"),
                                      "discriminator learning rate")  # fmt: skip
                loss = gr.Radio(list(LOSSES), value=defaults.loss, label="Loss")
                augment = gr.Textbox(defaults.augment, label="DiffAugment: auto, none (empty), or "
                                     "color,translation,cutout")  # fmt: skip
                jitter = slider(APP.train_jitter_range, defaults.jitter, "Real-image jitter: mild rotation, scale, "
                                f"shift, warp (-1 = auto: on for up to {FEW_SHOT_MAX_IMAGES:,} greyscale images)",
                                "jitter")  # fmt: skip
                seed = checked_number(gr.Number(defaults.seed, precision=0, minimum=0, label="Seed"), "seed")
            budget_note = gr.Markdown(elem_id="train-budget")  # what the budget buys here, before Train
            with gr.Row():
                train_button = gr.Button("Train", variant="primary", elem_id="train-run")
                stop_button = gr.Button("Stop (keep weights)", elem_id="train-stop")
                cancel_button = gr.Button("Cancel", variant="stop", elem_id="train-cancel")
        with gr.Column():
            gr.Markdown("**Fixed-seed preview** (EMA generator)")
            preview = gr.Image(label="Preview", show_label=False, format="png", type="pil", interactive=False,
                               height=360, buttons=["download"], elem_id="train-preview")  # fmt: skip
            health = gr.Markdown(label="Health", elem_id="train-health")
            status = gr.Markdown(label="Status", elem_id="train-status")
            loss_plot = gr.LinePlot(x="step", y="value", color="series", label="Losses")
            d_plot = gr.LinePlot(x="step", y="value", color="series", label="Mean D logit: real vs generated")
            download = gr.File(label="Trained model (zip: safetensors, config, model card, samples, record)",
                               interactive=False, height=80, elem_id="train-download")  # fmt: skip

    def choose(files, start, resolution, colour, minutes, batch_size, steps, session: Session) -> StartChoice:
        """One call of gan.jobs.choose_start, as the CLI makes: where the run starts and what the budget buys."""
        # a few uploaded pictures (an archive only when there are none) tell grey from colour: the whole set is read,
        # streamed and timed, once Train starts
        probe = [f for f in files if Path(f).suffix.lower() in IMAGE_SUFFIXES][: APP.start_probe_files] or files[:1]
        pictures, _report = load_image_folder(probe, 32, 3, UploadLimits(min_images=1))
        named = AUTO if start == AUTO else FROM_SCRATCH.get(start) or session.folder(start)
        shape = {"resolution": int(resolution), "channels": COLOURS[colour]}
        return choose_start(pictures, None, float(minutes), named, int(batch_size), int(steps), shape,
                            step_seconds=step_seconds)  # fmt: skip

    def plan(files, start, resolution, colour, minutes, batch_size, steps, resume, session: Session) -> TrainingStart:
        if resume:
            if not session.last_run:
                raise GanError("there is no earlier run in this session to resume")
            return plan_training(resume=session.last_run)
        choice = choose(files, start, resolution, colour, minutes, batch_size, steps, session)
        shape = choice.model_config.to_dict()
        return plan_training(choice.architecture, shape, choice.start if choice.fine_tune else None)

    def on_budget(files, start, resolution, colour, minutes, batch_size, steps, session: Session) -> str:
        """The sentence shown before Train; nothing until there are pictures (or when they cannot be read yet)."""
        try:
            return (
                choose(files, start, resolution, colour, minutes, batch_size, steps, session).sentence if files else ""
            )
        except GanError:
            return ""

    @user_errors
    @releasing_memory
    def on_train(files: list[str] | None, start: str, resolution: int, colour: str, minutes: float, steps: int,
                 batch_size: int, lr_g: float, lr_d: float, loss: str, augment: str, jitter: float, seed: int,
                 resume: bool, session: Session, control: RunControl,
                 progress=gr.Progress()) -> Iterator[tuple[Any, ...]]:  # fmt: skip
        """Train on the uploaded images (files or zip/tar archives) from scratch, from a model, or on from the last
        run; streams the preview, health and loss curves, and ends with the trained model and its zip."""
        if (
            not resume
            and start not in (AUTO, *FROM_SCRATCH)
            and (reason := fine_tune_refusal(start, session.folder(start)))
        ):
            raise GanError(reason)  # said first: no upload changes it
        if not files:
            raise GanError("upload some training images first (image files or a zip/tar archive)")
        begin = plan(files, start, resolution, colour, minutes, batch_size, steps, resume, session)
        config = TrainConfig(steps=(begin.resume.step if begin.resume else 0) + steps, time_budget_s=minutes * 60,
                             batch_size=batch_size, lr_g=float(lr_g), lr_d=float(lr_d), loss=loss,
                             augment=(augment or "").strip(), jitter=float(jitter), seed=seed,
                             preview_every_s=APP.train_preview_every_s)  # fmt: skip
        run_dir = fresh_run_dir()  # the run's Stop flag now, its saved model at the end
        control.stop, control.cancelled, control.running = False, False, True
        control.flag = StopFlag(run_dir / "stop")
        try:
            read = yield from read_uploads(files, begin, config.time_budget_s, control, status_only, progress)
            config = replace(config, time_budget_s=config.time_budget_s - read.seconds)  # reading counted in it
            shown = Path(begin.init.source).name if start == AUTO and begin.init is not None else start
            note = [describe_start(shown, begin.model_config)] if begin.init is not None else []
            said = "\n".join(read.lines).replace("\n", "  \n")
            shape = f"{begin.architecture} at {begin.model_config.resolution} px"
            intro = "  \n".join([*note, f"Training {shape} on {said}"])
            intro += f"  \nRead in {read.seconds:.1f} s, out of the time budget."
            yield gr.skip(), "starting...", intro, gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            events = training_events(read.data, begin, config, control, studio.priority, studio.train_call_s)
            with contextlib.closing(events):  # leaving early (an error, a closed tab) stops the loop now
                event = yield from live_updates(events, config.time_budget_s, progress)
        finally:
            control.running = False
            control.flag.clear()
        if control.cancelled:
            return
        progress(1.0, desc="measuring quality")
        yield finish(event, read.data, read.report.summary().splitlines()[0], run_dir, session)

    def live_updates(events: Iterator[TrainEvent], budget_s: float, progress: Any) -> Iterator[Any]:
        """The run's widget updates; returns its final event."""
        for update in stream_events(events, budget_s, progress):
            if isinstance(update, TrainEvent):
                return update
            yield (*update, gr.skip(), gr.skip(), gr.skip())
        raise GanError("training ended without a result")

    def finish(event: TrainEvent, data: torch.Tensor, data_label: str, run_dir: Path, session: Session) -> tuple:
        """Save the run as this visitor's newest model: its record, quality table and zip."""
        from gan.runs import zip_run

        assert event.result is not None and event.preview is not None
        name = f"my-{event.result.architecture}-{len(session.models) + 1}"
        folder = run_dir / name
        quality = save_trained(folder, event.result, event.preview, data, "GAN studio Fine-tune tab", data_label)
        session.add(name, folder)
        session.last_run = str(folder)
        done = "  \n".join([*event.notes, f"Saved as **{name}**: pick it in the Generate tab, or download it below."])
        return (preview_image(event.preview), health_markdown(event), done + "\n\n" + report_markdown(quality),
                gr.skip(), gr.skip(), str(zip_run(folder)), name, session)  # fmt: skip

    def on_start(start: str, resolution: int, session: Session) -> tuple[Any, Any, str]:
        """Only what applies to the chosen start is offered: a model fixes the image size and colour."""
        if start == AUTO:
            return gr.update(interactive=False), gr.update(interactive=False), AUTO_NOTE
        if start in FROM_SCRATCH:
            sizes = list(get_architecture(FROM_SCRATCH[start]).config_class.RESOLUTIONS)
            value = resolution if resolution in sizes else min(sizes, key=lambda size: abs(size - APP.train_resolution))
            return (gr.update(choices=sizes, value=value, interactive=True), gr.update(interactive=True),
                    scratch_note(start))  # fmt: skip
        if reason := fine_tune_refusal(start, session.folder(start)):
            return gr.skip(), gr.skip(), reason
        shape = studio.cache.get(session.folder(start)).config
        return (gr.update(choices=[shape.resolution], value=shape.resolution, interactive=False),
                gr.update(value="colour" if shape.channels == 3 else "greyscale", interactive=False),
                describe_start(start, shape))  # fmt: skip

    def on_stop(control: RunControl) -> str:
        """Stop the running fine-tune after its current step; it is saved as a model as usual."""
        if not control.running:
            return "There is no training run to stop."
        control.request_stop()  # reaches the run also where it trains in another process (ZeroGPU)
        return "Stopping after this step; the weights so far will be kept..."

    def on_cancel(control: RunControl) -> str:
        """Cancel the running fine-tune: nothing of it is kept."""
        if control.running:
            control.cancelled = True  # the run ends unsaved, however soon Gradio closes its handler
            control.request_stop()  # and a ZeroGPU worker ends its call rather than train on for nobody
        return "Cancelled: the run was stopped and nothing was saved." if control.running else (
            "There is no training run to cancel.")  # fmt: skip

    train_inputs = [uploads, start, resolution, colour, minutes, steps, batch_size, lr_g, lr_d, loss, augment, jitter,
                    seed, resume, studio.session, control]  # fmt: skip
    train_event = train_button.click(
        on_train, train_inputs, [preview, health, status, loss_plot, d_plot, download, generate_model, studio.session],
        api_name="train", concurrency_id="train", concurrency_limit=1,
        validator=studio.lines.validator("train", "fine-tuning runs", len(train_inputs)),
    )  # fmt: skip
    train_event.success(lambda session: (gr.update(choices=session.choices(), value=session.recent),
                                         gr.update(choices=start_choices(session))), studio.session,
                        [generate_model, start], queue=False, api_visibility="private")  # fmt: skip
    stop_button.click(on_stop, control, status, api_name="stop_training", queue=False)
    cancel_button.click(on_cancel, control, status, cancels=[train_event], api_name="cancel_training", queue=False)
    uploads.change(upload_summary, uploads, [strip, upload_count], queue=False, api_visibility="private")
    budget_inputs = [uploads, start, resolution, colour, minutes, batch_size, steps, studio.session]
    for widget in (uploads, start, resolution, colour, minutes, batch_size):
        widget.change(on_budget, budget_inputs, budget_note, api_visibility="private", concurrency_id="budget",
                      concurrency_limit=1)  # fmt: skip
    start.change(user_errors(on_start), [start, resolution, studio.session], [resolution, colour, start_note],
                 queue=False, api_visibility="private")  # fmt: skip
    return start


def status_only(text: str) -> tuple[Any, ...]:
    """The Fine-tune outputs with only the status line changed."""
    return gr.skip(), gr.skip(), text, gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()


def scratch_note(start: str) -> str:
    return f"A new {FROM_SCRATCH[start]} pair, trained at the resolution and colour chosen here."


def start_choices(session: Session) -> list[tuple[str, str]]:
    """ "Start from": auto, a new pair of each architecture, then the models this visitor may fine-tune."""
    return [(AUTO_LABEL, AUTO), *((label, label) for label in FROM_SCRATCH), *session.choices()]
