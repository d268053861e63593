"""gan.hub and `python -m gan pull|push` against the Hub look-alike of tests/hub_server.py."""

from __future__ import annotations

import json
import shlex
import types

import huggingface_hub.file_download
import pytest
import torch
import yaml
from hub_repos import (
    RunsCode,
    card,
    folder_files,
    huggan_bin_files,
    huggan_safetensors_files,
    torch_bytes,
    trained_sprint_generator,
)
from hub_server import ALICE, BOB_READ, MALLORY
from huggingface_hub import HfApi
from PIL import Image
from safetensors.torch import load_file

from gan.card import BADGE
from gan.checkpoint import load_checkpoint
from gan.cli import main
from gan.config import GenerateConfig
from gan.errors import CheckpointError, HubError, HubUnreachableError, InvalidInputError
from gan.hub import browse, parse_source, pull, push
from gan.sampling import generate, latents_for_seeds

SEEDS = GenerateConfig(seed=5, count=6)


def images(folder) -> torch.Tensor:
    return generate(load_checkpoint(folder).generator, SEEDS, device="cpu")


# -- round trips --------------------------------------------------------------------------------


def test_push_then_pull_gives_identical_images_and_a_real_model_card(hub, tiny_checkpoint, tmp_path):
    pushed = push(tiny_checkpoint, "tiny-gan", ALICE, private=True, with_discriminator=True)
    assert (pushed.repo_id, pushed.private, pushed.created) == ("alice/tiny-gan", True, True)
    assert pushed.url == f"{hub.url}/alice/tiny-gan" and pushed.commit_url.startswith(pushed.url + "/commit/")
    files = hub.files("alice/tiny-gan")
    assert {"config.json", "model.safetensors", "discriminator/model.safetensors", "samples.png", "README.md"} <= set(
        files
    )
    readme = files["README.md"].decode()
    meta = yaml.safe_load(readme.split("---")[1])
    assert meta["pipeline_tag"] == "unconditional-image-generation" and meta["library_name"] == "pytorch"
    assert {"gan", "dcgan"} <= set(meta["tags"]) and meta["license"] == "apache-2.0"
    assert "![Samples" in readme and "python -m gan pull alice/tiny-gan" in readme and "from gan.hub import" in readme
    app_link = f"{hub.url}/spaces/gan-studio/gan-studio?model=alice/tiny-gan"  # the default app Space, on this Hub
    assert f"[open alice/tiny-gan in GAN studio]({app_link})" in readme and "## Use this model" in readme
    assert f"[![Open in GAN studio]({BADGE})]({app_link})" in readme
    (tmp_path / "samples.png").write_bytes(files["samples.png"])
    with Image.open(tmp_path / "samples.png") as grid:
        assert grid.size[0] >= 256 and grid.text["seeds"] == "0-15"

    pulled = pull("alice/tiny-gan", token=ALICE)
    assert torch.equal(images(pulled.folder), images(tiny_checkpoint))
    assert (pulled.format, pulled.architecture, pulled.license, pulled.has_discriminator) == (
        "gan-studio", "dcgan", "apache-2.0", True)  # fmt: skip
    assert pulled.revision == hub.repos["alice/tiny-gan"].branches["main"]
    d_pushed = load_file(str(tiny_checkpoint / "discriminator" / "model.safetensors"))
    d_pulled = load_file(str(pulled.folder / "discriminator" / "model.safetensors"))
    assert all(torch.equal(d_pushed[k], d_pulled[k]) for k in d_pushed)

    again = pull(f"{hub.url}/alice/tiny-gan", token=ALICE)  # the same commit: nothing is downloaded again
    assert again.folder == pulled.folder and again.downloaded == []


