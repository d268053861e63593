"""A Hugging Face Hub look-alike for the tests: standard library only, in memory, on 127.0.0.1.

It speaks the part of the Hub's HTTP API that huggingface_hub 2.x sends for what
GAN studio does, with the same status codes and headers the client keys on:

- `GET  /api/whoami-v2`                                  who owns a token (401 for a bad one)
- `POST /api/repos/create`                               409 when the repo exists, 403 outside the token's namespaces
- `GET  /api/models/{repo}[/revision/{rev}]`             model info (`?blobs=true` adds sizes and LFS data)
- `GET  /api/models/{repo}/tree/{rev}[/{path}]`          the file tree (`?recursive=true`)
- `GET  /api/models?filter=..&search=..&author=..`       list models (filters are ANDed, like the Hub's)
- `HEAD|GET /{repo}/resolve/{rev}/{path}`                files with `X-Repo-Commit`, `ETag`, and for LFS files
                                                         `X-Linked-Etag` / `X-Linked-Size`; `Range` resumes
- `POST /api/models/{repo}/preupload/{rev}`              regular vs LFS upload mode
- `POST /{repo}.git/info/lfs/objects/batch`              LFS batch API, basic transfer: PUT to `/lfs-upload/{oid}`
- `POST /api/validate-yaml`                              model card metadata check (JSON answer)
- `POST /api/models/{repo}/commit/{rev}`                 ndjson commit (header, file, lfsFile, deletedFile lines)
- the same under `/api/spaces/...`, `/spaces/{repo}.git/...` and `/spaces/{repo}/resolve/...` for Spaces (a
  separate namespace: a model and a Space may share a name), which also need an `sdk` when created (plus an
  optional `hardware`), have their README's Space configuration checked, and take
  `POST /api/spaces/{repo}/hardware` (hardware requests are recorded, never run)

Errors carry `X-Error-Code` (`RepoNotFound`, `RevisionNotFound`, `EntryNotFound`) like the
Hub's. Repos are private or public; tokens map to users with a role (`read`/`write`) and
organisations, so private repos and namespace permissions behave as on the Hub. `faults`
makes a file's download drop mid-way; `requests` records what was asked (never tokens).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import yaml

ALICE = "hf_alice_write_token"  # alice: write token, member of the `gan-lab` organisation
BOB_READ = "hf_bob_read_token"  # bob: read-only token
MALLORY = "hf_mallory_write_token"  # mallory: write token, no organisation

SPACE_SDKS = ("gradio", "streamlit", "docker", "static")
SPACE_HARDWARE = ("cpu-basic", "cpu-upgrade", "zero-a10g", "t4-small", "t4-medium", "l4x1", "a10g-small",
                  "a10g-large", "a100-large", "h100")  # fmt: skip
LFS_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".pkl", ".png", ".zip")
PIPELINE_TAGS = {"unconditional-image-generation", "text-to-image", "image-to-image", "image-classification"}
GITATTRIBUTES = b"*.safetensors filter=lfs diff=lfs merge=lfs -text\n*.bin filter=lfs diff=lfs merge=lfs -text\n"


@dataclass(frozen=True)
class User:
    name: str
    role: str = "write"  # "read" tokens can read private repos of their namespaces but not write
    orgs: tuple[str, ...] = ()


@dataclass
class StoredFile:
    content: bytes
    lfs: bool

    @property
    def git_oid(self) -> str:  # what git would name the blob (for LFS files: the pointer's, close enough)
        return hashlib.sha1(b"blob %d\0" % len(self.content) + self.content).hexdigest()

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


@dataclass
class Repo:
    repo_id: str
    private: bool = False
    repo_type: str = "model"  # or "space"
    hardware: list[str] = field(default_factory=list)  # a Space's hardware requests, in order
    downloads: int = 0
    commits: dict[str, dict[str, StoredFile]] = field(default_factory=dict)  # sha -> path -> file
    branches: dict[str, str] = field(default_factory=dict)  # name -> sha
    created: str = "2024-01-01T00:00:00.000Z"

    def resolve(self, revision: str) -> str | None:
        if revision in self.branches:
            return self.branches[revision]
        return revision if revision in self.commits else None

    @property
    def head(self) -> dict[str, StoredFile]:
        return self.commits[self.branches["main"]]


class HubError(Exception):
    """An error answer: status, X-Error-Code and a message."""

    def __init__(self, status: int, message: str, code: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.code, self.headers = status, message, code, headers or {}


class FakeHub:
    """The Hub's state and a threaded HTTP server over it. Start with `start()`, stop with `stop()`."""

    def __init__(self, users: dict[str, User] | None = None) -> None:
        self.users = users or {
            ALICE: User("alice", "write", ("gan-lab",)),
            BOB_READ: User("bob", "read"),
            MALLORY: User("mallory", "write"),
        }
        self.lock = threading.RLock()
        self.reset()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread: threading.Thread | None = None

    # -- lifecycle and state -------------------------------------------------------------------

    def start(self) -> FakeHub:
        self._thread = threading.Thread(target=self.server.serve_forever, name="fake-hub", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def reset(self) -> None:
        with self.lock:
            self.repos: dict[str, Repo] = {}  # models
            self.spaces: dict[str, Repo] = {}
            self.lfs_store: dict[str, bytes] = {}
            self.faults: dict[tuple[str, str], int] = {}  # (repo, path) -> bytes sent before the line drops
            self.requests: list[tuple[str, str, str | None]] = []  # (method, path, user or None)

    def store(self, repo_type: str = "model") -> dict[str, Repo]:
        return self.spaces if repo_type == "space" else self.repos

    def add_repo(
        self,
        repo_id: str,
        files: dict[str, bytes],
        private: bool = False,
        downloads: int = 0,
        message: str = "init",
        repo_type: str = "model",
    ) -> str:
        """Create (or add a commit to) a repo straight in memory; returns the commit sha."""
        with self.lock:
            new = Repo(repo_id, private=private, downloads=downloads, repo_type=repo_type)
            repo = self.store(repo_type).setdefault(repo_id, new)
            base = dict(repo.head) if repo.branches else {".gitattributes": StoredFile(GITATTRIBUTES, False)}
            for path, content in files.items():
                base[path] = StoredFile(content, _is_lfs(path, content))
            return self._commit(repo, base, message)

    def files(self, repo_id: str, revision: str = "main", repo_type: str = "model") -> dict[str, bytes]:
        repo = self.store(repo_type)[repo_id]
        return {path: f.content for path, f in repo.commits[repo.resolve(revision) or ""].items()}

    def downloaded(self, repo_id: str) -> list[str]:
        """Paths of `repo_id` that were GET through /resolve (HEAD requests are not downloads)."""
        prefix = f"/{repo_id}/resolve/"
        paths = [
            path[len(prefix) :] for method, path, _ in self.requests if method == "GET" and path.startswith(prefix)
        ]
        return [unquote(path.split("/", 1)[1]) for path in paths]  # drop the revision

    def _commit(self, repo: Repo, files: dict[str, StoredFile], message: str) -> str:
        parent = repo.branches.get("main", "")
        digest = hashlib.sha1(f"{parent}\n{message}\n{time.time_ns()}".encode())
        for path in sorted(files):
            digest.update(f"{path}:{files[path].git_oid}".encode())
        sha = digest.hexdigest()
        repo.commits[sha] = files
        repo.branches["main"] = sha
        return sha

    # -- auth ----------------------------------------------------------------------------------

    def user_for(self, authorization: str | None) -> User | None:
        """None without a token; HubError 401 for a token the Hub does not know."""
        if not authorization:
            return None
        token = authorization.removeprefix("Bearer ").strip()
        if token not in self.users:
            raise HubError(401, "Invalid credentials in Authorization header")
        return self.users[token]

    def readable(self, repo_id: str, user: User | None, repo_type: str = "model") -> Repo:
        repo = self.store(repo_type).get(repo_id)
        namespace = repo_id.split("/")[0]
        if repo is None or (repo.private and (user is None or namespace not in (user.name, *user.orgs))):
            # The Hub answers the same for "missing" and "private, no access": it does not leak existence.
            raise HubError(401 if user is None else 404, "Repository not found", "RepoNotFound")
        return repo

    def writable(self, repo_id: str, user: User | None, repo_type: str = "model") -> Repo:
        repo = self.readable(repo_id, user, repo_type)
        self.check_namespace(repo_id.split("/")[0], user)
        return repo

    @staticmethod
    def check_namespace(namespace: str, user: User | None) -> None:
        if user is None:
            raise HubError(401, "You must be authenticated to write")
        if namespace not in (user.name, *user.orgs):
            raise HubError(403, f"You don't have the rights to create a model under the namespace {namespace!r}")
        if user.role != "write":
            raise HubError(403, "This token has read access only: it cannot write")


def _is_lfs(path: str, content: bytes) -> bool:
    return path.endswith(LFS_SUFFIXES) or b"\0" in content[:512] or len(content) > 10 << 20


def _front_matter(text: str) -> tuple[dict[str, Any] | None, str | None]:
    """(metadata, error) of a README's YAML block."""
    match = re.match(r"^---\s*\n(.*?)\n---\s*(\n|$)", text, re.DOTALL)
    if match is None:
        return None, None
    try:
        data = yaml.safe_load(match.group(1))
    except yaml.YAMLError as error:
        return None, f"invalid YAML: {error}"
    if data is None:
        return {}, None
    if not isinstance(data, dict):
        return None, "metadata must be a YAML mapping"
    return data, None


def _card_errors(data: dict[str, Any], repo_type: str = "model") -> list[str]:
    if repo_type == "space":
        return _space_config_errors(data)
    errors = []
    if "license" in data and not isinstance(data["license"], str):
        errors.append('"license" must be a string')
    for key in ("tags", "datasets"):
        if key in data and not (isinstance(data[key], list) and all(isinstance(t, str) for t in data[key])):
            errors.append(f'"{key}" must be an array of strings')
    if "pipeline_tag" in data and data["pipeline_tag"] not in PIPELINE_TAGS:
        errors.append(f'"pipeline_tag" must be a known pipeline, got {data["pipeline_tag"]!r}')
    return errors


def _space_config_errors(data: dict[str, Any]) -> list[str]:
    """What the Hub checks in a Space's README configuration (https://huggingface.co/docs/hub/spaces-config-reference)."""
    errors = []
    if data.get("sdk") not in SPACE_SDKS:
        errors.append(f'"sdk" must be one of {", ".join(SPACE_SDKS)}, got {data.get("sdk")!r}')
    for key in ("title", "sdk_version", "python_version", "app_file", "license", "suggested_hardware", "emoji"):
        if key in data and not isinstance(data[key], str):
            errors.append(f'"{key}" must be a string')
    for key in ("hf_oauth", "pinned"):
        if key in data and not isinstance(data[key], bool):
            errors.append(f'"{key}" must be a boolean')
    if "app_port" in data and not isinstance(data["app_port"], int):
        errors.append('"app_port" must be an integer')
    for key in ("models", "datasets", "tags", "preload_from_hub", "hf_oauth_scopes"):
        if key in data and not (isinstance(data[key], list) and all(isinstance(t, str) for t in data[key])):
            errors.append(f'"{key}" must be an array of strings')
    if "suggested_hardware" in data and data["suggested_hardware"] not in SPACE_HARDWARE:
        errors.append(f'"suggested_hardware" must be a known hardware, got {data["suggested_hardware"]!r}')
    return errors


def _make_handler(hub: FakeHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as httpx expects

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        # -- plumbing ----------------------------------------------------------------------

        def do_HEAD(self) -> None:
            self._dispatch("HEAD")

        def do_GET(self) -> None:
            self._dispatch("GET")

        def do_POST(self) -> None:
            self._dispatch("POST")

        def do_PUT(self) -> None:
            self._dispatch("PUT")

        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        return b"".join(chunks)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None, ctype: str = "") -> None:
            self.send_response(status)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            if ctype:
                self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
            self._send(status, json.dumps(data).encode(), headers, "application/json")

        def _dispatch(self, method: str) -> None:
            raw = self._body() if method in ("POST", "PUT") else b""
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            segments = [unquote(s) for s in parts.path.strip("/").split("/")]
            try:
                user = hub.user_for(self.headers.get("Authorization"))
                with hub.lock:
                    hub.requests.append((method, parts.path, user.name if user else None))
                self._route(method, segments, query, raw, user)
            except HubError as error:
                headers = {"X-Error-Message": error.message, **error.headers}
                if error.code:
                    headers["X-Error-Code"] = error.code
                self._json(error.status, {"error": error.message}, headers)
            except (TimeoutError, ConnectionError):
                self.close_connection = True

        # -- routes ------------------------------------------------------------------------

        def _route(self, method: str, s: list[str], query: dict[str, list[str]], raw: bytes, user: User | None):
            if s[:2] == ["api", "whoami-v2"] and method == "GET":
                return self._whoami(user)
            if s[:3] == ["api", "repos", "create"] and method == "POST":
                return self._create(json.loads(raw or b"{}"), user)
            if s[:2] == ["api", "validate-yaml"] and method == "POST":
                return self._validate_yaml(json.loads(raw or b"{}"))
            if s == ["api", "models"] and method == "GET":
                return self._list_models(query, user)
            if s[:2] in (["api", "models"], ["api", "spaces"]) and len(s) >= 4:
                repo_id, rest, kind = f"{s[2]}/{s[3]}", s[4:], s[1][:-1]
                if not rest and method == "GET":
                    return self._info(repo_id, "main", query, user, kind)
                if rest[0] == "revision" and len(rest) == 2 and method == "GET":
                    return self._info(repo_id, rest[1], query, user, kind)
                if rest[0] == "tree" and len(rest) >= 2 and method == "GET":
                    return self._tree(repo_id, rest[1], "/".join(rest[2:]), query, user, kind)
                if rest[0] == "preupload" and len(rest) == 2 and method == "POST":
                    return self._preupload(repo_id, rest[1], json.loads(raw), user, kind)
                if rest[0] == "commit" and len(rest) == 2 and method == "POST":
                    return self._commit(repo_id, rest[1], raw, user, kind)
                if kind == "space" and rest == ["hardware"] and method == "POST":
                    return self._request_hardware(repo_id, json.loads(raw or b"{}"), user)
            if s[0] == "spaces" and len(s) >= 3:  # a Space's git and file routes: the model ones under /spaces
                kind, s = "space", s[1:]
            else:
                kind = "model"
            if len(s) == 6 and s[1].endswith(".git") and s[2:] == ["info", "lfs", "objects", "batch"]:
                return self._lfs_batch(f"{s[0]}/{s[1].removesuffix('.git')}", json.loads(raw), user, kind)
            if s[0] == "lfs-upload" and len(s) == 2 and method == "PUT":
                return self._lfs_put(s[1], raw)
            if s[0] == "lfs-verify" and len(s) == 2 and method == "POST":
                return self._json(200 if s[1] in hub.lfs_store else 404, {"ok": s[1] in hub.lfs_store})
            if len(s) >= 5 and s[2] == "resolve" and method in ("GET", "HEAD"):
                return self._resolve(f"{s[0]}/{s[1]}", s[3], "/".join(s[4:]), user, kind)
            if len(s) == 2 and method == "GET" and f"{s[0]}/{s[1]}" in hub.store(kind):  # a repo's web page
                return self._send(200, f"<html>{kind} page</html>".encode(), ctype="text/html")
            raise HubError(404, f"no route {method} /{'/'.join(s)}")

        def _whoami(self, user: User | None) -> None:
            if user is None:
                raise HubError(401, "You must be logged in")
            orgs = [{"type": "org", "name": org, "fullname": org, "roleInOrg": "write"} for org in user.orgs]
            role = {"displayName": "test token", "role": user.role}
            self._json(200, {"type": "user", "id": user.name, "name": user.name, "fullname": user.name.title(),
                             "email": f"{user.name}@example.com", "avatarUrl": f"/avatars/{user.name}.png",
                             "orgs": orgs, "auth": {"type": "access_token", "accessToken": role}})  # fmt: skip

        def _create(self, payload: dict[str, Any], user: User | None) -> None:
            if user is None:
                raise HubError(401, "You must be logged in to create a repo")
            namespace = payload.get("organization") or user.name
            repo_id = f"{namespace}/{payload.get('name')}"
            kind = payload.get("type") or "model"
            if kind not in ("model", "space"):
                raise HubError(400, "this test hub hosts models and Spaces only")
            if kind == "space" and payload.get("sdk") not in SPACE_SDKS:
                raise HubError(400, f"a Space needs an sdk: one of {', '.join(SPACE_SDKS)}")
            if kind == "space" and payload.get("hardware", "cpu-basic") not in SPACE_HARDWARE:
                raise HubError(400, f"unknown hardware {payload.get('hardware')!r}")
            hub.check_namespace(namespace, user)
            with hub.lock:
                if repo_id in hub.store(kind):
                    raise HubError(409, f"You already created this {kind} repo", headers={"X-Repo-Url": repo_id})
                private = payload.get("visibility") == "private"
                hub.add_repo(repo_id, {}, private=private, message="initial commit", repo_type=kind)
                if kind == "space":
                    hub.spaces[repo_id].hardware.append(payload.get("hardware") or "cpu-basic")
            url = f"{hub.url}/spaces/{repo_id}" if kind == "space" else f"{hub.url}/{repo_id}"
            self._json(200, {"url": url, "name": repo_id, "id": repo_id})

        def _request_hardware(self, repo_id: str, payload: dict[str, Any], user: User | None) -> None:
            repo = hub.writable(repo_id, user, "space")
            flavor = payload.get("flavor")
            if flavor not in SPACE_HARDWARE:
                raise HubError(400, f"unknown hardware {flavor!r}")
            with hub.lock:
                repo.hardware.append(flavor)
            self._json(200, self._runtime(repo))

        def _runtime(self, repo: Repo) -> dict[str, Any]:
            requested = repo.hardware[-1] if repo.hardware else "cpu-basic"
            return {"stage": "BUILDING", "hardware": {"current": None, "requested": requested},
                    "storage": None, "gcTimeout": None, "replicas": {"current": 1, "requested": 1}}  # fmt: skip

        def _revision(self, repo: Repo, revision: str) -> str:
            sha = repo.resolve(revision)
            if sha is None:
                raise HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")
            return sha

        def _card(self, files: dict[str, StoredFile]) -> dict[str, Any]:
            readme = files.get("README.md")
            data = _front_matter(readme.content.decode("utf-8", "replace"))[0] if readme else None
            return data or {}

        def _summary(self, repo: Repo) -> dict[str, Any]:
            card = self._card(repo.head)
            tags = [*card.get("tags", []), *([card["library_name"]] if card.get("library_name") else [])]
            if card.get("license"):
                tags.append(f"license:{card['license']}")
            return {"_id": repo.repo_id, "id": repo.repo_id, "modelId": repo.repo_id,
                    "author": repo.repo_id.split("/")[0], "sha": repo.branches["main"], "private": repo.private,
                    "downloads": repo.downloads, "likes": 0, "tags": tags, "pipeline_tag": card.get("pipeline_tag"),
                    "library_name": card.get("library_name"), "createdAt": repo.created,
                    "lastModified": repo.created, "gated": False, "disabled": False}  # fmt: skip

        def _info(
            self, repo_id: str, revision: str, query: dict[str, list[str]], user: User | None, kind: str = "model"
        ) -> None:
            repo = hub.readable(repo_id, user, kind)
            sha = self._revision(repo, revision)
            files = repo.commits[sha]
            blobs = query.get("blobs", [""])[0].lower() == "true"
            siblings = []
            for path, f in sorted(files.items()):
                entry: dict[str, Any] = {"rfilename": path}
                if blobs:
                    entry.update(size=len(f.content), blobId=f.git_oid)
                    if f.lfs:
                        entry["lfs"] = {"size": len(f.content), "sha256": f.sha256, "pointerSize": 134}
                siblings.append(entry)
            info = {**self._summary(repo), "sha": sha, "cardData": self._card(files), "siblings": siblings}
            if kind == "space":
                subdomain = re.sub(r"[^a-z0-9]+", "-", repo_id.lower()).strip("-")
                card = info["cardData"]
                info.update(sdk=card.get("sdk"), runtime=self._runtime(repo), subdomain=subdomain,
                            host=f"https://{subdomain}.hf.space", models=card.get("models", []))  # fmt: skip
            self._json(200, info)

        def _tree(self, repo_id: str, revision: str, path: str, query: dict[str, list[str]], user: User | None,
                  kind: str = "model"):  # fmt: skip
            repo = hub.readable(repo_id, user, kind)
            files = repo.commits[self._revision(repo, revision)]
            recursive = query.get("recursive", ["false"])[0].lower() == "true"
            prefix = f"{path.strip('/')}/" if path.strip("/") else ""
            entries, folders = [], set()
            for name, f in sorted(files.items()):
                if not name.startswith(prefix):
                    continue
                rest = name[len(prefix) :]
                parents = rest.split("/")[:-1]
                for depth in range(1, len(parents) + 1 if recursive else min(1, len(parents)) + 1):
                    folders.add(prefix + "/".join(parents[:depth]))
                if "/" in rest and not recursive:
                    continue
                entry = {"type": "file", "oid": f.git_oid, "size": len(f.content), "path": name}
                if f.lfs:
                    entry["lfs"] = {"oid": f.sha256, "size": len(f.content), "pointerSize": 134}
                entries.append(entry)
            if prefix and not entries and not folders:
                raise HubError(404, f"{path} does not exist", "EntryNotFound")
            dirs = [{"type": "directory", "oid": hashlib.sha1(d.encode()).hexdigest(), "size": 0, "path": d}
                    for d in sorted(folders)]  # fmt: skip
            self._json(200, dirs + entries)

        def _list_models(self, query: dict[str, list[str]], user: User | None) -> None:
            wanted = set(query.get("filter", []))
            search = query.get("search", [""])[0].lower()
            author = query.get("author", [None])[0]
            limit = int(query.get("limit", ["1000"])[0])
            found = []
            for repo in list(hub.repos.values()):
                namespace = repo.repo_id.split("/")[0]
                if repo.private and (user is None or namespace not in (user.name, *user.orgs)):
                    continue
                summary = self._summary(repo)
                if wanted - set(summary["tags"]) or search not in repo.repo_id.lower():
                    continue
                if author and namespace != author:
                    continue
                found.append(summary)
            found.sort(key=lambda m: -m["downloads"])
            self._json(200, found[:limit])

        def _resolve(self, repo_id: str, revision: str, path: str, user: User | None, kind: str = "model") -> None:
            repo = hub.readable(repo_id, user, kind)
            sha = self._revision(repo, revision)
            f = repo.commits[sha].get(path)
            if f is None:
                raise HubError(404, "Entry not found", "EntryNotFound", {"X-Repo-Commit": sha})
            size = len(f.content)
            headers = {"X-Repo-Commit": sha, "ETag": f'"{f.git_oid}"', "Accept-Ranges": "bytes"}
            if f.lfs:
                headers.update({"X-Linked-Etag": f'"{f.sha256}"', "X-Linked-Size": str(size)})
            start = 0
            ranged = re.match(r"bytes=(\d+)-$", self.headers.get("Range", ""))
            if ranged and self.command == "GET":
                start = int(ranged.group(1))
                headers["Content-Range"] = f"bytes {start}-{size - 1}/{size}"
            drop_after = hub.faults.get((repo_id, path))
            if self.command == "GET" and drop_after is not None:
                self._drop(206 if ranged else 200, headers, f.content[start:], 0 if ranged else drop_after)
                return
            if self.command == "GET":
                with hub.lock:
                    repo.downloads += 1
            self._send(206 if ranged else 200, f.content[start:], headers, "application/octet-stream")

        def _drop(self, status: int, headers: dict[str, str], body: bytes, sent: int) -> None:
            """Announce the whole body, send `sent` bytes of it, then cut the connection."""
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[:sent])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)

        def _preupload(
            self, repo_id: str, revision: str, payload: dict[str, Any], user: User | None, kind: str = "model"
        ) -> None:
            repo = hub.writable(repo_id, user, kind)
            files = repo.commits[self._revision(repo, revision)]
            answer = []
            for item in payload.get("files", []):
                sample = base64.b64decode(item.get("sample", ""))
                existing = files.get(item["path"])
                answer.append({"path": item["path"], "shouldIgnore": False,
                               "uploadMode": "lfs" if _is_lfs(item["path"], sample) else "regular",
                               "oid": existing.git_oid if existing else None})  # fmt: skip
            self._json(200, {"files": answer, "commitOid": repo.branches["main"]})

        def _lfs_batch(self, repo_id: str, payload: dict[str, Any], user: User | None, kind: str = "model") -> None:
            hub.writable(repo_id, user, kind)
            if payload.get("operation") != "upload" or "basic" not in payload.get("transfers", ["basic"]):
                raise HubError(400, "only basic uploads are supported here")
            objects = []
            for item in payload.get("objects", []):
                oid, size = item["oid"], item["size"]
                entry: dict[str, Any] = {"oid": oid, "size": size, "authenticated": True}
                if oid not in hub.lfs_store:  # already stored objects need no upload: no "actions"
                    entry["actions"] = {
                        "upload": {"href": f"{hub.url}/lfs-upload/{oid}", "header": {}},
                        "verify": {"href": f"{hub.url}/lfs-verify/{oid}", "header": {}},
                    }
                objects.append(entry)
            self._json(200, {"transfer": "basic", "objects": objects, "hash_algo": "sha256"})

        def _lfs_put(self, oid: str, raw: bytes) -> None:
            if hashlib.sha256(raw).hexdigest() != oid:
                raise HubError(400, "uploaded content does not match its sha256")
            with hub.lock:
                hub.lfs_store[oid] = raw
            self._send(200)

        def _validate_yaml(self, payload: dict[str, Any]) -> None:
            data, error = _front_matter(payload.get("content", ""))
            if error:
                return self._json(400, {"errors": [{"message": error}], "warnings": []})
            if data is None:
                return self._json(200, {"errors": [], "warnings": [{"message": "empty or missing yaml metadata"}]})
            errors = _card_errors(data, payload.get("repoType") or "model")
            self._json(400 if errors else 200, {"errors": [{"message": e} for e in errors], "warnings": []})

        def _commit(self, repo_id: str, revision: str, raw: bytes, user: User | None, kind: str = "model") -> None:
            repo = hub.writable(repo_id, user, kind)
            if self.headers.get("Content-Type") != "application/x-ndjson":
                raise HubError(400, "a commit is ndjson")
            lines = [json.loads(line) for line in raw.splitlines() if line.strip()]
            if not lines or lines[0].get("key") != "header" or not lines[0]["value"].get("summary"):
                raise HubError(400, "a commit starts with a header line that has a summary")
            with hub.lock:
                sha = self._revision(repo, revision)
                parent = lines[0]["value"].get("parentCommit")
                if parent and parent != sha:
                    raise HubError(412, "parent commit is not the head of the branch")
                files = dict(repo.commits[sha])
                for line in lines[1:]:
                    key, value = line["key"], line["value"]
                    if key == "file":
                        files[value["path"]] = StoredFile(base64.b64decode(value["content"]), False)
                    elif key == "lfsFile":
                        if value["oid"] not in hub.lfs_store:
                            raise HubError(422, f"LFS object {value['oid']} of {value['path']} was never uploaded")
                        files[value["path"]] = StoredFile(hub.lfs_store[value["oid"]], True)
                    elif key == "deletedFile":
                        if files.pop(value["path"], None) is None:
                            raise HubError(404, "A file with this name doesn't exist", "EntryNotFound")
                    elif key == "deletedFolder":
                        files = {p: f for p, f in files.items() if not p.startswith(value["path"].rstrip("/") + "/")}
                    else:
                        raise HubError(400, f"unknown commit line {key!r}")
                new = hub._commit(repo, files, lines[0]["value"]["summary"])
            url = f"{hub.url}/{'spaces/' if kind == 'space' else ''}{repo_id}/commit/{new}"
            self._json(200, {"success": True, "commitOid": new, "commitUrl": url, "pullRequestUrl": None})

    return Handler
