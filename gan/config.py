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
SCRATCH_ARCHITECTURES = ("dcgan", "fastgan")  # the families of our own design, offered to train from scratch
FEW_SHOT_MAX_IMAGES = 1000  # a set this small counts as few-shot: cutout on; jitter on if greyscale
DEFAULT_SPACE = "gan-studio/gan-studio"  # the public GAN studio Space that cards link to unless told otherwise
# Style transfer's feature network, VGG19 (gan.style reads it; the CLI's help names these without importing torch)
WEIGHTS_ENV = "GAN_STYLE_WEIGHTS"  # a local file or a Hub repo id; read by the app and the CLI, not by gan.style
DEFAULT_HUB_REPO = "timm/vgg19.tv_in1k"  # torchvision's ImageNet VGG19, as safetensors with `features.N.*` keys
DEFAULT_STYLE_LAYERS = ("conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1")
PRESERVE_COLORS = ("none", "luminance", "histogram")


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


AUTO_FREEZE_D_LAYERS = 2  # FreezeD's "auto": the D convolutions nearest the image kept when fine-tuning a pair


@dataclass(frozen=True)
class TrainConfig:
    """One training run: the Fine-tune tab and `python -m gan train` share these defaults."""

    steps: int = 4000  # step budget (one D and one G update per step)
    time_budget_s: float = 0.0  # stop after this many seconds; 0 = no time limit
    batch_size: int = 64
    lr_g: float = 0.0  # 0 = auto (auto_learning_rates): 4e-4, or 2e-4 on few-shot sets without jitter
    lr_d: float = 0.0  # 0 = auto: twice G's auto rate (TTUR: D learns faster than G)
    beta1: float = 0.0  # Adam betas (0, 0.99): the usual choice with spectral norm
    beta2: float = 0.99
    loss: str = "hinge"  # "hinge" or "nonsaturating"
    augment: str = "auto"  # DiffAugment policy ("color,translation,cutout"), "" for none, "auto" by data
    jitter: float = -1.0  # mild rotation/scale/shift/warp of real images (gan.augment.jitter); -1 = auto by data
    augment_strength: float = 0.0  # starting strength: ADA-style, raised only once D starts to overfit
    adaptive_augment: bool = True  # ADA-style: move the strength so that r_t stays near ada_target
    ada_target: float = 0.6  # r_t = E[sign(D(real))] above this raises augmentation, below lowers it
    ada_speed_images: int = 50_000  # images for the strength to move by 1.0
    d_skip_threshold: float = 0.95  # r_t above this: D is memorising, skip its update
    r1_gamma: float = -1.0  # R1 weight; -1 = auto (0.0002 * resolution^2 / batch), 0 = off
    r1_interval: int = 16  # lazy regularisation: R1 every N steps, scaled by N
    ema_half_life_images: int = 5_000  # EMA of G weights, as a half-life in images seen
    ema_rampup: float = 0.05  # the half-life grows with training: at most rampup * images seen so far
    freeze_d_layers: int = -1  # FreezeD: lowest D conv layers frozen when fine-tuning; -1 = auto, 0 = none
    max_nan_recoveries: int = 3
    collapse_restarts: int = 2  # from scratch: times to start again from new weights if G collapses early
    snapshot_every: int = 50  # steps between in-memory snapshots for NaN recovery
    collapse_ratio: float = 0.5  # alarm when preview diversity falls below this share of its best
    preview_every_s: float = 5.0
    preview_count: int = 16
    event_every: int = 10
    read_every: int = 0  # steps between reads of statistics to the host; 0 = 1 on a CPU, ACCELERATOR_READ_EVERY else
    seed: int = 0

    def __post_init__(self) -> None:
        check_field_types(self)
        if self.steps < 1:
            raise InvalidInputError(f"steps must be a positive integer, got {self.steps!r}")
        check_ranges(self, {  # wide: they only keep out values no setting means ("never" may be a huge number)
            "time_budget_s": (0, 1e9), "batch_size": (1, 1024), "beta1": (0, 0.999), "beta2": (0, 0.9999),
            "ada_target": (-10, 10), "ada_speed_images": (1, 1e12), "d_skip_threshold": (-10, 10),
            "r1_interval": (1, 1e12), "ema_half_life_images": (0, 1e12), "ema_rampup": (0, 1),
            "freeze_d_layers": (-1, 64), "max_nan_recoveries": (0, 100), "collapse_restarts": (0, 100),
            "snapshot_every": (1, 1e12),
            "collapse_ratio": (0, 1), "preview_every_s": (0, 1e12), "preview_count": (1, 64),
            "event_every": (1, 1e12), "read_every": (0, 1e6),
        })  # fmt: skip
        validate_seed(self.seed)
        if self.r1_gamma != -1 and self.r1_gamma < 0:
            raise InvalidInputError(f"r1_gamma must be -1 (auto) or >= 0, got {self.r1_gamma!r}")
        from gan.augment import parse_policy  # torch: imported only when a config is made
        from gan.losses import LOSSES

        if self.loss not in LOSSES:
            raise InvalidInputError(f"loss must be one of {', '.join(LOSSES)}, got {self.loss!r}")
        if self.augment != "auto":
            parse_policy(self.augment)
        for name in ("lr_g", "lr_d"):
            if not 0 <= getattr(self, name) < 1:
                raise InvalidInputError(f"{name} must be in [0, 1) (0 = auto), got {getattr(self, name)!r}")
        if self.jitter != -1 and not 0 <= self.jitter <= 2:
            raise InvalidInputError(f"jitter must be -1 (auto) or from 0 to 2, got {self.jitter!r}")
        if not 0 <= self.augment_strength <= 1:
            raise InvalidInputError(f"augment_strength must be in [0, 1], got {self.augment_strength!r}")


