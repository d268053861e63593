"""What a network costs, known before it exists: every memory bound of a model, in one place.

A network is first built on PyTorch's meta device (shapes, no storage) and run once there on one
meta latent, which gives its parameter count and the size of every activation without allocating
either. `check` refuses a config past the budgets below with a message naming the numbers, so a
2 KB config.json (or a tensor-shape header) asking for an absurd width costs nothing to turn away.
The same measurement sizes sampling batches, so a 1024 px model renders a few images at a time.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from gan.errors import InvalidInputError

# The budgets. A network here is one generator or one discriminator.
MAX_PARAMETERS = 100_000_000  # parameters + buffers of one network (400 MB in float32); StyleGAN2 at 1024 px has 30M
MAX_ACTIVATION_BYTES = 1 << 30  # the largest single activation of ONE image; StyleGAN2 at 1024 px peaks near 0.3 GiB
RENDER_BATCH_BYTES = 2 << 30  # sampling runs as many images at once as fit here, at 4x one image's largest activation
WORKING_SET_FACTOR = 4  # live tensors at any moment, in units of the largest one (input, output, a temporary or two)
FILE_SLACK_BYTES = 16 << 20  # a weights file's headers, names and metadata on top of its float32 tensors
MAX_NETWORK_BYTES = MAX_PARAMETERS * 4 + FILE_SLACK_BYTES  # one network's weights file, stored in float32


def max_file_bytes(networks: int) -> int:
    """The largest weights file a family may have when it stores `networks` networks (G, EMA G, D...)."""
    return networks * MAX_PARAMETERS * 4 + FILE_SLACK_BYTES


@dataclass(frozen=True)
class Cost:
    """One network's size, measured on the meta device."""

    parameters: int  # parameters + buffers
    peak_activation_bytes: int  # the largest tensor one image makes on its way through (0 if not measured)

    def images_per_batch(self, wanted: int) -> int:
        """How many images to render at once within RENDER_BATCH_BYTES (at least 1, at most `wanted`)."""
        per_image = max(1, self.peak_activation_bytes * WORKING_SET_FACTOR)
        return max(1, min(wanted, RENDER_BATCH_BYTES // per_image))


def _tensors(value: Any) -> list[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for item in value for t in _tensors(item)]
    return []


def measure(module_class: type[nn.Module], config: Any, run: bool = True) -> Cost:
    """Build `module_class(config)` on the meta device; with `run`, pass one meta latent through it. A hashable
    (frozen) config is measured once per process: building on the meta device costs 0.1-1 s (spectral norm's
    power iteration runs there too), and the same models are loaded, pulled and trained again and again."""
    try:
        hash(config)
    except TypeError:
        return _measure(module_class, config, run)
    return _measured(module_class, config, run)


def _measure(module_class: type[nn.Module], config: Any, run: bool) -> Cost:
    with torch.device("meta"):
        try:
            module = module_class(config)
        except RuntimeError as error:  # e.g. a shape whose element count overflows
            raise InvalidInputError(
                f"this {getattr(config, 'label', 'model')} config cannot be built: {error}"
            ) from None
    if run and (bound := plain_cost(module)) is not None:
        return bound
    count = sum(t.numel() for t in [*module.parameters(), *module.buffers()])
    peak = 0
    if run and count <= MAX_PARAMETERS and hasattr(module, "latent_dim"):

        def record(_module: nn.Module, _inputs: Any, output: Any) -> None:
            nonlocal peak
            for tensor in _tensors(output):
                peak = max(peak, tensor.numel() * tensor.element_size())

        handles = [m.register_forward_hook(record) for m in module.modules()]
        try:
            with torch.no_grad(), torch.device("meta"):
                module.eval()(torch.zeros(1, module.latent_dim))
        except RuntimeError as error:  # a shape too large to even describe
            raise InvalidInputError(f"this {getattr(config, 'label', 'model')} config cannot run: {error}") from None
        finally:
            for handle in handles:
                handle.remove()
    return Cost(count, peak)


_measured = functools.lru_cache(maxsize=256)(_measure)  # refusals raise, and are not kept


def plain_cost(module: nn.Module) -> Cost | None:
    """The cost of a plain stack of convolutions (a class with `plain_convolutions`), built on any device, without
    running it; None for other networks. No activation of such a stack holds more than its widest layer's channels
    at its output size (x2: a layer before a GLU doubles its channels). Running a network on the meta device first
    imports PyTorch's meta kernels: a second or more of the app's start, for the models that ship with it."""
    if not getattr(module, "plain_convolutions", False):
        return None
    count = sum(t.numel() for t in [*module.parameters(), *module.buffers()])
    widest = max((max(p.shape[:2]) for p in module.parameters() if p.ndim == 4), default=1)  # conv weights
    return Cost(count, 2 * widest * module.config.resolution**2 * 4)


def check(module_class: type[nn.Module], config: Any, role: str = "generator") -> Cost:
    """The network's cost, or InvalidInputError when it is past the budget: nothing is allocated either way."""
    cost = measure(module_class, config, run=role == "generator")
    label = getattr(config, "label", module_class.__name__)
    if cost.parameters > MAX_PARAMETERS:
        raise InvalidInputError(
            f"this {label} {role} would have {_count(cost.parameters)} parameters, above the budget of "
            f"{_count(MAX_PARAMETERS)}: refused before building it"
        )
    if cost.peak_activation_bytes > MAX_ACTIVATION_BYTES:
        raise InvalidInputError(
            f"this {label} {role} would need {cost.peak_activation_bytes / (1 << 30):.1f} GiB for one activation of "
            f"one image, above the budget of {MAX_ACTIVATION_BYTES / (1 << 30):.1f} GiB: refused before building it"
        )
    return cost


def _count(n: int) -> str:
    if n >= 10**9:
        return f"{n / 1e9:.1f}B"
    return f"{n / 1e6:.1f}M" if n >= 10**6 else str(n)


def sizes_fit(shapes: dict[str, tuple[int, ...]], label: str) -> int:
    """Elements of a tensor-shape header (name -> shape), refused past the budget of one network."""
    total = sum(math.prod(shape) for shape in shapes.values())
    if total > MAX_PARAMETERS:
        raise InvalidInputError(
            f"{label} holds {_count(total)} values, above the budget of {_count(MAX_PARAMETERS)} for one network"
        )
    return total
