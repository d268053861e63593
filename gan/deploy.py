"""Publish GAN studio as a Hugging Face Space: `python -m gan deploy SPACE_ID` and the Hub tab's "Publish".

`stage_space` lays out, offline, exactly what the Space repo will hold:

- the app: `app.py`, the `ui` and `gan` packages (their `.py` files), `requirements.txt`;
- the embedded checkpoints of `weights/` (weights, configs, discriminator, samples, card and record; not the
  training previews nor the resumable optimiser state), the bundled style examples and the quality report's
  judges (`weights/judges/`);
- the default model visitors see first, named in `weights/default_model.txt` (which the app reads at
  start): an embedded model, a checkpoint folder (copied into `weights/`), or a Hub repo (pulled when the
  Space starts; a private one is copied in instead, since the Space's visitors could not pull it);
- `README.md`, whose front matter configures the Space: title, sdk (gradio, or docker with its
  `Dockerfile`), sdk_version (the gradio pin of requirements.txt), python_version, app_file, `hf_oauth`,
  `models:` (the Hub checkpoints it uses), `preload_from_hub` (the style network, fetched at build time).

`deploy` resolves the default model, stages the folder and hands it to `gan.hub.publish_space`, which
creates or updates the Space with an explicit token. Every failure is a GanError (HubError for the Hub).
"""

from __future__ import annotations

import importlib.metadata
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gan.card import HUB_URL, SOURCE_NAME, inherited_source, scrub_paths, space_url, write_public_config
from gan.checkpoint import CONFIG_NAME, DISCRIMINATOR_DIR, WEIGHTS_NAME, load_checkpoint, read_config
from gan.errors import CheckpointError, InvalidInputError
from gan.hub import REPO_ID, endpoint, full_repo_id, parse_source, publish_space, pull
from gan.style import DEFAULT_HUB_FILE, DEFAULT_HUB_REPO
from gan.zoo import DEFAULT_MODEL, DEFAULT_MODEL_FILE, embedded_models

APP_ROOT = Path(__file__).resolve().parent.parent  # the folder holding app.py, ui/, gan/, weights/
APP_FILE = "app.py"
REQUIREMENTS = "requirements.txt"
DOCKERFILE = "Dockerfile"
DOCKER_PORT = 7860  # the Dockerfile's EXPOSE and the app's --port
STYLE_EXAMPLES = "style-examples"
JUDGES = "judges"
# What a Space needs of a checkpoint folder: not the training previews, nor the optimiser state (run_state.pt).
CHECKPOINT_FILES = (CONFIG_NAME, WEIGHTS_NAME, f"{DISCRIMINATOR_DIR}/{CONFIG_NAME}",
                    f"{DISCRIMINATOR_DIR}/{WEIGHTS_NAME}", "samples.png", "README.md", "TRAINING.md",
                    "source.json")  # fmt: skip
PACKAGES = ("ui", "gan")  # the app's Python packages, shipped as their .py files
MANAGED = ("ui/**", "gan/**", "weights/**", APP_FILE, REQUIREMENTS, DOCKERFILE)  # removed from a Space unless staged
STYLE_NETWORK = f"{DEFAULT_HUB_REPO} {DEFAULT_HUB_FILE}"  # preload_from_hub entry: repo, then files
FOLDER_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


OFFERED_HARDWARE = ("cpu-basic", "cpu-upgrade", "zero-a10g", "t4-small", "t4-medium", "l4x1", "a10g-small")  # the app's


def hardware_choices() -> tuple[str, ...]:
    """The Space hardware flavours huggingface_hub knows (cpu-basic, zero-a10g, t4-small, ...)."""
    from huggingface_hub import SpaceHardware

    return tuple(flavour.value for flavour in SpaceHardware)


