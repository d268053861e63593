"""The Hugging Face Hub: the only module of `gan` that touches the network.

- `pull` loads a generator from a repo id (`owner/name`, optionally `@revision`), a
  `https://huggingface.co/...` URL or a local folder, and leaves a GAN studio
  checkpoint folder (config.json + model.safetensors [+ discriminator/]) that the
  rest of the package loads with `gan.checkpoint.load_checkpoint`. What it can read
  (GAN studio's own format, lightweight-gan, StyleGAN2-ADA network pickles, HugGAN
  FastGAN and DCGAN) and how is gan.formats' business: this module lists a repo's
  files, downloads what the reader asks for within its size limit, and installs the
  result. No pickle is ever unpickled with code execution allowed. A folder the caller names is written
  only if nothing of theirs is in it (gan.outputs); pulled copies, their private-repo guard and the bounds
  of both Hub caches are gan.hubcache's.
- `browse` lists community GAN checkpoints (`HfApi.list_models` by tag or library).
- `push` uploads a checkpoint with a model card (see `gan.card`).
- `publish_space` creates or updates a Space from a staged folder (see `gan.deploy`).

Sizes are checked from the repo tree before anything is downloaded, and each
download is checked against the size and sha256 the Hub announced. Every failure
of the client becomes a HubError with a message a visitor can act on. Tokens are
always passed explicitly (`None` means anonymous, never "whatever the environment
holds") and are never logged, echoed or stored (a private repo's copy keeps a salted hash
of the tokens that pulled it: gan.hubcache).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import torch

from gan.card import DEFAULT_SPACE, SOURCE_NAME, read_source, write_bundle
from gan.checkpoint import CONFIG_NAME, MAX_CONFIG_BYTES, WEIGHTS_NAME, Checkpoint, has_our_config, load_checkpoint
from gan.errors import CheckpointError, HubError, HubUnreachableError, InvalidInputError
from gan.formats import BROWSE_FILTERS, FAMILIES, family, read_checkpoint
from gan.hubcache import after_pull, download_dir, may_read_offline, pull_root, record_access, touch
from gan.outputs import claim_output_folder, folder_bytes, replace_folder
from gan.sampling import latents_for_seeds

MAX_PULL_BYTES = 1 << 30  # one file above 1 GiB is far beyond any GAN this studio can run
DEFAULT_FILTERS = BROWSE_FILTERS  # Hub tags and libraries that mark the community checkpoints gan.formats reads
HUB_HOSTS = {"huggingface.co", "www.huggingface.co", "hf.co"}
REPO_ID = re.compile(r"^(?:[A-Za-z0-9][\w.-]{0,95}/)?[A-Za-z0-9][\w.-]{0,95}$")
MB = 1 << 20


# -- errors ----------------------------------------------------------------------------------------


@contextlib.contextmanager
def _hub_errors(doing: str, repo_id: str | None = None, revision: str | None = None, token: str | None = None
                ) -> Iterator[None]:  # fmt: skip
    """Translate huggingface_hub's exceptions into HubError; `doing` completes "... while <doing>"."""
    from huggingface_hub.errors import (
        EntryNotFoundError,
        GatedRepoError,
        HfHubHTTPError,
        HFValidationError,
        HTTPError,
        LocalEntryNotFoundError,
        OfflineModeIsEnabled,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    try:
        yield
    except HFValidationError as error:
        raise HubError(f"{repo_id!r} is not a valid repo id (expected 'owner/name')") from error
    except GatedRepoError as error:
        raise HubError(f"{repo_id} is gated: accept its terms on the Hub, then use a token") from error
    except RepositoryNotFoundError as error:
        hint = "or this token has no access to it" if token else "or is private: log in (or give a token) to load it"
        raise HubError(f"repo {repo_id} was not found, {hint}") from error
    except RevisionNotFoundError as error:
        raise HubError(f"revision {revision!r} of {repo_id} was not found") from error
    except LocalEntryNotFoundError as error:
        raise HubUnreachableError(
            f"cannot reach the Hub while {doing}, and the file is not in the local cache"
        ) from error
    except EntryNotFoundError as error:
        raise HubError(f"not found while {doing}: the file does not exist at that revision") from error
    except HfHubHTTPError as error:
        status = getattr(error.response, "status_code", "?")
        if status == 401:
            raise HubError(f"the Hub refused the token while {doing}: it is invalid or expired") from error
        if status == 403:
            detail = (getattr(error, "server_message", None) or "").strip().rstrip(".")
            raise HubError(f"permission denied while {doing}" + (f": {detail}" if detail else "")) from error
        raise HubError(f"the Hub answered {status} while {doing}") from error
    except OfflineModeIsEnabled as error:
        raise HubUnreachableError(f"HF_HUB_OFFLINE is set, so nothing can be fetched while {doing}") from error
    except HTTPError as error:  # connection refused, dropped mid-download (after the client's retries), timeouts
        kind = error.__class__.__name__
        raise HubUnreachableError(f"the connection to the Hub failed while {doing} ({kind}): try again") from error
    except OSError as error:  # a short download, a full disk...
        raise HubError(f"{doing} failed: {error.strerror or error}") from error


def download_file(
    repo_id: str,
    filename: str,
    revision: str | None = None,
    token: str | None = None,
    repo_type: str = "model",
    cache_dir: Path | None = None,
    fail_fast: bool = False,
) -> Path:
    """Fetch one file of a repo into the local Hugging Face cache (or `cache_dir`) and return its path.

    `fail_fast`, for a file that does not change (a feature network's weights): a copy in the cache is used
    without asking the Hub, and when there is none, HF_HUB_OFFLINE fails at once and an unreachable Hub after
    one request, instead of huggingface_hub's retries (about 30 s when the network is down)."""
    from huggingface_hub import hf_hub_download

    where = f"{repo_id}/{filename}" + (f"@{revision}" if revision else "")
    if fail_fast:
        cached = _cached_or_reachable(repo_id, filename, revision, token, repo_type, cache_dir, where)
        if cached is not None:
            return cached
    with _hub_errors(f"downloading {where}", repo_id, revision, token):
        return Path(hf_hub_download(repo_id, filename, revision=revision, token=token or False, repo_type=repo_type,
                                    cache_dir=cache_dir))  # fmt: skip


def hub_offline() -> bool:
    """Has this process been told there is no network (HF_HUB_OFFLINE, read now as well as at import)?"""
    import os

    from huggingface_hub import constants

    flag = os.environ.get("HF_HUB_OFFLINE", "").strip().lower()
    return constants.HF_HUB_OFFLINE or flag in ("1", "true", "yes", "on")


def _cached_or_reachable(repo_id, filename, revision, token, repo_type, cache_dir, where) -> Path | None:
    """The cached copy of a file (no request), else None once one request without retries has reached the Hub;
    HubUnreachableError when offline is evident (HF_HUB_OFFLINE) or that one request failed."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_url, try_to_load_from_cache

    cached = try_to_load_from_cache(repo_id, filename, cache_dir=cache_dir, revision=revision, repo_type=repo_type)
    if isinstance(cached, str) and Path(cached).is_file():
        return Path(cached)
    if hub_offline():
        raise HubUnreachableError(f"HF_HUB_OFFLINE is set and {where} is not in the local cache")
    url = hf_hub_url(repo_id, filename, repo_type=repo_type, revision=revision, endpoint=endpoint())
    with _hub_errors(f"reaching the Hub for {where}", repo_id, revision, token):
        get_hf_file_metadata(url, token=token or False, timeout=10, retry_on_errors=False)  # one try
    return None


def endpoint() -> str:
    """The Hub this process talks to: https://huggingface.co unless HF_ENDPOINT says otherwise."""
    from huggingface_hub import constants

    return constants.ENDPOINT.rstrip("/")


# -- sources ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """Where a checkpoint comes from: a Hub repo (with maybe a revision) or a local folder."""

    kind: str  # "hub" or "local"
    repo_id: str = ""
    revision: str | None = None
    path: Path | None = None


def parse_source(text: str, allow_local: bool = True) -> Source:
    """'owner/name', 'owner/name@rev', a Hub URL (.../tree/rev, .../blob/rev/file) or a folder -> Source."""
    text = (text or "").strip()
    if not text:
        raise InvalidInputError("give a repo id like owner/name, a https://huggingface.co/... URL or a folder")
    if re.match(r"^https?://", text):
        return _parse_url(text)
    if allow_local and Path(text).expanduser().is_dir():
        return Source("local", path=Path(text).expanduser())
    if allow_local and text.startswith((".", "/", "~")):
        raise InvalidInputError(f"folder {text} does not exist")
    repo_id, _, revision = text.partition("@")
    if not REPO_ID.match(repo_id) or ".." in repo_id or "--" in repo_id:
        local = " or an existing folder" if allow_local else ""
        raise InvalidInputError(f"{text!r} is not a repo id like owner/name, a Hub URL{local}")
    return Source("hub", repo_id=repo_id, revision=revision or None)


def _parse_url(url: str) -> Source:
    parts = urlsplit(url)
    hosts = HUB_HOSTS | {urlsplit(endpoint()).netloc}
    if parts.netloc not in hosts:
        raise InvalidInputError(f"{url} is not a Hugging Face Hub URL (expected https://huggingface.co/owner/name)")
    segments = [unquote(s) for s in parts.path.strip("/").split("/") if s]
    if segments and segments[0] in ("datasets", "spaces"):
        raise InvalidInputError(f"{url} is a {segments[0][:-1]}, not a model repo")
    if len(segments) < 2:
        raise InvalidInputError(f"{url} does not name a repo (expected https://huggingface.co/owner/name)")
    repo_id = "/".join(segments[:2])
    revision = segments[3] if len(segments) >= 4 and segments[2] in ("tree", "blob", "resolve", "commit") else None
    return parse_source(repo_id + (f"@{revision}" if revision else ""), allow_local=False)


@dataclass
class _Files:
    """A source's files: names and sizes known up front, contents fetched on demand."""

    label: str  # for messages: "owner/name" or a folder
    sizes: dict[str, int | None]
    sha256: dict[str, str]  # LFS files on the Hub: what the content must hash to
    fetch_fn: Callable[[str], Path]
    max_bytes: int
    fetched: list[str] = field(default_factory=list)

    def fetch(self, name: str, limit: int | None = None) -> Path:
        limit = limit or self.max_bytes
        size = self.sizes.get(name)
        if size is not None and size > limit:
            raise HubError(f"{self.label}: {name} is {_size(size)}, above the {_size(limit)} limit; not downloading it")
        path = self.fetch_fn(name)
        actual = path.stat().st_size
        if actual > limit or (size is not None and actual != size):
            raise HubError(f"{self.label}: {name} arrived with {actual} bytes, not the {size} the Hub announced")
        if name in self.sha256 and _sha256(path) != self.sha256[name]:
            raise HubError(f"{self.label}: {name} does not match its sha256 on the Hub: the download is corrupt")
        if name not in self.fetched:
            self.fetched.append(name)
        return path


def _size(n: int) -> str:
    return f"{n / MB:.1f} MB" if n >= MB else f"{n} bytes"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _hub_files(
    repo_id: str, revision: str | None, token: str | None, max_bytes: int, downloads: Path
) -> tuple[Any, _Files]:
    from huggingface_hub import HfApi
    from huggingface_hub.hf_api import RepoFile

    api = HfApi(token=token or False)
    with _hub_errors(f"reading {repo_id}", repo_id, revision, token):
        info = api.model_info(repo_id, revision=revision, token=token or False)
        tree = list(api.list_repo_tree(repo_id, recursive=True, revision=info.sha, token=token or False))
    files = [entry for entry in tree if isinstance(entry, RepoFile)]
    sizes: dict[str, int | None] = {f.path: f.size for f in files}
    digests = {f.path: f.lfs.sha256 for f in files if f.lfs is not None}
    label = repo_id if revision is None else f"{repo_id}@{revision}"
    fetch = lambda name: download_file(repo_id, name, info.sha, token, cache_dir=downloads)  # noqa: E731
    return info, _Files(label, sizes, digests, fetch, max_bytes)


def _local_files(folder: Path, max_bytes: int) -> _Files:
    sizes: dict[str, int | None] = {
        p.relative_to(folder).as_posix(): p.stat().st_size for p in sorted(folder.rglob("*")) if p.is_file()
    }
    return _Files(str(folder), sizes, {}, lambda name: folder / name, max_bytes)


# -- pull ------------------------------------------------------------------------------------------


@dataclass
class PullResult:
    """What `pull` loaded, and where the GAN studio folder for it now lives."""

    name: str  # how the app lists it: owner/name[@revision], or the folder's name
    folder: Path  # a GAN studio checkpoint folder: load it with gan.checkpoint.load_checkpoint
    format: str  # the gan.formats family: "gan-studio", "lightweight-gan", "stylegan2-ada", "huggan-fastgan"...
    weights: str  # the file the generator came from
    architecture: str
    resolution: int
    channels: int
    latent_dim: int
    parameters: int
    license: str | None = None
    datasets: list[str] = field(default_factory=list)
    repo_id: str | None = None
    revision: str | None = None  # the commit the files came from
    url: str | None = None
    has_discriminator: bool = False
    downloaded: list[str] = field(default_factory=list)
    private: bool | None = None  # a Hub repo's visibility (None for a local folder, or unknown offline)
    offline_reason: str | None = None  # set when the Hub was unreachable and an earlier pull's copy was used
    notes: dict[str, Any] = field(default_factory=dict)  # what the reader recorded: version, licence_note...

    @property
    def licence_note(self) -> str | None:
        """A licence that binds the weights whatever the repo's card says (NVIDIA's, for StyleGAN pickles)."""
        note = self.notes.get("licence_note")
        return note if isinstance(note, str) else None

    def describe(self) -> list[str]:
        """Lines for a person: what was loaded, from where, under which licence."""
        origin = f"{self.url} (commit {self.revision[:12]})" if self.url and self.revision else str(self.folder)
        known = family(self.format)
        fmt = "GAN studio (safetensors)" if self.format == "gan-studio" else (
            f"{known.label if known else self.format}, converted")  # fmt: skip
        version = self.notes.get("version")
        version = f" ({'HugGAN layout' if version == 'huggan' else f'release {version}'})" if version else ""
        colour = "RGB" if self.channels == 3 else "greyscale"
        offline = [f"offline: {self.offline_reason}; using the copy pulled earlier"] if self.offline_reason else []
        return [
            *offline,
            f"source: {origin}",
            f"format: {fmt} from {self.weights}{version}",
            f"architecture: {self.architecture}, {self.resolution}x{self.resolution} {colour}, "
            f"latent {self.latent_dim}, {self.parameters / 1e6:.2f}M parameters",
            f"license: {self.license or 'not stated in the model card'}",
            *([f"weights licence: {self.licence_note}"] if self.licence_note else []),
            "discriminator: included (can be fine-tuned further)" if self.has_discriminator else "discriminator: none",
        ]


def pull(
    source: str,
    revision: str | None = None,
    token: str | None = None,
    out: str | Path | None = None,
    *,
    allow_local: bool = True,
    max_bytes: int = MAX_PULL_BYTES,
) -> PullResult:
    """Load a generator from a repo id, a Hub URL or a local folder into a GAN studio folder.

    `out`: the folder to write. It must be new, empty, or a checkpoint folder GAN studio pulled there before
    (gan.outputs.claim_output_folder: nothing else is ever replaced, and this is checked before any request);
    the result is staged beside it and swapped in whole. Without `out`, Hub models go to
    `pull_root()/owner--name/<commit>` (reused when that commit was pulled before), local GAN studio folders
    are used where they are and others are converted beside the Hub pulls. With the Hub unreachable, a copy
    pulled before serves: a public repo's to anyone, a private repo's only to a token that pulled it.
    `token` is sent to the Hub only when given. Raises HubError (InvalidInputError for a malformed source or
    an `out` that may not be written).
    """
    where = parse_source(source, allow_local=allow_local)
    target = None
    if out is not None:
        claim_output_folder(out, "checkpoint")
        target = Path(out).expanduser()  # as the caller wrote it: the result names it the same way
    with download_dir() as downloads:  # whatever is downloaded goes with it, kept or refused
        result, added = _pull(where, revision, token, target, max_bytes, downloads)
    after_pull(added, keep=result.folder)
    return result


def _pull(
    where: Source, revision: str | None, token: str | None, out: Path | None, max_bytes: int, downloads: Path
) -> tuple[PullResult, int]:
    """`pull` once its output folder is claimed: the result, and the bytes it added to pull_root()."""
    card: dict[str, Any] = {}
    origin: dict[str, Any] = {}
    private = None
    if where.kind == "hub":
        wanted = revision or where.revision
        name = where.repo_id + (f"@{wanted}" if wanted else "")
        try:
            info, files = _hub_files(where.repo_id, wanted, token, max_bytes, downloads)
        except HubUnreachableError as error:  # no network: a copy pulled earlier still serves (an app restart)
            cached = cached_pull(where.repo_id, wanted, token)
            if cached is None:
                raise
            touch(cached)
            result = _pull_result(name, cached, "", "", read_source(cached), [], None, offline_reason=str(error))
            return result, 0
        private = info.private
        if info.card_data is not None:
            card = info.card_data.to_dict()
        origin = {"repo_id": where.repo_id, "revision": info.sha, "url": f"{endpoint()}/{where.repo_id}"}
        cache = pull_root() / where.repo_id.replace("/", "--") / str(info.sha)
    else:
        folder = Path(where.path or ".").resolve()
        files = _local_files(folder, max_bytes)
        card = _local_card(folder)
        origin = {"source": folder.name}  # a name, not where it lies: source.json travels with pushes and Spaces
        name = folder.name
        key = hashlib.sha256(str(folder).encode()).hexdigest()[:12]
        cache = None if has_our_config(folder) else pull_root() / "local" / f"{name}--{key}"
    license = card.get("license") if isinstance(card.get("license"), str) else None
    datasets = [d for d in card.get("datasets") or [] if isinstance(d, str)]
    if isinstance(card.get("datasets"), str):
        datasets = [card["datasets"]]
    origin.update(license=license, datasets=datasets)

    fmt, weights, added = "gan-studio", WEIGHTS_NAME, 0
    if out is None and cache is None:  # a local GAN studio folder: used in place
        target = Path(where.path or ".")
        _validate(target, files.label)
    elif out is None and where.kind == "hub" and (cache / CONFIG_NAME).is_file():
        target = cache  # this exact commit was pulled (and validated) before
    else:
        target = out or cache
        assert target is not None
        target.parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=".pull-", dir=target.parent))
        try:
            try:
                loaded = read_checkpoint(files, stage, origin)
            except CheckpointError as error:
                raise HubError(str(error)) from error
            fmt, weights = loaded.family, loaded.weights
            record = {**origin, "format": fmt, "weights": weights, "notes": loaded.notes}
            (stage / SOURCE_NAME).write_text(json.dumps(record, indent=2))
            _validate(stage, files.label)
            if out is not None:
                replace_folder(stage, out, "checkpoint")
            else:
                if where.kind == "hub":
                    record_access(stage, private, token)
                added = _install(stage, target, replace=where.kind == "local")
        finally:
            shutil.rmtree(stage, ignore_errors=True)
    if out is None and target == cache:  # a copy in pull_root(), never a folder of the caller's
        if where.kind == "hub":
            record_access(target, private, token)  # one more token that may read this copy without the Hub
        touch(target)
    return _pull_result(name, target, fmt, weights, origin, list(files.fetched), private), added


