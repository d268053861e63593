"""A Fine-tune run as it happens: the uploads decoded as they stream, then training in one call or (on ZeroGPU) a
chain of bounded calls, and the live updates both give. The tab (ui/finetune.py) lays out the widgets."""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import gradio as gr
import spaces
import torch

from gan.config import APP
from gan.data import DatasetReport, load_images
from gan.device import pick_device
from gan.errors import GanError
from gan.images import to_pil, upscale
from gan.jobs import TrainingStart, fit_channels, measure_step_seconds
from gan.serving import InteractivePriority, iterate_in_background
from gan.train import RunState, TrainConfig, TrainEvent, train, train_in_calls
from ui.common import ZERO_GPU, RunControl

MIN_TRAIN_S = 1.0  # what must be left of the time budget once the uploads are read, or the run is refused
# ZeroGPU grants a GPU call a few minutes: there a run is a chain of calls of at most this long. Elsewhere one call.
DEFAULT_CALL_S = APP.train_max_call_s if ZERO_GPU else None


def training_gpu_seconds(data: torch.Tensor, start: TrainingStart, config: TrainConfig, *args: Any) -> int:
    """ZeroGPU duration of one call: its share of the time budget plus room for start-up and saving."""
    return int(config.time_budget_s) + 60


@spaces.GPU(duration=training_gpu_seconds)
def run_training(
    data: torch.Tensor,
    start: TrainingStart,
    config: TrainConfig,
    control: RunControl,
    state: RunState | None,
    between_steps: Callable[[], object] | None = None,
) -> Iterator[TrainEvent]:
    """One call of the training loop, from `state` (None: from `start`). On ZeroGPU it runs in a forked worker that
    gets a pickled copy of `control`: the visitor's Stop reaches it through the file of `control.flag`."""

    def should_stop() -> bool:
        if between_steps is not None:
            between_steps()  # e.g. wait while a visitor's generate request runs
        return control.stop_requested()

    yield from train(data, start.model_config, config, None, should_stop, start.architecture, start.init, state)


@functools.lru_cache(maxsize=32)  # the worker's own cache dies with it: one GPU call per shape
@spaces.GPU(duration=60)
def _step_seconds_in_a_gpu_call(architecture: str, model_config: Any, batch_size: int) -> float:
    return measure_step_seconds(architecture, model_config, batch_size, pick_device(None))


def step_seconds(architecture: str, model_config: Any, batch_size: int, device: torch.device) -> float:
    """gan.jobs.measure_step_seconds (remembered per shape), which the Fine-tune tab's budget sentence needs. On
    ZeroGPU the GPU exists only inside a GPU call, so the timing runs in one."""
    if ZERO_GPU:
        return _step_seconds_in_a_gpu_call(architecture, model_config, batch_size)
    return measure_step_seconds(architecture, model_config, batch_size, device)


def training_events(
    data: torch.Tensor,
    start: TrainingStart,
    config: TrainConfig,
    control: RunControl,
    priority: InteractivePriority,
    call_s: float | None,
) -> Iterator[TrainEvent]:
    """One run's events. `call_s`: None trains in one call; a number chains calls of at most that long, each
    resuming the last one's state (gan.train.train_in_calls). Off ZeroGPU training shares this machine with
    everyone's requests: it runs in a low-priority thread and pauses between steps while a generate request runs."""
    between = None if ZERO_GPU else priority.yield_to_interactive

    def one_call(share: TrainConfig, state: RunState | None) -> Iterator[TrainEvent]:
        return run_training(data, start, share, control, state, between)

    def events() -> Iterator[TrainEvent]:
        if call_s is None:
            return one_call(config, start.resume)
        return train_in_calls(one_call, config, start.resume, call_s)

    return events() if ZERO_GPU else iterate_in_background(events, name="fine-tune")


@dataclass
class Uploads:
    """The decoded training set, its report, and the seconds decoding took (out of the run's time budget)."""

    data: torch.Tensor  # (N, C, R, R) in [-1, 1]
    report: DatasetReport
    seconds: float
    lines: list[str]  # the load report, and one line for any change of colour (gan.jobs.fit_channels)