@dataclass(frozen=True)
class DeployConfig:
    """What to publish. The app's files always come from the folder `deploy` is given (APP_ROOT)."""

    space_id: str  # owner/name, or a bare name for the token owner's namespace
    model: str | Path | None = None  # default model: embedded name, checkpoint folder (a Path) or Hub repo id[@rev]
    hardware: str | None = None  # e.g. cpu-basic, zero-a10g, t4-small; None leaves the Hub's default or the current
    private: bool = False  # for a new Space; an existing Space keeps its visibility
    docker: bool = False  # a Docker Space built from the Dockerfile, instead of the Gradio SDK
    title: str | None = None  # the Space's title; default: from the README, else the Space's name

    def __post_init__(self) -> None:
        name = (self.space_id or "").strip()
        if not name or not REPO_ID.match(name) or ".." in name or "--" in name:
            raise InvalidInputError(f"{self.space_id!r} is not a Space name like my-demo or owner/my-demo")
        if self.hardware is not None and self.hardware not in hardware_choices():
            raise InvalidInputError(f"unknown hardware {self.hardware!r}: one of {', '.join(hardware_choices())}")
        if self.docker and self.hardware == "zero-a10g":
            raise InvalidInputError("ZeroGPU (zero-a10g) runs Gradio Spaces only: leave out --docker or pick a GPU")

    @property
    def sdk(self) -> str:
        return "docker" if self.docker else "gradio"


@dataclass(frozen=True)
class DefaultModel:
    """The model a published Space shows first."""

    name: str  # what weights/default_model.txt says: an embedded model's name or owner/name[@revision]
    folder: Path | None = None  # a checkpoint folder to copy into weights/<name>; None: embedded or pulled at start
    hub_models: tuple[str, ...] = ()  # Hub repos it is or derives from: the front matter's `models:`


@dataclass(frozen=True)
class StagedSpace:
    files: tuple[str, ...]  # relative paths, sorted
    front_matter: dict[str, Any]
    default_model: DefaultModel


@dataclass(frozen=True)
class DeployResult:
    space_id: str
    url: str  # the Space's page
    commit_url: str
    created: bool  # False: an existing Space was updated (its visibility left as it was)
    private: bool | None
    sdk: str
    default_model: str
    models: tuple[str, ...]  # the Hub checkpoints the front matter lists
    hardware: str | None  # requested now (None: unchanged)
    files: tuple[str, ...]


def resolve_default_model(
    model: str | Path | None, token: str | None = None, weights_dir: Path = APP_ROOT / "weights"
) -> DefaultModel:
    """Check the model a Space will show first, and say how the Space gets it.

    A Hub repo is pulled once here (so a Space is never published with a model it cannot load);
    a private one is copied into the Space, whose visitors could not pull it.
    """
    embedded = embedded_models(weights_dir)
    if model is None or (isinstance(model, str) and model in embedded):
        name = model or DEFAULT_MODEL
        if name not in embedded:
            raise CheckpointError(f"the embedded default model {name} is missing from {weights_dir}")
        return DefaultModel(name, hub_models=_hub_origins(embedded[name]))
    if isinstance(model, Path):
        folder = model.expanduser().resolve()
        load_checkpoint(folder, with_discriminator=True)  # a folder that would not load is refused here
        if folder.parent == weights_dir.resolve() and folder.name in embedded:
            return DefaultModel(folder.name, hub_models=_hub_origins(folder))
        name = FOLDER_NAME.sub("-", folder.name).strip(".-") or "my-model"
        if name in embedded:
            raise InvalidInputError(
                f"a checkpoint folder named {name} would replace the embedded model {name}: rename the folder"
            )
        return DefaultModel(name, folder, _hub_origins(folder))
    text = model.strip()
    if "/" not in text:
        raise InvalidInputError(
            f"no model {text!r}: give an embedded model ({', '.join(embedded)}), a checkpoint folder or owner/name"
        )
    source = parse_source(text, allow_local=False)
    pulled = pull(text, token=token, allow_local=False)
    if pulled.private:
        name = FOLDER_NAME.sub("-", source.repo_id.replace("/", "--")).strip(".-")
        return DefaultModel(name, pulled.folder, ())
    name = source.repo_id + (f"@{source.revision}" if source.revision else "")
    return DefaultModel(name, None, (source.repo_id,))


