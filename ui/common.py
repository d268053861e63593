"""What the tabs share: the visitor's session, error translation, waiting lines, result folders, checked inputs."""

from __future__ import annotations

import contextlib
import functools
import inspect
import logging
import math
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr
import spaces
import torch

from gan.config import APP
from gan.errors import GanError
from gan.jobs import short_name
from gan.serving import ExpiringFolders, InteractivePriority, StopFlag, release_memory
from gan.zoo import ModelCache, embedded_models, resolve_model
from ui.gradio_internals import after_preprocess, queued_events

ZERO_GPU = spaces.config.Config.zero_gpu  # on ZeroGPU every GPU call runs in a worker and must be queued
OUTPUT_FOLDERS = ExpiringFolders(Path(tempfile.gettempdir()) / "gan-studio-outputs", APP.output_max_age_s)
RUN_FOLDERS = ExpiringFolders(Path(tempfile.gettempdir()) / "gan-studio-runs", APP.run_max_age_s, APP.runs_max_bytes)
log = logging.getLogger("gan_studio")


@dataclass
class Session:
    """One visitor's own things, kept in a gr.State: never shared, forgotten when the session ends."""

    models: dict[str, str] = field(default_factory=dict)  # name -> checkpoint folder: Hub pulls and fine-tunes
    last_run: str | None = None  # the latest fine-tuned run's folder ("Resume my last run")
    recent: str | None = None  # the model this visitor added last: what Push offers first

    def folder(self, name: str) -> Path:
        """This visitor's models first (Hub pulls, fine-tunes), then the embedded ones."""
        if name in self.models:
            return Path(self.models[name])
        if name not in embedded_models():
            raise GanError(f"unknown model {name!r}: pick one from the list")
        return resolve_model(name)

    def add(self, name: str, folder: str | Path) -> None:
        self.models[name] = str(folder)
        self.recent = name

    def choices(self) -> list[tuple[str, str]]:
        """(label, name) for a model list: the embedded models, then this visitor's own."""
        return [(short_name(name), name) for name in [*embedded_models(), *self.models]]


@dataclass
class RunControl:
    """A visitor's long job (training, a style render): Stop sets `stop`, the running loop reads it. A job that may
    run in another process (a ZeroGPU worker gets a pickled copy of this) is given a `flag` for the run: a file
    that every process sees."""

    running: bool = False
    stop: bool = False
    cancelled: bool = False  # nothing of the job is kept
    flag: StopFlag | None = None

    def request_stop(self) -> None:
        self.stop = True
        if self.flag is not None:
            self.flag.request()

    def stop_requested(self) -> bool:
        return self.stop or (self.flag is not None and self.flag.requested())


@dataclass
class Studio:
    """What every tab is built with: objects shared by all visitors, and the page's per-visitor states."""

    demo: gr.Blocks
    cache: ModelCache
    priority: InteractivePriority  # long loops pause between steps while a generate request runs
    lines: WaitingLines
    session: gr.State  # a Session
    linked: gr.State  # what a permalink asks to run once the page has opened: "generate", "style" or None
    train_call_s: float | None = None  # a fine-tune runs as a chain of calls of at most this long; None: one call


def forget_session(session: Session, cache: ModelCache) -> None:
    """A visitor's session has ended: drop their models from the shared cache and delete the runs they
    fine-tuned (only folders under RUN_FOLDERS: pulled Hub models live in a shared cache of their own)."""
    runs_root = RUN_FOLDERS.root.resolve()
    for folder in session.models.values():
        cache.forget(folder)
        run_dir = Path(folder).resolve().parent  # runs are saved as fresh_run_dir()/name
        if run_dir.parent == runs_root:
            shutil.rmtree(run_dir, ignore_errors=True)


def visitor_token(token_text: str | None, oauth_token: gr.OAuthToken | None) -> str | None:
    """The logged-in visitor's OAuth token, else the one they pasted. Used for one call, never stored."""
    if oauth_token is not None and oauth_token.token:
        return oauth_token.token
    return (token_text or "").strip() or None


def fresh_output_dir() -> Path:
    """A folder for one request's files (removed after APP.output_max_age_s)."""
    return OUTPUT_FOLDERS.fresh()


def fresh_run_dir() -> Path:
    """A folder for one fine-tuning run (kept APP.run_max_age_s, within APP.runs_max_bytes for all runs)."""
    return RUN_FOLDERS.fresh()


# -- how big models are shown ------------------------------------------------------------------------


def display_size(resolution: int) -> int:
    """The side the app generates a model's images at: 0 (native) up to APP.display_max_side, else that side
    (area-downsampled as each batch comes out: a 1024 px FastGAN grid never holds its full-size images)."""
    return APP.display_max_side if resolution > APP.display_max_side else 0


def display_note(resolution: int) -> list[str]:
    """A line saying a model is shown smaller than it is made ([] for most)."""
    if not (side := display_size(resolution)):
        return []
    return [f"shown at {side}x{side} px here (area-averaged from its native {resolution}x{resolution} px); "
            "the CLI and Python API also generate at full size"]  # fmt: skip


# -- errors: a visitor's mistake is their message and one log line; a bug keeps its traceback ----------

OUT_OF_MEMORY = (
    "the machine ran out of memory for this request: try fewer images, a smaller size or a smaller batch "
    "(other visitors' work is unaffected)"
)


def visitor_error(message: str, where: str) -> gr.Error:
    """An expected error (bad input, a Hub refusal, no memory): shown to this visitor, logged as one line."""
    log.warning("visitor error in %s: %s", where, message.replace("\n", " | "))
    return gr.Error(message, print_exception=False)


