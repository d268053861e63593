"""Permalinks: a result's settings as URL query parameters, and back.

A permalink names a model (an embedded one, or a Hub repo pinned to the commit that
made the result), the Generate settings (first seed, count, truncation), and for a
style transfer its settings and the bundled example images it used. It never carries
a token, and never an uploaded file's content: a model that exists only in one
visitor's session (a fine-tune, an upload) cannot be linked, and uploaded style
images are left out of the link, with a sentence saying so.

`parse_permalink` reads what a page was opened with: every key it does not know and
every value it cannot use is ignored with a notice (a sentence for the visitor), never
an exception. `permalink_query` writes the canonical query string back, so
`parse_permalink(permalink_query(link))` gives `link` again. Nothing here touches the
network.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from gan.card import read_source
from gan.config import APP, MAX_IMAGES_PER_REQUEST, MAX_SEED, TABS
from gan.errors import InvalidInputError
from gan.hub import parse_source
from gan.images import png_metadata
from gan.style import PRESERVE_COLORS, parse_blend_weights

MAX_PARAMS = 64  # query parameters read per page load; the rest are ignored with one notice
MAX_VALUE_CHARS = 300  # longer values are ignored (no setting of this app needs more)
MAX_STYLE_IMAGES = APP.style_max_styles
SHOWN_CHARS = 40  # a notice quotes at most this much of a value
SECRET_KEYS = {"token", "hf_token", "access_token", "oauth_token", "api_key", "apikey", "key", "password", "auth",
               "authorization", "secret"}  # fmt: skip
PASSTHROUGH_KEYS = {"view", "logs", "lang"}  # read by Gradio or the Hub page, not by this app: ignored silently
TOKEN_LIKE = re.compile(r"hf_[A-Za-z0-9]{8,}|api_org_[A-Za-z0-9]{8,}")
EMBEDDED_NAME = re.compile(r"^[A-Za-z0-9][\w.-]{0,95}$")
FILE_NAME = re.compile(r"^[A-Za-z0-9][\w.-]{0,120}$")
REVISION = re.compile(r"^[\w][\w./-]{0,99}$")


@dataclass(frozen=True)
class Field:
    """One numeric or choice setting a link may carry, with the range the app accepts."""

    kind: type  # int, float or str
    low: float = -math.inf
    high: float = math.inf
    choices: tuple[str, ...] = ()

    def parse(self, key: str, text: str) -> int | float | str:
        """The value of `key=text`, or InvalidInputError with a sentence naming what is expected."""
        if self.kind is str:
            if self.choices and text not in self.choices:
                raise InvalidInputError(f"{key} must be one of {', '.join(self.choices)}")
            return text
        try:
            value: int | float = int(text) if self.kind is int else float(text)
        except ValueError:
            kind = "a whole number" if self.kind is int else "a number"
            raise InvalidInputError(f"{key} must be {kind} from {self._range}") from None
        if not math.isfinite(value) or not self.low <= value <= self.high:
            raise InvalidInputError(f"{key} must be from {self._range}")
        return value

    @property
    def _range(self) -> str:
        if self.kind is int:
            return f"{int(self.low)} to {int(self.high)}"
        return f"{self.low:g} to {self.high:g}"

    def format(self, value: int | float | str) -> str:
        return repr(float(value)) if self.kind is float else str(value)


GENERATE_FIELDS: dict[str, Field] = {
    "seed": Field(int, 0, MAX_SEED),
    "count": Field(int, 1, MAX_IMAGES_PER_REQUEST),
    "truncation": Field(float, 0.0, 1.0),
}
STYLE_FIELDS: dict[str, Field] = {  # StyleConfig's names and ranges; the seed is style_seed (seed is Generate's)
    "blend": Field(str),  # one weight per style image, as typed in the tab: "2, 1"
    "size": Field(int, 32, 4096),
    "steps": Field(int, 1, 10_000),
    "content_weight": Field(float, 0.0, 1e12),
    "style_weight": Field(float, 0.0, 1e12),
    "tv_weight": Field(float, 0.0, 1e12),
    "preserve_colors": Field(str, choices=PRESERVE_COLORS),
    "style_scale": Field(float, 0.1, 4.0),
    "levels": Field(int, 1, 4),
    "coarse_steps": Field(int, 0, 10_000),
    "init": Field(str, choices=("content", "noise")),
    "style_seed": Field(int, 0, MAX_SEED),
}


@dataclass
class Permalink:
    """What a link asks for. Every field is optional: the page keeps its own value for what is missing."""

    tab: str | None = None  # one of TABS
    model: str | None = None  # an embedded model's name, or a Hub repo id owner/name
    revision: str | None = None  # for a Hub model: the commit (or branch, tag) to load
    generate: dict[str, int | float] = field(default_factory=dict)  # GENERATE_FIELDS' keys
    content: str | None = None  # a bundled style example's file name
    styles: tuple[str, ...] = ()  # bundled style examples' file names
    style: dict[str, int | float | str] = field(default_factory=dict)  # STYLE_FIELDS' keys
    notices: list[str] = field(default_factory=list)  # sentences for the visitor: what was ignored, and why

    @property
    def empty(self) -> bool:
        return not (self.tab or self.model or self.generate or self.content or self.styles or self.style)

    @property
    def model_name(self) -> str | None:
        """How the app lists the model: owner/name@revision for a pinned Hub model."""
        if self.model is None:
            return None
        return self.model + (f"@{self.revision}" if self.revision else "")

    @property
    def opens(self) -> str:
        """The tab to show: the one asked for, else the one whose settings the link carries."""
        if self.tab:
            return self.tab
        return "style" if (self.content or self.styles or self.style) else "generate"


def parse_permalink(
    pairs: Iterable[tuple[str, str]] | Mapping[str, str], limits: Mapping[str, tuple[float, float]] | None = None
) -> Permalink:
    """A page's query parameters -> Permalink. Never raises: what cannot be used becomes a notice.

    `limits` narrows a field's range to what the app's widgets accept, e.g. {"count": (1, 64)}.
    """
    fields = {**GENERATE_FIELDS, **STYLE_FIELDS}
    for key, (low, high) in (limits or {}).items():
        if key in fields:
            fields[key] = replace(fields[key], low=low, high=high)
    items = list(pairs.items() if isinstance(pairs, Mapping) else pairs)
    link = Permalink()
    if len(items) > MAX_PARAMS:
        link.notices.append(f"only the first {MAX_PARAMS} of {len(items)} link parameters were read")
        items = items[:MAX_PARAMS]
    counts: dict[str, int] = {}
    for key, _ in items:
        counts[key] = counts.get(key, 0) + 1
    seen: set[str] = set()
    for key, value in reversed(items):  # the last of repeated keys wins, as in most web frameworks
        if key in seen:
            continue
        seen.add(key)
        if counts[key] > 1:
            link.notices.append(f"`{_shown(key)}` was given {counts[key]} times: the last one was used")
        key, value = key.strip(), value.strip()
        if key.lower() in SECRET_KEYS or TOKEN_LIKE.search(key + value):  # never quoted, never read
            link.notices.append(f"ignored `{_shown(key) or '?'}`: a link never carries a token or password")
            continue
        try:
            _apply(link, key, value, fields)
        except InvalidInputError as error:
            link.notices.append(f"ignored `{_shown(key)}={_shown(value)}`: {error}")
    link.notices.reverse()  # in the order the link gives them
    if link.style.get("blend") is not None and link.styles:
        try:
            parse_blend_weights(str(link.style["blend"]), len(link.styles))
        except InvalidInputError as error:
            link.notices.append(f"ignored `blend`: {error}")
            del link.style["blend"]
    if link.revision and (not link.model or "/" not in link.model):
        link.notices.append("ignored `revision`: the link names no Hub model")
        link.revision = None
    return link


def _apply(link: Permalink, key: str, value: str, fields: Mapping[str, Field]) -> None:
    lowered = key.lower()
    if lowered.startswith("__") or lowered in PASSTHROUGH_KEYS:
        return
    if len(value) > MAX_VALUE_CHARS:
        raise InvalidInputError(f"{key} is longer than {MAX_VALUE_CHARS} characters")
    if key == "tab":
        if value.lower() not in TABS:
            raise InvalidInputError(f"tab must be one of {', '.join(TABS)}")
        link.tab = value.lower()
    elif key == "model":
        link.model, revision = _parse_model(value)
        link.revision = link.revision or revision
    elif key == "revision":
        if not REVISION.match(value) or ".." in value:
            raise InvalidInputError("revision must be a commit, branch or tag name")
        link.revision = value
    elif key == "content":
        link.content = _file_name(key, value)
    elif key == "styles":
        names = tuple(_file_name(key, name.strip()) for name in value.split(",") if name.strip())
        if not 1 <= len(names) <= MAX_STYLE_IMAGES:
            raise InvalidInputError(f"styles must name 1 to {MAX_STYLE_IMAGES} bundled style images")
        link.styles = names
    elif key in GENERATE_FIELDS:
        link.generate[key] = fields[key].parse(key, value)  # type: ignore[assignment]
    elif key in STYLE_FIELDS:
        link.style[key] = fields[key].parse(key, value)
    else:
        raise InvalidInputError("not a setting this app reads")


def _parse_model(value: str) -> tuple[str, str | None]:
    """An embedded model's name, or a Hub repo id / URL (maybe @revision) -> (name or repo id, revision)."""
    expected = "model must be a model's name or a Hub repo id like owner/name"
    if "/" not in value:  # an embedded model: a plain name, no revision
        if not EMBEDDED_NAME.match(value) or ".." in value:
            raise InvalidInputError(expected)
        return value, None
    try:
        source = parse_source(value, allow_local=False)
    except InvalidInputError:
        raise InvalidInputError(expected) from None
    if "/" not in source.repo_id:
        raise InvalidInputError(expected)
    return source.repo_id, source.revision