def _hub_origins(folder: Path) -> tuple[str, ...]:
    """The Hub repo a checkpoint was pulled from, or that its fine-tuning started from."""
    try:
        metadata = read_config(folder)[2]
    except CheckpointError:
        metadata = {}
    repo_id = inherited_source(folder, metadata).get("repo_id")
    return (repo_id,) if isinstance(repo_id, str) and repo_id else ()


def space_front_matter(
    base: dict[str, Any], config: DeployConfig, default: DefaultModel, sdk_version: str, python_version: str
) -> dict[str, Any]:
    """The Space's README configuration: the project README's, with what this publication decides."""
    space_name = config.space_id.split("/")[-1]
    meta = {key: value for key, value in base.items() if key not in ("sdk_version", "python_version", "app_file")}
    meta["title"] = config.title or base.get("title") or space_name
    meta["sdk"] = config.sdk
    if config.docker:
        meta["app_port"] = DOCKER_PORT
        if meta.get("suggested_hardware") == "zero-a10g":
            del meta["suggested_hardware"]  # ZeroGPU runs Gradio Spaces only
    else:
        meta.update(sdk_version=sdk_version, python_version=python_version, app_file=APP_FILE)
    if config.hardware:
        meta["suggested_hardware"] = config.hardware
    meta["hf_oauth"] = True  # the Hub tab's "Sign in with Hugging Face"
    meta.setdefault("hf_oauth_scopes", ["contribute-repos", "read-repos"])
    meta["models"] = sorted({*default.hub_models, DEFAULT_HUB_REPO})
    preload = [entry for entry in base.get("preload_from_hub") or [] if isinstance(entry, str)]
    if not any(entry.split()[0] == DEFAULT_HUB_REPO for entry in preload):
        preload.append(STYLE_NETWORK)
    meta["preload_from_hub"] = preload
    return meta


def readme(meta: dict[str, Any], default: DefaultModel, space_id: str, hub: str = HUB_URL) -> str:
    """The Space's README.md: the configuration block, then a page for its visitors."""
    from huggingface_hub import SpaceCardData  # the Hub's own YAML writer, as for model cards

    page = space_url(space_id, hub)
    if default.folder is None and "/" in default.name:
        repo = default.name.split("@")[0]
        shown = f"[{default.name}]({hub.rstrip('/')}/{repo}), pulled from the Hub when the Space starts"
    else:
        shown = f"`{default.name}`, shipped in `weights/`"
    lines = [
        "---",
        SpaceCardData(**meta).to_yaml().rstrip("\n"),
        "---",
        "",
        f"# {meta['title']}",
        "",
        str(meta.get("short_description") or "Generate, fine-tune and share GANs").rstrip(".") + ".",
        "",
        f"Default model: {shown}.",
        "",
        f"- Open the app on any GAN studio or HugGAN DCGAN checkpoint on the Hub: `{page}?model=owner/name`. "
        "Each result of the Generate and Style tabs has a link that reproduces it.",
        f"- Run it on your machine: `git clone {page} gan-studio && cd gan-studio && pip install -r requirements.txt "
        "&& python app.py`. The same code is a command line: `python -m gan --help`.",
        "",
        "Published with `python -m gan deploy`.",
    ]
    return "\n".join(lines) + "\n"


def gradio_version(root: Path = APP_ROOT) -> str:
    """The Gradio version the Space must run: requirements.txt's pin, else the installed one."""
    path = root / REQUIREMENTS
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    pinned = re.search(r"^\s*gradio(?:\[[^\]]*\])?\s*==\s*([\w.]+)", text, re.MULTILINE)
    if pinned:
        return pinned.group(1)
    try:
        return importlib.metadata.version("gradio")
    except importlib.metadata.PackageNotFoundError:
        raise InvalidInputError(f"cannot tell which Gradio version to run: pin gradio==X in {path}") from None