@dataclass(frozen=True)
class StyleConfig:
    """One stylisation: the Style tab and `python -m gan style` share these defaults."""

    size: int = 512  # output's longer side in px, whatever the style images' sizes
    levels: int = 2  # coarse-to-fine passes, each at half the size of the next (512 -> 256, 512)
    steps: int = 200  # loss evaluations at full size (one L-BFGS iteration or Adam step each)
    coarse_steps: int = 200  # most loss evaluations at each coarser level (4x cheaper per halving)...
    coarse_plateau: float = 0.05  # ... which ends once 10 evaluations improve its loss by less than this fraction
    content_weight: float = 1.0
    style_weight: float = 100.0  # with "target" normalisation; the PyTorch tutorial uses 1e6 with "none"
    tv_weight: float = 10.0  # total variation (smoothness)
    content_layers: tuple[str, ...] = ("conv4_2",)
    style_layers: tuple[str, ...] = DEFAULT_STYLE_LAYERS
    style_layer_weights: tuple[float, ...] = ()  # one per style layer; () = 1 each
    normalize: str = "target"  # "target": each layer's loss / its target's mean square (weights mean the same for
    #   any layer, image size or VGG weights); "none": plain MSE, the PyTorch tutorial's objective
    style_blend: tuple[float, ...] = ()  # one weight per style image; () = equal
    style_scale: float = 1.0  # style images are resized to this times the output's longer side
    preserve_colors: str = "none"  # "luminance": transfer on luminance only; "histogram": match style colours first
    init: str = "content"  # "content" or "noise" (uniform, from `seed`)
    optimizer: str = "lbfgs"  # "lbfgs" or "adam"
    lr: float = 0.0  # 0 = the optimiser's usual step: 1.0 for L-BFGS, 0.02 for Adam
    history: int = 50  # L-BFGS memory (pairs of vectors)
    tolerance_grad: float = 1e-7  # L-BFGS stops a level when max|grad| falls below this ...
    tolerance_change: float = 1e-9  # ... or when the loss or step stop changing by more than this
    pooling: str = "max"  # "max" (torchvision's VGG) or "avg" (smoother, as Gatys et al. suggest)
    mixed_precision: bool = False  # bfloat16 convolutions under autocast; Gram matrices and losses stay float32
    seed: int = 0
    preview_every_s: float = 2.0  # a preview at most this often, and at the end of every level

    def __post_init__(self) -> None:
        def number(name: str, low: float, high: float) -> None:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
                raise InvalidInputError(f"{name} must be a number from {low:g} to {high:g}, got {value!r}")

        def integer(name: str, low: int, high: int) -> None:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise InvalidInputError(f"{name} must be an integer from {low} to {high}, got {value!r}")

        from gan.style import LAYER_INDEX, check_blend_weights  # torch: imported only when a config is made

        integer("size", 32, 4096)
        integer("levels", 1, 4)
        integer("steps", 1, 10_000)
        integer("coarse_steps", 0, 10_000)
        integer("history", 1, 1000)
        for name in ("content_weight", "style_weight", "tv_weight"):
            number(name, 0.0, 1e12)
        number("style_scale", 0.1, 4.0)
        number("lr", 0.0, 100.0)
        number("tolerance_grad", 0.0, 1.0)
        number("tolerance_change", 0.0, 1.0)
        number("coarse_plateau", 0.0, 1.0)
        number("preview_every_s", 0.0, 3600.0)
        validate_seed(self.seed)
        choices = {"normalize": ("target", "none"), "preserve_colors": PRESERVE_COLORS, "init": ("content", "noise"),
                   "optimizer": ("lbfgs", "adam"), "pooling": ("max", "avg")}  # fmt: skip
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise InvalidInputError(f"{name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}")
        for name in (*self.content_layers, *self.style_layers):
            if name not in LAYER_INDEX:
                raise InvalidInputError(f"unknown VGG19 layer {name!r}: use names like conv1_1, relu4_2, pool3")
        if not self.content_layers or not self.style_layers:
            raise InvalidInputError("at least one content layer and one style layer are needed")
        if self.style_layer_weights and len(self.style_layer_weights) != len(self.style_layers):
            raise InvalidInputError(
                f"{len(self.style_layer_weights)} style layer weights for {len(self.style_layers)} style layers"
            )
        check_blend_weights(self.style_layer_weights or (1.0,), "style layer weights")
        if self.style_blend:
            check_blend_weights(self.style_blend, "style blend weights")
        if self.content_weight == 0 and self.style_weight == 0 and self.tv_weight == 0:
            raise InvalidInputError("content, style and TV weights are all 0: nothing to optimise")


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
    display_max_side: int = 256  # larger models (FastGAN's 1024 px) are generated area-downsampled to this side
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
    train_max_call_s: float = 120.0  # on ZeroGPU a run is a chain of GPU calls of at most this long each (gan.train
    #   train_in_calls): a long one asks for a slot longer than ZeroGPU grants
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
    max_upload_bytes: int = 500 << 20  # one uploaded file (Gradio's max_file_size); UploadLimits bounds what it holds
    start_probe_files: int = 16  # uploads read to choose a fine-tune's start (grey or colour) before Train
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
