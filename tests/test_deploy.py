"""gan.deploy and `python -m gan deploy` against the Hub look-alike: what a published Space holds."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hub_repos import folder_files
from hub_server import ALICE, MALLORY
from huggingface_hub import HfApi

from gan.cli import main
from gan.deploy import DeployConfig, deploy, stage_space
from gan.errors import HubError, InvalidInputError
from gan.zoo import embedded_models

ROOT = Path(__file__).resolve().parent.parent


def front_matter(readme: bytes) -> dict:
    text = readme.decode()
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n")[1])


def test_deploy_creates_a_gradio_space_with_the_app_its_weights_and_its_configuration(hub, tiny_checkpoint):
    hub.add_repo("alice/tiny-gan", folder_files(tiny_checkpoint))
    result = deploy(DeployConfig("demo", model="alice/tiny-gan", hardware="cpu-upgrade"), ALICE)
    assert (result.space_id, result.url, result.created, result.private, result.sdk) == (
        "alice/demo", f"{hub.url}/spaces/alice/demo", True, False, "gradio")  # fmt: skip
    assert "alice/demo" in hub.spaces and "alice/demo" not in hub.repos  # a Space, not a model repo
    files = hub.files("alice/demo", repo_type="space")
    packages = {p.relative_to(ROOT).as_posix() for name in ("ui", "gan") for p in (ROOT / name).rglob("*.py")
                if "__pycache__" not in p.parts}  # fmt: skip
    assert packages <= set(files) and {"gan/share.py", "gan/jobs.py", "ui/__init__.py", "ui/style.py"} <= packages
    assert files["app.py"] == (ROOT / "app.py").read_bytes()
    assert files["requirements.txt"] == (ROOT / "requirements.txt").read_bytes()
    for name, folder in embedded_models().items():
        assert files[f"weights/{name}/model.safetensors"] == (folder / "model.safetensors").read_bytes()
    assert "weights/style-examples/style-mosaic.png" in files
    assert {"weights/judges/digits/model.safetensors", "weights/judges/emoji/config.json"} <= set(files)  # gan.quality
    assert files["weights/default_model.txt"] == b"alice/tiny-gan\n"
    assert not [p for p in files if p.startswith(("tests/", "benchmarks/", ".ci/")) or "previews/" in p]
    assert not [p for p in files if p.endswith((".pyc", "run_state.pt")) or p == "Dockerfile"]
    assert not [p for p, content in files.items() if ALICE.encode() in content]  # the token is in no file

    meta = front_matter(files["README.md"])
    assert (meta["sdk"], meta["sdk_version"], meta["python_version"], meta["app_file"], meta["hf_oauth"]) == (
        "gradio", importlib.metadata.version("gradio"), "3.11", "app.py", True)  # fmt: skip
    assert meta["models"] == ["alice/tiny-gan", "timm/vgg19.tv_in1k"]
    assert "timm/vgg19.tv_in1k model.safetensors" in meta["preload_from_hub"]
    assert meta["title"] == "GAN studio" and meta["suggested_hardware"] == "cpu-upgrade"
    assert "contribute-repos" in meta["hf_oauth_scopes"] and meta["license"] == "apache-2.0"
    body = files["README.md"].decode().split("---\n", 2)[2]
    assert f"[alice/tiny-gan]({hub.url}/alice/tiny-gan), pulled from the Hub" in body
    assert f"`{hub.url}/spaces/alice/demo?model=owner/name`" in body
    assert hub.spaces["alice/demo"].hardware == ["cpu-upgrade"]
    assert HfApi(token=ALICE).space_info("alice/demo").sdk == "gradio"


def test_a_second_deploy_updates_the_space_removes_stale_files_and_requests_hardware(hub):
    first = deploy(DeployConfig("alice/demo"), ALICE)
    hub.add_repo("alice/demo", {"gan/retired.py": b"# gone", "ui/retired.py": b"# gone too"}, repo_type="space")
    second = deploy(DeployConfig("alice/demo", hardware="t4-small", docker=True, private=True), ALICE)
    assert first.created and not second.created and second.private is False  # visibility left as it was
    files = hub.files("alice/demo", repo_type="space")
    assert not {"gan/retired.py", "ui/retired.py"} & set(files)
    assert files["Dockerfile"] == (ROOT / "Dockerfile").read_bytes()
    meta = front_matter(files["README.md"])
    assert (meta["sdk"], meta["app_port"], meta["suggested_hardware"]) == ("docker", 7860, "t4-small")
    assert not {"sdk_version", "python_version", "app_file"} & set(meta) and meta["models"] == ["timm/vgg19.tv_in1k"]
    assert files["weights/default_model.txt"] == b"mnist-dcgan\n"
    assert hub.spaces["alice/demo"].hardware == ["cpu-basic", "t4-small"]  # the default at creation, then asked


def test_a_checkpoint_folder_is_shipped_in_weights_and_becomes_the_default(hub, tiny_checkpoint, tmp_path):
    (tiny_checkpoint / "run_state.pt").write_bytes(b"optimiser state: never published")
    result = deploy(DeployConfig("gan-lab/tuned-demo", model=tiny_checkpoint), ALICE)
    files = hub.files("gan-lab/tuned-demo", repo_type="space")
    assert result.default_model == "tiny" and files["weights/default_model.txt"] == b"tiny\n"
    assert files["weights/tiny/model.safetensors"] == (tiny_checkpoint / "model.safetensors").read_bytes()
    assert "weights/tiny/discriminator/model.safetensors" in files and "weights/tiny/run_state.pt" not in files


def test_a_private_hub_model_is_copied_in_since_visitors_could_not_pull_it(hub, tiny_checkpoint):
    hub.add_repo("alice/secret-gan", folder_files(tiny_checkpoint), private=True)
    result = deploy(DeployConfig("demo", model="alice/secret-gan"), ALICE)
    files = hub.files("alice/demo", repo_type="space")
    assert result.default_model == "alice--secret-gan" and "weights/alice--secret-gan/model.safetensors" in files
    assert result.models == ("timm/vgg19.tv_in1k",)  # a private repo is not advertised


@pytest.mark.parametrize(
    "config, token, error, message",
    [
        (dict(space_id="demo"), None, HubError, "needs a Hugging Face login"),
        (dict(space_id="gan-lab/demo"), MALLORY, HubError, "this token cannot write to 'gan-lab'"),
        (dict(space_id="demo", model="nobody/nothing"), ALICE, HubError, "repo nobody/nothing was not found"),
        (dict(space_id="demo", model="no-such-model"), ALICE, InvalidInputError, "no model 'no-such-model'"),
    ],
    ids=["no-token", "foreign-org", "missing-model", "unknown-name"],
)
def test_deploy_errors_are_clear_and_create_no_space(hub, config, token, error, message):
    with pytest.raises(error, match=message) as raised:
        deploy(DeployConfig(**config), token)
    assert hub.spaces == {} and (token is None or token not in str(raised.value))


@pytest.mark.parametrize(
    "config, message",
    [
        (dict(space_id="demo", hardware="quantum-xl"), "unknown hardware 'quantum-xl': one of cpu-basic"),
        (dict(space_id="demo", hardware="zero-a10g", docker=True), "ZeroGPU .* runs Gradio Spaces only"),
        (dict(space_id="not a name"), "is not a Space name"),
    ],
)
def test_bad_settings_are_refused_before_any_request(hub, config, message):
    with pytest.raises(InvalidInputError, match=message):
        DeployConfig(**config)
    assert hub.requests == []


def test_stage_space_needs_a_gan_studio_folder(tmp_path):
    with pytest.raises(InvalidInputError, match=r"has no app\.py"):
        stage_space(DeployConfig("a/b"), None, tmp_path / "out", root=tmp_path)  # type: ignore[arg-type]


def test_cli_deploy_prints_the_space_url_and_never_the_token(hub, capsys):
    assert main(["deploy", "cli-demo", "--model", "emoji-smileys", "--hardware", "cpu-basic"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"published GAN studio to {hub.url}/spaces/alice/cli-demo (public, created, gradio SDK)")
    assert "default model: emoji-smileys" in out and ALICE not in out
    assert main(["deploy", "cli-demo", "--hardware", "warp-drive"]) == 2
    assert "error: unknown hardware 'warp-drive'" in capsys.readouterr().err


def test_the_test_hub_checks_a_spaces_configuration_like_the_hub(hub, tmp_path):
    api = HfApi(token=ALICE)
    api.create_repo("alice/proto", repo_type="space", space_sdk="gradio")
    api.create_repo("alice/proto")  # a model may share a Space's name
    (tmp_path / "README.md").write_text("---\nsdk: flash\nhf_oauth: yes please\n---\n")
    with pytest.raises(ValueError, match=r"Invalid metadata in README\.md"):
        api.upload_file(path_or_fileobj=tmp_path / "README.md", path_in_repo="README.md", repo_id="alice/proto",
                        repo_type="space")  # fmt: skip
    assert set(hub.files("alice/proto", repo_type="space")) == {".gitattributes"}


def test_a_published_space_runs_from_its_own_files_on_its_default_model(hub, tiny_checkpoint, tmp_path):
    hub.add_repo("alice/tiny-gan", folder_files(tiny_checkpoint))
    deploy(DeployConfig("demo", model="alice/tiny-gan"), ALICE)
    space = tmp_path / "space"  # what the Hub's builder checks out
    for path, content in hub.files("alice/demo", repo_type="space").items():
        (space / path).parent.mkdir(parents=True, exist_ok=True)
        (space / path).write_bytes(content)
    code = (
        "import app, gan\n"
        "demo = app.build_app()\n"
        "(model,) = [b for b in demo.blocks.values() if getattr(b, 'elem_id', None) == 'generate-model']\n"
        "print('MODEL', model.value, 'FROM', gan.__file__)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=space, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"MODEL alice/tiny-gan FROM {space / 'gan' / '__init__.py'}" in result.stdout
