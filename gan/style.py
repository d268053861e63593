"""Neural style transfer (Gatys et al.): VGG19 feature slices, Gram matrices, losses, and a stylize loop.

`stylize()` is a generator: it optimises an image so that its VGG19 features keep the
content image's layout (content loss) and take on the style images' feature
correlations (style loss on Gram matrices), with a total-variation term for smoothness.
It yields a StyleEvent after every loss evaluation, with a preview now and then, honours
a stop request by finishing with the current image, and renders coarse-to-fine: the
image is first solved at a fraction of the size, then upsampled and refined.

The feature network's weights come from a local file, torchvision's cache or the Hub
(`load_vgg19_weights`); there is no silent fallback to a random network.
"""

from __future__ import annotations

import math
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from gan import hub
from gan.config import DEFAULT_HUB_REPO, DEFAULT_STYLE_LAYERS, PRESERVE_COLORS, WEIGHTS_ENV, StyleConfig  # noqa: F401
from gan.device import pick_device
from gan.errors import GanError, InvalidInputError, StyleWeightsError
from gan.formats.pickles import torch_load_refusal

# --- VGG19's convolutional trunk, as torchvision lays it out in `vgg19().features` ---

VGG19_CFG = (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M")


def _vgg19_sequence() -> list[tuple[str, int]]:
    """[(layer name, output channels)] in `features` order: conv1_1, relu1_1, conv1_2, relu1_2, pool1, conv2_1..."""
    sequence, block, conv, channels = [], 1, 0, 3
    for item in VGG19_CFG:
        if item == "M":
            sequence.append((f"pool{block}", channels))
            block, conv = block + 1, 0
        else:
            conv, channels = conv + 1, int(item)
            sequence += [(f"conv{block}_{conv}", channels), (f"relu{block}_{conv}", channels)]
    return sequence


VGG19_SEQUENCE = _vgg19_sequence()  # 37 entries: index i is `features[i]`
LAYER_INDEX = {name: index for index, (name, _) in enumerate(VGG19_SEQUENCE)}


def _expected_shapes() -> dict[str, tuple[int, ...]]:
    shapes, channels = {}, 3
    for index, (name, out) in enumerate(VGG19_SEQUENCE):
        if name.startswith("conv"):
            shapes[f"features.{index}.weight"] = (out, channels, 3, 3)
            shapes[f"features.{index}.bias"] = (out,)
            channels = out
    return shapes


VGG19_SHAPES = _expected_shapes()  # the 32 tensors of VGG19's 16 convolutions, torchvision names
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# --- where the weights come from ---

DEFAULT_HUB_FILE = "model.safetensors"
TORCHVISION_FILE = "vgg19-dcbb9e9d.pth"  # what `torchvision.models.vgg19(weights="DEFAULT")` caches
HOW_TO_PROVIDE = (
    f"set {WEIGHTS_ENV} (or --style-weights) to a .safetensors or .pth file of VGG19 with torchvision's "
    f"'features.N.*' keys, or to a Hub repo id such as {DEFAULT_HUB_REPO} on a machine that can reach the Hub"
)
OFFLINE_NOTE = "(everything else works offline: generating, training, models in weights/ or pulled before)"
_KEY_PREFIXES = ("module.", "model.", "vgg19.", "vgg.", "net.")  # wrappers some exporters add before `features.`
_HUB_URL_RE = re.compile(r"^hf://([\w.-]+/[\w.-]+)(?:/(.+))?$")  # hf://owner/name[/path/in/repo.safetensors]
_HUB_REPO_RE = re.compile(r"^([\w-][\w.-]*/[\w-][\w.-]*)$")  # owner/name (its model.safetensors)
_WEIGHT_SUFFIXES = (".safetensors", ".pth", ".pt", ".bin", ".ckpt")


@dataclass(frozen=True)
class VGG19Weights:
    """The 16 convolutions of VGG19 as float32 CPU tensors, keyed like torchvision (`features.0.weight`)."""

    tensors: dict[str, torch.Tensor]
    source: str  # where they came from: a path or a repo id, for messages and PNG metadata


def default_weights_source() -> str | None:
    """The weights source the app and the CLI use unless told otherwise: $GAN_STYLE_WEIGHTS, or None (auto)."""
    return os.environ.get(WEIGHTS_ENV) or None


def load_vgg19_weights(source: str | Path | None = None, token: str | None = None) -> VGG19Weights:
    """Load VGG19's convolution weights from `source`, strictly checked.

    `source` is a local .safetensors/.pth file, a Hub repo id "owner/name" (its
    model.safetensors), or "hf://owner/name/path/to/file". None tries torchvision's
    cache, then the default Hub repo (cached after the first download). Any failure is
    a StyleWeightsError that says how to provide weights.
    """
    if source is None or str(source).strip() == "":
        cached = Path(torch.hub.get_dir()) / "checkpoints" / TORCHVISION_FILE
        if cached.is_file():
            return _load_file(cached)
        try:
            path = hub.download_file(DEFAULT_HUB_REPO, DEFAULT_HUB_FILE, token=token, fail_fast=True)
        except GanError as error:
            raise StyleWeightsError(
                f"no VGG19 weights for style transfer: torchvision's cache has no {TORCHVISION_FILE} and {error}; "
                f"{HOW_TO_PROVIDE} {OFFLINE_NOTE}"
            ) from error
        return _load_file(path, DEFAULT_HUB_REPO)
    text = str(source).strip()
    path = Path(text).expanduser()
    if path.is_file():
        return _load_file(path)
    url, repo_id = _HUB_URL_RE.match(text), _HUB_REPO_RE.match(text)
    if url:
        repo, filename = url.group(1), url.group(2) or DEFAULT_HUB_FILE
    elif repo_id and not path.exists() and not text.lower().endswith(_WEIGHT_SUFFIXES):
        repo, filename = repo_id.group(1), DEFAULT_HUB_FILE
    else:
        raise StyleWeightsError(f"style weights {text!r}: no such file; " + HOW_TO_PROVIDE)
    try:
        downloaded = hub.download_file(repo, filename, token=token, fail_fast=True)
    except GanError as error:
        raise StyleWeightsError(f"style weights from the Hub: {error}; {HOW_TO_PROVIDE} {OFFLINE_NOTE}") from error
    return _load_file(downloaded, f"{repo}/{filename}")


def _load_file(path: Path, label: str | None = None) -> VGG19Weights:
    """Read only the 32 convolution tensors (files with a classifier are 550 MB; we need 80)."""
    label = label or str(path)
    wanted: dict[str, torch.Tensor] = {}
    if path.suffix == ".safetensors":
        from safetensors import SafetensorError, safe_open

        try:
            with safe_open(str(path), framework="pt") as handle:
                names = {_strip_prefix(key): key for key in handle.keys()}  # noqa: SIM118 (not a dict)
                for name in VGG19_SHAPES:
                    if name in names:
                        wanted[name] = handle.get_tensor(names[name])
        except (SafetensorError, OSError, ValueError) as error:
            raise StyleWeightsError(f"{label} is not a readable safetensors file: {error}") from error
    else:
        state = _torch_load(path, label)
        names = {_strip_prefix(key): key for key in state}
        wanted = {name: state[names[name]] for name in VGG19_SHAPES if name in names}
    missing = [name for name in VGG19_SHAPES if name not in wanted]
    if missing:
        raise StyleWeightsError(
            f"{label} is not a VGG19 feature file: {len(missing)} of its 32 convolution tensors are missing "
            f"(first: {missing[0]}); " + HOW_TO_PROVIDE
        )
    tensors = {}
    for name, shape in VGG19_SHAPES.items():
        tensor = wanted[name]
        if not isinstance(tensor, torch.Tensor) or tuple(tensor.shape) != shape or not tensor.is_floating_point():
            got = tuple(tensor.shape) if isinstance(tensor, torch.Tensor) else type(tensor).__name__
            raise StyleWeightsError(f"{label} is not VGG19's: {name} is {got}, VGG19 needs {shape}")
        tensor = tensor.detach().to("cpu", torch.float32).contiguous()
        if not torch.isfinite(tensor).all():
            raise StyleWeightsError(f"{label} holds NaN or infinite values in {name}")
        tensors[name] = tensor
    return VGG19Weights(tensors, label)


def _torch_load(path: Path, label: str) -> Mapping[str, torch.Tensor]:
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # junk makes the unpickler warn about odd protocols before it fails
            try:  # memory-mapped: only the pages of the tensors we read are touched
                state = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
            except RuntimeError:  # files from before torch 1.6's zip format cannot be mapped
                state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # the weights-only unpickler raises anything from IndexError to UnpicklingError
        raise StyleWeightsError(f"{label} {torch_load_refusal(error, 'PyTorch weights file')}") from error
    for key in ("state_dict", "model"):  # training checkpoints wrap the weights
        if isinstance(state, Mapping) and isinstance(state.get(key), Mapping):
            state = state[key]
    if not isinstance(state, Mapping):
        raise StyleWeightsError(f"{label} holds a {type(state).__name__}, not a dict of tensors")
    return state


def _strip_prefix(key: str) -> str:
    for prefix in _KEY_PREFIXES:
        if key.startswith(prefix):
            key = key[len(prefix) :]
    return key


def save_random_vgg19(path: str | Path, seed: int = 0) -> Path:
    """Write a VGG19 feature file with torchvision's random initialisation (Kaiming, fan-out; zero biases).

    For tests and timing benchmarks only, where pretrained weights cannot be downloaded:
    its "styles" are meaningless. Loading it is always explicit, never a fallback.
    """
    from safetensors.torch import save_file

    generator = torch.Generator().manual_seed(seed)
    tensors = {}
    for name, shape in VGG19_SHAPES.items():
        if name.endswith(".weight"):
            fan_out = shape[0] * shape[2] * shape[3]
            tensors[name] = torch.randn(shape, generator=generator) * math.sqrt(2.0 / fan_out)
        else:
            tensors[name] = torch.zeros(shape)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(path), metadata={"format": "vgg19-features", "init": f"random, seed {seed}"})
    return path