def test_the_cards_use_this_model_snippets_run_as_written(hub, tiny_checkpoint, tmp_path, monkeypatch, capsys):
    push(tiny_checkpoint, "alice/snippets", ALICE, app_space="gan-lab/studio")
    readme = hub.files("alice/snippets")["README.md"].decode()
    assert f"({hub.url}/spaces/gan-lab/studio?model=alice/snippets)" in readme
    assert f"git clone {hub.url}/spaces/gan-lab/studio gan-studio" in readme
    python = readme.split("```python\n")[1].split("```")[0]
    bash = readme.split("```bash\n")[-1].split("```")[0].strip().splitlines()
    monkeypatch.chdir(tmp_path)
    scope: dict[str, object] = {}
    exec(python, scope)  # the Python snippet, verbatim
    assert scope["images"].shape == (16, 1, 32, 32)
    for line in bash:  # the command-line snippet, verbatim
        words = shlex.split(line)
        assert words[:3] == ["python", "-m", "gan"]
        assert main(words[3:]) == 0, line
    assert len(list((tmp_path / "samples").glob("*_grid_*.png"))) == 1
    capsys.readouterr()
    push(tiny_checkpoint, "alice/no-link", ALICE, app_space=None)
    assert "/spaces/" not in hub.files("alice/no-link")["README.md"].decode()


def test_a_push_to_an_existing_repo_adds_a_commit_and_revisions_pull_each_version(hub, tiny_checkpoint, tmp_path):
    first = push(tiny_checkpoint, "alice/versions", ALICE)
    old_sha = hub.repos["alice/versions"].branches["main"]
    changed = load_checkpoint(tiny_checkpoint)
    with torch.no_grad():
        next(changed.generator.parameters()).mul_(-1.0)
    from gan.checkpoint import save_checkpoint

    save_checkpoint(tmp_path / "v2", "dcgan", changed.config, changed.generator, metadata={"steps": 7})
    second = push(tmp_path / "v2", "alice/versions", ALICE, private=True, commit_message="v2")
    assert first.created and not second.created and second.private is False  # visibility left as it was
    assert yaml.safe_load(hub.files("alice/versions")["README.md"].decode().split("---")[1])["license"]
    assert "| steps | 7 |" in hub.files("alice/versions")["README.md"].decode()

    latest = pull("alice/versions", out=tmp_path / "latest")
    at_sha = pull(f"alice/versions@{old_sha}", out=tmp_path / "old")
    by_url = pull(f"{hub.url}/alice/versions/tree/{old_sha}", out=tmp_path / "old-url")
    assert torch.equal(images(latest.folder), images(tmp_path / "v2"))
    assert torch.equal(images(at_sha.folder), images(tiny_checkpoint))
    assert torch.equal(images(by_url.folder), images(tiny_checkpoint)) and by_url.revision == old_sha
    with pytest.raises(HubError, match="revision 'no-such-branch' of alice/versions was not found"):
        pull("alice/versions", revision="no-such-branch")


def test_a_huggan_sprint_repo_loads_converts_and_generates_what_the_sprint_code_generates(hub, tmp_path):
    sprint = trained_sprint_generator(num_channels=3, latent_dim=100, hidden_size=4)
    hub.add_repo("huggan/dcgan-test", huggan_bin_files(sprint, with_config=False, license="mit"))
    pulled = pull("https://huggingface.co/huggan/dcgan-test", out=tmp_path / "converted")
    assert (pulled.format, pulled.architecture, pulled.resolution, pulled.channels, pulled.latent_dim) == (
        "huggan-dcgan", "huggan_dcgan", 64, 3, 100)  # fmt: skip
    assert pulled.license == "mit" and pulled.weights == "pytorch_model.bin"
    assert pulled.parameters == sum(p.numel() for p in sprint.parameters())
    assert any("64x64 RGB" in line for line in pulled.describe())

    loaded = load_checkpoint(pulled.folder)  # the rest of the app loads it like any other checkpoint
    assert (loaded.architecture, loaded.metadata["repo_id"]) == ("huggan_dcgan", "huggan/dcgan-test")
    z = latents_for_seeds([0, 1, 2], 100)
    with torch.no_grad():
        assert torch.allclose(loaded.generator(z), sprint(z[:, :, None, None]), atol=1e-6)
    assert generate(loaded.generator, SEEDS).shape == (6, 3, 64, 64)


