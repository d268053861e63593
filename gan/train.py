"""The GAN training loop: one generator function that yields events and stops cleanly.

`train()` trains from scratch or fine-tunes a pretrained pair. Every
`event_every` steps it yields a TrainEvent with losses, discriminator outputs
and health signals; every `preview_every_s` seconds the event also carries a
preview grid rendered from fixed noise by the EMA generator (comparable across
steps). The last event always carries a TrainResult with the EMA generator and
a resumable RunState, whether the run ended by step budget, time budget, a stop
request or an unrecoverable NaN.

Defences against the usual ways GAN training fails:
- D wins too fast / overfits small data: DiffAugment on real and fake in both
  steps, its strength adapted ADA-style from r_t = E[sign(D(real))], D steps
  skipped (every other step at most) while r_t stays above `d_skip_threshold`, spectral norm in D, lazy R1,
  FreezeD when fine-tuning, TTUR. On few-shot greyscale sets the real images are also mildly jittered (rotation,
  scale, shift, warp) so that D cannot memorise them and G learns new variants rather than copies.
- Mode collapse: the diversity of a fixed latent batch is tracked and an alarm
  raised when it falls well below its best.
- Divergence: a NaN/inf loss restores the last good snapshot and halves the
  learning rates (at most `max_nan_recoveries` times).
"""

from __future__ import annotations

import copy
import math
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
from torch import nn

from gan.augment import diff_augment, jitter
from gan.card import origin_of
from gan.checkpoint import Checkpoint
from gan.config import AUTO_FREEZE_D_LAYERS, FEW_SHOT_MAX_IMAGES, TrainConfig
from gan.device import pick_device
from gan.errors import CheckpointError, GanError, InvalidInputError, one_line
from gan.formats.pickles import UnsafePickle, read_torch_header, torch_load_refusal
from gan.images import make_grid
from gan.losses import LOSSES
from gan.models import budget, build_discriminator, build_generator
from gan.sampling import latents_for_seeds

RUN_STATE_NAME = "run_state.pt"
RUN_STATE_NETWORKS = 8  # G, D, EMA G and both optimisers' two moments: the file's size bound, in networks
RESUMED_NOTE = "resumed at step {step}"
# A run from scratch whose fakes stay all alike for COLLAPSE_STEPS steps in a row (their spread over the batch
# under COLLAPSED_SPREAD of the real batch's) has collapsed: its D separates real from fake perfectly and G
# no longer learns, which at a few hundred steps no schedule undoes. It starts again from new weights.
COLLAPSED_SPREAD = 0.25
COLLAPSE_STEPS = 25
COLLAPSE_R_T = 0.99  # ... while D calls (nearly) every real image real
RESTART_SEED_STRIDE = 7919  # a restart's weights come from seed + stride * restarts


# TrainConfig lives in gan.config (the one home of defaults, readable without torch); imported above.
# On a CPU a read costs nothing (the step has finished when Python sees it), so the loop reads every step and
# decides with this step's numbers. On a GPU each read stalls the host until the GPU catches up, which with
# small models is most of a step: reading every 8 steps lets the host queue steps ahead (r_t, the D-skip and
# augmentation decisions then lag by up to 7 steps; NaN guard by up to 7 steps, restored from a snapshot).
ACCELERATOR_READ_EVERY = 8


def auto_augment_policy(dataset_size: int, channels: int) -> str:
    """DiffAugment policy by data: translation always; colour for RGB; cutout for few-shot sets."""
    policy = ["color"] if channels == 3 else []
    policy.append("translation")
    if dataset_size <= FEW_SHOT_MAX_IMAGES:
        policy.append("cutout")
    return ",".join(policy)


def auto_jitter_strength(dataset_size: int, channels: int) -> float:
    """Real-image jitter by data: on for few-shot greyscale sets, where on 100 digits it ended D's memorising
    and G's copying (README); off for larger sets, which have variety enough, and for colour sets, where on 169
    emoji in 2 minutes it cost precision and coverage for recall (FD 1.70 vs 1.32 in random-CNN features)."""
    return 1.0 if dataset_size <= FEW_SHOT_MAX_IMAGES and channels == 1 else 0.0


def auto_learning_rates(dataset_size: int, jitter_strength: float) -> tuple[float, float]:
    """(G, D) Adam learning rates: twice the usual 2e-4/4e-4 unless D could memorise the set, that is on a
    few-shot set without jitter. The doubled rates halved the FD of 2-minute runs on 4,000 MNIST digits and cut
    it by a third on 100 jittered digits; on 100 digits without jitter they let D memorise and G collapse."""
    if dataset_size <= FEW_SHOT_MAX_IMAGES and jitter_strength == 0:
        return 2e-4, 4e-4
    return 4e-4, 8e-4