def stage_space(
    config: DeployConfig,
    default: DefaultModel,
    out: str | Path,
    *,
    root: Path = APP_ROOT,
    space_id: str | None = None,
    hub: str = HUB_URL,
) -> StagedSpace:
    """Lay out in `out` everything the Space repo will hold (offline). `space_id`: the full owner/name."""
    from huggingface_hub.repocard import metadata_load

    out = Path(out)
    packages = tuple(f"{package}/__init__.py" for package in PACKAGES)
    for needed in (APP_FILE, REQUIREMENTS, *packages, *((DOCKERFILE,) if config.docker else ())):
        if not (root / needed).is_file():
            raise InvalidInputError(f"{root} has no {needed}: deploy runs from a GAN studio folder")
    out.mkdir(parents=True, exist_ok=True)
    files: list[str] = []

    def copy(source: Path, relative: str) -> None:
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        files.append(relative)

    def publish(source: Path, relative: str) -> None:
        """A checkpoint's file, with names instead of this machine's paths in what it records."""
        copy(source, relative)
        target = out / relative
        if target.name == CONFIG_NAME:
            write_public_config(source, target)
        elif target.name == SOURCE_NAME or target.suffix == ".md":  # records from before names were recorded
            target.write_text(scrub_paths(target.read_text(encoding="utf-8", errors="replace")), encoding="utf-8")

    copy(root / APP_FILE, APP_FILE)
    copy(root / REQUIREMENTS, REQUIREMENTS)
    if config.docker:
        copy(root / DOCKERFILE, DOCKERFILE)
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            if "__pycache__" not in path.parts:
                copy(path, path.relative_to(root).as_posix())
    weights = root / "weights"
    checkpoints = dict(embedded_models(weights))
    if default.folder is not None:
        checkpoints[default.name] = default.folder
    for name, folder in checkpoints.items():
        for relative in CHECKPOINT_FILES:
            if (folder / relative).is_file():
                publish(folder / relative, f"weights/{name}/{relative}")
    for path in sorted((weights / STYLE_EXAMPLES).glob("*")):
        if path.is_file():
            copy(path, f"weights/{STYLE_EXAMPLES}/{path.name}")
    for path in sorted((weights / JUDGES).rglob("*")):  # the quality report's feature networks (gan.judges)
        if path.is_file():
            copy(path, path.relative_to(root).as_posix())
    (out / "weights" / DEFAULT_MODEL_FILE).write_text(default.name + "\n", encoding="utf-8")
    files.append(f"weights/{DEFAULT_MODEL_FILE}")

    base = metadata_load(root / "README.md") if (root / "README.md").is_file() else None
    python_version = str((base or {}).get("python_version") or f"{sys.version_info[0]}.{sys.version_info[1]}")
    meta = space_front_matter(base or {}, config, default, gradio_version(root), python_version)
    (out / "README.md").write_text(readme(meta, default, space_id or config.space_id, hub), encoding="utf-8")
    files.append("README.md")
    return StagedSpace(tuple(sorted(files)), meta, default)


def deploy(config: DeployConfig, token: str | None, *, root: Path = APP_ROOT) -> DeployResult:
    """Create or update the Space `config.space_id` from this app's files; returns its URL and what it holds."""
    space_id = full_repo_id(config.space_id, token or "")  # a bare name goes to the token owner's namespace
    default = resolve_default_model(config.model, token, root / "weights")
    with tempfile.TemporaryDirectory(prefix="gan-space-") as stage:
        staged = stage_space(config, default, stage, root=root, space_id=space_id, hub=endpoint())
        result = publish_space(
            stage,
            space_id,
            token,
            sdk=config.sdk,
            private=config.private,
            hardware=config.hardware,
            delete_patterns=MANAGED,
            commit_message=f"Publish GAN studio (default model {default.name}) with python -m gan deploy",
        )
    return DeployResult(
        space_id=result.space_id,
        url=result.url,
        commit_url=result.commit_url,
        created=result.created,
        private=result.private,
        sdk=config.sdk,
        default_model=default.name,
        models=tuple(staged.front_matter["models"]),
        hardware=result.hardware,
        files=staged.files,
    )