def _pull_result(
    name: str,
    folder: Path,
    fmt: str,
    weights: str,
    origin: dict[str, Any],
    downloaded: list[str],
    private: bool | None,
    offline_reason: str | None = None,
) -> PullResult:
    checkpoint = load_checkpoint(folder, with_discriminator=True)
    recorded = read_source(folder)
    return PullResult(
        name=name,
        folder=folder,
        format=recorded.get("format", fmt),
        weights=recorded.get("weights", weights),
        architecture=checkpoint.architecture,
        resolution=checkpoint.config.resolution,
        channels=checkpoint.config.channels,
        latent_dim=checkpoint.config.latent_dim,
        parameters=checkpoint.parameter_count,
        license=origin.get("license"),
        datasets=list(origin.get("datasets") or []),
        repo_id=origin.get("repo_id"),
        revision=origin.get("revision"),
        url=origin.get("url"),
        has_discriminator=checkpoint.discriminator is not None,
        downloaded=downloaded,
        private=private,
        offline_reason=offline_reason,
        notes=recorded.get("notes") if isinstance(recorded.get("notes"), dict) else {},
    )


def cached_pull(repo_id: str, revision: str | None = None, token: str | None = None) -> Path | None:
    """A copy of `repo_id` pulled earlier into `pull_root()`, for when the Hub cannot be reached.

    With a commit (or its first 7+ characters) as `revision`: that commit's copy. With no revision: the
    copy pulled most recently. A branch or tag name cannot be resolved offline: None. Only copies the
    caller may read without the Hub count (gan.hubcache.may_read_offline: a private repo's copy needs a
    token that pulled it). None if none.
    """
    folder = pull_root() / repo_id.replace("/", "--")
    if not folder.is_dir():
        return None
    pulled = [p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".") and (p / CONFIG_NAME).is_file()]
    if revision is not None:
        wanted = revision.lower()
        if not re.fullmatch(r"[0-9a-f]{7,40}", wanted):
            return None
        pulled = [p for p in pulled if p.name.startswith(wanted)]
    pulled = [p for p in pulled if may_read_offline(p, token)]
    return max(pulled, key=lambda p: (p / CONFIG_NAME).stat().st_mtime, default=None)