def auto_r1_gamma(resolution: int, batch_size: int) -> float:
    """StyleGAN2-ADA's heuristic: gamma grows with the pixel count, shrinks with the batch."""
    return 0.0002 * resolution**2 / batch_size


@dataclass
class Health:
    """What the UI shows as badges: each field is a live signal from the loop."""

    r_t: float = 0.0  # E[sign(D(real))] over recent steps: 1 = D sure of every real image
    augment_strength: float = 0.0
    d_winning: bool = False  # r_t above the skip threshold: D is memorising
    d_skipping: bool = False  # this step's D update is skipped (every other step while D is winning)
    d_steps_skipped: int = 0
    diversity: float = 0.0  # mean pairwise distance of the fixed-noise previews
    collapse_risk: bool = False
    nan_recoveries: int = 0
    spread: float = 0.0  # the training fakes' spread over the batch, as a share of the real images' (0: all alike)
    restarts: int = 0  # times the run started again from new weights after its generator collapsed

    def badges(self) -> list[str]:
        badges = []
        if self.d_winning:
            badges.append("discriminator winning: skipping D steps")
        elif self.r_t > 0.8:
            badges.append("discriminator confident: augmentation raised")
        if self.collapse_risk:
            badges.append("collapse risk: samples are losing diversity")
        if self.nan_recoveries:
            badges.append(f"recovered from {self.nan_recoveries} NaN step(s): learning rates halved")
        if self.restarts:
            badges.append(f"started again {self.restarts} time(s) after the generator collapsed")
        return badges or ["healthy"]


@dataclass
class RunState:
    """Everything needed to resume: weights, optimiser moments, counters, RNG."""

    architecture: str
    model_config: Any
    train_config: TrainConfig
    step: int
    elapsed_s: float
    generator: dict[str, torch.Tensor]
    discriminator: dict[str, torch.Tensor]
    generator_ema: dict[str, torch.Tensor]
    opt_g: dict[str, Any]
    opt_d: dict[str, Any]
    augment_strength: float
    rng: torch.Tensor

    def save(self, folder: str | Path) -> Path:
        path = Path(folder) / RUN_STATE_NAME
        path.parent.mkdir(parents=True, exist_ok=True)
        document = asdict(self)
        document["model_config"] = self.model_config.to_dict()
        document["train_config"] = asdict(self.train_config)
        torch.save(document, path)
        return path

    @classmethod
    def load(cls, folder: str | Path) -> RunState:
        """Load with weights_only=True: plain tensors and containers, never code."""
        from gan.models import get_architecture

        path = Path(folder) / RUN_STATE_NAME
        if not path.is_file():
            raise CheckpointError(f"no {RUN_STATE_NAME} in {folder}: nothing to resume")
        # Sizes and globals first (a few KB of zip can inflate to GBs; a pickle can name os.system), then torch's
        # own restricted loader.
        refused = f"{path} is not a resumable run state: it"
        try:
            read_torch_header(path, budget.max_file_bytes(RUN_STATE_NETWORKS))
        except UnsafePickle as error:
            raise CheckpointError(
                f"{refused} is a pickle that needs code execution to load ({error}): refused"
            ) from None
        except CheckpointError as error:
            raise CheckpointError(f"{refused} {error}") from None
        try:
            document = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as error:  # untrusted bytes: UnpicklingError, RuntimeError, EOFError...
            raise CheckpointError(f"{refused} {torch_load_refusal(error)}") from error
        try:
            document["model_config"] = get_architecture(document["architecture"]).config_class.from_dict(
                document["model_config"]
            )
            document["train_config"] = TrainConfig(**document["train_config"])
            return cls(**document)
        except (GanError, KeyError, TypeError, ValueError, AttributeError) as error:
            raise CheckpointError(f"{path} is not a resumable run state: {one_line(error, 200)}") from error


def _origin(init: Checkpoint | None) -> dict[str, Any]:
    """The model a fine-tune started from, by public name, with its provenance (for the card's credit)."""
    if init is None:
        return {"fine_tuned_from": None}
    if not init.source:
        return {"fine_tuned_from": "an unsaved checkpoint"}
    name, source = origin_of(init.source)
    return {"fine_tuned_from": name, **({"base_source": source} if source else {})}


