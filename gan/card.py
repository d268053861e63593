"""Model cards and upload bundles: what a pushed repo holds, built offline.

`write_bundle` lays out the folder that `gan.hub.push` uploads (and that the app
offers as a zip when a push fails): the generator (and optionally the
discriminator) as safetensors + config.json, a sample grid and a README.md whose
YAML metadata the Hub indexes. Nothing here touches the network.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import quote

from gan.checkpoint import (
    CONFIG_NAME,
    DISCRIMINATOR_DIR,
    WEIGHTS_NAME,
    Checkpoint,
    load_checkpoint,
    parse_json,
    read_config,
)
from gan.config import DEFAULT_SPACE, GenerateConfig
from gan.errors import CheckpointError, InvalidInputError
from gan.formats import family
from gan.images import make_grid, save_png, to_pil, upscale
from gan.quality import FORMAT as QUALITY_FORMAT
from gan.quality import QualityReport, report_markdown
from gan.sampling import generate

SOURCE_NAME = "source.json"  # provenance of a pulled model (repo, commit, license), written by gan.hub
SAMPLES_NAME = "samples.png"
SAMPLE_SEEDS = GenerateConfig(seed=0, count=16, size=256)  # the card's grid: seeds 0..15, no truncation, <= 256 px each
DEFAULT_LICENSE = "apache-2.0"  # the studio's own licence, for models trained here with nothing to inherit
LICENSES = ("apache-2.0", "mit", "cc-by-4.0", "cc-by-sa-4.0", "cc-by-nc-4.0", "openrail", "other")  # offered for cards
KNOWN_DATASETS = {"mnist": "ylecun/mnist"}  # built-in training sets -> their Hub dataset ids
QUALITY_KEYS = ("fid", "kid", "precision", "recall", "inception_score")
HUB_URL = "https://huggingface.co"
BADGE = "https://huggingface.co/datasets/huggingface/badges/resolve/main/open-in-hf-spaces-md.svg"
NVIDIA_LICENCE = {  # StyleGAN weights stay under the licence of the code that made them, whatever their repo says
    "license": "other",
    "license_name": "nvidia-source-code-license-nc",
    "license_link": "https://github.com/NVlabs/stylegan2-ada-pytorch/blob/main/LICENSE.txt",
}


def space_url(space_id: str, endpoint: str = HUB_URL) -> str:
    """A Space's page on the Hub (also its git address)."""
    return f"{endpoint.rstrip('/')}/spaces/{space_id}"


def model_app_link(repo_id: str, space_id: str = DEFAULT_SPACE, endpoint: str = HUB_URL) -> str:
    """The address that opens GAN studio on `space_id` with `repo_id` selected (a permalink, see gan.share)."""
    return f"{space_url(space_id, endpoint)}?model={quote(repo_id, safe='/')}"


def read_source(folder: str | Path) -> dict[str, Any]:
    """The provenance record of a pulled model, or {} for a model made here (or an unreadable record)."""
    path = Path(folder) / SOURCE_NAME
    try:
        data = parse_json(path.read_bytes(), SOURCE_NAME) if path.is_file() and path.stat().st_size < 1 << 16 else {}
    except (OSError, CheckpointError):
        return {}
    return data if isinstance(data, dict) else {}


# -- names, not paths: what a published file may say about this machine ----------------------------

# An absolute path inside free text: "/home/me/cats", "~/data", "C:\\Users\\me": not after a word character, a
# dot or a separator, so URLs ("https://hf.co/x"), relative paths and "G/D" are left alone.
_ABSOLUTE_PATH = re.compile(r"""(?<![\w.:/\\~-])(?:~|[A-Za-z]:)?[/\\][^\s'"`|,;()<>\[\]{}]+""")


def public_name(path: str | Path) -> str:
    """A local path as the name it ends with ("/home/me/runs/cats/" -> "cats"): what a published file may say."""
    return re.split(r"[/\\]", str(path).rstrip("/\\"))[-1] or "folder"