def test_a_huggan_safetensors_repo_with_a_config_loads_and_a_contradicting_config_is_refused(hub):
    sprint = trained_sprint_generator(num_channels=1, latent_dim=16, hidden_size=4)
    config = {"num_channels": 1, "latent_dim": 16, "hidden_size": 4}
    hub.add_repo("someone/dcgan-mixin", huggan_safetensors_files(sprint, config))
    assert pull("someone/dcgan-mixin").channels == 1
    hub.add_repo("someone/dcgan-lies", huggan_safetensors_files(sprint, {**config, "latent_dim": 100}))
    with pytest.raises(HubError, match=r"config\.json does not match the weights: it says latent_dim=100"):
        pull("someone/dcgan-lies")


# -- refused pickles ----------------------------------------------------------------------------


def test_a_pickle_that_needs_code_execution_is_refused_and_its_code_never_runs(hub, tmp_path):
    marker = tmp_path / "pwned"
    hub.add_repo("evil/gan", {"pytorch_model.bin": torch_bytes({"G": RunsCode(marker)}), "README.md": card()})
    with pytest.raises(HubError, match="needs code execution to load"):
        pull("evil/gan")
    assert not marker.exists()


# -- bad input ----------------------------------------------------------------------------------


def test_a_private_repo_needs_a_token_with_access_even_when_HF_TOKEN_is_set(hub, tiny_checkpoint, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", ALICE)  # the library must not pick it up on its own
    hub.add_repo("alice/secret", folder_files(tiny_checkpoint), private=True)
    with pytest.raises(HubError, match="alice/secret was not found, or is private: log in"):
        pull("alice/secret")
    assert [user for _, _, user in hub.requests] == [None]  # anonymous really was anonymous
    with pytest.raises(HubError, match="was not found, or this token has no access to it"):
        pull("alice/secret", token=BOB_READ)
    assert pull("alice/secret", token=ALICE).architecture == "dcgan"


@pytest.mark.parametrize(
    "files, message",
    [
        ({"README.md": card()}, "holds no generator weights GAN studio can read"),
        ({"config.json": b"{not json", "model.safetensors": b"x"}, "config.json is not valid JSON"),
        ({"config.json": b'{"format": "gan-studio/1"}', "pytorch_model.bin": b"x"}, "there is no model.safetensors"),
        ({"model.safetensors": b"\x00" * 64, "config.json": b"{}"}, "not a readable safetensors file"),
        ({"pytorch_model.bin": b"garbage" * 20}, "not a readable PyTorch checkpoint"),
        ({"pytorch_model.bin": torch_bytes({"encoder.weight": torch.zeros(3)})}, "does not recognise"),
    ],
    ids=["no-weights", "bad-json", "ours-without-safetensors", "bad-safetensors", "bad-pickle", "unknown-tensors"],
)
def test_wrong_files_are_refused_with_a_clear_message(hub, files, message):
    hub.add_repo("someone/broken", files)
    with pytest.raises(HubError, match=message):
        pull("someone/broken")


def test_a_config_that_does_not_match_the_weights_is_refused(hub, tiny_checkpoint):
    files = folder_files(tiny_checkpoint)
    document = json.loads(files["config.json"])
    document["model"]["width"] *= 2
    hub.add_repo("someone/mismatch", {**files, "config.json": json.dumps(document).encode()})
    with pytest.raises(HubError, match=r"someone/mismatch: .*tensor .* has shape .*the config needs"):
        pull("someone/mismatch")


def test_oversized_files_are_refused_before_download(hub, tiny_checkpoint, tmp_path):
    hub.add_repo("someone/huge", folder_files(tiny_checkpoint))
    with pytest.raises(HubError, match=r"model\.safetensors is .* above the 1000 bytes limit; not downloading"):
        pull("someone/huge", max_bytes=1000, out=tmp_path / "huge")
    assert "model.safetensors" not in hub.downloaded("someone/huge") and not (tmp_path / "huge").exists()


def test_a_connection_that_drops_mid_download_is_a_clear_error_and_leaves_nothing_behind(
    hub, tiny_checkpoint, tmp_path, monkeypatch
):
    # huggingface_hub resumes a dropped download 5 times, sleeping 1 s before each try: skip the sleeps.
    monkeypatch.setattr(huggingface_hub.file_download, "time", types.SimpleNamespace(sleep=lambda seconds: None))
    hub.add_repo("someone/flaky", folder_files(tiny_checkpoint))
    hub.faults[("someone/flaky", "model.safetensors")] = 100  # then the line goes dead
    with pytest.raises(HubError, match=r"connection to the Hub failed while downloading someone/flaky/model\.safe"):
        pull("someone/flaky", out=tmp_path / "flaky")
    assert not (tmp_path / "flaky").exists() and not list(tmp_path.glob(".pull-*"))
    hub.faults.clear()
    assert torch.equal(images(pull("someone/flaky", out=tmp_path / "flaky").folder), images(tiny_checkpoint))


def test_with_the_hub_unreachable_a_model_pulled_before_loads_from_its_copy(hub, tiny_checkpoint, monkeypatch):
    hub.add_repo("alice/kept-offline", folder_files(tiny_checkpoint))
    online = pull("alice/kept-offline")  # into pull_root(), as the app pulls
    assert online.offline_reason is None and online.revision

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)  # no network from here on
    again = pull("alice/kept-offline")
    assert again.folder == online.folder and again.revision == online.revision and again.downloaded == []
    assert "HF_HUB_OFFLINE is set" in again.offline_reason and again.describe()[0].startswith("offline: ")
    assert torch.equal(images(again.folder), images(tiny_checkpoint))
    assert pull(f"alice/kept-offline@{online.revision[:8]}").folder == online.folder  # a pinned commit, shortened
    with pytest.raises(HubUnreachableError, match="HF_HUB_OFFLINE is set"):
        pull("alice/kept-offline@v2")  # a branch or tag name cannot be resolved without the Hub
    with pytest.raises(HubUnreachableError, match="HF_HUB_OFFLINE is set"):
        pull("alice/never-pulled")