class VGG19WeightsCache:
    """Loads the weights once per process, on first use; thread-safe.

    A failed load is remembered for `retry_after_s`: meanwhile every caller gets its error at once instead of
    waiting through the network's retries again, and `problem()` tells a UI before anyone asks.
    """

    def __init__(self, source: str | Path | None = None, retry_after_s: float = 600.0) -> None:
        self.source = source
        self.retry_after_s = retry_after_s
        self._weights: VGG19Weights | None = None
        self._error: StyleWeightsError | None = None
        self._failed_at = -math.inf
        self._lock = threading.Lock()

    def get(self) -> VGG19Weights:
        with self._lock:
            if self._weights is None:
                if self._error is not None and time.monotonic() - self._failed_at < self.retry_after_s:
                    raise self._error
                try:
                    self._weights = load_vgg19_weights(self.source)
                except StyleWeightsError as error:
                    self._error, self._failed_at = error, time.monotonic()
                    raise
                self._error = None
            return self._weights

    def problem(self) -> StyleWeightsError | None:
        """Why no weights can be had, when that is known without the network (a missing local file, or a
        recent failed load); None when they are loaded or may still load."""
        if self._weights is not None:
            return None
        if self._error is not None and time.monotonic() - self._failed_at < self.retry_after_s:
            return self._error
        return missing_weights_file(self.source)