def scrub_paths(value: Any) -> Any:
    """Text or JSON-like data with every absolute local path replaced by its last name (keys and values)."""
    if isinstance(value, str):
        return _ABSOLUTE_PATH.sub(lambda match: public_name(match.group(0)), value)
    if isinstance(value, dict):
        return {scrub_paths(key): scrub_paths(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub_paths(item) for item in value]
    return value


def public_command(command: str) -> str:
    """A command line whose path arguments are their last names: `--out /home/me/runs/cats` -> `--out cats`."""
    try:
        words = shlex.split(command)
    except ValueError:  # unbalanced quotes: treat it as text
        return scrub_paths(command)
    public = []
    for word in words:
        option, equals, value = word.partition("=") if word.startswith("-") and "=" in word else ("", "", word)
        if "://" not in value and (re.search(r"[/\\]", value) or value.startswith("~")):
            value = public_name(value)
        public.append(option + equals + value)
    return shlex.join(public)


def public_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """A checkpoint's metadata as it may be published: the command line and every other value without paths."""
    public = dict(metadata)
    if isinstance(public.get("command"), str):
        public["command"] = public_command(public["command"])
    return scrub_paths(public)


def inherited_source(folder: str | Path, metadata: dict[str, Any]) -> dict[str, Any]:
    """Where a model's weights come from: its own source.json (pulled), else the record of the model its
    fine-tuning started from (`base_source`, see `origin_of`); {} for a model made here from scratch."""
    source = read_source(folder)
    if source:
        return source
    base = metadata.get("base_source")
    if isinstance(base, dict):
        return base
    parent = metadata.get("fine_tuned_from")
    if isinstance(parent, str) and Path(parent).is_absolute() and Path(parent).is_dir():
        return read_source(parent)  # a run saved before names were recorded: its parent's folder, where it was
    return {}


def origin_of(folder: str | Path) -> tuple[str, dict[str, Any]]:
    """What a fine-tune records of the model it starts from: a public name (the Hub repo it was pulled from, or
    its folder's name) and that model's provenance without local paths (so a pushed card can credit it)."""
    source = read_source(folder)
    name = str(source["repo_id"]) if isinstance(source.get("repo_id"), str) else public_name(Path(folder).resolve())
    if not source:
        try:
            source = inherited_source(folder, read_config(folder)[2])
        except CheckpointError:
            source = {}
    return name, scrub_paths({key: value for key, value in source.items() if key != "source"})


def licence_note(source: dict[str, Any]) -> str | None:
    """A licence bound to the weights themselves (NVIDIA's for StyleGAN pickles), recorded when they were read."""
    notes = source.get("notes") if isinstance(source.get("notes"), dict) else {}
    note = notes.get("licence_note")
    return note if isinstance(note, str) else None


def provenance(folder: str | Path) -> list[str]:
    """Lines for a person about where a pulled model came from and under which licence ([] if made here)."""
    source = read_source(folder)
    if not source:
        return []
    known = family(str(source.get("format", "")))
    where = source.get("url") or source.get("repo_id") or source.get("source") or "?"
    commit = f" (commit {str(source['revision'])[:12]})" if source.get("revision") else ""
    lines = [f"source: {where}{commit}"]
    if source.get("format"):
        lines.append(f"format: {known.label if known else source['format']}, from {source.get('weights', '?')}")
    lines.append(f"license: {source.get('license') or 'not stated in the source model card'}")
    if licence_note(source):
        lines.append(f"weights licence: {licence_note(source)}")
    return lines


def card_metadata(checkpoint: Checkpoint, source: dict[str, Any], license: str | None = None) -> dict[str, Any]:
    """The card's YAML block: what the Hub indexes and filters on."""
    meta = checkpoint.metadata
    datasets = [KNOWN_DATASETS[meta["data"]]] if meta.get("data") in KNOWN_DATASETS else []
    datasets += [d for d in source.get("datasets") or [] if isinstance(d, str) and d not in datasets]
    data: dict[str, Any] = {
        "library_name": "pytorch",
        "license": license or source.get("license") or meta.get("license") or DEFAULT_LICENSE,
        "pipeline_tag": "unconditional-image-generation",
        "tags": ["gan", checkpoint.architecture.replace("_", "-"), "gan-studio", "unconditional-image-generation"],
    }
    if datasets:
        data["datasets"] = datasets
    if source.get("repo_id"):
        data["base_model"] = source["repo_id"]
    if licence_note(source) and not license:
        data.update(NVIDIA_LICENCE)
    return data


def _credit(source: dict[str, Any]) -> str:
    """Who made the weights this model comes from, and the licence they carry."""
    known = family(str(source.get("format", "")))
    kind = known.label if known else "GAN studio"
    if source.get("format") in (None, "gan-studio"):
        text = f"The weights come from [{source['repo_id']}]({source.get('url') or ''}), a {kind} checkpoint."
    else:
        text = (f"GAN studio converted this model from [{source['repo_id']}]({source.get('url') or ''}), a {kind} "
                f"checkpoint (`{source.get('weights', '?')}`): same weights, GAN studio's own format.")  # fmt: skip
    licence = source.get("license")
    text += f" Its model card states the licence `{licence}`." if licence else " Its model card states no licence."
    if licence_note(source):
        text += f" **The weights are under the {licence_note(source)}.**"
    return text


def _yaml(data: dict[str, Any]) -> str:
    from huggingface_hub import ModelCardData  # the Hub's own YAML writer: keys in the order the Hub expects

    return ModelCardData(**data).to_yaml().rstrip("\n") + "\n"


def _table(rows: list[tuple[str, Any]]) -> str:
    lines = ["| | |", "|---|---|"]
    lines += [f"| {key} | {str(value).replace('|', '/')} |" for key, value in rows]
    return "\n".join(lines)


def _number(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value if value is not None else "")


def _quality(meta: dict[str, Any]) -> str:
    """The run's quality numbers: a gan.quality report, an older gan.metrics one, or loose keys."""
    report = meta.get("quality")
    if isinstance(report, dict) and report.get("format") == QUALITY_FORMAT:
        try:
            return report_markdown(QualityReport.from_dict(report))
        except InvalidInputError:
            return "The quality report recorded with this checkpoint is unreadable."
    if isinstance(report, dict) and isinstance(report.get("generated"), dict):
        floor = report.get("real_floor") if isinstance(report.get("real_floor"), dict) else {}
        rows = [
            f"| {key} | {_number(value)} | {_number(floor.get(key))} |" for key, value in report["generated"].items()
        ]
        return "\n".join([
            "Measured after training on features of a fixed random CNN, not Inception: compare each number with "
            "the real-vs-real floor beside it, not with published FIDs.", "",
            "| metric | generated vs real | real vs real (floor) |", "|---|---|---|", *rows,
        ])  # fmt: skip
    loose = {key: meta[key] for key in QUALITY_KEYS if key in meta}
    for group in ("metrics", "health"):
        if isinstance(meta.get(group), dict):
            loose.update({f"{group}.{key}": value for key, value in sorted(meta[group].items())})
    return _table(list(loose.items())) if loose else "No quality numbers were recorded for this checkpoint."


def model_card(
    checkpoint: Checkpoint,
    repo_id: str,
    *,
    source: dict[str, Any] | None = None,
    license: str | None = None,
    with_discriminator: bool = False,
    samples: str | None = SAMPLES_NAME,
    app_space: str | None = None,
    endpoint: str = HUB_URL,
) -> str:
    """The README.md of a pushed model: metadata, samples, training record, quality, usage.

    `app_space`: the GAN studio Space the card links to ("open this model in the app", and where
    the `gan` package of the usage snippets comes from); None leaves the link out.
    """
    source = source or {}
    meta = public_metadata(checkpoint.metadata)
    c = checkpoint.config
    name = repo_id.split("/")[-1]
    parts = [f"---\n{_yaml(card_metadata(checkpoint, source, license))}---\n", f"# {name}\n"]
    parts.append(
        f"An unconditional image GAN made with GAN studio: a **{checkpoint.architecture}** generator that turns a "
        f"{c.latent_dim}-dimensional Gaussian latent into a {c.resolution}x{c.resolution} "
        f"{'RGB' if c.channels == 3 else 'greyscale'} image ({checkpoint.parameter_count / 1e6:.2f}M parameters)."
    )
    if source.get("repo_id"):
        base = f"[{source['repo_id']}]({source.get('url') or ''})"
        parts.append(f"It derives from {base} (commit `{source.get('revision')}`).")
        parts.append("\n## Source and licence\n")
        parts.append(_credit(source))
    if app_space:
        parts.append(f"\n[![Open in GAN studio]({BADGE})]({model_app_link(repo_id, app_space, endpoint)})")
    if samples:
        parts.append(f"\n![Samples for seeds 0-15]({samples})\n\n*Seeds 0-15, truncation ψ = 1 (none).*")

    parts.append("\n## Training\n")
    rows = [(key, meta[key]) for key in ("trainer", "data", "dataset_size", "steps", "images_seen", "seconds",
                                         "stopped_by", "device", "machine") if key in meta]  # fmt: skip
    train_config = meta.get("train_config") if isinstance(meta.get("train_config"), dict) else {}
    rows += [(f"train_config.{key}", value) for key, value in sorted(train_config.items())]
    if rows:
        parts.append(_table(rows))
        if meta.get("command"):
            parts.append(f"\nReproduce with:\n\n```bash\n{meta['command']}\n```")
    else:
        parts.append("No training record came with this checkpoint.")

    parts.append("\n## Quality\n")
    parts.append(_quality(meta))

    files = f"`{CONFIG_NAME}` + `{WEIGHTS_NAME}` (generator)"
    if with_discriminator:
        files += f", `{DISCRIMINATOR_DIR}/` (discriminator, to fine-tune further)"
    parts.append("\n## Use this model\n")
    if app_space:
        link = model_app_link(repo_id, app_space, endpoint)
        parts.append(
            f"**In the browser**: [open {repo_id} in GAN studio]({link}) to sample it by seed and truncation, walk "
            "its latent space or fine-tune it on your own pictures; each result has a link that reproduces it.\n"
        )
        where = (
            "GAN studio's `gan` package comes with the app: "
            f"`git clone {space_url(app_space, endpoint)} gan-studio && cd gan-studio && "
            "pip install -r requirements.txt`, then, in that folder:"
        )
    else:
        where = "With GAN studio's `gan` package (it comes with the GAN studio app), in the app's folder:"
    parts.append(
        f"{where}\n\n"
        "**Python**\n\n"
        "```python\n"
        "from gan.checkpoint import load_checkpoint\n"
        "from gan.config import GenerateConfig\n"
        "from gan.hub import pull\n"
        "from gan.sampling import generate\n\n"
        f'model = load_checkpoint(pull("{repo_id}").folder)\n'
        "images = generate(model.generator, GenerateConfig(seed=0, count=16))  # (16, C, H, W) in [0, 1]\n"
        "```\n\n"
        "**Command line**\n\n"
        "```bash\n"
        f"python -m gan pull {repo_id} --out models/{name}\n"
        f"python -m gan generate --model models/{name} --seed 0 --count 16 --grid --out samples/\n"
        "```\n\n"
        f"Files: {files}. Weights are safetensors (no pickles); `config.json` holds the architecture's "
        "constructor arguments and the training record. Image *i* of a request uses seed *first + i*: the same "
        "seed gives the same image on any machine."
    )
    return "\n".join(parts) + "\n"


def write_bundle(
    folder: str | Path,
    out: str | Path,
    repo_id: str,
    *,
    with_discriminator: bool = False,
    license: str | None = None,
    app_space: str | None = DEFAULT_SPACE,
    endpoint: str = HUB_URL,
) -> list[str]:
    """Lay out what a push uploads in `out`; returns the relative paths written.

    `app_space`: the GAN studio Space the model card links to (None: no link)."""
    folder, out = Path(folder), Path(out)
    checkpoint = load_checkpoint(folder, with_discriminator=with_discriminator)
    if with_discriminator and checkpoint.discriminator is None:
        raise CheckpointError(f"{folder.name} has no {DISCRIMINATOR_DIR}/ to push: push the generator alone")
    out.mkdir(parents=True, exist_ok=True)
    written = [CONFIG_NAME, WEIGHTS_NAME]
    write_public_config(folder / CONFIG_NAME, out / CONFIG_NAME)
    shutil.copy2(folder / WEIGHTS_NAME, out / WEIGHTS_NAME)
    if with_discriminator:
        (out / DISCRIMINATOR_DIR).mkdir(exist_ok=True)
        write_public_config(folder / DISCRIMINATOR_DIR / CONFIG_NAME, out / DISCRIMINATOR_DIR / CONFIG_NAME)
        shutil.copy2(folder / DISCRIMINATOR_DIR / WEIGHTS_NAME, out / DISCRIMINATOR_DIR / WEIGHTS_NAME)
        written += [f"{DISCRIMINATOR_DIR}/{CONFIG_NAME}", f"{DISCRIMINATOR_DIR}/{WEIGHTS_NAME}"]
    images = generate(checkpoint.generator, SAMPLE_SEEDS, device="cpu")  # (16, C, H, W)
    grid = upscale(to_pil(make_grid(images, columns=4)[None])[0], 512)
    save_png(grid, out / SAMPLES_NAME, {"model": repo_id, "seeds": "0-15", "truncation": 1.0})
    source = scrub_paths(inherited_source(folder, checkpoint.metadata))  # a fine-tune credits the model it started from
    card = model_card(checkpoint, repo_id, source=source, license=license, with_discriminator=with_discriminator,
                      app_space=app_space, endpoint=endpoint)  # fmt: skip
    (out / "README.md").write_text(card, encoding="utf-8")
    return [*written, SAMPLES_NAME, "README.md"]


def write_public_config(source: Path, destination: Path) -> None:
    """Copy a checkpoint's config.json (read by load_checkpoint already) with its metadata made publishable."""
    document = parse_json(source.read_bytes(), CONFIG_NAME)
    if isinstance(document.get("metadata"), dict):
        document["metadata"] = public_metadata(document["metadata"])
    destination.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