def _file_name(key: str, value: str) -> str:
    if not FILE_NAME.match(value) or ".." in value:
        raise InvalidInputError(f"{key} must name a bundled example image, like content-temple.jpg")
    return value


def _shown(text: str) -> str:
    """A value as a notice may quote it: never a token, never long, no Markdown code breakers."""
    if TOKEN_LIKE.search(text):
        return ""
    text = text.replace("`", "'").replace("\n", " ")
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


# -- writing links ---------------------------------------------------------------------------------


def permalink_query(link: Permalink) -> str:
    """The canonical query string (no leading "?") for a link: only typed settings, in a fixed order."""
    pairs: list[tuple[str, str]] = []
    if link.tab:
        pairs.append(("tab", link.tab))
    if link.model:
        pairs.append(("model", link.model))
        if link.revision:
            pairs.append(("revision", link.revision))
    for key, spec in GENERATE_FIELDS.items():
        if key in link.generate:
            pairs.append((key, spec.format(link.generate[key])))
    if link.content:
        pairs.append(("content", link.content))
    if link.styles:
        pairs.append(("styles", ",".join(link.styles)))
    for key, spec in STYLE_FIELDS.items():
        if key in link.style:
            pairs.append((key, spec.format(link.style[key])))
    return urlencode(pairs, safe="/,@", quote_via=quote)