def read_uploads(
    files: Sequence[str],
    start: TrainingStart,
    budget_s: float,
    control: RunControl,
    show: Callable[[str], Any],
    progress: Any = None,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[Any]:
    """Decode the uploads as they stream (gan.data.load_images), yielding `show(status line)` at least every
    APP.train_update_every_s / 2; returns Uploads. Decoding counts in the run's time budget: past `budget_s` it
    stops with a GanError. Closing this generator (Cancel, a closed tab) stops decoding after the current file."""
    shape = start.model_config
    # decoded as RGB, then given the start's channels the way the CLI gives them (gan.jobs.fit_channels)
    events = iterate_in_background(lambda: load_images(files, shape.resolution, 3), name="uploads")
    started, shown = clock(), -float("inf")
    with contextlib.closing(events):
        for event in events:
            elapsed = clock() - started
            if event.data is not None and event.report is not None:
                if budget_s - elapsed < MIN_TRAIN_S:
                    raise GanError(_out_of_time(budget_s, elapsed, event.done, event.total))
                data, said = fit_channels(event.data, shape.channels)
                return Uploads(data, event.report, elapsed, [event.report.summary(), *said])
            if elapsed >= budget_s:
                raise GanError(_out_of_time(budget_s, elapsed, event.done, event.total))
            if control.stop_requested():
                raise GanError("stopped while reading the uploads: nothing was trained")
            if progress is not None:
                progress((event.done, event.total), desc="reading the uploads", unit="files")
            if elapsed - shown >= APP.train_update_every_s / 2:  # each yield also lets Cancel end the job here
                shown = elapsed
                yield show(f"Reading the uploads: {event.done:,} of {event.total:,} files ({elapsed:.0f} s)...")
    raise GanError("reading the uploads ended without a result")


def _out_of_time(budget_s: float, elapsed: float, done: int, total: int) -> str:
    return (f"reading the uploads took the whole time budget ({budget_s:.0f} s): {elapsed:.0f} s for {done:,} of "
            f"{total:,} files, so nothing was trained. Upload fewer or smaller images, or give the run more "
            "time")  # fmt: skip


def health_markdown(event: TrainEvent) -> str:
    """The run's health in plain words, with the numbers folded below."""
    h = event.health
    words = []
    if h.nan_recoveries:
        words.append(f"a step blew up {h.nan_recoveries} time(s): went back and halved the learning rates")
    if h.d_winning:
        words.append("the discriminator is winning: easing off")
    if h.collapse_risk:
        words.append("samples are getting less varied")
    line = "; ".join(words) or "training looks healthy"
    numbers = (f"step {event.step}, {event.elapsed_s:.0f} s · r_t {h.r_t:+.2f} · augmentation {h.augment_strength:.2f}"
               f" · preview diversity {h.diversity:.3f} · D steps skipped {h.d_steps_skipped}")  # fmt: skip
    return f"**{line[0].upper()}{line[1:]}**\n\n<details><summary>Numbers</summary>\n\n{numbers}\n\n</details>"


def preview_image(preview: torch.Tensor) -> Any:
    """A (C, H, W) preview grid, upscaled with nearest neighbour so its 32 px samples can be judged."""
    return upscale(to_pil(preview[None])[0], 2 * APP.preview_min_side)


@dataclass
class LivePlots:
    """The last APP.plot_max_rows points of the loss and D-output curves."""

    losses: list[dict[str, Any]] = field(default_factory=list)
    outputs: list[dict[str, Any]] = field(default_factory=list)

    def add(self, event: TrainEvent) -> None:
        self.losses += [{"step": event.step, "value": v, "series": f"loss {k}"} for k, v in event.losses.items()]
        self.outputs += [{"step": event.step, "value": event.d_real, "series": "D(real)"},
                         {"step": event.step, "value": event.d_fake, "series": "D(fake)"}]  # fmt: skip

    def frames(self) -> tuple[Any, Any]:
        import pandas as pd

        return pd.DataFrame(self.losses[-APP.plot_max_rows :]), pd.DataFrame(self.outputs[-APP.plot_max_rows :])


def stream_events(
    events: Iterator[TrainEvent], budget_s: float, progress: Any
) -> Iterator[tuple[Any, ...] | TrainEvent]:
    """Widget updates (preview, health, notes, two plots) from a running loop, about once a second (each costs CPU
    to send) and at every preview; the final event last, as it is."""
    plots, pending, last_update = LivePlots(), [], 0.0
    for event in events:
        plots.add(event)
        if event.result is not None:
            yield event
            return
        pending += event.notes
        if event.preview is None and not pending and event.elapsed_s - last_update < APP.train_update_every_s:
            continue
        last_update = event.elapsed_s
        progress(min(event.elapsed_s / budget_s, 1.0), desc=f"step {event.step}")
        image = preview_image(event.preview) if event.preview is not None else gr.skip()
        notes, pending = "  \n".join(pending), []
        yield (image, health_markdown(event), notes or gr.skip(), *plots.frames())
