"""The GAN training loop: one function that yields events and stops cleanly.

`train()` is a generator. Every `event_every` steps it yields a TrainEvent with
losses and discriminator outputs; every `preview_every_s` seconds the event also
carries a preview grid rendered from fixed noise by the EMA generator (so
previews are comparable across steps). The last event always carries a
TrainResult with the EMA generator, whether the run ended by step budget, time
budget or a stop request.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import nn

from gan.augment import diff_augment, parse_policy
from gan.config import DCGANConfig
from gan.device import pick_device
from gan.errors import InvalidInputError
from gan.images import make_grid
from gan.losses import LOSSES
from gan.models import build_discriminator, build_generator
from gan.sampling import latents_for_seeds


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 4000  # step budget (one D and one G update per step)
    time_budget_s: float = 0.0  # stop after this many seconds; 0 = no time limit
    batch_size: int = 64
    lr_g: float = 2e-4  # TTUR: D learns faster than G
    lr_d: float = 4e-4
    beta1: float = 0.0  # Adam betas (0, 0.99): the usual choice with spectral norm
    beta2: float = 0.99
    loss: str = "hinge"  # "hinge" or "nonsaturating"
    augment: str = "translation"  # DiffAugment policy, e.g. "color,translation,cutout"; "" for none
    augment_strength: float = 1.0
    ema_half_life_images: int = 5_000  # EMA of G weights, as a half-life in images seen
    ema_rampup: float = 0.05  # the half-life grows with training: at most rampup * images seen so far
    preview_every_s: float = 5.0
    preview_count: int = 16
    event_every: int = 10
    seed: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.steps, int) or self.steps < 1:
            raise InvalidInputError(f"steps must be a positive integer, got {self.steps!r}")
        if self.time_budget_s < 0:
            raise InvalidInputError(f"time_budget_s must be >= 0, got {self.time_budget_s!r}")
        if not 1 <= self.batch_size <= 1024:
            raise InvalidInputError(f"batch_size must be from 1 to 1024, got {self.batch_size!r}")
        if self.loss not in LOSSES:
            raise InvalidInputError(f"loss must be one of {', '.join(LOSSES)}, got {self.loss!r}")
        parse_policy(self.augment)
        for name in ("lr_g", "lr_d"):
            if not 0 < getattr(self, name) < 1:
                raise InvalidInputError(f"{name} must be in (0, 1), got {getattr(self, name)!r}")


@dataclass
class TrainResult:
    generator: nn.Module  # the EMA generator, eval mode, CPU
    discriminator: nn.Module  # CPU
    model_config: DCGANConfig
    metadata: dict[str, Any]


@dataclass
class TrainEvent:
    step: int
    elapsed_s: float
    losses: dict[str, float]
    d_real: float  # mean D logit on real images (hinge: healthy around +0.5..1)
    d_fake: float  # mean D logit on generated images
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
    for p_ema, p in zip(ema.parameters(), model.parameters(), strict=True):
        p_ema.lerp_(p, 1.0 - beta)
    for b_ema, b in zip(ema.buffers(), model.buffers(), strict=True):
        b_ema.copy_(b)  # BatchNorm running statistics follow G directly


def train(
    data: torch.Tensor,
    model_config: DCGANConfig,
    config: TrainConfig,
    device: str | torch.device | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Iterator[TrainEvent]:
    """Train a DCGAN pair from scratch on `data` (N, C, R, R) in [-1, 1]; yield events."""
    if data.ndim != 4 or data.shape[1:] != (model_config.channels, model_config.resolution, model_config.resolution):
        raise InvalidInputError(
            f"data has shape {tuple(data.shape)}; the model needs (N, {model_config.channels}, "
            f"{model_config.resolution}, {model_config.resolution})"
        )
    device = pick_device(device)
    torch.manual_seed(config.seed)
    d_loss_fn, g_loss_fn = LOSSES[config.loss]

    # --- models and optimisers ---
    generator = build_generator("dcgan", model_config).to(device).train()
    discriminator = build_discriminator("dcgan", model_config).to(device).train()
    generator_ema = copy.deepcopy(generator).eval().requires_grad_(False)
    opt_g = torch.optim.Adam(generator.parameters(), lr=config.lr_g, betas=(config.beta1, config.beta2))
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=config.lr_d, betas=(config.beta1, config.beta2))
    preview_latents = latents_for_seeds(range(config.preview_count), model_config.latent_dim).to(device)

    def augment(images: torch.Tensor) -> torch.Tensor:
        return diff_augment(images, config.augment, config.augment_strength) if config.augment else images

    def preview() -> torch.Tensor:
        with torch.no_grad():
            images = (generator_ema(preview_latents).float().cpu() + 1) / 2
        return make_grid(images.clamp(0, 1))

    data = data.to(device)
    started = time.monotonic()
    last_preview = -math.inf
    step = 0
    stop_reason = "step budget"
    for step in range(1, config.steps + 1):
        # --- discriminator step: real up, fake down ---
        real = data[torch.randint(0, data.shape[0], (config.batch_size,), device=device)]
        z = torch.randn(config.batch_size, model_config.latent_dim, device=device)
        with torch.no_grad():
            fake = generator(z)
        real_logits = discriminator(augment(real))
        fake_logits = discriminator(augment(fake))
        loss_d = d_loss_fn(real_logits, fake_logits)
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()

        # --- generator step: fool D through the same augmentation ---
        z = torch.randn(config.batch_size, model_config.latent_dim, device=device)
        loss_g = g_loss_fn(discriminator(augment(generator(z))))
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()

        # --- EMA of the generator ---
        update_ema(generator_ema, generator, ema_beta(step * config.batch_size, config.batch_size, config))

        elapsed = time.monotonic() - started
        if config.time_budget_s and elapsed >= config.time_budget_s:
            stop_reason = "time budget"
            break
        if should_stop is not None and should_stop():
            stop_reason = "stop requested"
            break
        if step % config.event_every == 0:
            show_preview = elapsed - last_preview >= config.preview_every_s
            if show_preview:
                last_preview = elapsed
            yield TrainEvent(
                step=step,
                elapsed_s=elapsed,
                losses={"d": loss_d.item(), "g": loss_g.item()},
                d_real=real_logits.mean().item(),
                d_fake=fake_logits.mean().item(),
                preview=preview() if show_preview else None,
            )

    elapsed = time.monotonic() - started
    metadata = {
        "trainer": "gan.train",
        "steps": step,
        "images_seen": step * config.batch_size,
        "seconds": round(elapsed, 1),
        "stopped_by": stop_reason,
        "dataset_size": int(data.shape[0]),
        "device": str(device),
        "train_config": asdict(config),
    }
    result = TrainResult(generator_ema.cpu(), discriminator.cpu().eval(), model_config, metadata)
    yield TrainEvent(
        step=step,
        elapsed_s=elapsed,
        losses={"d": loss_d.item(), "g": loss_g.item()},
        d_real=real_logits.mean().item(),
        d_fake=fake_logits.mean().item(),
        preview=preview_on_cpu(result.generator, preview_latents.cpu()),
        result=result,
        notes=[f"stopped by {stop_reason} after {step} steps in {elapsed:.0f} s"],
    )


@torch.no_grad()
def preview_on_cpu(generator: nn.Module, latents: torch.Tensor) -> torch.Tensor:
    return make_grid(((generator(latents).float() + 1) / 2).clamp(0, 1))