@pytest.mark.parametrize(
    "source, message",
    [
        ("", "give a repo id"),
        ("not a repo", "is not a repo id"),
        ("https://example.com/owner/name", "not a Hugging Face Hub URL"),
        ("https://huggingface.co/datasets/owner/name", "is a dataset, not a model repo"),
        ("./no/such/folder", "does not exist"),
    ],
)
def test_malformed_sources_are_refused_before_any_request(hub, source, message):
    with pytest.raises(InvalidInputError, match=message):
        pull(source)
    assert hub.requests == []


def test_sources_parse_like_the_hub_writes_them(tmp_path):
    assert parse_source("owner/name@v1") == parse_source("https://huggingface.co/owner/name/tree/v1")
    blob = parse_source("https://hf.co/owner/name/blob/abc123/model.safetensors")
    assert (blob.kind, blob.repo_id, blob.revision) == ("hub", "owner/name", "abc123")
    assert parse_source(str(tmp_path)).kind == "local"
    with pytest.raises(InvalidInputError):  # the app loads from the Hub only
        parse_source(str(tmp_path), allow_local=False)


def test_a_nonexistent_repo_is_named_in_the_error(hub):
    with pytest.raises(HubError, match="repo nobody/nothing was not found"):
        pull("nobody/nothing")


