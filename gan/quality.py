"""Quality reports you can trust: every score with its uncertainty, beside the same score for real images.

How a report is made (`assess`):
- Feature space, most meaningful first (`choose_space`): the digit judge for greyscale digit-like images;
  the emoji judge for colour images; VGG19 (style transfer's network) when its weights are on this machine;
  the emoji judge reading grey images otherwise; a fixed random CNN only when no judge's weights are here.
- The real images (at most the space's `max_real`) are split in two halves, A and B. Generated samples are
  compared with A, and so is B: "real vs real", the floor. Both comparisons have the same sizes (`per_side`
  images a side), so they share the same small-sample bias and read directly against each other.
- Intervals are 95% ranges, mean ± 1.96 standard deviations, over SPLITS random splits: each split draws
  new halves A and B of the real images and a new half of the samples. (Bootstrap resampling with
  replacement was tried first: on the digit judge's FD it gave intervals 1.6 to 2.3 times too wide, because
  duplicated images bias FD and KID; repeated half-splits came within 1.2 times of the spread of independent
  draws.) A score is "worse" (or "better") than real only when the interval of its paired difference
  from the floor, split by split, lies wholly on one side of zero.
- With fewer than MIN_PER_SIDE images a side, FD, KID and precision/recall/coverage are left out: at that
  size their noise hides the difference between poor samples and real ones; FD also needs as many images
  a side as its features have dimensions. Always shown: the copying check (each sample's nearest training
  image in pixels, and the share of near-copies, beside the same for training images left out in turn, or
  for held-out images) and the samples' diversity (mean feature distance, as a multiple of the real
  images'), both with bootstrap intervals.

`report_lines` (plain text, the CLI) and `report_markdown` (the Fine-tune tab, model cards) render a report;
`to_dict` / `QualityReport.from_dict` carry it through a run's metadata.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from gan.errors import InvalidInputError
from gan.metrics import RandomFeatures, frechet_distance

FORMAT = "gan-studio-quality/1"
Z = 1.959964  # two-sided 95% normal quantile
MIN_PER_SIDE = 50  # images a side below which distribution scores are left out (see the module doc)
MAX_REAL = 500  # real images used at most, and as many samples: 250 a side
K_NEAREST = 5  # k of the k-NN balls of precision/recall/coverage
SPLITS = 20  # random half-splits (and bootstrap resamples) behind each interval
PRC = ("precision", "recall", "coverage")
NEAR_COPY_RATIO = 1 / 3  # a near-copy: its nearest training image is under a third as far as the second nearest
DIGIT_CONFIDENCE = 0.9  # the digit judge's mean top-class probability above which grey images are "digit-like"
CLASS_PRESENT = 0.02  # a class is present in the real images when the judge gives it this share of them,
MIN_CLASS_IMAGES = 5  # and at least this many: with fewer, whether samples hold half as many is a coin toss
MAX_CHECK_SIDE = 32  # the copying check compares pixels at this resolution at most (memory: 5,000 x 3,072)
SPACES = ("digits", "emoji", "vgg19", "random")


# --- feature spaces ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FeatureSpace:
    name: str  # one of SPACES
    label: str  # what the features are, in a phrase
    reason: str  # why this space was chosen for these images
    dim: int
    extract: Callable[[torch.Tensor], torch.Tensor]  # (B, C, H, W) in [-1, 1] -> (B, dim)
    classify: Callable[[torch.Tensor], torch.Tensor] | None = None  # (B, C, H, W) -> (B, len(classes)) probabilities
    classes: tuple[str, ...] = ()
    class_word: str = "classes"
    max_real: int = MAX_REAL
    trained: bool = True

    @torch.no_grad()
    def features(self, images: torch.Tensor, batch_size: int = 250) -> torch.Tensor:
        return torch.cat([self.extract(images[i : i + batch_size]) for i in range(0, len(images), batch_size)])

    @torch.no_grad()
    def predictions(self, images: torch.Tensor, batch_size: int = 250) -> torch.Tensor | None:
        if self.classify is None:
            return None
        return torch.cat(
            [self.classify(images[i : i + batch_size]).argmax(1) for i in range(0, len(images), batch_size)]
        )


def _is_grey(images: torch.Tensor) -> bool:
    return images.shape[1] == 1 or bool((images.amax(1) - images.amin(1)).abs().max() < 2 / 255)


def _judge_space(name: str, reason: str) -> FeatureSpace | None:
    from gan.judges import load_judge

    judge = load_judge(name)
    if judge is None:
        return None
    accuracy = judge.config.get("held_out_accuracy", {})
    if name == "digits":
        shown = accuracy.get("original_28px")
        label = f"the digit judge's {judge.config['feature_dim']}-d features (a classifier trained here on MNIST"
        return FeatureSpace(
            name,
            label + (f", {shown:.1%} held-out accuracy)" if shown else ")"),
            reason,
            int(judge.config["feature_dim"]),
            judge.features,
            judge.probabilities,
            judge.classes,
            "digits",
        )
    shown = accuracy.get("category")
    label = (
        f"the emoji judge's {judge.config['feature_dim']}-d features (a category classifier trained here on "
        "Noto emoji" + (f", {shown:.1%} held-out category accuracy)" if shown else ")")
    )
    return FeatureSpace(
        name,
        label,
        reason,
        int(judge.config["feature_dim"]),
        judge.features,
        judge.probabilities,
        judge.classes,
        "emoji categories",
    )


class _VGGPooled(nn.Module):
    """VGG19 up to relu3_1 at 32 px, channel means: 256-d. (At 64 px it costs four times as much.)"""

    def __init__(self, weights) -> None:
        super().__init__()
        from gan.style import VGGFeatures

        self.net = VGGFeatures(weights, ["relu3_1"])

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        rgb = ((images.float() + 1) / 2).expand(-1, 3, -1, -1)  # [-1, 1] grey or RGB -> [0, 1] RGB
        if rgb.shape[-1] != 32:
            rgb = F.interpolate(rgb, size=(32, 32), mode="bilinear", align_corners=False, antialias=rgb.shape[-1] > 32)
        return self.net(rgb)["relu3_1"].mean(dim=(2, 3))


def vgg_space(weights, reason: str) -> FeatureSpace:
    """Scores in VGG19's features; `weights` a gan.style.VGG19Weights (the pretrained ones, or a test's random ones)."""
    net = _VGGPooled(weights)
    return FeatureSpace(
        "vgg19",
        "VGG19's 256-d relu3_1 features at 32 px (ImageNet-trained: the network style transfer loads)",
        reason,
        256,
        net,
        max_real=400,
    )


def random_space(channels: int, reason: str) -> FeatureSpace:
    return FeatureSpace(
        "random",
        "a fixed random CNN's 256-d features (untrained: weak evidence, a last resort)",
        reason,
        256,
        RandomFeatures(channels),
        trained=False,
    )


def local_vgg19_weights():
    """Style transfer's VGG19 weights if they are already on this machine (never downloads), else None.

    Looked for: $GAN_STYLE_WEIGHTS when it names a file, torchvision's cache, the Hub cache of
    timm/vgg19.tv_in1k (where a Space's `preload_from_hub` puts it).
    """
    from gan import style

    candidates = [
        os.environ.get(style.WEIGHTS_ENV, ""),
        str(Path(torch.hub.get_dir()) / "checkpoints" / style.TORCHVISION_FILE),
    ]
    try:
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(style.DEFAULT_HUB_REPO, style.DEFAULT_HUB_FILE)
        candidates.append(cached if isinstance(cached, str) else "")
    except Exception:  # an unreadable cache is the same as no cache here
        pass
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return _load_vgg(candidate)
    return None


@lru_cache(maxsize=2)
def _load_vgg(path: str):
    from gan.errors import StyleWeightsError
    from gan.style import load_vgg19_weights

    try:
        return load_vgg19_weights(path)
    except StyleWeightsError:
        return None


def _digit_space(real: torch.Tensor, asked: bool) -> FeatureSpace | None:
    """The digit judge's space if it reads these images as digits (or was asked for), else None."""
    digits = _judge_space("digits", "")
    if digits is None or digits.classify is None:
        return None
    sample = real[torch.randperm(len(real), generator=torch.Generator().manual_seed(0))[:200]]
    confidence = float(digits.classify(sample).amax(1).mean())
    if not asked and confidence < DIGIT_CONFIDENCE:
        return None
    why = "asked for" if asked else f"digit-like: at least {DIGIT_CONFIDENCE}"
    return replace(
        digits, reason=f"greyscale images the digit judge reads with {confidence:.2f} mean confidence ({why})"
    )


UNAVAILABLE = {
    "digits": "the digit judge's weights are missing from weights/judges/digits",
    "emoji": "the emoji judge's weights are missing from weights/judges/emoji",
    "vgg19": "no VGG19 weights on this machine (see the README's style transfer section)",
}


def choose_space(real: torch.Tensor, name: str | None = None, vgg_weights=None) -> FeatureSpace:
    """The most meaningful feature space for (N, C, H, W) real images in [-1, 1], or the one `name`d.

    vgg_weights: VGG19 weights to use (gan.style.VGG19Weights); None looks for them on this machine.
    """
    if name is not None and name not in SPACES:
        raise InvalidInputError(f"unknown feature space {name!r}; choose from {', '.join(SPACES)}")
    asked, grey = name is not None, _is_grey(real)
    if name == "random":
        return random_space(real.shape[1], "asked for")
    if name in (None, "digits") and (grey or asked):
        space = _digit_space(real, asked)
        if space is not None:
            return space
    if name in (None, "emoji") and (not grey or asked):
        space = _judge_space("emoji", "asked for" if asked else "colour images")
        if space is not None:
            return space
    if name in (None, "vgg19"):
        weights = vgg_weights if vgg_weights is not None else local_vgg19_weights()
        if weights is not None:
            why = "greyscale images that are not digit-like" if grey else "colour images; no emoji judge here"
            return vgg_space(weights, "asked for" if asked else why)
    if asked:
        raise InvalidInputError(f"the {name} feature space is not available: {UNAVAILABLE[name]}")
    if grey:
        why = "greyscale images that are not digit-like and no VGG19 weights here: read as grey pictures"
        space = _judge_space("emoji", why)
        if space is not None:
            return space
    return random_space(real.shape[1], "no judge's weights are on this machine")


# --- the report --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Score:
    key: str  # fd, kid_x1000, precision, recall, coverage, nn_distance, near_copies, diversity
    value: float
    error: float  # the 95% interval is value ± error
    floor: float  # the same score for real images: real vs real (copying check: real images' own nearest)
    floor_error: float
    gap_error: float  # the 95% interval of value - floor is (value - floor) ± gap_error
    better: str  # "lower" or "higher": which side of the floor is better; "near": the floor is the target
    status: str  # "as real", "worse" or "better" than real; for better="near": "as real", "closer", "further"


@dataclass(frozen=True)
class ClassCoverage:
    present: int  # classes holding CLASS_PRESENT and MIN_CLASS_IMAGES of real half A (the judge's predictions)
    covered: int  # of those, classes holding at least half their real share of the samples
    floor_covered: int  # the same for the other half of the real images
    missing: tuple[str, ...]
    word: str = "classes"


@dataclass(frozen=True)
class QualityReport:
    space: str
    space_label: str
    space_reason: str
    real_count: int  # real images used
    per_side: int  # images on each side of each comparison: samples vs real half, real half vs real half
    sample_count: int  # samples in the copying and diversity checks
    scored: bool  # False: too few images to score the distribution
    scores: tuple[Score, ...]
    classes: ClassCoverage | None = None
    verdicts: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    floor_kind: str = "leave-one-out"  # copying check's floor: "leave-one-out" training images, or "held-out"
    seconds: float = 0.0
    min_per_side: int = MIN_PER_SIDE
    format: str = field(default=FORMAT)

    def score(self, key: str) -> Score | None:
        return next((s for s in self.scores if s.key == key), None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (a run's metadata, a model card's source): a number that is not finite becomes None."""
        data = asdict(self)
        data["scores"] = [{k: _finite(v) for k, v in score.items()} for score in data["scores"]]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> QualityReport:
        """Strict inverse of to_dict; InvalidInputError for anything else (metadata can come from anywhere)."""
        try:
            if data.get("format") != FORMAT:
                raise InvalidInputError(f"not a {FORMAT} quality report")
            nested = {
                "scores": lambda value: tuple(_record(Score, score) for score in _sequence(value)),
                "classes": lambda value: None if value is None else _record(ClassCoverage, value),
            }
            return _record(cls, data, nested)
        except InvalidInputError:
            raise
        except (AttributeError, KeyError, TypeError, ValueError) as error:
            raise InvalidInputError(f"not a {FORMAT} quality report: {error.__class__.__name__}") from error


def _finite(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _sequence(value: Any) -> list | tuple:
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"expected a list, got {type(value).__name__}")
    return value


def _typed(value: Any, annotation: str) -> Any:
    """`value` as the field type `annotation` names, or TypeError: no coercion of strings into numbers."""
    if annotation == "float" and value is None:
        return math.nan  # to_dict writes a number that is not finite as None
    if annotation == "float" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if annotation == "int" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if (annotation, type(value)) in (("str", str), ("bool", bool)):
        return value
    if annotation == "tuple[str, ...]":
        return tuple(_typed(item, "str") for item in _sequence(value))
    raise TypeError(f"expected {annotation}, got {type(value).__name__}")


def _record(kind: type, data: Mapping[str, Any], nested: Mapping[str, Callable[[Any], Any]] | None = None) -> Any:
    """A dataclass of `kind` from a dict, every field checked against its annotation."""
    nested = nested or {}
    fields = kind.__annotations__
    return kind(
        **{
            name: nested[name](data[name]) if name in nested else _typed(data[name], ann)
            for name, ann in fields.items()
        }
    )


# --- statistics ---------------------------------------------------------------------------------


def _kernel(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """KID's cubic polynomial kernel; features are scaled to unit mean square first (see `assess`)."""
    return (u @ v.T / u.shape[1] + 1) ** 3


def _mmd(kxx: torch.Tensor, kyy: torch.Tensor, kxy: torch.Tensor) -> float:
    """Unbiased MMD^2 x 1000 from the kernel matrices of two sets."""
    n, m = len(kxx), len(kyy)
    xx = (kxx.sum() - kxx.diagonal().sum()) / (n * (n - 1))
    yy = (kyy.sum() - kyy.diagonal().sum()) / (m * (m - 1))
    return float(1000 * (xx + yy - 2 * kxy.mean()))


def _prc(d_ref: torch.Tensor, d_other: torch.Tensor, d_cross: torch.Tensor) -> tuple[float, ...]:
    """Precision, recall (Kynkäänniemi et al. 2019), coverage (Naeem et al. 2020) of `other` against `ref`,
    from distances (R, R), (O, O), (R, O), with k-nearest-neighbour balls."""
    k = min(K_NEAREST, len(d_ref) - 1, len(d_other) - 1)
    radius_ref = d_ref.kthvalue(k + 1, dim=1).values  # k + 1: each point is at distance 0 from itself
    radius_other = d_other.kthvalue(k + 1, dim=1).values
    precision = (d_cross <= radius_ref[:, None]).any(0).double().mean()
    recall = (d_cross <= radius_other[None]).any(1).double().mean()
    coverage = (d_cross.min(1).values <= radius_ref).double().mean()
    return float(precision), float(recall), float(coverage)


def _splits(count: int, real_pool: int, sample_pool: int, per_side: int, generator: torch.Generator):
    """`count` random (A, B, G) index triples: A and B disjoint halves of the real pool, G half the samples."""
    for _ in range(count):
        real = torch.randperm(real_pool, generator=generator)
        yield (
            real[:per_side],
            real[per_side : 2 * per_side],
            torch.randperm(sample_pool, generator=generator)[:per_side],
        )


def _score(
    key: str,
    gen: list[float] | torch.Tensor,
    floor: list[float] | torch.Tensor,
    better: str,
    value: float | None = None,
    floor_value: float | None = None,
) -> Score:
    """From per-split (or per-resample) values of a score and its floor: values, 95% ranges, the verdict.

    gen[r] and floor[r] share their reference half, so gen - floor is read pairwise. The values are the
    means over splits unless given (the full-sample estimate, for bootstrapped scores).
    """
    gen, floor = torch.as_tensor(gen, dtype=torch.float64), torch.as_tensor(floor, dtype=torch.float64)
    value = float(gen.mean()) if value is None else value
    floor_value = float(floor.mean()) if floor_value is None else floor_value
    error, floor_error = Z * float(gen.std()), Z * float(floor.std())
    gap_error = Z * float((gen - floor).std())
    gap = value - floor_value
    if not math.isfinite(gap_error) or abs(gap) <= gap_error:
        status = "as real"
    elif better == "near":
        status = "closer" if gap < 0 else "further"
    else:
        status = "worse" if (gap > 0) == (better == "lower") else "better"
    return Score(key, value, error, floor_value, floor_error, gap_error, better, status)


def _bootstrap_weights(count: int, size: int, generator: torch.Generator) -> torch.Tensor:
    """(count, size) multiplicities of `count` resamples with replacement (as doubles)."""
    index = torch.randint(size, (count, size), generator=generator)
    return torch.zeros(count, size, dtype=torch.float64).scatter_add_(
        1, index, torch.ones(count, size, dtype=torch.float64)
    )


def _pixels(images: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) -> (N, C*h*w) at MAX_CHECK_SIDE px at most, for the copying check."""
    if images.shape[-1] > MAX_CHECK_SIDE:
        images = F.interpolate(images.float(), size=(MAX_CHECK_SIDE, MAX_CHECK_SIDE), mode="area")
    return images.flatten(1).float()


def _nearest(samples: torch.Tensor, training: torch.Tensor, exclude_self: bool = False) -> torch.Tensor:
    """(N, 2): each sample's distances to its nearest and second-nearest training image (row i of `training`
    is sample i itself when exclude_self)."""
    distances = torch.cdist(samples, training)
    if exclude_self:
        distances.fill_diagonal_(float("inf"))
    return distances.topk(2, dim=1, largest=False).values


# --- assessment ---------------------------------------------------------------------------------


def _check_images(images: torch.Tensor, what: str) -> None:
    if not isinstance(images, torch.Tensor) or images.dim() != 4 or images.shape[1] not in (1, 3):
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise InvalidInputError(f"{what} must be an (N, 1 or 3, H, W) tensor, got {shape}")
    if not images.is_floating_point() or not torch.isfinite(images).all():
        raise InvalidInputError(f"{what} must be finite floats in [-1, 1]")


def assess(
    samples: torch.Tensor,
    real: torch.Tensor,
    training: torch.Tensor | None = None,
    space: FeatureSpace | str | None = None,
    seed: int = 0,
    splits: int = SPLITS,
) -> QualityReport:
    """Score generated `samples` against `real` images, both (N, C, H, W) in [-1, 1] on the CPU.

    real: the images the distribution is compared with (at most `space.max_real` of them are used).
    training: the generator's training images, for the copying check; None means `real` is the training set,
    and the check's floor is then real images' nearest *other* training image; otherwise it is the `real`
    images' nearest training image (held-out images beside the samples).
    space: a FeatureSpace, a name from SPACES, or None to choose (`choose_space`).
    Give as many samples as real images: each comparison uses half of each.
    """
    started = time.monotonic()
    _check_images(samples, "samples")
    _check_images(real, "real images")
    if training is not None:
        _check_images(training, "training images")
    if samples.shape[1:] != real.shape[1:] or (training is not None and training.shape[1:] != real.shape[1:]):
        raise InvalidInputError(
            f"samples {tuple(samples.shape[1:])} and real images {tuple(real.shape[1:])} differ in channels or size"
        )
    if len(real) < 2 or len(samples) < 2 or (training is not None and len(training) < 2):
        raise InvalidInputError(f"need at least 2 real images and 2 samples, got {len(real)} and {len(samples)}")
    samples, real = samples.detach().cpu().float(), real.detach().cpu().float()
    leave_one_out = training is None
    training = real if training is None else training.detach().cpu().float()
    space = space if isinstance(space, FeatureSpace) else choose_space(real, space)
    generator = torch.Generator().manual_seed(seed)
    chosen = torch.randperm(len(real), generator=generator)[: space.max_real]
    real = real[chosen]
    per_side = min(len(real), len(samples)) // 2
    scored = per_side >= MIN_PER_SIDE
    notes: list[str] = []
    scores: list[Score] = []
    classes = None

    real_features = space.features(real).double()  # (n, D)
    sample_features = space.features(samples).double()  # (m, D)
    if scored:
        fr, fs = real_features[: 2 * per_side], sample_features[: 2 * per_side]
        scale = fr.square().mean().sqrt().clamp(min=1e-12)  # KID's kernel expects unit-scale features
        k_rr, k_ss, k_sr = (
            _kernel(fr / scale, fr / scale),
            _kernel(fs / scale, fs / scale),
            _kernel(fs / scale, fr / scale),
        )
        d_rr, d_ss, d_sr = torch.cdist(fr, fr), torch.cdist(fs, fs), torch.cdist(fs, fr)
        rows: dict[str, tuple[list[float], list[float]]] = {k: ([], []) for k in ("fd", "kid_x1000", *PRC)}
        with_fd = per_side >= space.dim
        for a, b, g in _splits(splits, len(fr), len(fs), per_side, generator):
            if with_fd:
                rows["fd"][0].append(frechet_distance(fs[g], fr[a]))
                rows["fd"][1].append(frechet_distance(fr[b], fr[a]))
            rows["kid_x1000"][0].append(_mmd(k_ss[g][:, g], k_rr[a][:, a], k_sr[g][:, a]))
            rows["kid_x1000"][1].append(_mmd(k_rr[b][:, b], k_rr[a][:, a], k_rr[b][:, a]))
            generated = _prc(d_rr[a][:, a], d_ss[g][:, g], d_sr[g][:, a].T)
            other_half = _prc(d_rr[a][:, a], d_rr[b][:, b], d_rr[b][:, a].T)
            for key, gen_value, floor_value in zip(PRC, generated, other_half, strict=True):
                rows[key][0].append(gen_value)
                rows[key][1].append(floor_value)
        if not with_fd:
            notes.append(
                f"FD is left out: in these {space.dim}-d features it needs at least {space.dim} images a side "
                f"({2 * space.dim} real images and as many samples), here {per_side}."
            )
        for key, (gen_values, floor_values) in rows.items():
            if gen_values:
                scores.append(
                    _score(key, gen_values, floor_values, "lower" if key in ("fd", "kid_x1000") else "higher")
                )
        if space.classify is not None:
            classes = _class_coverage(space, samples[: 2 * per_side], real[:per_side], real[per_side : 2 * per_side])
        kid = next(s for s in scores if s.key == "kid_x1000")
        if min(kid.value, kid.floor) < 0:
            notes.append(
                "KID below zero means zero within its noise: it is an unbiased estimate of a squared distance, "
                "so small true values scatter around zero."
            )

    # checks that need no distribution: copying (pixels) and diversity (features), on every sample
    train_pixels = _pixels(training)
    sample_nearest = _nearest(_pixels(samples), train_pixels)
    if leave_one_out:
        floor_nearest = _nearest(train_pixels[: space.max_real], train_pixels, exclude_self=True)
        floor_kind = "leave-one-out"
    else:
        floor_nearest, floor_kind = _nearest(_pixels(real), train_pixels), "held-out"
    boot_samples = torch.randint(len(sample_nearest), (splits, len(sample_nearest)), generator=generator)
    boot_floor = torch.randint(len(floor_nearest), (splits, len(floor_nearest)), generator=generator)
    sample_first, floor_first = sample_nearest[:, 0], floor_nearest[:, 0]
    scores.append(
        _score(
            "nn_distance",
            sample_first[boot_samples].median(1).values,
            floor_first[boot_floor].median(1).values,
            "near",
            value=float(sample_first.median()),
            floor_value=float(floor_first.median()),
        )
    )
    # blurred or average-looking samples are near every training image; a copy is near one of them
    sample_copies = (sample_first < NEAR_COPY_RATIO * sample_nearest[:, 1]).double()  # inf second: no copy
    floor_copies = ((floor_first < NEAR_COPY_RATIO * floor_nearest[:, 1]) & floor_nearest[:, 1].isfinite()).double()
    copies = _score(
        "near_copies",
        sample_copies[boot_samples].mean(1),
        floor_copies[boot_floor].mean(1),
        "lower",
        value=float(sample_copies.mean()),
        floor_value=float(floor_copies.mean()),
    )
    if copies.value == copies.floor == 0:
        copies = replace(copies, status="as real")
    scores.append(copies)
    w_samples = _bootstrap_weights(splits, len(sample_features), generator)
    w_real = _bootstrap_weights(splits, len(real_features), generator)
    ratio = _mean_pairwise(sample_features, w_samples) / _mean_pairwise(real_features, w_real)
    full = _mean_pairwise(sample_features, torch.ones(1, len(sample_features), dtype=torch.float64))
    full = full / _mean_pairwise(real_features, torch.ones(1, len(real_features), dtype=torch.float64))
    diversity = _score("diversity", ratio, torch.ones_like(ratio), "higher", value=float(full), floor_value=1.0)
    scores.append(diversity)

    report = QualityReport(
        space=space.name,
        space_label=space.label,
        space_reason=space.reason,
        real_count=len(real),
        per_side=per_side,
        sample_count=len(samples),
        scored=scored,
        scores=tuple(scores),
        classes=classes,
        notes=tuple(notes),
        floor_kind=floor_kind,
    )
    verdicts = _verdicts(report, space)
    return replace(report, verdicts=tuple(verdicts), seconds=round(time.monotonic() - started, 2))


def _mean_pairwise(features: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Mean distance between two images of each weighted resample (R, N): pairs of different draws."""
    distances = torch.cdist(features, features)  # zero diagonal: a draw paired with itself adds nothing
    n = weights.sum(1)
    return ((weights @ distances) * weights).sum(1) / (n * (n - 1)).clamp(min=1)


def _class_coverage(space: FeatureSpace, samples, half_a, half_b) -> ClassCoverage:
    """Classes the judge finds in real half A, and how many of them the samples and real half B hold."""
    counts = [
        torch.bincount(space.predictions(x), minlength=len(space.classes)).double() for x in (half_a, samples, half_b)
    ]
    real_share, sample_share, other_share = (count / count.sum() for count in counts)
    present = (real_share >= CLASS_PRESENT) & (counts[0] >= MIN_CLASS_IMAGES)
    covered = present & (sample_share >= real_share / 2)
    floor_covered = present & (other_share >= real_share / 2)
    missing = tuple(space.classes[i] for i in torch.nonzero(present & ~covered).flatten().tolist())
    return ClassCoverage(int(present.sum()), int(covered.sum()), int(floor_covered.sum()), missing, space.class_word)


def _verdicts(report: QualityReport, space: FeatureSpace) -> list[str]:
    """The report in plain words: the distribution, classes, copying, diversity."""
    lines = []
    if not report.scored:
        lines.append(
            f"Too few images to score the distribution: {report.per_side} a side (from {report.real_count} real "
            f"images and {report.sample_count} samples); it takes at least {MIN_PER_SIDE} a side for FD, KID and "
            "precision/recall/coverage to tell poor samples from real ones. What can still be said:"
        )
    else:
        distribution = [s for s in report.scores if s.key in ("fd", "kid_x1000", *PRC)]
        worse = [LABELS[s.key] for s in distribution if s.status == "worse"]
        better = [LABELS[s.key] for s in distribution if s.status == "better"]
        if worse:
            lines.append(
                f"Measurably worse than real images on {_join(worse)}: beyond the real-vs-real noise at "
                f"{report.per_side} images a side."
            )
        else:
            lines.append(f"No score is measurably worse than real vs real, at {report.per_side} images a side.")
        if better:
            lines.append(
                f"Better than real vs real on {_join(better)}: the samples sit closer to the real images than other "
                "real images do, which is what copies of them would do. See the copying check."
            )
        precision = report.score("precision")
        if precision is not None and precision.status == "worse":
            lines.append(
                f"Precision {precision.value:.2f} (real {precision.floor:.2f}): {1 - precision.value:.0%} of samples "
                f"lie outside every real image's neighbourhood (real: {1 - precision.floor:.0%})."
            )
        coverage = report.score("coverage")
        if coverage is not None and coverage.status == "worse":
            lines.append(
                f"Coverage {coverage.value:.2f} (real {coverage.floor:.2f}): the samples miss part of the "
                "real images' variety."
            )
        if report.classes is not None:
            c = report.classes
            missing = f"; missing: {', '.join(c.missing)}" if c.missing else ""
            lines.append(
                f"Covers {c.covered} of the {c.present} {c.word} found in the real images (real vs real: "
                f"{c.floor_covered}){missing}."
            )
    nearest, copies = report.score("nn_distance"), report.score("near_copies")
    assert nearest is not None and copies is not None
    who = "held-out images" if report.floor_kind == "held-out" else "training images, leave-one-out"
    if copies.status == "worse":
        lines.append(
            f"Possible copying: {copies.value:.0%} of samples are near-copies of a training image (nearest under a "
            f"third as far as the second nearest; {who}: {copies.floor:.0%})."
        )
    else:
        lines.append(
            f"No sign of copying: {copies.value:.0%} of samples are near-copies of a training image ({who}: "
            f"{copies.floor:.0%}); median distance to the nearest training image {nearest.value:.1f} ({who}: "
            f"{nearest.floor:.1f})."
        )
    diversity = report.score("diversity")
    assert diversity is not None
    reading = {
        "worse": "less varied than the real images (collapse risk)",
        "as real": "as varied as the real images",
        "better": "more varied than the real images (noise or artefacts?)",
    }[diversity.status]
    lines.append(f"Diversity {diversity.value:.2f} ± {diversity.error:.2f} times the real images': {reading}.")
    if not space.trained:
        lines.append("These scores come from an untrained network's features: weak evidence either way.")
    return lines


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def assess_generator(
    generator: nn.Module,
    real: torch.Tensor,
    space: FeatureSpace | str | None = None,
    seed: int = 0,
    training: torch.Tensor | None = None,
) -> QualityReport:
    """`assess` a generator's samples for seeds 0, 1, ... against `real` images (N, C, H, W) in [-1, 1].

    As many samples as real images are used (at most the space's max_real), and at least 64 for the copying
    and diversity checks. Runs on the CPU (see the README's quality section for its time).
    """
    from gan.sampling import latents_for_seeds, render

    real = real.detach().cpu().float()
    chosen = space if isinstance(space, FeatureSpace) else choose_space(real, space)
    count = max(min(len(real), chosen.max_real), 64)
    samples = render(generator, latents_for_seeds(range(count), generator.latent_dim), device="cpu")
    return assess(samples * 2 - 1, real, training, chosen, seed)


# --- rendering: plain text and Markdown ----------------------------------------------------------------

LABELS = {
    "fd": "FD",
    "kid_x1000": "KID ×1000",
    "precision": "precision",
    "recall": "recall",
    "coverage": "coverage",
    "nn_distance": "nearest training image (pixel distance, median)",
    "near_copies": "near-copies of a training image",
    "diversity": "diversity (× the real images')",
}
READING = {"as real": "as real", "worse": "worse than real", "better": "better than real",
           "closer": "closer than real", "further": "further than real"}  # fmt: skip
SPECIAL_READING = {("near_copies", "worse"): "copying?", ("diversity", "worse"): "less varied than real",
                   ("diversity", "better"): "more varied than real"}  # fmt: skip


def _number(key: str, value: float, error: float) -> str:
    if key == "near_copies":
        return f"{value:.0%} ± {error:.0%}"
    if abs(value) >= 100:
        return f"{value:.0f} ± {error:.0f}"
    return f"{value:.3g} ± {error:.2g}"


def _row(score: Score) -> tuple[str, str, str, str]:
    floor = "1" if score.key == "diversity" else _number(score.key, score.floor, score.floor_error)
    reading = SPECIAL_READING.get((score.key, score.status), READING[score.status])
    return LABELS[score.key], _number(score.key, score.value, score.error), floor, reading


def _how(report: QualityReport) -> str:
    return (
        f"± is a 95% range over {SPLITS} random half-splits (distribution scores: {report.per_side} samples "
        f"against half of {report.real_count} real images, beside the other half against the same half) or "
        f"{SPLITS} bootstrap resamples (the checks, on {report.sample_count} samples)."
    )


def report_lines(report: QualityReport) -> list[str]:
    """Plain text for the CLI: what was measured where, each score beside real vs real, the verdicts."""
    lines = [f"quality, in {report.space_label}; chosen for {report.space_reason}"]
    lines += [f"  {line}" for line in report.verdicts]
    for score in report.scores:
        label, value, floor, reading = _row(score)
        lines.append(f"  {label}: {value} (real vs real: {floor}) - {reading}")
    if report.classes is not None:
        c = report.classes
        lines.append(f"  {c.word} covered: {c.covered} of {c.present} (real vs real: {c.floor_covered})")
    lines += [f"  {note}" for note in (*report.notes, _how(report))]
    return lines


def report_markdown(report: QualityReport) -> str:
    """Markdown for the Fine-tune tab and model cards: the verdicts, then the table, then how to read it."""
    table = ["| score | generated | real vs real | reading |", "|---|---|---|---|"]
    table += ["| " + " | ".join(_row(score)) + " |" for score in report.scores]
    if report.classes is not None:
        c = report.classes
        missing = "all present" if not c.missing else "missing: " + ", ".join(c.missing)
        table.append(
            f"| {c.word} covered | {c.covered} of {c.present} | {c.floor_covered} of {c.present} | {missing} |"
        )
    return "\n".join(
        [
            f"**Quality**, in {report.space_label}; chosen for {report.space_reason}.",
            "",
            *[f"- {line}" for line in report.verdicts],
            "",
            *table,
            "",
            *[f"*{note}*  " for note in (*report.notes, _how(report))],
        ]
    )
