"""The jobs both faces perform, written once: the web app (ui/) and the command line (gan/cli.py) call these.

Naming result files, writing their settings into PNG text, saving a finished fine-tune with its quality
report, planning where a training run starts, the model the app shows first, and the sentences that report
a publication. A PNG written by either face carries the same JSON settings, so a link can be made from it
(gan.share) whichever wrote it.
"""

from __future__ import annotations

import json
import re
import sys
import time
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import torch

from gan.checkpoint import DISCRIMINATOR_DIR, WEIGHTS_NAME, Checkpoint, load_checkpoint, read_config
from gan.config import AUTO_FREEZE_D_LAYERS, AUTO_START, InterpolateConfig
from gan.device import pick_device
from gan.errors import CheckpointError, GanError
from gan.images import make_grid, save_gif, save_png, to_pil, upscale
from gan.models import get_architecture, trainable
from gan.quality import QualityReport
from gan.style import StyleConfig
from gan.train import RunState, TrainConfig, TrainResult
from gan.zoo import DEFAULT_MODEL, WEIGHTS_DIR, embedded_models

# -- result files: names and settings ---------------------------------------------------------------


def file_label(name: str) -> str:
    """A model name as a file-name part: Hub names look like owner/name@revision."""
    return name.replace("/", "--").replace("\\", "--")


def seed_text(seeds: Sequence[int]) -> str:
    """Seeds in the form gan.config.parse_seed_list reads: [0..15] -> "0-15", [3, 7, 8, 9] -> "3,7-9"."""
    parts: list[str] = []
    start = previous = None
    for seed in [*seeds, None]:
        if start is not None and seed is not None and previous is not None and seed == previous + 1:
            previous = seed
            continue
        if start is not None:
            parts.append(str(start) if start == previous else f"{start}-{previous}")
        start = previous = seed
    return ",".join(parts)


def sample_name(model: str, seed: int, truncation: float) -> str:
    """One sample's file name, the same from the app and the CLI: <model>_seed<seed>_psi<ψ>.png."""
    return f"{file_label(model)}_seed{seed}_psi{truncation:g}.png"


def save_samples(images: torch.Tensor, model: str, seeds: Sequence[int], truncation: float, out: Path) -> list[Path]:
    """One PNG per image (B, C, H, W), named and tagged with its model, seed and ψ."""
    return [
        save_png(image, out / sample_name(model, seed, truncation),
                 {"model": model, "seed": seed, "truncation": truncation})
        for seed, image in zip(seeds, to_pil(images), strict=True)
    ]  # fmt: skip


def save_grid(
    images: torch.Tensor, model: str, seeds: Sequence[int], truncation: float, out: Path, min_side: int = 0
) -> Path:
    """All images as one grid PNG, upscaled (nearest neighbour) to at least `min_side` px."""
    grid = upscale(to_pil(make_grid(images)[None])[0], min_side)
    name = f"{file_label(model)}_grid_seeds{seeds[0]}-{seeds[-1]}_psi{truncation:g}.png"
    return save_png(grid, out / name, {"model": model, "seeds": seed_text(seeds), "truncation": truncation})


def zip_files(paths: Iterable[Path], destination: Path, folder: Path | None = None) -> Path:
    """The files in one zip (PNGs are compressed already: stored, not deflated): side by side, or under
    `folder`'s name at their place in it."""
    with zipfile.ZipFile(destination, "w") as archive:
        for path in paths:
            archive.write(path, path.relative_to(folder.parent) if folder is not None else path.name)
    return destination


def samples_zip_name(model: str, seeds: Sequence[int], truncation: float) -> str:
    return f"{file_label(model)}_seeds{seeds[0]}-{seeds[-1]}_psi{truncation:g}.zip"


