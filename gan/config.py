"""Dataclass configs: the one home of defaults.

The app reads its widget defaults and ranges from here, the CLI its option
defaults, and checkpoints store the model config beside the weights. `APP` is
the web app's own profile: what a visitor on a shared machine may ask for.
This module imports neither torch nor gradio, so anything may read it cheaply.
"""

from __future__ import annotations

import math
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any, ClassVar

from gan.errors import InvalidInputError

# Limits shared by the CLI and the app.
MAX_SEED = 2**32 - 1  # seeds are unsigned 32-bit, like most GAN tools
MAX_IMAGES_PER_REQUEST = 256  # one generate call; larger asks are refused, not truncated
MAX_INTERPOLATION_FRAMES = 240  # frames of one interpolation GIF, all segments together
MAX_DISPLAY_SIZE = 1024  # the largest `size` images may be asked at; models make up to 1024 px
TABS = ("generate", "finetune", "style", "hub")  # the app's tab ids, in page order (permalinks name them)


def _check_power_of_two(name: str, value: int, low: int, high: int) -> None:
    if not isinstance(value, int) or value < low or value > high or value & (value - 1):
        raise InvalidInputError(f"{name} must be a power of two from {low} to {high}, got {value!r}")


class ModelConfig:
    """Shared by every architecture's config dataclass: dict round trip with unknown keys refused."""

    label = "model"  # names the architecture in error messages

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls, data: dict[str, Any]):  # -> the subclass
        known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidInputError(f"unknown {cls.label} config keys: {', '.join(unknown)}")
        return cls(**data)

    def check_sizes(self, *names: str) -> None:
        """Each named field must be an integer from 1 to 4096."""
        for name in names:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 4096:
                raise InvalidInputError(f"{name} must be an integer from 1 to 4096, got {value!r}")

    def check_channels(self) -> None:
        if self.channels not in (1, 3):  # type: ignore[attr-defined]
            raise InvalidInputError(f"channels must be 1 or 3, got {self.channels!r}")  # type: ignore[attr-defined]


@dataclass(frozen=True)
class DCGANConfig(ModelConfig):
    """Shape of a DCGAN-family generator/discriminator pair."""

    RESOLUTIONS: ClassVar[tuple[int, ...]] = (32, 64, 128, 256)  # what the architecture can be built at

    resolution: int = 32  # output side in pixels: a power of two, 32..256
    channels: int = 1  # 1 = greyscale, 3 = RGB
    latent_dim: int = 100  # size of z, the generator's input
    width: int = 16  # feature channels at full resolution; each halving of size doubles them
    max_width: int = 128  # cap on feature channels at the coarse end (small enough to train on a CPU)

    label = "DCGAN"

    def __post_init__(self) -> None:
        _check_power_of_two("resolution", self.resolution, self.RESOLUTIONS[0], self.RESOLUTIONS[-1])
        self.check_channels()
        self.check_sizes("latent_dim", "width", "max_width")


@dataclass(frozen=True)
class FastGANConfig(ModelConfig):
    """Shape of a FastGAN-style few-shot pair (skip-layer excitation, self-supervised D)."""

    RESOLUTIONS: ClassVar[tuple[int, ...]] = (64, 128, 256)

    resolution: int = 64  # a power of two, 64..256
    channels: int = 3
    latent_dim: int = 128
    width: int = 16  # feature channels at full resolution; doubling per halving
    max_width: int = 128

    label = "FastGAN"

    def __post_init__(self) -> None:
        _check_power_of_two("resolution", self.resolution, self.RESOLUTIONS[0], self.RESOLUTIONS[-1])
        self.check_channels()
        self.check_sizes("latent_dim", "width", "max_width")


@dataclass(frozen=True)
class GenerateConfig:
    """What to sample: the Generate tab and `python -m gan generate` share these defaults."""

    seed: int = 0  # first seed; image i uses seed + i
    count: int = 16  # number of images
    truncation: float = 1.0  # psi in [0, 1]: 1 = no truncation, 0 = the mean image
    grid_columns: int = 0  # 0 = choose a near-square grid
    size: int = 0  # 0 = native; else the images' side in px, area-downsampled (never enlarged)

    def __post_init__(self) -> None:
        validate_seed(self.seed)
        validate_size(self.size)
        if not isinstance(self.count, int) or not 1 <= self.count <= MAX_IMAGES_PER_REQUEST:
            raise InvalidInputError(f"count must be from 1 to {MAX_IMAGES_PER_REQUEST}, got {self.count!r}")
        if self.seed + self.count - 1 > MAX_SEED:
            raise InvalidInputError(f"seeds {self.seed}..{self.seed + self.count - 1} pass the largest seed {MAX_SEED}")
        validate_truncation(self.truncation)
        if not isinstance(self.grid_columns, int) or not 0 <= self.grid_columns <= MAX_IMAGES_PER_REQUEST:
            raise InvalidInputError(
                f"grid_columns must be from 0 to {MAX_IMAGES_PER_REQUEST}, got {self.grid_columns!r}"
            )

    @property
    def seeds(self) -> list[int]:
        return list(range(self.seed, self.seed + self.count))