def permalink_url(base: str, link: Permalink) -> str:
    """`base` (the app's address: a Space page or http://host:port) with the link's query."""
    query = permalink_query(link)
    return base.rstrip("/") + (f"?{query}" if query else "")


def link_model(name: str, folder: str | Path | None, embedded: Collection[str]) -> tuple[str, str | None]:
    """How a link names the model a visitor used: (embedded name, None) or (Hub repo id, commit).

    `folder`: where this visitor's copy of `name` lives, None for an embedded model. A model
    pulled from the Hub is linked at the commit it came from; anything else (a fine-tune, an
    upload) exists only in this session, and InvalidInputError says so.
    """
    if folder is None:
        if name not in embedded:
            raise InvalidInputError(f"unknown model {name!r}")
        return name, None
    source = read_source(folder)
    repo_id, revision = source.get("repo_id"), source.get("revision")
    if isinstance(repo_id, str) and isinstance(revision, str) and source.get("format"):
        return repo_id, revision
    raise InvalidInputError(
        f"{name} exists only in this session, so a link cannot open it: push it to the Hub (Hub tab), "
        "load it from there, and generate again to get a link"
    )


def bundled_example(path: str | Path | None, folder: str | Path) -> str | None:
    """The name of the file in `folder` with the same bytes as `path` (a bundled example), else None."""
    if not path:
        return None
    path, folder = Path(path), Path(folder)
    try:
        size = path.stat().st_size
        candidates = [p for p in sorted(folder.iterdir()) if p.is_file() and p.stat().st_size == size]
    except OSError:
        return None
    digest = _sha256(path) if candidates else None
    for candidate in candidates:
        if _sha256(candidate) == digest:
            return candidate.name
    return None