def save_walk(
    frames: torch.Tensor, model: str, config: InterpolateConfig, out: Path, min_side: int = 0, grid: bool = False
) -> list[Path]:
    """A latent walk's frames (N, C, H, W) as a looping GIF, and with `grid` a PNG of up to 16 evenly spaced frames."""
    settings = {"model": model, "seeds": seed_text(config.seeds), "method": config.method,
                "truncation": config.truncation}  # fmt: skip
    label = f"{file_label(model)}_walk_{config.method}_seeds{'-'.join(map(str, config.seeds))}"[:120]
    pictures = [upscale(frame, min_side) for frame in to_pil(frames)]
    paths = [save_gif(pictures, out / f"{label}.gif", config.frame_ms, comment=json.dumps(settings))]
    if grid:
        strip = frames[:: max(1, len(frames) // 16)][:16]  # (<=16, C, H, W)
        picture = upscale(to_pil(make_grid(strip, columns=8)[None])[0], 2 * min_side)
        paths.append(save_png(picture, out / f"{label}_grid.png", settings))
    return paths


def weights_label(source: str) -> str:
    """Where style weights came from, fit to publish: a Hub name as it is, a local file by its name only."""
    path = Path(source)
    return path.name if path.is_absolute() or path.exists() else source


def style_stem(content: str | Path, config: StyleConfig) -> str:
    """A style result's file name without suffix: <content>_styled_<size>px_seed<seed>."""
    return f"{Path(content).stem[:40]}_styled_{config.size}px_seed{config.seed}"


def style_metadata(
    content: str | Path, styles: Sequence[str | Path], config: StyleConfig, steps: int, weights_source: str
) -> dict[str, Any]:
    """A style result's settings, for its PNG: images by name, the whole config as JSON (gan.share links it)."""
    return {
        "content": Path(content).name,
        "styles": ", ".join(Path(style).name for style in styles),
        "blend": ", ".join(f"{w:g}" for w in config.style_blend) or "equal",
        "seed": config.seed,
        "steps": steps,
        "weights": weights_label(weights_source),
        "config": asdict(config),
    }


# -- models: what the app shows first, and how a model is described --------------------------------

_PATH = re.compile(r"(?:[A-Za-z]:)?[^\s'\"`,;()]*[/\\][^\s'\"`,;()]*")


def without_paths(text: str) -> str:
    """`text` with every file path cut to its last part ("/home/me/photos/a.png" -> "a.png"): fit for a visitor."""

    def name(match: re.Match[str]) -> str:
        found = match.group(0)
        if "://" in found:
            return found  # a URL names a public place, not this machine
        return re.split(r"[/\\]", found.rstrip("/\\"))[-1] or found

    return _PATH.sub(name, text)


def model_summary(name: str, checkpoint: Checkpoint) -> list[str]:
    """Lines that describe a model to a visitor: its shape and how it was trained, never a local path."""
    lines = [f"**{short_name(name)}**: {checkpoint.describe()}"]
    meta = checkpoint.metadata
    if "steps" in meta:
        data = without_paths(str(meta.get("data", "?")))
        lines.append(f"trained {meta['steps']} steps in {meta.get('seconds', '?')} s on {data}")
    if "@" in name:
        revision = name.rsplit("@", 1)[1]
        lines.append(f"pinned to {'commit' if re.fullmatch(r'[0-9a-f]{7,40}', revision) else 'revision'} `{revision}`")
    return lines


def short_name(name: str) -> str:
    """How a list shows a model: a Hub model pinned to a 40-digit commit shows its first 7 digits."""
    base, at, revision = name.rpartition("@")
    if at and re.fullmatch(r"[0-9a-f]{40}", revision):
        return f"{base}@{revision[:7]}"
    return name


def start_model(spec: str) -> tuple[str, dict[str, str], str | None]:
    """The model the app shows first: (its name, models every visitor gets, a notice if the configured one failed).

    `spec` is an embedded model's name or a Hub repo id (pulled now, anonymously): see
    gan.zoo.configured_default_model and `python -m gan deploy --model`.
    """
    from gan.hub import pull

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


# -- training: where a run starts, and saving what it made ------------------------------------------


@dataclass
class TrainingStart:
    """Where a run begins: a new pair of an architecture, a pretrained pair, or an earlier run's state."""

    architecture: str
    model_config: Any  # the architecture's config dataclass: resolution, channels, ...
    init: Checkpoint | None = None  # fine-tune: the pair to start from (its discriminator too)
    resume: RunState | None = None  # resume: weights, optimiser moments, counters


def plan_training(
    architecture: str = "dcgan",
    shape: dict[str, int | None] | None = None,
    init: str | Path | None = None,
    resume: str | Path | None = None,
) -> TrainingStart:
    """Resume the run saved in `resume`, else fine-tune the checkpoint folder `init`, else build `architecture`
    at `shape` (None values: the architecture's defaults)."""
    if resume is not None:
        state = RunState.load(resume)
        return TrainingStart(state.architecture, state.model_config, resume=state)
    if init is not None:
        reason = trainable(read_config(init)[0])  # said before the model (or any data) is loaded
        if reason:
            raise CheckpointError(reason)
        checkpoint = load_checkpoint(init, with_discriminator=True)
        return TrainingStart(checkpoint.architecture, checkpoint.config, init=checkpoint)
    given = {key: value for key, value in (shape or {}).items() if value is not None}
    return TrainingStart(architecture, get_architecture(architecture).config_class(**given))


def fine_tune_refusal(name: str, folder: str | Path) -> str | None:
    """Why the model `name` (in `folder`) cannot be fine-tuned, in plain words for a visitor; None when it can.
    Read from its config.json alone: nothing is loaded."""
    architecture = read_config(folder)[0]
    if trainable(architecture) is None:
        return None
    return (f"{short_name(name)} cannot be fine-tuned here: {get_architecture(architecture).why_not_trainable}. "
            "It still generates in the Generate tab; to fine-tune, start from DCGAN or FastGAN (from scratch, or a "
            "model made with them).")  # fmt: skip


def describe_start(name: str, model_config: Any) -> str:
    """What fine-tuning `name` (of shape `model_config`) does to a visitor's pictures, said before training starts."""
    side = model_config.resolution
    mode = f"{'colour' if model_config.channels == 3 else 'greyscale'} {side}×{side} px"
    return f"{short_name(name)} makes {mode} images: your pictures are trained as {mode} (centre-cropped, resized)."


def load_training_data(
    sources: Sequence[str | Path], resolution: int, channels: int | None = None, limits: Any = None
) -> tuple[torch.Tensor, list[str]]:
    """A run's training images, (N, C, R, R) in [-1, 1], and the lines to show about them (the load report,
    and one line for any change of colour). The app and the CLI choose channels here, one way:

    - `channels` None (nothing asked, no model fixes it): the pictures decide (gan.data.data_channels):
      colour pictures make a colour model, pictures that are all grey a greyscale one;
    - `channels` given (asked for, or fixed by the model to fine-tune or resume): the pictures are converted,
      and a line says so when that changes them (colour pictures trained as greyscale, or grey ones as RGB).

    `sources` is one built-in set's name (gan.data.is_builtin) or files, folders and archives.
    """
    from gan.data import is_builtin, load_builtin, load_image_folder

    lines: list[str] = []
    if len(sources) == 1 and is_builtin(str(sources[0])):
        data = load_builtin(str(sources[0]), resolution)  # its own channels: mnist and digits 1, emoji 3
    else:
        data, report = load_image_folder(sources, resolution, 3, limits)  # RGB: grey pictures have equal channels
        lines.append(report.summary())
    data, said = fit_channels(data, channels)
    return data, lines + said


def fit_channels(data: torch.Tensor, channels: int | None = None) -> tuple[torch.Tensor, list[str]]:
    """`data` with the channels a run trains on (see load_training_data) and the line saying any change."""
    from gan.data import data_channels, to_channels

    found = data_channels(data)
    wanted = found if channels is None else channels
    lines = []
    if wanted != found:
        mode = {1: "greyscale", 3: "colour"}
        lines.append(f"{mode[found]} pictures, trained as {mode[wanted]}: the model has {wanted} channel(s)")
    elif channels is None and data.shape[1] == 3 and found == 1:
        lines.append("every picture is grey: a greyscale model (ask for 3 channels for a colour one)")
    return to_channels(data, wanted), lines


AUTO = "auto"  # a start chosen by the pictures, the device and the budget (choose_start)
StepTimer = Callable[[str, Any, int, torch.device], float]  # (architecture, model config, batch, device) -> s/step


@dataclass(frozen=True)
class StartChoice:
    """Where a run on a visitor's pictures starts and what its budget buys on this machine, said before it starts."""

    name: str  # what the visitor chose or was given: a model's name, or an architecture's
    start: str | Path  # the checkpoint folder to fine-tune (plan_training's init), or the architecture of a new pair
    fine_tune: bool
    architecture: str
    model_config: Any  # the architecture's config: the pictures are trained at its size and colour
    frozen_d_layers: int  # FreezeD: the lowest discriminator layers kept as they are (fine-tuning a pair)
    step_seconds: float  # one training step here, timed
    steps: int  # what the budget buys: about this many steps
    sentence: str  # all of the above in plain words


@lru_cache(maxsize=32)
def measure_step_seconds(architecture: str, model_config: Any, batch_size: int, device: torch.device) -> float:
    """Seconds one training step takes here: `gan.train` run on noise for a warm-up step and a few timed ones.
    R1 (every 16th step) and previews are left out, so a real run's steps take a few percent longer."""
    from gan.train import train

    probe = AUTO_START.probe_steps
    noise = torch.rand(batch_size, model_config.channels, model_config.resolution, model_config.resolution) * 2 - 1
    config = TrainConfig(steps=probe + 1, batch_size=batch_size, event_every=1, preview_every_s=1e9,
                         snapshot_every=10**9, r1_interval=10**9)  # fmt: skip
    times: list[float] = []
    events = train(noise, model_config, config, device, architecture=architecture)
    for _event in events:  # one event after each step; the run's final one (with its samples) is never asked for
        times.append(time.monotonic())
        if len(times) == probe + 1:
            events.close()
            break
    return (times[-1] - times[0]) / probe


def choose_start(
    images: torch.Tensor,
    device: str | torch.device | None = "auto",
    minutes: float = 2.0,
    start: str | Path | None = AUTO,
    batch_size: int = TrainConfig.batch_size,
    steps: int = TrainConfig.steps,
    shape: dict[str, int | None] | None = None,
    step_seconds: StepTimer = measure_step_seconds,
    weights_dir: Path = WEIGHTS_DIR,
) -> StartChoice:
    """Where a run on `images` (N, C, H, W) in [-1, 1], any size, starts, and what its budget buys here.

    start: AUTO (or None) picks a shipped model by the pictures: colour ones fine-tune the colour default
    (gan.config.AUTO_START; its discriminator's lowest layers frozen, FreezeD), greyscale ones mnist-dcgan;
    of two defaults the larger is taken when the budget buys at least AUTO_START.min_steps of its steps here.
    An architecture's name ("dcgan", "fastgan") builds a new pair of `shape` (as plan_training; None values: the
    architecture's defaults, but the pictures' colour); anything else is a model to fine-tune (an embedded name
    or a folder). minutes: the time budget; 0 = the `steps` budget alone.
    The Fine-tune tab and `python -m gan train` both call this.
    """
    from gan.data import is_greyscale
    from gan.models import ARCHITECTURES
    from gan.zoo import resolve_model

    if minutes < 0 or steps < 1:
        raise GanError(f"the budget must be minutes >= 0 and steps >= 1, got {minutes!r} and {steps!r}")
    device = pick_device(device)
    grey = is_greyscale(images)
    start = AUTO if start is None else start
    candidates: list[tuple[str | Path, bool, str, Any]] = []  # (start, fine-tune, architecture, config), largest first
    if start == AUTO:
        shipped = embedded_models(weights_dir)
        names = [name for name in (AUTO_START.grey_models if grey else AUTO_START.colour_models) if name in shipped]
        if not names:
            raise CheckpointError(f"none of the {'greyscale' if grey else 'colour'} start models is shipped here")
        for name in names:
            architecture, config, _meta = read_config(shipped[name])
            candidates.append((name, True, architecture, config))
    elif isinstance(start, str) and start in ARCHITECTURES:
        given = {key: value for key, value in (shape or {}).items() if value is not None}
        given.setdefault("channels", 1 if grey else 3)  # the pictures' colour unless the shape says
        candidates.append((start, False, start, get_architecture(start).config_class(**given)))
    else:
        folder = resolve_model(str(start), weights_dir)
        architecture, config, _meta = read_config(folder)
        candidates.append((start if isinstance(start, str) and start in embedded_models(weights_dir) else folder,
                           True, architecture, config))  # fmt: skip
    budget_s = minutes * 60
    skipped: list[str] = []
    for index, (_start, _fine_tune, architecture, config) in enumerate(candidates):
        reason = trainable(architecture)
        if reason:
            raise CheckpointError(reason)
        seconds = step_seconds(architecture, config, batch_size, device)
        affordable = min(steps, int(budget_s / seconds)) if budget_s else steps
        if affordable >= AUTO_START.min_steps or index == len(candidates) - 1:
            break
        skipped.append(f"{config.resolution} px would get only about {affordable:,} steps")
    chosen, fine_tune = candidates[index][:2]
    label = Path(chosen).name if isinstance(chosen, Path) else chosen
    folder = resolve_model(str(chosen), weights_dir) if fine_tune and not isinstance(chosen, Path) else chosen
    paired = fine_tune and (Path(folder) / DISCRIMINATOR_DIR / WEIGHTS_NAME).is_file()
    frozen = AUTO_FREEZE_D_LAYERS if paired else 0  # as gan.train freezes a pair by default
    kind = "greyscale" if config.channels == 1 else "colour"
    looks = f"{kind} {config.resolution}×{config.resolution} px"
    where = {
        "cpu": f"this CPU ({torch.get_num_threads()} thread{'s' * (torch.get_num_threads() != 1)})",
        "cuda": "this GPU",
        "mps": "this Mac's GPU",
    }
    budget = (
        f"in {minutes:g} minute{'s' * (minutes != 1)}" if budget_s else f"(about {steps * seconds / 60:.1f} minutes)"
    )
    sentence = (f"About {affordable:,} steps {budget} on {where.get(device.type, device.type)}, "
                f"{seconds:.2f} s a step: ")  # fmt: skip
    if fine_tune:
        sentence += f"starting from {label} ({architecture}, {looks})"
        sentence += f" with its {frozen} lowest discriminator layers frozen (FreezeD)" if frozen else ""
    else:
        sentence += f"a new {architecture} pair at {looks}, from scratch"
    sentence += f"; your pictures are trained as {looks}" + (f" ({'; '.join(skipped)})" if skipped else "") + "."
    return StartChoice(label, folder, fine_tune, architecture, config, frozen, seconds, affordable, sentence)


def save_trained(
    folder: Path, result: TrainResult, preview: torch.Tensor, data: torch.Tensor, command: str, data_label: str
) -> QualityReport:
    """Measure a finished run's quality against its data and save the run with it (gan.runs.save_run)."""
    from gan.quality import assess_generator
    from gan.runs import save_run

    quality = assess_generator(result.generator, data)
    record = {"command": command, "data": data_label, "data_shape": list(data.shape), "quality": quality.to_dict()}
    save_run(folder, result, preview, record)
    return quality


# -- publications -----------------------------------------------------------------------------------


def publication_state(created: bool, private: bool | None) -> str:
    """How a push or a Space publication went, in the words both faces print."""
    shown = "private" if private else "public"
    return f"{shown}, created" if created else f"{shown}, updated (it existed, so its visibility was left as it was)"