def test_a_local_folder_loads_in_place_and_a_local_huggan_folder_is_converted(tiny_checkpoint, tmp_path):
    assert pull(str(tiny_checkpoint)).folder == tiny_checkpoint
    folder = tmp_path / "sprint-run"
    folder.mkdir()
    for name, content in huggan_bin_files(trained_sprint_generator(), license="cc-by-4.0").items():
        (folder / name).write_bytes(content)
    converted = pull(str(folder))
    assert converted.format == "huggan-dcgan" and converted.license == "cc-by-4.0" and converted.folder != folder


# -- push errors --------------------------------------------------------------------------------


def test_push_without_login_is_refused_and_creates_nothing(hub, tiny_checkpoint):
    with pytest.raises(HubError, match="pushing needs a Hugging Face login"):
        push(tiny_checkpoint, "tiny-gan", None)
    assert hub.repos == {} and hub.requests == []


@pytest.mark.parametrize(
    "token, repo, message",
    [
        (MALLORY, "gan-lab/stolen", "this token cannot write to 'gan-lab'"),
        (MALLORY, "alice/tiny", "this token cannot write to 'alice'"),
        (BOB_READ, "bobs-gan", "this token cannot write to 'bob'"),
        ("hf_not_a_real_token", "x", "the Hub refused the token"),
    ],
    ids=["foreign-org", "foreign-user", "read-only-token", "invalid-token"],
)
def test_push_where_the_token_cannot_write_is_a_clear_error(hub, tiny_checkpoint, token, repo, message):
    with pytest.raises(HubError, match=message) as raised:
        push(tiny_checkpoint, repo, token)
    assert token not in str(raised.value)
    assert not any(key.endswith(repo.split("/")[-1]) for key in hub.repos)


def test_push_to_an_organisation_the_token_can_write_works(hub, tiny_checkpoint):
    assert push(tiny_checkpoint, "gan-lab/shared", ALICE).url.endswith("/gan-lab/shared")


def test_push_with_a_discriminator_the_checkpoint_lacks_is_refused(hub, tiny_checkpoint, tmp_path):
    from gan.checkpoint import save_checkpoint

    generator_only = load_checkpoint(tiny_checkpoint)
    folder = save_checkpoint(tmp_path / "g", "dcgan", generator_only.config, generator_only.generator)
    with pytest.raises(CheckpointError, match="has no discriminator/ to push"):
        push(folder, "alice/g", ALICE, with_discriminator=True)


# -- browse ---------------------------------------------------------------------------------------


def test_browse_lists_public_gan_checkpoints_by_tag_most_downloaded_first(hub, tiny_checkpoint):
    weights = folder_files(tiny_checkpoint)
    hub.add_repo("huggan/pokemon-dcgan", {**weights, "README.md": card(tags=("huggan", "dcgan"))}, downloads=50)
    hub.add_repo("someone/faces-gan", {**weights, "README.md": card(tags=("gan",))}, downloads=900)
    hub.add_repo("someone/bert", {"README.md": card(tags=("text-classification",))}, downloads=10_000)
    hub.add_repo("alice/private-gan", {**weights, "README.md": card(tags=("gan",))}, private=True)
    assert [m.repo_id for m in browse()] == ["someone/faces-gan", "huggan/pokemon-dcgan"]
    assert [m.repo_id for m in browse("pokemon")] == ["huggan/pokemon-dcgan"]
    assert "alice/private-gan" in [m.repo_id for m in browse(token=ALICE)]
    assert browse()[0].label == "someone/faces-gan  ·  900 downloads"


# -- the test Hub itself behaves like the Hub where the tests rely on it ----------------------------


def test_the_test_hub_answers_like_the_hub(hub, tmp_path):
    api = HfApi(token=ALICE)
    api.create_repo("alice/proto")
    with pytest.raises(Exception, match="409") as conflict:
        api.create_repo("alice/proto")
    assert conflict.value.response.status_code == 409
    (tmp_path / "README.md").write_text("---\npipeline_tag: not-a-task\n---\n")
    with pytest.raises(ValueError, match=r"Invalid metadata in README\.md"):
        api.upload_file(path_or_fileobj=tmp_path / "README.md", path_in_repo="README.md", repo_id="alice/proto")
    api.upload_file(path_or_fileobj=b"\x00" * 2048, path_in_repo="w/weights.bin", repo_id="alice/proto")
    tree = {entry.path: entry for entry in api.list_repo_tree("alice/proto", recursive=True)}
    assert tree["w/weights.bin"].lfs.size == 2048 and "w" in tree
    assert [e.path for e in api.list_repo_tree("alice/proto")] == ["w", ".gitattributes"]