def _number(value: float) -> str:
    """The shortest text that reads back as the same float: 2.0 -> "2", 0.7 -> "0.7"."""
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def style_link_settings(config: Mapping[str, Any]) -> dict[str, int | float | str]:
    """A StyleConfig (as a dict, e.g. from a result PNG's metadata) -> the link's style settings."""
    settings: dict[str, int | float | str] = {}
    for key in STYLE_FIELDS:
        source_key = "seed" if key == "style_seed" else key
        if key == "blend":
            weights = config.get("style_blend") or ()
            if weights:
                settings["blend"] = ", ".join(_number(float(w)) for w in weights)
        elif source_key in config:
            value = config[source_key]
            settings[key] = STYLE_FIELDS[key].parse(key, str(value))
    return settings


# -- links from results: a PNG's own settings, whoever wrote it (the app or the CLI, gan.jobs) ---------


def samples_permalink(
    paths: Sequence[str | Path], folders: Mapping[str, str | Path], embedded: Collection[str]
) -> Permalink:
    """The link that reproduces the samples in `paths` (PNGs from gan.jobs.save_samples, in seed order).

    Read from the files' own metadata, never from widgets changed since. `folders`: where the visitor's own
    models live (name -> folder). InvalidInputError says why there is no link.
    """
    if not paths:
        raise InvalidInputError("there are no images to link")
    first, last = png_metadata(paths[0]), png_metadata(paths[-1])
    try:
        seed, name, truncation = int(first["seed"]), str(first["model"]), float(first["truncation"])
        consecutive = int(last["seed"]) == seed + len(paths) - 1 and last.get("model") == name
    except (KeyError, TypeError, ValueError):
        raise InvalidInputError("these images carry no settings") from None
    if not consecutive:
        raise InvalidInputError("these images do not come from one request")
    repo, revision = link_model(name, folders.get(name), embedded)
    settings = {"seed": seed, "count": len(paths), "truncation": truncation}
    return Permalink(model=repo, revision=revision, generate=settings)


def style_permalink(
    result: str | Path, content: str | Path | None, styles: Sequence[str | Path], examples: str | Path
) -> tuple[Permalink, bool]:
    """The link of a style result (a PNG from gan.jobs.style_metadata's settings) and whether it names its images:
    only bundled examples (in `examples`) are named; a link never carries a visitor's own images.

    `content` and `styles` are the images now in the inputs; InvalidInputError when they are not the result's.
    """
    meta = png_metadata(result)
    if not isinstance(meta.get("config"), dict):
        raise InvalidInputError("only a finished image has a link: Stylise again")
    names = ", ".join(Path(path).name for path in styles)
    if not content or meta.get("content") != Path(content).name or meta.get("styles") != names:
        raise InvalidInputError("the images changed since this result: Stylise again for a link")
    try:
        link = Permalink(style=style_link_settings(meta["config"]))
    except (ValueError, TypeError) as error:
        raise InvalidInputError(f"this result's settings cannot be linked ({error})") from None
    content_name = bundled_example(content, examples)
    style_names = [bundled_example(path, examples) for path in styles]
    if not (content_name and style_names and all(style_names)):
        return link, False
    link.content, link.styles = content_name, tuple(name for name in style_names if name)
    return link, True