@dataclass
class TrainResult:
    generator: nn.Module  # the EMA generator, eval mode, CPU
    discriminator: nn.Module  # CPU
    architecture: str
    model_config: Any
    metadata: dict[str, Any]
    run_state: RunState

    def __getstate__(self) -> dict[str, Any]:
        # A result crosses processes pickled (ZeroGPU returns it from a forked worker), and modules with spectral
        # norm refuse to pickle: send their tensors, rebuild the modules on arrival.
        return {**self.__dict__, "generator": self.generator.state_dict(),
                "discriminator": self.discriminator.state_dict()}  # fmt: skip

    def __setstate__(self, state: dict[str, Any]) -> None:
        generator = build_generator(state["architecture"], state["model_config"])
        generator.load_state_dict(state["generator"])
        discriminator = build_discriminator(state["architecture"], state["model_config"])
        discriminator.load_state_dict(state["discriminator"])
        self.__dict__.update(state, generator=generator.eval(), discriminator=discriminator.eval())


@dataclass
class TrainEvent:
    step: int
    elapsed_s: float
    losses: dict[str, float]
    d_real: float  # mean D logit on real images (hinge: healthy around +0.5..1)
    d_fake: float  # mean D logit on generated images
    health: Health
    preview: torch.Tensor | None = None  # (C, H, W) grid in [0, 1]
    result: TrainResult | None = None  # set on the final event only
    notes: list[str] = field(default_factory=list)


def ema_beta(images_seen: int, batch_size: int, config: TrainConfig) -> float:
    """Decay per step for a half-life in images, ramped up early so EMA tracks a fast-moving G."""
    half_life = config.ema_half_life_images
    if config.ema_rampup > 0:
        half_life = min(half_life, images_seen * config.ema_rampup)
    return 0.5 ** (batch_size / max(half_life, 1e-8))


@torch.no_grad()
def update_ema(ema: nn.Module, model: nn.Module, beta: float) -> None:
    """ema <- beta * ema + (1 - beta) * model, in one fused call per group of tensors (few kernel launches)."""
    torch._foreach_lerp_(list(ema.parameters()), list(model.parameters()), 1.0 - beta)
    # Buffers are copied, until recalibrate_batchnorm() measures the EMA weights' own statistics.
    torch._foreach_copy_(list(ema.buffers()), list(model.buffers()))