@dataclass(frozen=True)
class InterpolateConfig:
    """A walk through latent space that visits each seed in turn."""

    seeds: tuple[int, ...] = (0, 1, 2, 3)  # the keyframes
    steps: int = 16  # frames from one seed to the next (the start frame included)
    method: str = "slerp"  # "slerp" (stays on the Gaussian shell) or "lerp"
    truncation: float = 1.0
    loop: bool = True  # return to the first seed, for a seamless GIF
    frame_ms: int = 80  # GIF frame duration
    size: int = 0  # 0 = native; else the frames' side in px, area-downsampled (never enlarged)

    def __post_init__(self) -> None:
        validate_size(self.size)
        if len(self.seeds) < 2:
            raise InvalidInputError(f"interpolation needs at least two seeds, got {len(self.seeds)}")
        for seed in self.seeds:
            validate_seed(seed)
        if not isinstance(self.steps, int) or not 2 <= self.steps <= 120:
            raise InvalidInputError(f"steps must be from 2 to 120, got {self.steps!r}")
        if self.method not in ("slerp", "lerp"):
            raise InvalidInputError(f"method must be 'slerp' or 'lerp', got {self.method!r}")
        validate_truncation(self.truncation)
        frames = self.frame_count
        if frames > MAX_INTERPOLATION_FRAMES:
            raise InvalidInputError(
                f"{frames} frames asked for; the limit is {MAX_INTERPOLATION_FRAMES} (fewer seeds or steps)"
            )
        if not isinstance(self.frame_ms, int) or not 20 <= self.frame_ms <= 2000:
            raise InvalidInputError(f"frame_ms must be from 20 to 2000, got {self.frame_ms!r}")

    @property
    def frame_count(self) -> int:
        segments = len(self.seeds) if self.loop else len(self.seeds) - 1
        return segments * self.steps + (0 if self.loop else 1)


def validate_seed(seed: object) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise InvalidInputError(f"seed must be an integer from 0 to {MAX_SEED}, got {seed!r}")
    return seed


def validate_size(size: object) -> int:
    if isinstance(size, bool) or not isinstance(size, int) or not (size == 0 or 8 <= size <= MAX_DISPLAY_SIZE):
        raise InvalidInputError(f"size must be 0 (native) or from 8 to {MAX_DISPLAY_SIZE} px, got {size!r}")
    return size


def validate_truncation(psi: object) -> float:
    if isinstance(psi, bool) or not isinstance(psi, (int, float)) or not 0.0 <= float(psi) <= 1.0:
        raise InvalidInputError(f"truncation must be a number from 0 to 1, got {psi!r}")
    return float(psi)


def parse_seed_list(text: str, limit: int = MAX_IMAGES_PER_REQUEST) -> list[int]:
    """'3, 7, 10-12' -> [3, 7, 10, 11, 12]. Ranges are inclusive; order is kept."""
    seeds: list[int] = []
    for part in str(text).replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        low, sep, high = part.partition("-")
        try:
            start = int(low)
            stop = int(high) if sep else start
        except ValueError:
            raise InvalidInputError(f"{part!r} is not a seed or a range like 10-12") from None
        validate_seed(start)
        validate_seed(stop)
        if stop < start:
            raise InvalidInputError(f"seed range {part!r} runs backwards")
        if len(seeds) + (stop - start + 1) > limit:
            raise InvalidInputError(f"at most {limit} seeds per request")
        seeds.extend(range(start, stop + 1))
    if not seeds:
        raise InvalidInputError("no seeds given: write e.g. '0, 5, 10-12'")
    return seeds


def check_field_types(config: Any) -> None:
    """Every field of a config dataclass must have its default's type: whole numbers where the default is one
    (2.5 is refused, not rounded), finite numbers where it is a float (NaN and infinity are refused: a NaN time
    budget would never end), true booleans, strings. Range checks come after, in each config."""
    for item in fields(config):
        default, value = item.default, getattr(config, item.name)
        if default is MISSING or default is None:
            continue
        if isinstance(default, bool):
            ok, kind = isinstance(value, bool), "true or false"
        elif isinstance(default, int):
            ok, kind = isinstance(value, int) and not isinstance(value, bool), "a whole number"
        elif isinstance(default, float):
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            kind = "a finite number"
        elif isinstance(default, str):
            ok, kind = isinstance(value, str), "text"
        else:
            continue
        if not ok:
            raise InvalidInputError(f"{item.name} must be {kind}, got {value!r}")