@contextlib.contextmanager
def _as_visitor_messages(where: str) -> Iterator[None]:
    try:
        yield
    except GanError as error:
        raise visitor_error(str(error), where) from error
    except (torch.OutOfMemoryError, MemoryError) as error:
        release_memory()
        raise visitor_error(OUT_OF_MEMORY, where) from error


def user_errors(handler: Callable[..., Any]) -> Callable[..., Any]:
    """The package's typed errors, and running out of memory, become a message for this visitor only (plain
    and generator handlers); anything else is a bug and reaches Gradio, which logs its traceback."""
    where = handler.__name__
    if inspect.isgeneratorfunction(handler):

        @functools.wraps(handler)
        def streaming(*args: Any, **kwargs: Any) -> Iterator[Any]:
            with _as_visitor_messages(where):
                _refuse_refused(args, kwargs)
                yield from handler(*args, **kwargs)

        return streaming

    @functools.wraps(handler)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        with _as_visitor_messages(where):
            _refuse_refused(args, kwargs)
            return handler(*args, **kwargs)

    return wrapped


def _refuse_refused(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """A refused input (a NaN seed, an undecodable image) ends the request with its message, before any work."""
    for value in (*args, *kwargs.values()):
        if isinstance(value, RefusedInput):
            raise GanError(str(value))


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


# -- queue lines -------------------------------------------------------------------------------------


class WaitingLines:
    """Bounds how many long jobs of each kind wait in Gradio's queue, so fine-tuning runs cannot fill the
    whole queue and lock quick requests out (Gradio bounds only the total, `max_size`). A refused visitor
    gets the reason as a validation message, before anything is queued."""

    def __init__(self, demo: gr.Blocks, limits: dict[str, int]) -> None:
        self.demo = demo
        self.limits = limits  # read at each check: APP.line_max_waiting

    def validator(self, concurrency_id: str, what: str, input_count: int) -> Callable[..., list[Any]]:
        """A Gradio `validator=` that refuses a new `concurrency_id` job while its line is full, and any refused input
        (a RefusedInput) with its message."""

        def check(*values: Any) -> list[Any]:
            waiting = queued_events(self.demo, concurrency_id)
            verdicts = [gr.validate(False, str(value)) if isinstance(value, RefusedInput) else gr.validate(True, "")
                        for value in values]  # fmt: skip
            verdicts += [gr.validate(True, "")] * (input_count - len(verdicts))
            if not all(verdict["is_valid"] for verdict in verdicts):
                log.warning("visitor refused: %s", " | ".join(v["message"] for v in verdicts if not v["is_valid"]))
            elif waiting >= self.limits[concurrency_id]:
                message = f"the line for {what} is full ({waiting} waiting): please try again in a few minutes"
                log.warning("visitor refused: %s", message)
                verdicts[0] = gr.validate(False, message)
            return verdicts

        return check


# -- inputs checked where they arrive -----------------------------------------------------------------


def checked_number(component: Any, name: str) -> Any:
    """A gr.Number or gr.Slider whose NaN, infinite, out-of-range or (for precision 0) fractional values are refused
    with a message naming the field, before Gradio's own check, which names no field (and answers NaN with a bare
    "Error"). The handler receives a RefusedInput, which `user_errors` raises and a line's validator reports."""

    def convert(value: Any, preprocess: Callable[[Any], Any]) -> Any:
        problem = number_problem(value, name, component.minimum, component.maximum, component.precision == 0)
        return RefusedInput(problem) if problem else preprocess(value)

    return after_preprocess(component, convert)


def number_problem(value: Any, name: str, low: float | None, high: float | None, whole: bool) -> str | None:
    """Why `value` is no answer for the number field `name`, in plain words; None when it is one."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return f"{name} must be a number, got {value!r}"
    if not math.isfinite(number):
        return f"{name} must be a finite number, got {value!r}"
    if whole and number != int(number):
        return f"{name} must be a whole number, got {number:g}"
    if (low is not None and number < low) or (high is not None and number > high):
        return f"{name} must be from {_shown(low)} to {_shown(high)}, got {_shown(number)}"
    return None


def _shown(number: float | None) -> str:
    """4294967295 as itself, 0.5 as 0.5: not 4.29497e+09."""
    if number is None:
        return "any"
    return str(int(number)) if float(number).is_integer() else f"{number:g}"


class RefusedInput(str):
    """What a refused input value becomes: its message, for the handler to raise (`user_errors` does) and for a
    line's validator to report. (Raising in preprocess itself would also fire in the queue's validator, where Gradio
    answers a bare 400.)"""


class UnreadableUpload(RefusedInput):
    """What an input image that cannot be decoded becomes."""


def readable_image(image: gr.Image) -> gr.Image:
    """An input gr.Image that answers an undecodable upload with a clear message, not Gradio's generic error:
    the handler receives an UnreadableUpload and raises it."""

    def convert(payload: Any, preprocess: Callable[[Any], Any]) -> Any:
        try:
            return preprocess(payload)
        except (OSError, ValueError, SyntaxError):  # PIL's UnidentifiedImageError is an OSError
            name = getattr(payload, "orig_name", None) or "the upload"
            return UnreadableUpload(f"{image.label or 'image'} ({name}): not an image this app can read")

    return after_preprocess(image, convert)


def slider(
    span: tuple[float, float, float], value: float, label: str, name: str, integer: bool = False, **kwargs: Any
) -> gr.Slider:
    """A gr.Slider over one of APP's (low, high, step) ranges, its inputs checked; `integer`: counts (an int in
    the API, fractions refused)."""
    low, high, step = span
    widget = gr.Slider(low, high, value, step=step, label=label, precision=0 if integer else None, **kwargs)
    return checked_number(widget, name)