def missing_weights_file(source: str | Path | None) -> StyleWeightsError | None:
    """The error load_vgg19_weights(source) would raise without touching the network: `source` names a local
    file that is not there. None for a file that exists, a Hub source, or None (auto)."""
    if source is None or str(source).strip() == "":
        return None
    text = str(source).strip()
    path = Path(text).expanduser()
    if path.is_file() or _HUB_URL_RE.match(text):
        return None
    if _HUB_REPO_RE.match(text) and not path.exists() and not text.lower().endswith(_WEIGHT_SUFFIXES):
        return None
    return StyleWeightsError(f"style weights {text!r}: no such file; " + HOW_TO_PROVIDE)


class VGGFeatures(nn.Module):
    """VGG19's trunk up to the last layer asked for; frozen, eval mode.

    forward: (B, 3, H, W) RGB in [0, 1] -> {layer name: (B, C, H', W')}. Layer names follow
    the VGG papers: "conv4_2" is the convolution's output before its ReLU (what the PyTorch
    tutorial reads), "relu4_2" after it, "pool4" after the pooling.
    """

    def __init__(self, weights: VGG19Weights, layers: Iterable[str], pooling: str = "max") -> None:
        super().__init__()
        layers = list(dict.fromkeys(layers))
        unknown = [name for name in layers if name not in LAYER_INDEX]
        if unknown or not layers:
            raise InvalidInputError(f"unknown VGG19 layer {unknown[0] if unknown else None!r}: use e.g. conv4_2")
        if pooling not in ("max", "avg"):
            raise InvalidInputError(f"pooling must be 'max' or 'avg', got {pooling!r}")
        self.taps = {LAYER_INDEX[name]: name for name in layers}
        modules: list[nn.Module] = []
        for index, (name, _) in enumerate(VGG19_SEQUENCE[: max(self.taps) + 1]):
            if name.startswith("conv"):
                out_channels, in_channels = VGG19_SHAPES[f"features.{index}.weight"][:2]
                conv = torch.nn.utils.skip_init(nn.Conv2d, in_channels, out_channels, 3, padding=1)  # no wasted init
                conv.weight = nn.Parameter(weights.tensors[f"features.{index}.weight"], requires_grad=False)
                conv.bias = nn.Parameter(weights.tensors[f"features.{index}.bias"], requires_grad=False)
                modules.append(conv)
            elif name.startswith("relu"):
                modules.append(nn.ReLU(inplace=index - 1 not in self.taps))  # a tapped conv output must stay intact
            else:
                modules.append(nn.MaxPool2d(2, 2) if pooling == "max" else nn.AvgPool2d(2, 2))
        self.layers = nn.Sequential(*modules)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self.requires_grad_(False).eval()

    def forward(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        x = (image - self.mean) / self.std
        out = {}
        for index, layer in enumerate(self.layers):
            x = layer(x)
            if index in self.taps:
                out[self.taps[index]] = x
        return out


# --- losses: pure tensor functions ---


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, C, C) feature correlations divided by C*H*W; float32 even under autocast."""
    batch, channels, height, width = features.shape
    flat = features.float().reshape(batch, channels, height * width)
    with torch.autocast(device_type=features.device.type, enabled=False):
        return torch.bmm(flat, flat.transpose(1, 2)) / (channels * height * width)


def total_variation(image: torch.Tensor) -> torch.Tensor:
    """Mean squared difference between neighbouring pixels of (B, C, H, W): penalises high-frequency noise."""
    dy = image[..., 1:, :] - image[..., :-1, :]
    dx = image[..., :, 1:] - image[..., :, :-1]
    return dy.float().pow(2).mean() + dx.float().pow(2).mean()


# --- colour: luminance-only transfer and colour matching (Gatys et al. 2016, "Preserving color") ---

_RGB_TO_YIQ = torch.tensor([[0.299, 0.587, 0.114], [0.595716, -0.274453, -0.321263], [0.211456, -0.522591, 0.311135]])


def rgb_to_yiq(image: torch.Tensor) -> torch.Tensor:
    """(3, H, W) RGB -> (3, H, W) YIQ: Y is luminance, I and Q are chroma."""
    return torch.einsum("ij,jhw->ihw", _RGB_TO_YIQ.to(image), image)


def yiq_to_rgb(image: torch.Tensor) -> torch.Tensor:
    return torch.einsum("ij,jhw->ihw", torch.linalg.inv(_RGB_TO_YIQ.double()).to(image), image)


def match_luminance(source: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """Shift and scale the luminance (1, H, W) `source` to the mean and spread of `reference`."""
    scale = reference.std() / source.std().clamp_min(1e-5)
    return ((source - source.mean()) * scale + reference.mean()).clamp(0, 1)


def match_colors(source: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """Linear colour transfer: `source` (3, H, W) gets the mean and covariance of `reference`'s colours."""

    def stats(image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        pixels = image.reshape(3, -1).double()  # (3, N)
        mean = pixels.mean(1, keepdim=True)
        centred = pixels - mean
        return mean, centred @ centred.T / pixels.shape[1] + 1e-5 * torch.eye(3, dtype=torch.float64)

    def matrix_power(matrix: torch.Tensor, power: float) -> torch.Tensor:
        values, vectors = torch.linalg.eigh(matrix)
        return vectors @ torch.diag(values.clamp_min(1e-8) ** power) @ vectors.T

    mean_s, cov_s = stats(source)
    mean_r, cov_r = stats(reference)
    transform = matrix_power(cov_r, 0.5) @ matrix_power(cov_s, -0.5)
    pixels = transform @ (source.reshape(3, -1).double() - mean_s) + mean_r
    return pixels.reshape(source.shape).to(source.dtype).clamp(0, 1)


def long_side_shape(shape: tuple[int, int], long_side: int) -> tuple[int, int]:
    """(H, W) scaled so that its longer side is `long_side`, aspect kept."""
    height, width = shape
    scale = long_side / max(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


def resize_long_side(image: torch.Tensor, long_side: int) -> torch.Tensor:
    """(C, H, W) -> (C, h, w) with max(h, w) == long_side, aspect kept; antialiased when shrinking."""
    size = long_side_shape(tuple(image.shape[-2:]), long_side)
    if size == tuple(image.shape[-2:]):
        return image
    shrink = size[0] < image.shape[-2]
    return F.interpolate(image[None], size=size, mode="bilinear", align_corners=False, antialias=shrink)[0]


# --- configuration and events ---


# StyleConfig lives in gan.config (the one home of defaults, readable without torch); imported above.
def check_blend_weights(weights: Sequence[float], what: str = "style blend weights") -> tuple[float, ...]:
    """Non-negative finite numbers with a positive sum."""
    weights = tuple(weights)
    for weight in weights:
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not math.isfinite(weight) or weight < 0:
            raise InvalidInputError(f"{what} must be numbers >= 0, got {weight!r}")
    if not weights or sum(weights) <= 0:
        raise InvalidInputError(f"{what} must not all be 0")
    return tuple(float(w) for w in weights)


def parse_blend_weights(text: str, count: int) -> tuple[float, ...]:
    """'2, 1' -> (2.0, 1.0) for `count` style images; '' -> () (equal weights)."""
    parts = [part.strip() for part in str(text or "").replace(";", ",").split(",") if part.strip()]
    if not parts:
        return ()
    try:
        weights = tuple(float(part) for part in parts)
    except ValueError:
        raise InvalidInputError(f"style weights {text!r}: write numbers like '2, 1', one per style image") from None
    if len(weights) != count:
        raise InvalidInputError(f"{len(weights)} style weights given for {count} style image(s): give one per image")
    return check_blend_weights(weights)


@dataclass
class StyleEvent:
    step: int  # loss evaluations so far, all levels together
    total_steps: int  # the budget of all levels
    level: int  # pyramid level, 0 = coarsest
    size: tuple[int, int]  # (H, W) of this level's image
    losses: dict[str, float]  # weighted terms: total, content, style, tv
    elapsed_s: float
    preview: torch.Tensor | None = None  # (3, H, W) RGB in [0, 1], CPU
    result: torch.Tensor | None = None  # the final image (3, H, W) at full size: last event only
    notes: list[str] = field(default_factory=list)
    planned_steps: int = 0  # every pass's full budget: a progress total that never changes during a run
    position: int = 0  # progress within planned_steps: a pass that ends early counts as done


def level_sizes(config: StyleConfig, content_shape: tuple[int, int]) -> list[int]:
    """Longer sides of the pyramid, coarse to fine; coarse levels with a shorter side under 32 px are left out."""
    height, width = content_shape
    aspect = min(height, width) / max(height, width)
    sizes = [config.size]
    while len(sizes) < config.levels and sizes[0] // 2 * aspect >= 32:
        sizes.insert(0, sizes[0] // 2)
    if config.size * aspect < 16:
        raise InvalidInputError(
            f"at {config.size} px the content's shorter side would be {config.size * aspect:.0f} px: "
            "choose a larger size or a less elongated image (16 px at least)"
        )
    return sizes


def plan_levels(config: StyleConfig, content_shape: tuple[int, int]) -> list[tuple[int, int]]:
    """(longer side, step budget) of every pass stylize() runs, coarse to fine; a coarse pass may end early."""
    sizes = level_sizes(config, content_shape)
    if config.coarse_steps == 0:
        sizes = sizes[-1:]
    return [(side, config.coarse_steps) for side in sizes[:-1]] + [(sizes[-1], config.steps)]


class StyleObjective:
    """The loss of one pyramid level. Targets (content features, blended Gram matrices) are computed once."""

    def __init__(
        self,
        network: VGGFeatures,
        content: torch.Tensor,
        styles: Sequence[torch.Tensor],
        blend: Sequence[float],
        config: StyleConfig,
    ) -> None:
        # content: (1, 3, H, W); styles: each (1, 3, h, w); blend: weights summing to 1
        self.network, self.config = network, config
        self.style_layer_weights = config.style_layer_weights or (1.0,) * len(config.style_layers)
        with torch.no_grad():
            features = network(content)
            self.content_targets = {name: features[name].float() for name in config.content_layers}
            self.gram_targets = {name: 0.0 for name in config.style_layers}
            for style, weight in zip(styles, blend, strict=True):
                features = network(style)
                for name in config.style_layers:
                    self.gram_targets[name] = self.gram_targets[name] + weight * gram_matrix(features[name])

        def scale(target: torch.Tensor) -> float:  # per-layer normalisation: a layer's loss is relative to its target
            return 1.0 / max(target.pow(2).mean().item(), 1e-12) if config.normalize == "target" else 1.0

        self.content_scales = {name: scale(t) for name, t in self.content_targets.items()}
        self.gram_scales = {name: scale(t) for name, t in self.gram_targets.items()}

    def __call__(self, image: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """(1, 3, H, W) in [0, 1] -> (weighted total, {content, style, tv} weighted terms)."""
        config = self.config
        features = self.network(image)
        content = sum(
            F.mse_loss(features[name].float(), target) * self.content_scales[name]
            for name, target in self.content_targets.items()
        )
        style = sum(
            F.mse_loss(gram_matrix(features[name]), self.gram_targets[name]) * self.gram_scales[name] * weight
            for name, weight in zip(config.style_layers, self.style_layer_weights, strict=True)
        )
        parts = {
            "content": config.content_weight * content,
            "style": config.style_weight * style,
            "tv": config.tv_weight * total_variation(image) if config.tv_weight else image.new_zeros(()),
        }
        return parts["content"] + parts["style"] + parts["tv"], parts


# --- the loop ---


def stylize(
    content: torch.Tensor,
    styles: Sequence[torch.Tensor],
    weights: VGG19Weights,
    config: StyleConfig | None = None,
    device: str | torch.device | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Iterator[StyleEvent]:
    """Render `content` (3, H, W) in the style of `styles` (each (3, h, w)), RGB in [0, 1]; yield events.

    Every loss evaluation yields an event; the last event carries `result`, the image at
    `config.size`, also when `should_stop()` returned True early (then it is the current image).
    """
    config = config or StyleConfig()
    if content.ndim != 3 or content.shape[0] != 3:
        raise InvalidInputError(f"content must be a (3, H, W) image, got shape {tuple(content.shape)}")
    if not styles:
        raise InvalidInputError("give at least one style image")
    for style in styles:
        if style.ndim != 3 or style.shape[0] != 3:
            raise InvalidInputError(f"style images must be (3, H, W), got shape {tuple(style.shape)}")
    if config.style_blend and len(config.style_blend) != len(styles):
        raise InvalidInputError(
            f"{len(config.style_blend)} style blend weights for {len(styles)} style image(s): give one per image"
        )
    blend = config.style_blend or (1.0,) * len(styles)
    blend = tuple(weight / sum(blend) for weight in blend)
    device = pick_device(device)
    plan = plan_levels(config, tuple(content.shape[-2:]))
    sizes, budgets = [side for side, _ in plan], [budget for _, budget in plan]
    network = VGGFeatures(weights, (*config.content_layers, *config.style_layers), config.pooling).to(device)
    luminance = config.preserve_colors == "luminance"
    generator = torch.Generator().manual_seed(config.seed)
    total_steps = planned = sum(budgets)
    started = time.monotonic()
    last_preview = -math.inf
    done, notes, stopped = 0, [], False
    image: torch.Tensor | None = None  # (1, C, H, W) the current solution; C = 1 under luminance transfer
    previous_content = content  # the content at the previous level, in the solution's colour space
    chroma: torch.Tensor | None = None  # (2, H, W) the content's I and Q channels, under luminance transfer
    losses: dict[str, float] = {}

    def to_rgb(solution: torch.Tensor) -> torch.Tensor:
        """(1, C, H, W) solution -> (3, H, W) RGB on CPU; luminance transfer takes the content's chroma."""
        if not luminance:
            return solution[0].detach().float().cpu().clamp(0, 1)
        yiq = torch.cat([solution[0].detach().float().cpu(), chroma], 0)
        return yiq_to_rgb(yiq).clamp(0, 1)

    for level, (long_side, budget) in enumerate(zip(sizes, budgets, strict=True)):
        # --- this level's images: content at this size, styles at style_scale of it ---
        content_l = resize_long_side(content.float().cpu(), long_side)
        style_side = max(16, round(long_side * config.style_scale))
        styles_l = [resize_long_side(style.float().cpu(), style_side) for style in styles]
        if config.preserve_colors == "histogram":
            styles_l = [match_colors(style, content_l) for style in styles_l]
        if luminance:
            yiq = rgb_to_yiq(content_l)
            content_l, chroma = yiq[:1], yiq[1:]
            styles_l = [match_luminance(rgb_to_yiq(style)[:1], content_l) for style in styles_l]

        def vgg_input(x: torch.Tensor) -> torch.Tensor:
            return x.expand(-1, 3, -1, -1) if luminance else x  # grey images for VGG under luminance transfer

        objective = StyleObjective(
            network,
            vgg_input(content_l[None].to(device)),
            [vgg_input(style[None].to(device)) for style in styles_l],
            blend,
            config,
        )

        # --- the starting image: content, noise, or the coarser level's result upsampled ---
        if image is None and config.init == "content":
            start = content_l[None]
        elif image is None:
            start = torch.rand(content_l[None].shape, generator=generator)
        elif config.init == "content":  # upsample only what stylisation changed; the content keeps its fine detail
            change = image.cpu() - previous_content[None]
            start = content_l[None] + F.interpolate(change, size=content_l.shape[-2:], mode="bilinear")
        else:
            start = F.interpolate(image.cpu(), size=content_l.shape[-2:], mode="bilinear", align_corners=False)
        previous_content = content_l
        solver = _LevelSolver(objective, start.to(device), vgg_input, config)
        x = solver.x
        best_loss, best_image = math.inf, x.detach().clamp(0, 1)
        bests: list[float] = []  # best loss after each step, to see a coarse level settle
        coarse = level < len(sizes) - 1
        level_note = ""
        for step in range(1, budget + 1):
            moved = solver.step()
            done += 1
            loss = solver.loss
            losses = {"total": loss, **solver.parts}
            if not math.isfinite(loss):
                level_note = f"level {level + 1}: the loss became {loss} at step {step}; kept the best image"
                break
            if loss < best_loss:
                best_loss, best_image = loss, solver.image
            bests.append(best_loss)
            stop = should_stop is not None and should_stop()
            converged = not moved
            settled = coarse and len(bests) > 10 and bests[-11] - best_loss < config.coarse_plateau * abs(bests[-11])
            elapsed = time.monotonic() - started
            final_step = step == budget or stop or converged or settled
            preview = None
            if final_step or elapsed - last_preview >= config.preview_every_s:
                last_preview = elapsed
                preview = to_rgb(best_image if final_step else solver.image)
            position = sum(budgets[:level]) + step
            yield StyleEvent(done, total_steps, level, tuple(x.shape[-2:]), losses, elapsed, preview,
                             planned_steps=planned, position=position)  # fmt: skip
            if stop:
                stopped = True
                level_note = f"stopped at step {done} of {total_steps}; kept the current image"
                break
            if converged:
                level_note = f"level {level + 1} converged after {step} of {budget} steps"
                break
            if settled:
                break
        if level_note:
            notes.append(level_note)
        image = best_image
        if stopped:
            break
        total_steps -= budget - step  # a level that ended early shortens the run

    result = to_rgb(image)
    final_shape = long_side_shape(tuple(content.shape[-2:]), config.size)
    if tuple(result.shape[-2:]) != final_shape:
        result = F.interpolate(result[None], size=final_shape, mode="bilinear", align_corners=False)[0].clamp(0, 1)
        notes.append(f"stopped at {image.shape[-1]}×{image.shape[-2]} px: upscaled to the output size")
    elapsed = time.monotonic() - started
    yield StyleEvent(done, done, len(sizes) - 1, tuple(result.shape[-2:]), losses, elapsed, result, result, notes,
                     planned_steps=planned, position=planned)  # fmt: skip


class _LevelSolver:
    """The optimisation of one pyramid level: the image being solved, its optimiser, the last evaluation."""

    def __init__(
        self,
        objective: StyleObjective,
        start: torch.Tensor,
        to_vgg: Callable[[torch.Tensor], torch.Tensor],
        config: StyleConfig,
    ) -> None:
        self.objective, self.to_vgg, self.config = objective, to_vgg, config
        # contiguous: L-BFGS flattens the gradient with view(), and a decoded picture arrives channels-last
        self.x = start.clamp(0, 1).contiguous().requires_grad_(True)  # (1, C, H, W)
        if config.optimizer == "lbfgs":
            # max_iter=1: each step() is one evaluation and one update, so the loop can report and stop in
            # between; L-BFGS keeps its memory across step() calls, so this is an ordinary L-BFGS run.
            self.optimizer: torch.optim.Optimizer = torch.optim.LBFGS(
                [self.x], lr=config.lr or 1.0, max_iter=1, history_size=config.history,
                tolerance_grad=config.tolerance_grad, tolerance_change=config.tolerance_change,
            )  # fmt: skip
        else:
            self.optimizer = torch.optim.Adam([self.x], lr=config.lr or 0.02)
        self.image = self.x.detach()  # the last evaluated image, in [0, 1]
        self.loss = math.inf
        self.parts: dict[str, float] = {}

    def _closure(self) -> torch.Tensor:
        self.optimizer.zero_grad(set_to_none=True)
        clamped = self.x.clamp(0, 1)  # the loss is that of the image we would return; no gradient outside [0, 1]
        with torch.autocast(self.x.device.type, dtype=torch.bfloat16, enabled=self.config.mixed_precision):
            total, parts = self.objective(self.to_vgg(clamped))
        total.backward()
        self.image, self.loss = clamped.detach(), total.item()
        self.parts = {name: value.detach().item() for name, value in parts.items()}
        return total

    def step(self) -> bool:
        """One evaluation and one update; False when L-BFGS declined to move (converged by its tolerances)."""
        before = self.x.detach().clone() if self.config.optimizer == "lbfgs" else None
        self.optimizer.step(self._closure)
        return before is None or not torch.equal(before, self.x.detach())