def _local_card(folder: Path) -> dict[str, Any]:
    readme = folder / "README.md"
    if not readme.is_file() or readme.stat().st_size > MAX_CONFIG_BYTES:
        return {}
    from huggingface_hub.repocard import metadata_load

    try:
        return metadata_load(readme) or {}
    except Exception:  # a malformed card never blocks loading the weights
        return {}


def _validate(folder: Path, label: str) -> Checkpoint:
    """Strict load plus one sample: the folder must give finite images of the announced shape."""
    try:
        checkpoint = load_checkpoint(folder, with_discriminator=True)
    except CheckpointError as error:
        detail = str(error).replace(f"{folder}{os.sep}", "").replace(str(folder), "the checkpoint")
        raise HubError(f"{label}: {detail}") from error
    c = checkpoint.config
    with torch.no_grad():
        image = checkpoint.generator(latents_for_seeds([0], c.latent_dim))
    if tuple(image.shape) != (1, c.channels, c.resolution, c.resolution) or not torch.isfinite(image).all():
        raise HubError(f"{label}: the generator does not produce finite {c.resolution}x{c.resolution} images")
    return checkpoint


def _install(stage: Path, target: Path, replace: bool) -> int:
    """Move a finished folder into pull_root() (GAN studio's own cache: a folder a person named goes through
    gan.outputs.replace_folder instead); the bytes it added. A concurrent identical pull may win the race."""
    if target.exists():
        if not replace:
            return 0
        shutil.rmtree(target)
    try:
        stage.rename(target)
    except OSError:
        if not (target / CONFIG_NAME).is_file():
            raise
        return 0
    return folder_bytes(target)