def check_ranges(config: Any, ranges: dict[str, tuple[float, float]]) -> None:
    """Each named field must lie in its inclusive (low, high) range."""
    for name, (low, high) in ranges.items():
        value = getattr(config, name)
        if not low <= value <= high:
            raise InvalidInputError(f"{name} must be from {low:g} to {high:g}, got {value!r}")


@dataclass(frozen=True)
class AutoStart:
    """Where a run on a visitor's own pictures starts when they name no start (gan.jobs.choose_start)."""

    colour_models: tuple[str, ...] = ("emoji-64", "emoji-smileys")  # colour pictures fine-tune the first shipped
    # one whose size the budget affords; the last one shipped regardless
    grey_models: tuple[str, ...] = ("mnist-dcgan",)  # greyscale pictures, the same way
    min_steps: int = 150  # a larger model is chosen only when the budget buys at least this many of its steps
    probe_steps: int = 3  # training steps timed on this device to say what the budget buys (after one warm-up)


AUTO_START = AutoStart()


@dataclass(frozen=True)
class AppProfile:
    """The web app's own settings: what one visitor may ask of a machine shared with everyone else.

    The UI builds its sliders from these ranges, permalinks accept the same ranges, and the serving
    limits bound the queue. The CLI has none of these limits (a local user owns their machine).
    """

    # Generate
    max_count: int = 64  # images per request (the Images slider's top; the API is held to it too)
    truncation_step: float = 0.05
    preview_min_side: int = 256  # small samples (32 px) are upscaled with nearest-neighbour for display
    walk_max_seeds: int = 16  # seeds one latent walk may visit
    walk_steps: tuple[int, int] = (2, 60)  # frames per segment offered
    # Fine-tune
    train_minutes: float = 2.0  # time budget of a run, the usual end of it
    train_minutes_range: tuple[float, float, float] = (0.5, 10.0, 0.5)  # low, high, step
    train_steps: int = 100_000  # step budget: high, so that the time budget ends a run
    train_batch: int = 32
    train_batch_range: tuple[int, int, int] = (4, 128, 4)
    train_resolution: int = 64  # a from-scratch run's default size
    train_jitter_range: tuple[float, float, float] = (-1.0, 2.0, 0.25)  # -1 = auto
    train_preview_every_s: float = 2.0  # live previews (the CLI saves one every 30 s)
    train_update_every_s: float = 1.0  # plots and health refresh this often (each update costs CPU to send)
    plot_max_rows: int = 3000  # points per live plot
    # Style transfer: (low, high, step) of each setting offered
    style_size_range: tuple[int, int, int] = (64, 1024, 32)  # larger renders take many minutes even on a GPU
    style_cpu_size: int = 256  # the default size without a GPU: about a minute per render
    style_steps_range: tuple[int, int, int] = (1, 1000, 1)
    style_coarse_steps_range: tuple[int, int, int] = (0, 1000, 1)
    style_levels_range: tuple[int, int, int] = (1, 3, 1)
    style_content_weight_range: tuple[float, float, float] = (0.0, 10.0, 0.1)
    style_weight_range: tuple[float, float, float] = (0.0, 1000.0, 1.0)
    style_tv_weight_range: tuple[float, float, float] = (0.0, 100.0, 0.5)
    style_scale_range: tuple[float, float, float] = (0.25, 2.0, 0.05)
    style_max_styles: int = 8  # style images per request
    # Serving
    queue_max_size: int = 64  # waiting events, all kinds together; beyond it a visitor is told the queue is full
    line_max_waiting: dict[str, int] = field(default_factory=lambda: {"train": 4, "style": 8})  # long jobs waiting
    generate_concurrency: int = 4  # generate requests served at once (short; mostly encoding and sending files)
    open_link_concurrency: int = 16  # page loads that read a permalink at once (one may pull a Hub model)
    cached_models: int = 4  # loaded checkpoints kept in memory, all visitors together
    output_max_age_s: int = 3600  # a request's result folder is removed this long after it was made
    run_max_age_s: int = 24 * 3600  # a fine-tuned run (and a visitor's session) is forgotten after this
    runs_max_bytes: int = 2 * 2**30  # all visitors' fine-tuned runs together; the oldest go first

    def link_limits(self) -> dict[str, tuple[float, float]]:
        """The ranges the app accepts, by permalink key: a link asking for more is told so."""
        ranges = {"size": self.style_size_range, "steps": self.style_steps_range,
                  "coarse_steps": self.style_coarse_steps_range, "levels": self.style_levels_range,
                  "content_weight": self.style_content_weight_range, "style_weight": self.style_weight_range,
                  "tv_weight": self.style_tv_weight_range, "style_scale": self.style_scale_range}  # fmt: skip
        return {"count": (1, self.max_count), **{key: (low, high) for key, (low, high, _step) in ranges.items()}}


APP = AppProfile()
