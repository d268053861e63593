"""Other projects' checkpoints, read without running their code and written as GAN studio folders.

`FAMILIES` lists what loads (for people: the app's Hub tab, the README) and how each is recognised.
`read_checkpoint` decides a repo's family from its file names and small JSON files first (nothing
large is fetched for that), then, for bare weight files, from their tensor names and shapes (a
header, no tensor data), checks the cost of the model it would build against gan.models.budget,
and only then loads tensors and converts. Network access is gan.hub's: a reader sees `RepoFiles`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gan.checkpoint import CONFIG_NAME, WEIGHTS_NAME
from gan.formats import gan_studio, huggan_dcgan, huggan_fastgan, lightweight_gan, stylegan
from gan.formats.common import TORCH_PICKLES, Loaded, RepoFiles, fail, natural_key, read_header, state_of
from gan.formats.pickles import TensorInfo


@dataclass(frozen=True)
class Family:
    """One kind of checkpoint GAN studio reads."""

    name: str  # recorded as the pulled model's `format`
    label: str  # for people
    architecture: str  # the gan.models family it runs in
    examples: tuple[str, ...]  # Hub repos of this family
    loads: str  # what is read, in a phrase
    hub_filters: tuple[str, ...]  # Hub tags or libraries under which such repos are listed
    read: Callable[[RepoFiles, str, Path, dict[str, Any]], Loaded]
    match: Callable[[RepoFiles], str | None] | None = None  # from names and small JSON: the weights file
    match_keys: Callable[[set[str]], bool] | None = None  # from a weights file's tensor names
    licence_note: str = ""  # a licence that binds the weights whatever the repo says


FAMILIES: tuple[Family, ...] = (
    Family(gan_studio.NAME, "GAN studio", "dcgan / fastgan", ("gan-studio/mnist-dcgan",),
           "config.json + model.safetensors (+ discriminator/)", ("gan-studio",), gan_studio.read,
           match=gan_studio.match),
    Family(lightweight_gan.NAME, "lightweight-gan (lucidrains 1.1-1.2, huggingnft / HugGAN)", "lightweight_gan",
           ("huggingnft/cryptopunks",),
           "model.pt {'GAN': ...}: the EMA generator GE, shape from config.json / .config.json or the tensors",
           ("lightweight-gan", "huggingnft"), lightweight_gan.read,
           match=lightweight_gan.match, match_keys=lightweight_gan.match_keys),
    Family(stylegan.NAME, "StyleGAN2-ADA (NVlabs .pkl)", "stylegan2",
           (),  # any repo with a network-snapshot-*.pkl of NVlabs' StyleGAN2-ADA code
           "G_ema of a network pickle, read as data (its embedded code never runs); StyleGAN3 is refused",
           ("stylegan2", "stylegan2-ada", "stylegan3"), stylegan.read, match=stylegan.match,
           licence_note=stylegan.LICENCE_NOTE),
    Family(huggan_fastgan.NAME, "HugGAN FastGAN (1024 px)", "huggan_fastgan",
           ("huggan/fastgan-few-shot-grumpy-cat", "huggan/fastgan-few-shot-painting"),
           "pytorch_model.bin generator with spectral norm, recognised by its tensor names", ("huggan", "fastgan"),
           huggan_fastgan.read, match_keys=huggan_fastgan.match_keys),
    Family(huggan_dcgan.NAME, "HugGAN DCGAN (64 px)", "huggan_dcgan", ("huggan/dcgan-mnist",),
           "pytorch_model.bin or model.safetensors with model.0 ... model.12", ("huggan", "dcgan"),
           huggan_dcgan.read, match_keys=huggan_dcgan.match_keys),
)  # fmt: skip
REFUSED = {  # families recognised only to say why they do not load
    "StyleGAN3 (.pkl)": "recognised by its SynthesisInput layer and refused: its alias-free generator is not built yet",
    "any pickle that needs code": "refused, naming the global it would call",
}
BROWSE_FILTERS = ("gan", *dict.fromkeys(f for family in FAMILIES for f in family.hub_filters))


def family(name: str) -> Family | None:
    return next((f for f in FAMILIES if f.name == name), None)


def read_checkpoint(files: RepoFiles, stage: Path, origin: dict[str, Any]) -> Loaded:
    """Detect the family, fetch only what it needs, and write a GAN studio folder in `stage`."""
    for candidate in FAMILIES:
        weights = candidate.match(files) if candidate.match else None
        if weights:
            return candidate.read(files, weights, stage, origin)
    weights = pick_weights(files)
    keys = _flat_keys(read_header(files, weights, networks=lightweight_gan.NETWORKS))
    for candidate in FAMILIES:
        if candidate.match_keys is not None and candidate.match_keys(keys):
            return candidate.read(files, weights, stage, origin)
    shown = ", ".join(sorted(keys)[:4])
    known = ", ".join(f.label for f in FAMILIES)
    raise fail(files, f"{weights} holds tensors GAN studio does not recognise ({shown}, ...): it is none of {known}")


def _flat_keys(structure: Any, prefix: str = "") -> set[str]:
    state = state_of(structure)
    if state is not None:
        return {prefix + key for key in state}
    if isinstance(structure, dict):
        return {k for key, value in structure.items() if isinstance(key, str)
                for k in _flat_keys(value, f"{prefix}{key}.")}  # fmt: skip
    return {prefix.rstrip(".")} if isinstance(structure, TensorInfo) else set()


def pick_weights(files: RepoFiles) -> str:
    """The generator's weights file when no family claimed the repo by name, or an error naming what is there."""
    names = sorted(files.sizes)
    top = [n for n in names if "/" not in n]
    for preferred in (WEIGHTS_NAME, "pytorch_model.bin"):
        if preferred in top:
            return preferred
    pickles = [n for n in names if n.endswith(TORCH_PICKLES) and not n.startswith(".")]
    if pickles:  # e.g. models/<run>/model_<step>.pt: the latest step is the last in name order
        return max(pickles, key=lambda n: ("/" not in n, natural_key(n)))
    shown = ", ".join(n for n in names if n != ".gitattributes") or "nothing"
    raise fail(files, f"holds no generator weights GAN studio can read (found: {shown[:200]}). Expected "
                      f"{CONFIG_NAME} + {WEIGHTS_NAME}, a lightweight-gan model.pt, a StyleGAN .pkl or a HugGAN "
                      "pytorch_model.bin")  # fmt: skip