# -- browse ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HubModel:
    """One community checkpoint in a listing."""

    repo_id: str
    downloads: int = 0
    likes: int = 0
    tags: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.repo_id}  ·  {self.downloads} downloads"

    @property
    def family(self) -> str | None:
        """The gan.formats family its tags (and name) point to: a guess until it is pulled. None: none, or refused."""
        tags, name = set(self.tags), self.repo_id.lower()
        if "stylegan3" in tags and "stylegan2" not in tags:
            return None  # recognised on pull, and refused
        scores = [(len(tags & set(f.hub_filters)) + sum(t in name for t in f.hub_filters), -i, f.name)
                  for i, f in enumerate(FAMILIES)]  # fmt: skip
        best = max(scores)
        return best[2] if best[0] > 0 else None


def browse(
    search: str = "", filters: tuple[str, ...] = DEFAULT_FILTERS, limit: int = 50, token: str | None = None
) -> list[HubModel]:
    """Community GAN checkpoints: models tagged with any of `filters` (and matching `search`), most downloaded first.

    A filter is a tag or a library name, as the Hub's own filter takes it; the default covers every family
    gan.formats reads. The Hub ANDs filters, so each is asked for separately (in parallel) and merged.
    """
    from huggingface_hub import HfApi

    if not 1 <= limit <= 500:
        raise InvalidInputError(f"limit must be from 1 to 500, got {limit!r}")
    api = HfApi(token=token or False)

    def one(tag: str) -> list[Any]:
        return list(api.list_models(filter=tag, search=search.strip() or None, sort="downloads", limit=limit,
                                    token=token or False))  # fmt: skip

    found: dict[str, HubModel] = {}
    with _hub_errors("listing GAN checkpoints", token=token), ThreadPoolExecutor(max_workers=4) as pool:
        for models in pool.map(one, filters):
            for model in models:
                found.setdefault(
                    model.id, HubModel(model.id, model.downloads or 0, model.likes or 0, tuple(model.tags or ()))
                )
    return sorted(found.values(), key=lambda m: (-m.downloads, m.repo_id))[:limit]