# -- command line ---------------------------------------------------------------------------------


def test_cli_push_then_pull_then_generate(hub, tiny_checkpoint, tmp_path, capsys):
    # HF_TOKEN is alice's (conftest): the CLI reads it explicitly and hands it over.
    assert main(["push", str(tiny_checkpoint), "cli-gan", "--private", "--with-discriminator"]) == 0
    out = capsys.readouterr().out
    assert f"pushed {tiny_checkpoint} to {hub.url}/alice/cli-gan (private, created)" in out and ALICE not in out
    assert main(["pull", "alice/cli-gan", "--out", str(tmp_path / "pulled")]) == 0
    out = capsys.readouterr().out
    assert "format: GAN studio" in out and "discriminator: included" in out
    assert main(["generate", "--model", str(tmp_path / "pulled"), "--count", "2", "--out", str(tmp_path / "g")]) == 0
    assert len(list((tmp_path / "g").glob("*.png"))) == 2


def test_cli_pull_writes_models_owner__name_by_default(hub, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    hub.add_repo("huggan/dcgan-cli", huggan_bin_files(trained_sprint_generator()))
    assert main(["pull", "huggan/dcgan-cli"]) == 0
    assert (tmp_path / "models" / "huggan--dcgan-cli" / "model.safetensors").is_file()
    assert "python -m gan generate --model models/huggan--dcgan-cli" in capsys.readouterr().out


def test_cli_errors_are_one_line_and_never_show_the_token(hub, tiny_checkpoint, tmp_path, monkeypatch, capsys):
    token_file = tmp_path / "token"
    token_file.write_text(MALLORY + "\n")
    assert main(["push", str(tiny_checkpoint), "gan-lab/x", "--token-file", str(token_file)]) == 2
    assert main(["pull", "nobody/nothing"]) == 2
    assert main(["push", str(tiny_checkpoint), "x", "--token-file", str(tmp_path / "missing")]) == 2
    monkeypatch.delenv("HF_TOKEN")
    assert main(["push", str(tiny_checkpoint), "x"]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 4 and all(line.startswith("error: ") for line in lines)
    assert "cannot write to 'gan-lab'" in lines[0] and "not found" in lines[1]
    assert "cannot read --token-file" in lines[2] and "needs a Hugging Face login" in lines[3]
    assert MALLORY not in captured.err + captured.out


# -- never lose a user's data: pull --out --------------------------------------------------------------


def tree(folder) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_pull_out_replaces_only_a_folder_it_pulled_and_refuses_everything_else_untouched(
    hub, tiny_checkpoint, tmp_path, monkeypatch
):
    hub.add_repo("alice/tiny", folder_files(tiny_checkpoint))
    transformers = tmp_path / "bert"
    transformers.mkdir()
    (transformers / "config.json").write_text(json.dumps({"model_type": "bert", "architectures": ["BertModel"]}))
    (transformers / "model.safetensors").write_bytes(b"a model someone else made")
    a_file = tmp_path / "model.safetensors"
    a_file.write_bytes(b"mine")
    work = tmp_path / "work"
    work.mkdir()
    (work / "thesis.tex").write_text("years of work")
    monkeypatch.chdir(work)
    before = tree(tmp_path)
    for out, message in [
        (transformers, "bert exists and is not a folder GAN studio wrote; nothing was changed"),
        (a_file, "is a file, not a folder"),
        (".", "is the current folder"),
        (tmp_path, "is the current folder, the home folder or a folder above them"),
        (tiny_checkpoint, "is not a folder GAN studio wrote"),  # trained here: not a pull's to replace
    ]:
        with pytest.raises(InvalidInputError, match=message):
            pull("alice/tiny", out=out)
    assert tree(tmp_path) == before and hub.requests == []  # refused before any request

    empty = tmp_path / "models" / "tiny"
    empty.mkdir(parents=True)
    first = pull("alice/tiny", out=empty)
    assert first.folder == empty and torch.equal(images(empty), images(tiny_checkpoint))
    changed = load_checkpoint(tiny_checkpoint)
    with torch.no_grad():
        next(changed.generator.parameters()).mul_(-1.0)
    from gan.checkpoint import save_checkpoint

    save_checkpoint(tmp_path / "v2", "dcgan", changed.config, changed.generator)
    hub.add_repo("alice/v2", folder_files(tmp_path / "v2"))  # without a discriminator
    again = pull("alice/v2", out=empty)  # a folder pulled there before: replaced whole
    assert torch.equal(images(again.folder), images(tmp_path / "v2")) and not again.has_discriminator
    assert not (empty / "discriminator").exists()
    assert sorted(p.name for p in empty.parent.iterdir()) == ["tiny"]  # no stage or old copy left beside it

    (empty / "notes.md").write_text("my notes on this model")
    with pytest.raises(InvalidInputError, match=r"holds files GAN studio did not write there \(notes\.md\)"):
        pull("alice/tiny", out=empty)
    assert (empty / "notes.md").read_text() == "my notes on this model"


def test_cli_pull_out_refusals_are_one_line_and_change_nothing(hub, tiny_checkpoint, tmp_path, monkeypatch, capsys):
    hub.add_repo("alice/tiny", folder_files(tiny_checkpoint))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "keep.txt").write_text("mine")
    transformers = tmp_path / "hf-model"
    transformers.mkdir()
    (transformers / "config.json").write_text('{"model_type": "gpt2"}')
    assert main(["pull", "alice/tiny", "--out", "."]) == 2
    assert main(["pull", "alice/tiny", "--out", "keep.txt"]) == 2
    assert main(["pull", "alice/tiny", "--out", "hf-model"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 3 and all(line.startswith("error: ") for line in lines)
    assert "current folder" in lines[0] and "keep.txt is a file" in lines[1] and "hf-model exists" in lines[2]
    assert (tmp_path / "keep.txt").read_text() == "mine" and sorted(p.name for p in transformers.iterdir()) == [
        "config.json"]  # fmt: skip


# -- private stays private, disks stay bounded ------------------------------------------------------------


def test_offline_a_private_copy_serves_only_a_token_that_pulled_it(hub, tiny_checkpoint, monkeypatch):
    hub.add_repo("alice/secret-offline", folder_files(tiny_checkpoint), private=True)
    online = pull("alice/secret-offline", token=ALICE)
    sha = online.revision
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    for source, token in [
        ("alice/secret-offline", None),
        ("alice/secret-offline", BOB_READ),
        (f"alice/secret-offline@{sha}", None),
        (f"{hub.url}/alice/secret-offline", MALLORY),
    ]:
        with pytest.raises(HubUnreachableError, match="HF_HUB_OFFLINE is set"):  # as if never pulled
            pull(source, token=token, allow_local=False)
    again = pull(f"alice/secret-offline@{sha[:10]}", token=ALICE)
    assert again.folder == online.folder and again.offline_reason
    stored = b"".join(tree(online.folder).values())
    assert ALICE.encode() not in stored  # a salted hash proves access; the token is never written


def test_downloads_of_a_refused_repo_are_removed_and_pulls_leave_huggingface_hubs_cache_empty(
    hub, tiny_checkpoint, tmp_path, monkeypatch
):
    home = tmp_path / "hf"
    monkeypatch.setattr(huggingface_hub.constants, "HF_HOME", str(home))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(home / "hub"))
    hub.add_repo("evil/gan", {"pytorch_model.bin": torch_bytes({"G": RunsCode(tmp_path / "ran")}), "README.md": card()})
    files = folder_files(tiny_checkpoint)
    document = json.loads(files["config.json"])
    document["model"]["width"] *= 2
    hub.add_repo("someone/mismatch", {**files, "config.json": json.dumps(document).encode()})
    for repo in ("evil/gan", "someone/mismatch"):
        with pytest.raises(HubError):
            pull(repo)
        assert hub.downloaded(repo)  # something was downloaded, and is gone:
        assert [p for p in home.rglob("*") if p.is_file()] == []
    hub.add_repo("alice/kept", files)
    kept = pull("alice/kept")
    assert sorted(p.relative_to(home).parts[0] for p in home.rglob("*") if p.is_file()) == ["gan-studio"] * 6
    assert kept.folder.is_relative_to(home / "gan-studio")


def test_pulls_sweep_the_pull_cache_within_its_bounds(hub, tiny_checkpoint, tmp_path, monkeypatch):
    from gan import hubcache

    monkeypatch.setattr(huggingface_hub.constants, "HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setattr(hubcache, "_sweeps", hubcache._Sweeps())
    monkeypatch.setattr(hubcache, "PULL_CACHE_MAX_COPIES", 2)
    files = folder_files(tiny_checkpoint)
    folders = []
    for name in ("lab/one", "lab/two", "lab/three"):
        hub.add_repo(name, files)
        folders.append(pull(name).folder)
        if name == "lab/one":
            monkeypatch.setattr(hubcache, "SWEEP_AFTER_BYTES", 1)  # from now on, every pull that adds sweeps
    assert [f.exists() for f in folders] == [False, True, True]
    assert pull("lab/two").folder == folders[1]  # reused: the newest copies stay


# -- publish names, not paths -------------------------------------------------------------------------------


def test_a_pushed_fine_tune_holds_names_never_this_machines_paths(hub, tiny_checkpoint, tmp_path):
    from conftest import noise_pngs

    from gan.deploy import DeployConfig, resolve_default_model, stage_space

    secret = tmp_path / "home-of-someone-7f3a"
    data = secret / "my cats"
    data.mkdir(parents=True)
    noise_pngs(data, 8, 32, seed=1)
    push(tiny_checkpoint, "alice/base", ALICE, with_discriminator=True)
    assert main(["pull", "alice/base", "--out", str(secret / "models" / "base")]) == 0
    run = secret / "runs" / "cats"
    assert main(["train", str(data), "--init", str(secret / "models" / "base"), "--out", str(run), "--steps", "2",
                 "--batch-size", "4"]) == 0  # fmt: skip
    for folder in (run, secret / "models" / "base"):
        for name, content in tree(folder).items():
            assert b"home-of-someone" not in content, f"{folder.name}/{name} records a local path"

    push(run, "alice/cats", ALICE, with_discriminator=True)
    uploaded = hub.files("alice/cats")
    assert {"config.json", "README.md", "discriminator/config.json"} <= set(uploaded)
    for name, content in uploaded.items():
        assert b"home-of-someone" not in content and str(tmp_path).encode() not in content, name
    readme = uploaded["README.md"].decode()
    assert "derives from [alice/base]" in readme and "base_model: alice/base" in readme  # credit kept, by name
    metadata = json.loads(uploaded["config.json"])["metadata"]
    assert metadata["fine_tuned_from"] == "alice/base" and metadata["data"] == "my cats"
    assert shlex.split(metadata["command"])[3:8] == ["train", "my cats", "--init", "base", "--out"]

    stage = tmp_path / "space"
    stage_space(DeployConfig("alice/demo", run), resolve_default_model(run), stage)
    for path in (stage / "weights" / "cats").rglob("*"):
        assert path.is_dir() or b"home-of-someone" not in path.read_bytes(), path.name