@torch.no_grad()
def recalibrate_batchnorm(generator: nn.Module, latent_dim: int, batches: int, batch_size: int) -> None:
    """Re-measure the BatchNorm running statistics of `generator` on its own samples (fixed latents).

    The EMA generator's weights are an average that G's running statistics were never measured on, so sampling
    it in eval mode with them is off by the difference. On the 100-digit benchmark (2 minutes, seeds 2 and 0)
    re-measuring took FD from 142.9 to 135.7 and from 110.4 to 96.6. Uses its own RNG: the run's is untouched.
    """
    norms = [m for m in generator.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return
    momenta = [m.momentum for m in norms]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # a plain average over the batches below
    was_training = generator.training
    generator.train()
    device = next(generator.parameters()).device
    rng = torch.Generator(device=device).manual_seed(0)
    for _ in range(batches):
        generator(torch.randn(batch_size, latent_dim, generator=rng, device=device))
    for norm, momentum in zip(norms, momenta, strict=True):
        norm.momentum = momentum
    generator.train(was_training)


def freeze_lowest_convs(discriminator: nn.Module, count: int) -> int:
    """FreezeD: stop training the `count` convolutions nearest the image; return how many were frozen."""
    convs = [m for m in discriminator.modules() if isinstance(m, nn.Conv2d)]
    for conv in convs[:count]:
        conv.requires_grad_(False)
    return min(count, len(convs))


def diversity(images: torch.Tensor) -> float:
    """Mean pairwise L2 distance between images (B, C, H, W), per pixel: 0 = all identical."""
    flat = images.flatten(1).float()
    distances = torch.cdist(flat, flat) / math.sqrt(flat.shape[1])
    count = flat.shape[0]
    return float(distances.sum() / max(count * (count - 1), 1))


def r1_penalty(discriminator: nn.Module, real: torch.Tensor) -> torch.Tensor:
    """E ||grad_x D(x)||^2 on real images."""
    real = real.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(discriminator(real).sum(), real, create_graph=True)
    return grad.square().sum(dim=(1, 2, 3)).mean()


class RankSync:
    """Keeps data-parallel ranks in step under torchrun: same weights, averaged gradients, shared decisions.

    Gradients are all-reduced by hand after each backward (as StyleGAN2-ADA does) rather than through the
    DistributedDataParallel wrapper, which cannot double-backward through the R1 penalty. With one process
    every method is a no-op.
    """

    def __init__(self) -> None:
        distributed = torch.distributed.is_available() and torch.distributed.is_initialized()
        self.world = torch.distributed.get_world_size() if distributed else 1
        self.rank = torch.distributed.get_rank() if distributed else 0

    def broadcast(self, module: nn.Module) -> None:
        if self.world > 1:
            for tensor in [*module.parameters(), *module.buffers()]:
                torch.distributed.broadcast(tensor.data, src=0)

    def average_gradients(self, module: nn.Module) -> None:
        if self.world > 1:
            for parameter in module.parameters():
                if parameter.requires_grad:
                    if parameter.grad is None:
                        parameter.grad = torch.zeros_like(parameter)
                    torch.distributed.all_reduce(parameter.grad)
                    parameter.grad /= self.world

    def mean_(self, values: torch.Tensor) -> torch.Tensor:
        """`values` averaged over the ranks, in place."""
        if self.world > 1:
            torch.distributed.all_reduce(values)
            values /= self.world
        return values

    def any(self, flag: bool, device: torch.device) -> bool:
        if self.world == 1:
            return flag
        return bool(self.mean_(torch.tensor([float(flag)], dtype=torch.float64, device=device)) > 0)


@dataclass
class _Nets:
    """The live objects of one run, handed from phase to phase."""

    generator: nn.Module
    discriminator: nn.Module
    generator_ema: nn.Module
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer

    def state(self) -> dict[str, Any]:
        return {"g": self.generator.state_dict(), "d": self.discriminator.state_dict(),
                "ema": self.generator_ema.state_dict(), "opt_g": self.opt_g.state_dict(),
                "opt_d": self.opt_d.state_dict()}  # fmt: skip

    def load(self, state: dict[str, Any]) -> None:
        self.generator.load_state_dict(state["g"])
        self.discriminator.load_state_dict(state["d"])
        self.generator_ema.load_state_dict(state["ema"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])


@dataclass
class _StepTensors:
    """One step's statistics, left on the device: reading them makes the host wait for the device, so the
    loop reads many steps' at once every `read_every` steps (`_read`) rather than one `.item()` at a time."""

    sign_real: torch.Tensor  # mean sign(D(real)): this step's term of r_t
    d_real: torch.Tensor  # mean D logit on real images
    spread: torch.Tensor  # the fakes' per-pixel spread over the batch, as a share of the real batch's
    d_fake: torch.Tensor | None = None  # mean D logit on fakes; None when the D update was skipped
    loss_d: torch.Tensor | None = None  # None when the D update was skipped
    loss_g: torch.Tensor | None = None  # set by the G step


@dataclass
class _Readings:
    """What the host knows of the loop: the statistics of the last read step."""

    losses: dict[str, float] = field(default_factory=lambda: {"d": float("nan"), "g": float("nan")})
    d_real: float = float("nan")
    d_fake: float = float("nan")
    signs: deque[float] = field(default_factory=lambda: deque(maxlen=8))  # sign(D(real)) of recent steps, for r_t
    finite: bool = True
    spread: float = float("nan")  # the last read step's _StepTensors.spread
    alike_steps: int = 0  # consecutive steps whose fakes were all alike (spread under COLLAPSED_SPREAD)


def train(
    data: torch.Tensor,
    model_config: Any,
    config: TrainConfig,
    device: str | torch.device | None = None,
    should_stop: Callable[[], bool] | None = None,
    architecture: str = "dcgan",
    init: Checkpoint | None = None,
    resume: RunState | None = None,
) -> Iterator[TrainEvent]:
    """Train on `data` (N, C, R, R) in [-1, 1]; yield events; the last one carries the result.

    init: a pretrained checkpoint to fine-tune (its discriminator too when present).
    resume: a RunState saved by an earlier run; continues its step count, optimiser state and RNG.
    """
    # --- setup: choices by data, models, optimisers, resumed state ---
    if resume is not None:
        architecture, model_config = resume.architecture, resume.model_config
    elif init is not None:
        architecture, model_config = init.architecture, init.config
    expected = (model_config.channels, model_config.resolution, model_config.resolution)
    if data.ndim != 4 or tuple(data.shape[1:]) != expected:
        raise InvalidInputError(
            f"data has shape {tuple(data.shape)}; the model needs (N, {', '.join(map(str, expected))})"
        )
    device = pick_device(device)
    torch.manual_seed(config.seed)
    d_loss_fn, g_loss_fn = LOSSES[config.loss]
    policy = auto_augment_policy(len(data), model_config.channels) if config.augment == "auto" else config.augment
    jitter_strength = auto_jitter_strength(len(data), model_config.channels) if config.jitter < 0 else config.jitter
    r1_gamma = auto_r1_gamma(model_config.resolution, config.batch_size) if config.r1_gamma < 0 else config.r1_gamma
    read_every = config.read_every or (1 if device.type == "cpu" else ACCELERATOR_READ_EVERY)
    nets, frozen, notes = _build_nets(architecture, model_config, config, device, init, len(data), jitter_strength)
    lr_g, lr_d = nets.opt_g.param_groups[0]["lr"], nets.opt_d.param_groups[0]["lr"]
    health = Health(augment_strength=config.augment_strength if policy else 0.0)
    start_step, elapsed_before = 0, 0.0
    if resume is not None:
        nets.generator.load_state_dict(resume.generator)
        nets.discriminator.load_state_dict(resume.discriminator)
        nets.generator_ema.load_state_dict(resume.generator_ema)
        nets.opt_g.load_state_dict(resume.opt_g)
        nets.opt_d.load_state_dict(resume.opt_d)
        torch.set_rng_state(resume.rng)
        start_step, elapsed_before = resume.step, resume.elapsed_s
        health.augment_strength = resume.augment_strength
        notes.append(RESUMED_NOTE.format(step=start_step))
    sync = RankSync()
    for module in (nets.generator, nets.discriminator, nets.generator_ema):
        sync.broadcast(module)
    if sync.rank:
        torch.manual_seed(config.seed + 1000 * sync.rank)  # each rank draws its own batches and noise
    preview_latents = latents_for_seeds(range(config.preview_count), model_config.latent_dim).to(device)
    data = data.to(device, memory_format=torch.channels_last)
    best_diversity = 0.0

    def augment(images: torch.Tensor) -> torch.Tensor:
        return diff_augment(images, policy, health.augment_strength) if policy else images

    def render_preview(final: bool = False) -> torch.Tensor:
        nonlocal best_diversity
        ema = nets.generator_ema
        recalibrate_batchnorm(ema, model_config.latent_dim, 16 if final else 2, config.batch_size)
        with torch.no_grad():
            images = ((ema(preview_latents).float().cpu() + 1) / 2).clamp(0, 1)
        health.diversity = diversity(images)
        best_diversity = max(best_diversity, health.diversity)
        health.collapse_risk = health.diversity < config.collapse_ratio * best_diversity
        return make_grid(images)

    readings = _Readings()
    pending: list[_StepTensors] = []  # steps not read yet
    snapshot, snapshot_step = copy.deepcopy(nets.state()), start_step  # the last state known to be finite
    stop_reason = "step budget"

    restart_step = 0  # the EMA's ramp-up counts images from here: the start, or the last restart

    def restart(step: int) -> None:
        """Collapse guard (from scratch only): new weights from another seed, the step count going on."""
        nonlocal nets, snapshot, snapshot_step, best_diversity, restart_step
        health.restarts += 1
        torch.manual_seed(config.seed + RESTART_SEED_STRIDE * health.restarts + 1000 * sync.rank)
        nets, _, _ = _build_nets(architecture, model_config, config, device, None, len(data), jitter_strength)
        for module in (nets.generator, nets.discriminator, nets.generator_ema):
            sync.broadcast(module)
        readings.signs.clear()
        readings.alike_steps = 0
        health.augment_strength = config.augment_strength if policy else 0.0
        health.d_winning = health.d_skipping = False
        best_diversity, restart_step = 0.0, step
        snapshot, snapshot_step = copy.deepcopy(nets.state()), step
        notes.append(f"step {step}: the generator collapsed (its samples all alike, every one told from the real "
                     f"images), so training started again from new weights ({health.restarts} of "
                     f"{config.collapse_restarts})")  # fmt: skip

    def recover(step: int) -> bool:
        """NaN guard: restore the last finite state and halve the learning rates; False = give up."""
        nonlocal stop_reason
        readings.finite = True
        health.nan_recoveries += 1
        nets.load(snapshot)  # also when giving up: the steps since the last read may have left NaN weights
        if health.nan_recoveries > config.max_nan_recoveries:
            stop_reason = "repeated NaN losses"
            notes.append(f"stopped: losses were NaN {health.nan_recoveries} times despite recovery")
            return False
        for group in [*nets.opt_g.param_groups, *nets.opt_d.param_groups]:
            group["lr"] *= 0.5
        notes.append(f"step {step}: NaN loss, restored the last good state and halved the learning rates")
        return True

    started = time.monotonic()
    last_preview = -math.inf
    step = start_step
    for step in range(start_step + 1, config.steps + 1):
        # --- D step (skipped at most every other step while D memorises) and G step on the same fakes ---
        # Skip at most every other D step: a D that never updates keeps r_t high forever, and G collapses
        # onto whatever fools the frozen D.
        health.d_winning = bool(readings.signs) and health.r_t > config.d_skip_threshold
        health.d_skipping = health.d_winning and not health.d_skipping
        health.d_steps_skipped += health.d_skipping
        fake, tensors = _d_step(nets, data, model_config.latent_dim, config, step, health.d_skipping, augment,
                                jitter_strength, d_loss_fn, r1_gamma, sync)  # fmt: skip
        tensors.loss_g = _g_step(nets, fake, augment, g_loss_fn, sync)
        pending.append(tensors)

        # --- reads: statistics to the host every read_every steps (and for events); NaN guard ---
        read = step % read_every == 0 or step % config.event_every == 0 or step == config.steps
        if read:
            _read(pending, readings, sync)
            pending = []
            health.r_t = sum(readings.signs) / len(readings.signs)
            health.spread = readings.spread
            if not readings.finite:
                if not recover(step):
                    break
                continue
            collapsed = readings.alike_steps >= COLLAPSE_STEPS and health.r_t >= COLLAPSE_R_T
            if collapsed and init is None and health.restarts < config.collapse_restarts:
                restart(step)
                continue

        # --- bookkeeping: EMA of G; ADA-style augmentation strength from r_t; a snapshot of a finite state ---
        images_seen = (step - restart_step) * config.batch_size
        update_ema(nets.generator_ema, nets.generator, ema_beta(images_seen, config.batch_size, config))
        if policy and config.adaptive_augment:
            direction = 1.0 if health.r_t > config.ada_target else -1.0
            health.augment_strength = min(
                1.0, max(0.0, health.augment_strength + direction * config.batch_size / config.ada_speed_images)
            )
        if read and step - snapshot_step >= config.snapshot_every:
            snapshot, snapshot_step = copy.deepcopy(nets.state()), step

        elapsed = elapsed_before + time.monotonic() - started
        out_of_time = bool(config.time_budget_s) and time.monotonic() - started >= config.time_budget_s  # this call's
        if sync.any(should_stop is not None and should_stop(), device):  # first: a chain of calls ends only on this
            stop_reason = "stop requested"
            break
        if sync.any(out_of_time, device):
            stop_reason = "time budget"
            break
        if step % config.event_every == 0:
            show_preview = elapsed - last_preview >= config.preview_every_s
            if show_preview:
                last_preview = elapsed
            yield TrainEvent(
                step=step,
                elapsed_s=elapsed,
                losses=dict(readings.losses),
                d_real=readings.d_real,
                d_fake=readings.d_fake,
                health=copy.copy(health),
                preview=render_preview() if show_preview else None,
                notes=notes,
            )
            notes = []

    # --- finish: the EMA generator and a resumable state, whatever ended the run ---
    if pending:  # steps since the last read (a stop or the time budget ended the run between reads)
        _read(pending, readings, sync)
        health.r_t = sum(readings.signs) / len(readings.signs)
        if not readings.finite and stop_reason != "repeated NaN losses":
            nets.load(snapshot)
            notes.append(f"the last steps gave NaN losses: kept the state of step {snapshot_step}")
    elapsed = elapsed_before + time.monotonic() - started
    preview = render_preview(final=True)  # also re-measures the EMA generator's BatchNorm statistics
    sync.broadcast(nets.generator_ema)  # ranks hold the same weights; this only guards against drift
    run_state = RunState(
        architecture=architecture,
        model_config=model_config,
        train_config=config,
        step=step,
        elapsed_s=elapsed,
        generator=_to_cpu(nets.generator.state_dict()),
        discriminator=_to_cpu(nets.discriminator.state_dict()),
        generator_ema=_to_cpu(nets.generator_ema.state_dict()),
        opt_g=_to_cpu(nets.opt_g.state_dict()),
        opt_d=_to_cpu(nets.opt_d.state_dict()),
        augment_strength=health.augment_strength,
        rng=torch.get_rng_state(),
    )
    metadata = {
        "trainer": "gan.train",
        "architecture": architecture,
        "steps": step,
        "images_seen": step * config.batch_size * sync.world,
        "seconds": round(elapsed, 1),
        "stopped_by": stop_reason,
        "dataset_size": int(data.shape[0]),
        "device": str(device),
        "world_size": sync.world,
        "augment_policy": policy,
        "r1_gamma": r1_gamma,
        "learning_rates": {"g": lr_g, "d": lr_d},
        "real_jitter": jitter_strength,
        "frozen_d_layers": frozen,
        **_origin(init),
        "d_steps_skipped": health.d_steps_skipped,
        "nan_recoveries": health.nan_recoveries,
        "collapse_restarts": health.restarts,
        "train_config": asdict(config),
    }
    result = TrainResult(
        nets.generator_ema.cpu().eval(), nets.discriminator.cpu().eval(), architecture, model_config, metadata,
        run_state,
    )  # fmt: skip
    yield TrainEvent(
        step=step,
        elapsed_s=elapsed,
        losses=dict(readings.losses),
        d_real=readings.d_real,
        d_fake=readings.d_fake,
        health=copy.copy(health),
        preview=preview,
        result=result,
        notes=[*notes, f"stopped by {stop_reason} after {step} steps in {elapsed:.0f} s"],
    )


TrainCall = Callable[[TrainConfig, RunState | None], Iterator[TrainEvent]]  # one (GPU) call of train()
MIN_CALL_S = 5.0  # a remainder of the time budget shorter than this is not worth another call's start-up


def train_in_calls(
    call: TrainCall,
    config: TrainConfig,
    resume: RunState | None = None,
    max_call_s: float = 120.0,
    min_call_s: float = MIN_CALL_S,
) -> Iterator[TrainEvent]:
    """A run whose time budget is longer than one call may last, as a chain of calls of `call(config, state)`
    (e.g. `train` wrapped in a ZeroGPU function, which may hold the GPU only a few minutes per call). Each call
    trains for at most `max_call_s` and resumes from the RunState the previous call returned, so the chain
    trains exactly like one run (same steps, optimiser state and RNG). Yields every event of every call; a
    call's final event comes without its result unless it ends the run (by its time or step budget, a stop
    request or NaN losses), so the caller sees one run, previews included. A remainder of the budget shorter
    than `min_call_s` is not run.
    """
    if max_call_s <= 0 or math.isnan(max_call_s):
        raise InvalidInputError(f"max_call_s must be a positive number of seconds, got {max_call_s!r}")
    remaining = config.time_budget_s or math.inf  # 0 = no time limit: chain until the step budget ends the run
    state = resume
    while True:
        last = None
        for event in call(replace(config, time_budget_s=min(remaining, max_call_s)), state):
            if event.result is not None:
                last = event
                break
            if state is not None:  # the chain's own resumption is no news to the visitor
                event = replace(event, notes=[n for n in event.notes if n != RESUMED_NOTE.format(step=state.step)])
            yield event
        if last is None or last.result is None:
            raise RuntimeError("a training call ended without its final event")
        result = last.result
        remaining -= result.run_state.elapsed_s - (state.elapsed_s if state is not None else 0.0)
        if result.metadata["stopped_by"] != "time budget" or remaining < min_call_s:
            result.metadata["train_config"] = asdict(config)  # the run's budget, not the last call's share
            result.run_state.train_config = config
            yield last
            return
        state = result.run_state
        yield replace(last, result=None, notes=[f"step {last.step}: continuing in a new call ({remaining:.0f} s left)"])


def _build_nets(
    architecture: str,
    model_config: Any,
    config: TrainConfig,
    device: torch.device,
    init: Checkpoint | None,
    dataset_size: int,
    jitter_strength: float,
) -> tuple[_Nets, int, list[str]]:
    """G, D, the EMA copy of G and both optimisers, on `device`: (nets, D layers frozen, notes for the visitor)."""
    notes: list[str] = []
    generator = build_generator(architecture, model_config)
    discriminator = build_discriminator(architecture, model_config)
    if init is not None:
        generator.load_state_dict(init.generator.state_dict())
        if init.discriminator is not None:
            discriminator.load_state_dict(init.discriminator.state_dict())
    generator_ema = copy.deepcopy(generator)
    frozen = 0
    fine_tuning_pair = init is not None and init.discriminator is not None
    auto = AUTO_FREEZE_D_LAYERS if fine_tuning_pair else 0
    freeze = auto if config.freeze_d_layers < 0 else config.freeze_d_layers
    if freeze:
        frozen = freeze_lowest_convs(discriminator, freeze)
        notes.append(f"FreezeD: the {frozen} lowest discriminator layers are frozen")
    # channels_last: oneDNN's convolutions run 1.4-1.6x faster in it on this project's CPU box (not measured on
    # cuDNN). The layout is invisible to state_dict, checkpoints and callers.
    generator.to(device, memory_format=torch.channels_last).train()
    discriminator.to(device, memory_format=torch.channels_last).train()
    generator_ema.to(device, memory_format=torch.channels_last).eval().requires_grad_(False)
    auto_lr_g, auto_lr_d = auto_learning_rates(dataset_size, jitter_strength)
    betas = (float(config.beta1), float(config.beta2))
    opt_g = torch.optim.Adam(generator.parameters(), lr=config.lr_g or auto_lr_g, betas=betas, foreach=True)
    opt_d = torch.optim.Adam(
        [p for p in discriminator.parameters() if p.requires_grad], lr=config.lr_d or auto_lr_d, betas=betas,
        foreach=True,
    )  # fmt: skip
    return _Nets(generator, discriminator, generator_ema, opt_g, opt_d), frozen, notes


def _d_step(
    nets: _Nets,
    data: torch.Tensor,
    latent_dim: int,
    config: TrainConfig,
    step: int,
    skip: bool,
    augment: Callable[[torch.Tensor], torch.Tensor],
    jitter_strength: float,
    d_loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    r1_gamma: float,
    sync: RankSync,
) -> tuple[torch.Tensor, _StepTensors]:
    """Real images up, fakes down (or only D's view of the reals, when `skip`). Returns the fakes with their
    graph, which the G step reuses rather than running G again, and this step's statistics (on the device)."""
    device = data.device
    real = data[torch.randint(0, data.shape[0], (config.batch_size,), device=device)]
    z = torch.randn(config.batch_size, latent_dim, device=device)
    fake = nets.generator(z)  # (B, C, R, R), with its graph
    with torch.no_grad():
        spread = fake.float().std(0).mean() / real.float().std(0).mean().clamp_min(1e-6)
    real_aug = augment(jitter(real, jitter_strength))
    if skip:
        with torch.no_grad():
            real_logits = nets.discriminator(real_aug)
        return fake, _StepTensors(torch.sign(real_logits).mean(), real_logits.mean(), spread)
    if hasattr(nets.discriminator, "reconstruct"):  # FastGAN's D also decodes real images
        real_logits, reconstruction = nets.discriminator.reconstruct(real_aug)
    else:
        real_logits, reconstruction = nets.discriminator(real_aug), None
    fake_logits = nets.discriminator(augment(fake.detach()))
    loss_d = d_loss_fn(real_logits, fake_logits)
    if reconstruction is not None:
        loss_d = loss_d + reconstruction
    if r1_gamma > 0 and step % config.r1_interval == 0:  # lazy R1, scaled by its interval
        loss_d = loss_d + r1_gamma / 2 * r1_penalty(nets.discriminator, real_aug) * config.r1_interval
    nets.opt_d.zero_grad(set_to_none=True)
    loss_d.backward()
    sync.average_gradients(nets.discriminator)
    nets.opt_d.step()
    real_logits = real_logits.detach()
    return fake, _StepTensors(torch.sign(real_logits).mean(), real_logits.mean(), spread,
                              fake_logits.detach().mean(), loss_d.detach())  # fmt: skip


def _g_step(
    nets: _Nets,
    fake: torch.Tensor,
    augment: Callable[[torch.Tensor], torch.Tensor],
    g_loss_fn: Callable[[torch.Tensor], torch.Tensor],
    sync: RankSync,
) -> torch.Tensor:
    """Fool the updated D with the D step's fakes, through a fresh augmentation; returns the loss (on the device)."""
    loss_g = g_loss_fn(nets.discriminator(augment(fake)))
    nets.opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    sync.average_gradients(nets.generator)
    nets.opt_g.step()
    return loss_g.detach()


def _read(pending: list[_StepTensors], readings: _Readings, sync: RankSync) -> None:
    """Copy the statistics of the `pending` steps to the host in one transfer (averaged over ranks: a NaN on
    any rank stays a NaN). `readings.finite` turns False if any step's loss was NaN or infinite."""
    zero = torch.zeros_like(pending[0].d_real)
    rows = torch.stack([torch.stack([s.sign_real, s.d_real, zero if s.d_fake is None else s.d_fake,
                                     zero if s.loss_d is None else s.loss_d, s.loss_g, s.spread])
                        for s in pending])  # fmt: skip
    for s, values in zip(pending, sync.mean_(rows.double()).tolist(), strict=True):
        sign_real, d_real, d_fake, loss_d, loss_g, spread = values
        readings.spread = spread
        readings.alike_steps = readings.alike_steps + 1 if spread < COLLAPSED_SPREAD else 0
        skipped = s.loss_d is None
        readings.finite = readings.finite and math.isfinite(loss_g) and (skipped or math.isfinite(loss_d))
        readings.signs.append(sign_real)
        readings.d_real = d_real
        if not skipped:
            readings.d_fake, readings.losses["d"] = d_fake, loss_d
        readings.losses["g"] = loss_g


def _to_cpu(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().clone()
    if isinstance(value, dict):
        return {k: _to_cpu(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_to_cpu(v) for v in value)
    return value