# -- push ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PushResult:
    repo_id: str
    url: str  # the repo's page
    commit_url: str
    private: bool | None  # as the Hub reports it after the push
    created: bool  # False when the repo existed (its visibility was left as it was)
    files: tuple[str, ...]


def push(
    folder: str | Path,
    repo_id: str,
    token: str | None,
    *,
    private: bool = False,
    with_discriminator: bool = False,
    license: str | None = None,
    commit_message: str | None = None,
    app_space: str | None = DEFAULT_SPACE,
) -> PushResult:
    """Create `repo_id` (or reuse it) and upload the checkpoint with a model card and a sample grid.

    `repo_id` may be a bare name: it then goes to the token owner's namespace. `app_space`: the
    GAN studio Space the card links to (None: no link).
    """
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    if not token:
        raise HubError("pushing needs a Hugging Face login: log in, or give a token with write access")
    repo_id, user = _full_repo_id(repo_id, token, "my-gan")
    api = HfApi(token=token)
    namespace = repo_id.split("/")[0]
    with tempfile.TemporaryDirectory(prefix="gan-push-") as stage:
        files = write_bundle(folder, stage, repo_id, with_discriminator=with_discriminator, license=license,
                             app_space=app_space, endpoint=endpoint())  # fmt: skip
        created = _create_repo(
            api, f"creating {repo_id}", namespace, user, repo_id, private=private, repo_type="model", token=token
        )
        with _hub_errors(f"uploading to {repo_id}", repo_id, token=token):
            try:
                commit = api.upload_folder(
                    repo_id=repo_id,
                    folder_path=stage,
                    commit_message=commit_message or "Upload generator, model card and samples with GAN studio",
                    token=token,
                )
            except HfHubHTTPError as error:
                _raise_write_error(error, namespace, user)
                raise
            except ValueError as error:  # the Hub's YAML check refused the card
                raise HubError(f"the Hub refused the model card of {repo_id}: {error}") from error
            private_now = api.model_info(repo_id, token=token).private
    return PushResult(repo_id, f"{endpoint()}/{repo_id}", commit.commit_url, private_now, created, tuple(files))


def _full_repo_id(name: str, token: str, example: str) -> tuple[str, str]:
    """(owner/name, the token's user): a bare name goes to the token owner's namespace."""
    from huggingface_hub import HfApi

    name = (name or "").strip()
    if not name or not REPO_ID.match(name) or ".." in name or "--" in name:
        raise InvalidInputError(f"{name!r} is not a repo name like {example} or owner/{example}")
    with _hub_errors("checking the token", token=token):
        user = HfApi(token=token).whoami(token=token)["name"]
    return (name if "/" in name else f"{user}/{name}"), user


def full_repo_id(name: str, token: str) -> str:
    """`name` as owner/name: a bare name goes to the namespace of the token's owner (asks the Hub who that is)."""
    if not token:
        raise HubError("this needs a Hugging Face login: log in, or give a token with write access")
    return _full_repo_id(name, token, "my-repo")[0]


# -- Spaces ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpaceResult:
    space_id: str
    url: str  # the Space's page
    commit_url: str
    private: bool | None  # as the Hub reports it after the upload
    created: bool  # False when the Space existed (its visibility was left as it was)
    hardware: str | None  # the hardware requested now, if any


def publish_space(
    folder: str | Path,
    space_id: str,
    token: str | None,
    *,
    sdk: str,
    private: bool = False,
    hardware: str | None = None,
    delete_patterns: tuple[str, ...] = (),
    commit_message: str | None = None,
) -> SpaceResult:
    """Create the Space `space_id` (or reuse it) and upload `folder` to it in one commit.

    Files of the Space matching `delete_patterns` that `folder` lacks are deleted in the same
    commit (what an older publication left behind). `hardware` is asked for at creation, or
    requested for an existing Space. The Hub builds and starts the Space on its own afterwards.
    """
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    if not token:
        raise HubError("publishing a Space needs a Hugging Face login: log in, or give a token with write access")
    space_id, user = _full_repo_id(space_id, token, "my-demo")
    namespace = space_id.split("/")[0]
    api = HfApi(token=token)
    created = _create_repo(
        api, f"creating the Space {space_id}", namespace, user, space_id,
        repo_type="space", space_sdk=sdk, private=private, space_hardware=hardware, token=token,
    )  # fmt: skip
    with _hub_errors(f"uploading to the Space {space_id}", space_id, token=token):
        try:
            commit = api.upload_folder(
                repo_id=space_id,
                repo_type="space",
                folder_path=str(folder),
                commit_message=commit_message or "Publish GAN studio with python -m gan deploy",
                delete_patterns=list(delete_patterns) or None,
                token=token,
            )
            if hardware and not created:
                api.request_space_hardware(space_id, hardware, token=token)
        except HfHubHTTPError as error:
            _raise_write_error(error, namespace, user)
            raise
        except ValueError as error:  # the Hub's YAML check refused the README's configuration
            raise HubError(f"the Hub refused the README configuration of {space_id}: {error}") from error
        private_now = api.space_info(space_id, token=token).private
    url = f"{endpoint()}/spaces/{space_id}"
    return SpaceResult(space_id, url, commit.commit_url, private_now, created, hardware)


def _create_repo(api: Any, doing: str, namespace: str, user: str, repo_id: str, **options: Any) -> bool:
    """Create `repo_id`; False if it already exists (then the caller pushes a new commit to it)."""
    from huggingface_hub.errors import HfHubHTTPError

    with _hub_errors(doing, repo_id, token=options.get("token")):
        try:
            api.create_repo(repo_id, **options)
        except HfHubHTTPError as error:
            if getattr(error.response, "status_code", None) != 409:  # 409: it exists
                _raise_write_error(error, namespace, user)
                raise
            return False
    return True


def _raise_write_error(error: Exception, namespace: str, user: str) -> None:
    if getattr(getattr(error, "response", None), "status_code", None) == 403:
        raise HubError(
            f"this token cannot write to {namespace!r}: push to {user}/<name> or to an organisation where you "
            "have write access (and use a token with write permission)"
        ) from error
