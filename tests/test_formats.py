"""gan.formats: other projects' checkpoints pulled from the test Hub, against outputs of their original code.

The reference files in tests/data/formats/ were made by each family's own code (see the README there).
Every parity test pulls through gan.hub.pull, loads the converted folder like any model and samples
it by seed with gan.sampling.generate: what the app and the CLI do.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import pickletools
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hub_repos import (
    FORMATS_DATA,
    RunsCode,
    card,
    fastgan_files,
    fixture_bytes,
    huggingnft_files,
    lucidrains_files,
    stylegan_files,
    torch_bytes,
)
from safetensors.torch import load_file
from safetensors.torch import save as save_safetensors

from gan.checkpoint import load_checkpoint
from gan.config import GenerateConfig
from gan.errors import HubError
from gan.hub import browse, pull
from gan.models import budget
from gan.sampling import generate

TOLERANCE = 1e-4  # the bound on |ours - original| for every pixel compared


def reference(name: str) -> dict[str, torch.Tensor]:
    return load_file(str(FORMATS_DATA / name))


def difference(images: torch.Tensor, ref: dict[str, torch.Tensor]) -> float:
    """Largest |ours - theirs| over what the reference kept: area means, a corner, sampled pixels."""
    cell = images.shape[-1] // ref["pooled"].shape[-1]
    parts = [
        (F.avg_pool2d(images, cell) - ref["pooled"]).abs().max(),
        (images[:, :, :16, :16] - ref["corner"]).abs().max(),
        (images.flatten(2)[:, :, ref["pixel_index"]] - ref["pixels"]).abs().max(),
    ]
    return max(p.item() for p in parts)


def sample(folder: Path, seeds: tuple[int, ...], truncation: float = 1.0, size: int = 0) -> torch.Tensor:
    config = GenerateConfig(seed=seeds[0], count=len(seeds), truncation=truncation, size=size)
    return generate(load_checkpoint(folder).generator, config, device="cpu")


# -- parity ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", ["1.2.1", "1.2.1-fca", "1.1.1"])
def test_lightweight_gan_release_loads_its_latest_run_step_and_matches_the_original(hub, variant):
    files = lucidrains_files(variant)
    files["models/default/model_2.pt"] = b"an older step, never fetched"
    hub.add_repo(f"fans/lwg-{variant}", files)
    pulled = pull(f"fans/lwg-{variant}")
    assert (pulled.format, pulled.architecture, pulled.weights) == ("lightweight-gan", "lightweight_gan",
                                                                    "models/default/model_3.pt")  # fmt: skip
    assert "models/default/model_2.pt" not in pulled.downloaded
    lines = pulled.describe()
    assert any("lightweight-gan" in line and f"release {variant[:5]}" in line for line in lines)
    assert any(line.startswith("source: ") and f"fans/lwg-{variant}" in line for line in lines)
    images = sample(pulled.folder, (5, 6))
    assert images.shape == (2, 1 if variant.endswith("fca") else 3, 128, 128)
    assert difference(images, reference(f"lightweight_gan_{variant}_reference.safetensors")) <= TOLERANCE


def test_a_lone_lightweight_gan_file_loads_with_its_shape_read_off_the_tensors(hub):
    hub.add_repo("fans/bare", {"checkpoint.pt": fixture_bytes("lightweight_gan_1.1.1_model_3.pt")})
    pulled = pull("fans/bare")  # no config at all: width slope (fmap_inverse_coef 8) and sizes from shapes
    assert (pulled.format, pulled.resolution, pulled.latent_dim) == ("lightweight-gan", 128, 8)
    ref = reference("lightweight_gan_1.1.1_reference.safetensors")
    assert difference(sample(pulled.folder, (5, 6)), ref) <= TOLERANCE


def test_a_huggingnft_repo_loads_by_url_and_matches_the_huggan_code(hub):
    hub.add_repo("huggingnft/tiny-punks", huggingnft_files())
    pulled = pull("https://huggingface.co/huggingnft/tiny-punks")
    assert (pulled.format, pulled.weights, pulled.license, pulled.resolution) == ("lightweight-gan", "model.pt",
                                                                                  "mit", 128)  # fmt: skip
    assert any("HugGAN layout" in line for line in pulled.describe())
    difference_ = difference(sample(pulled.folder, (5, 6)), reference("lightweight_gan_huggan_reference.safetensors"))
    assert difference_ <= TOLERANCE


def test_lightweight_gan_training_entries_are_ignored_and_only_the_ema_generator_is_read(hub):
    data = torch.load(io.BytesIO(fixture_bytes("lightweight_gan_1.2.1_model_3.pt")), weights_only=True)
    data["GAN"].update({"D.to_logits.0.weight": torch.randn(4, 4), "D_aug.D.to_logits.0.weight": torch.randn(4, 4)})
    ema = {k: v for k, v in data["GAN"].items() if k.startswith("GE.")}
    data["GAN"].update({k.replace("GE.", "G.", 1): torch.randn_like(v.float()).to(v.dtype) for k, v in ema.items()})
    hub.add_repo("fans/full", {**lucidrains_files(), "models/default/model_3.pt": torch_bytes(data)})
    pulled = pull("fans/full")
    assert (
        difference(sample(pulled.folder, (5, 6)), reference("lightweight_gan_1.2.1_reference.safetensors")) <= TOLERANCE
    )


def test_huggan_fastgan_matches_the_original_and_a_smaller_display_size_is_its_area_mean(hub):
    hub.add_repo("huggan/fastgan-few-shot-tiny", fastgan_files())
    revision = hub.repos["huggan/fastgan-few-shot-tiny"].branches["main"]
    pulled = pull(f"huggan/fastgan-few-shot-tiny@{revision}")
    assert (pulled.format, pulled.architecture, pulled.resolution, pulled.revision) == (
        "huggan-fastgan", "huggan_fastgan", 1024, revision)  # fmt: skip
    assert any("HugGAN FastGAN" in line for line in pulled.describe())
    ref = reference("huggan_fastgan_reference.safetensors")
    assert difference(sample(pulled.folder, (5, 6)), ref) <= TOLERANCE
    small = sample(pulled.folder, (5, 6), size=16)  # the display size: 1024 px area-averaged to 16 px
    assert small.shape == (2, 3, 16, 16) and (small - ref["pooled"]).abs().max() <= TOLERANCE


@pytest.mark.parametrize("truncation", [1.0, 0.7])
def test_a_stylegan2_ada_pickle_loads_as_data_and_matches_nvlabs_code(hub, truncation):
    hub.add_repo("lab/sg2-tiny", stylegan_files())
    pulled = pull("lab/sg2-tiny")
    assert (pulled.format, pulled.architecture, pulled.weights) == ("stylegan2-ada", "stylegan2",
                                                                    "network-snapshot-000200.pkl")  # fmt: skip
    assert any("NVIDIA Source Code License" in line for line in pulled.describe())
    expected = ((reference("stylegan2_reference.safetensors")[f"psi_{truncation}"] + 1) / 2).clamp(0, 1)
    assert (sample(pulled.folder, (5, 6, 7), truncation) - expected).abs().max() <= TOLERANCE


def test_stylegan3_pickles_are_recognised_and_refused_by_name(hub):
    hub.add_repo("lab/sg3-tiny", stylegan_files("stylegan3_network-snapshot.pkl", ("stylegan3",)))
    with pytest.raises(HubError, match=r"is a StyleGAN3 \(alias-free\) network: recognised, but .* StyleGAN2-ADA"):
        pull("lab/sg3-tiny")


def test_lightweight_gan_releases_other_than_the_supported_ones_are_refused_by_name(hub):
    data = torch.load(io.BytesIO(fixture_bytes("lightweight_gan_1.2.1_model_3.pt")), weights_only=True)
    data["version"] = "0.21.4"
    hub.add_repo("fans/old", {**lucidrains_files(), "models/default/model_3.pt": torch_bytes(data)})
    with pytest.raises(
        HubError, match=r"saved by lightweight-gan 0\.21\.4, .*loads lightweight-gan 1\.1\.x and 1\.2\.x"
    ):
        pull("fans/old")


def test_a_lightweight_gan_config_that_contradicts_the_weights_is_refused(hub):
    config = json.loads(fixture_bytes("lightweight_gan_huggan_config.json"))
    hub.add_repo("fans/liar", {**huggingnft_files(), "config.json": json.dumps({**config, "image_size": 256}).encode()})
    with pytest.raises(HubError, match=r"config\.json does not match the weights: it says image_size=256, .* 128"):
        pull("fans/liar")


# -- never running a file's code ---------------------------------------------------------------------------


def test_an_embedded_source_that_would_write_a_file_loads_as_data_and_never_runs(hub, tmp_path, monkeypatch):
    sentinel = tmp_path / "sentinel"
    monkeypatch.setenv("GAN_STUDIO_SENTINEL", str(sentinel))
    payload = fixture_bytes("stylegan2_runs_its_source.pkl")
    hub.add_repo("evil/sg2", stylegan_files("stylegan2_runs_its_source.pkl"))
    pulled = pull("evil/sg2")
    assert sample(pulled.folder, (5,)).shape == (1, 3, 16, 16) and not sentinel.exists()
    # The payload is live: NVlabs' loader would exec() this string. Running it here proves the test could fail.
    source = next(arg for op, arg, _ in pickletools.genops(payload) if isinstance(arg, str) and "SENTINEL" in arg)
    exec(compile(source, "fixture", "exec"), {})
    assert sentinel.read_text() == "executed"


class CallsGlobal:
    """Unpickles as a call of `target` with `args`: what a hostile pickle does."""

    def __init__(self, target, *args) -> None:
        self.target, self.args = target, args

    def __reduce__(self):
        return (self.target, self.args)


def hostile_payloads(marker: Path) -> dict[str, bytes]:
    command = f"open({str(marker)!r}, 'w').write('ran')"
    getattr_chain = (  # builtins.getattr(__import__('os'), 'system')('touch marker'), in protocol 0 opcodes
        f"cbuiltins\ngetattr\n(cbuiltins\n__import__\n(Vos\ntRVsystem\ntR(Vtouch {marker}\ntR."
    ).encode()
    return {
        "os.system": pickle.dumps({"G_ema": CallsGlobal(os.system, f"touch {marker}")}),
        "eval": pickle.dumps({"G_ema": CallsGlobal(eval, command)}),
        "exec": pickle.dumps({"G_ema": CallsGlobal(exec, command)}),
        "builtins.getattr": getattr_chain,
    }


@pytest.mark.parametrize("kind", ["os.system", "eval", "exec", "builtins.getattr"])
@pytest.mark.parametrize("suffix", [".pkl", ".pt", ".bin"])
def test_pickles_that_would_call_a_global_are_refused_naming_it_and_nothing_runs(hub, tmp_path, kind, suffix):
    marker = tmp_path / "pwned"
    payload = hostile_payloads(marker)[kind]
    if suffix != ".pkl":  # the same call inside a PyTorch zip checkpoint's data.pkl
        payload = torch_bytes({"GAN": {"GE.x": torch.zeros(1)}, "hook": RunsCode(marker)}) if kind == "exec" else \
            _zip_with_pickle(payload)  # fmt: skip
    name = {"pkl": "network-snapshot-000010.pkl", "pt": "model.pt", "bin": "pytorch_model.bin"}[suffix[1:]]
    hub.add_repo(f"evil/{kind.replace('.', '-')}{suffix.replace('.', '-')}", {name: payload, "README.md": card()})
    with pytest.raises(
        HubError, match=r"needs code execution to load: unpickling it would call \S*(system|eval|exec|getattr)"
    ):
        pull(f"evil/{kind.replace('.', '-')}{suffix.replace('.', '-')}")
    assert not marker.exists()


def _zip_with_pickle(data_pkl: bytes) -> bytes:
    """A PyTorch zip checkpoint whose data.pkl is `data_pkl`."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("archive/data.pkl", data_pkl)
        archive.writestr("archive/version", "3\n")
    return buffer.getvalue()


# -- broken files, clear messages ---------------------------------------------------------------------------


def _truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _storage_claims_more(data: bytes) -> bytes:
    """The same checkpoint, its data.pkl claiming 2^30 elements for the first storage (PyTorch would believe it)."""
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for info in source.infolist():
            content = source.read(info)
            if info.filename.endswith("data.pkl"):
                at = content.index(b"cpu") + 5  # after 'cpu' and its memo opcode: the element count
                assert content[at : at + 1] in (b"K", b"M", b"J")
                width = {b"K": 2, b"M": 3, b"J": 5}[content[at : at + 1]]
                content = content[:at] + b"J\x00\x00\x00\x40" + content[at + width :]
            archive.writestr(info, content)
    return out.getvalue()


@pytest.mark.parametrize(
    "files, message",
    [
        (
            {"network-snapshot-000100.pkl": _truncated(fixture_bytes("stylegan2_network-snapshot.pkl"))},
            r"is not a readable network pickle",
        ),
        ({"network-snapshot-000100.pkl": b"\x80\x04 not a pickle at all"}, r"is not a readable network pickle"),
        ({"network-snapshot-000100.pkl": pickle.dumps({"G_ema": [1, 2, 3]})}, r"without a G_ema network"),
        (
            {"pytorch_model.bin": _truncated(fixture_bytes("huggan_fastgan_pytorch_model.bin"))},
            r"is not a readable PyTorch checkpoint",
        ),
        (
            {"pytorch_model.bin": _storage_claims_more(fixture_bytes("huggan_fastgan_pytorch_model.bin"))},
            r"is corrupt: storage \S+ claims \d+ bytes that the file lacks",
        ),
        ({"pytorch_model.bin": pickle.dumps({"w": 1}, protocol=2)}, r"pre-1\.6 serialization"),
        ({**huggingnft_files(), "model.pt": torch_bytes({"GE.x": torch.zeros(1)})}, r"no 'GAN' entry"),
        (
            {"config.json": fixture_bytes("lightweight_gan_huggan_config.json"), "pytorch_model.bin": b"x"},
            r"config\.json describes a lightweight-gan, but there is no model\.pt",
        ),
    ],
    ids=[
        "truncated-pkl",
        "not-a-pickle",
        "no-g-ema",
        "truncated-bin",
        "storage-lies",
        "legacy-torch",
        "no-gan-entry",
        "no-model-pt",
    ],
)
def test_truncated_and_corrupt_files_get_clear_messages(hub, files, message):
    hub.add_repo("someone/broken-format", {**files, "README.md": card()})
    with pytest.raises(HubError, match=message):
        pull("someone/broken-format")


def test_wrong_shapes_are_named(hub):
    state = torch.load(io.BytesIO(fixture_bytes("huggan_fastgan_pytorch_model.bin")), weights_only=True)
    state["_upsample_16._layers.1._conv.weight_orig"] = torch.zeros(16, 8, 5, 5)
    hub.add_repo("someone/reshaped", {"pytorch_model.bin": torch_bytes(state)})
    with pytest.raises(HubError, match=r"tensor _upsample_16\._layers\.1\._conv\.weight has shape \(16, 8, 5, 5\), "
                                       r"the config needs \(16, 8, 3, 3\)"):  # fmt: skip
        pull("someone/reshaped")


# -- memory bounded before allocating ------------------------------------------------------------------------


def resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_absurd_configs_and_headers_are_refused_before_anything_is_allocated(hub, tmp_path):
    shape = {"resolution": 256, "channels": 3, "latent_dim": 128, "width": 4096, "max_width": 4096}
    huge = {"format": "gan-studio/1", "architecture": "fastgan", "metadata": {}, "model": shape}
    hub.add_repo("bomb/config", {"config.json": json.dumps(huge).encode(), "model.safetensors": b"\0" * 64})
    wide = {f"model.{i}.weight": torch.zeros(1, 1, 1, 1) for i in (3, 6, 9)}  # a HugGAN DCGAN 4000 wide, in 48 KB
    wide.update({"model.0.weight": torch.zeros(100, 1, 1, 1), "model.12.weight": torch.zeros(4000, 3, 1, 1)})
    hub.add_repo("bomb/header", {"model.safetensors": save_safetensors(wide)})
    folder = tmp_path / "local-bomb"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(huge))
    before = resident_bytes()
    with pytest.raises(HubError, match=r"this FastGAN generator would have 2\.\dB parameters, above the budget"):
        pull("bomb/config")
    with pytest.raises(HubError, match=r"this HugGAN DCGAN generator would have [\d.]+[MB] parameters, above"):
        pull("bomb/header")
    with pytest.raises(Exception, match=r"refused before building it"):
        load_checkpoint(folder)
    assert resident_bytes() - before < 64 << 20  # the 2.7B-parameter model alone would be 10 GiB
    assert hub.downloaded("bomb/config") == ["config.json"]  # the weights were never fetched


def test_compressed_storage_that_inflates_past_the_limit_is_refused_before_loading(hub):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("archive/data.pkl", pickle.dumps({"w": 1}, protocol=2))
        archive.writestr("archive/data/0", b"\0" * (32 << 20))  # 32 MB of zeros in about 32 KB
    assert len(buffer.getvalue()) < 100_000
    hub.add_repo("bomb/deflate", {"pytorch_model.bin": buffer.getvalue()})
    with pytest.raises(HubError, match=r"unpacks to 32\.0 MB \(0\.0 MB compressed\), above the 8\.0 MB limit"):
        pull("bomb/deflate", max_bytes=8 << 20)


def test_a_file_larger_than_its_family_allows_is_refused_before_download(hub, monkeypatch):
    monkeypatch.setattr(budget, "max_file_bytes", lambda networks: 50_000 * networks)
    hub.add_repo("lab/too-big", stylegan_files())
    with pytest.raises(HubError, match=r"network-snapshot-000200\.pkl is .* above the 200000 bytes limit; not down"):
        pull("lab/too-big")
    assert hub.downloaded("lab/too-big") == []


# -- browse ---------------------------------------------------------------------------------------------------


def test_browse_finds_every_family_by_its_hub_tags(hub):
    hub.add_repo("huggingnft/punks", huggingnft_files(), downloads=30)
    hub.add_repo("fans/lwg", lucidrains_files(), downloads=20)
    hub.add_repo("lab/sg2", stylegan_files(), downloads=10)
    hub.add_repo("lab/sg3", stylegan_files("stylegan3_network-snapshot.pkl", ("stylegan3",)), downloads=5)
    hub.add_repo("huggan/fastgan-few-shot-x", fastgan_files(), downloads=40)
    hub.add_repo("someone/bert", {"README.md": card(tags=("text-classification",))}, downloads=1000)
    found = {m.repo_id: m.family for m in browse()}
    assert found == {"huggan/fastgan-few-shot-x": "huggan-fastgan", "huggingnft/punks": "lightweight-gan",
                     "fans/lwg": "lightweight-gan", "lab/sg2": "stylegan2-ada", "lab/sg3": None}  # fmt: skip


# -- the command line, pushing back, fine-tuning ----------------------------------------------------------------


def test_cli_pull_then_generate_then_info_on_a_stylegan2_pickle(hub, tmp_path, monkeypatch, capsys):
    from PIL import Image

    from gan.cli import main

    monkeypatch.chdir(tmp_path)
    hub.add_repo("lab/sg2-cli", stylegan_files())
    assert main(["pull", "lab/sg2-cli"]) == 0
    out = capsys.readouterr().out
    assert "format: StyleGAN2-ADA (NVlabs .pkl), converted from network-snapshot-000200.pkl" in out
    assert "weights licence: NVIDIA Source Code License" in out
    folder = tmp_path / "models" / "lab--sg2-cli"
    args = ["generate", "--model", str(folder), "--seed", "5", "--count", "3", "--truncation", "0.7", "--out", "g"]
    assert main(args) == 0
    expected = ((reference("stylegan2_reference.safetensors")["psi_0.7"] + 1) / 2).clamp(0, 1)
    with Image.open(tmp_path / "g" / "lab--sg2-cli_seed6_psi0.7.png") as image:  # seed 6: the 2nd row
        pixels = torch.from_numpy(np.asarray(image, dtype=np.float32)).permute(2, 0, 1) / 255  # (3, 16, 16)
    assert (pixels - expected[1]).abs().max() <= 0.5 / 255 + TOLERANCE  # 8-bit rounding
    assert main(["generate", "--model", str(folder), "--count", "2", "--size", "8", "--out", "small"]) == 0
    with Image.open(next((tmp_path / "small").glob("*.png"))) as image:
        assert image.size == (8, 8)
    capsys.readouterr()
    assert main(["info", str(folder)]) == 0
    info = capsys.readouterr().out
    assert "source: " in info and "lab/sg2-cli" in info and "weights licence: NVIDIA" in info
    assert "fine-tuning: stylegan2 models can be sampled but not fine-tuned here" in info
    assert main(["train", "digits", "--init", str(folder), "--out", "run", "--steps", "1"]) == 2
    assert "not fine-tuned here: StyleGAN2 training" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_a_converted_model_pushed_back_credits_its_source_and_licence(hub):
    import yaml
    from hub_server import ALICE

    from gan.hub import push

    hub.add_repo("lab/sg2-origin", stylegan_files())
    pulled = pull("lab/sg2-origin")
    pushed = push(pulled.folder, "alice/sg2-converted", ALICE)
    files = hub.files(pushed.repo_id)
    assert {"config.json", "model.safetensors", "README.md"} <= set(files) and not any(
        f.endswith(".pkl") for f in files
    )
    readme = files["README.md"].decode()
    meta = yaml.safe_load(readme.split("---")[1])
    assert (meta["license"], meta["license_name"], meta["base_model"]) == (
        "other", "nvidia-source-code-license-nc", "lab/sg2-origin")  # fmt: skip
    assert "converted this model from [lab/sg2-origin]" in readme and "StyleGAN2-ADA (NVlabs .pkl)" in readme
    assert "**The weights are under the NVIDIA Source Code License" in readme
    again = pull("alice/sg2-converted")  # and back: GAN studio's own format now, the same images
    assert again.format == "gan-studio"
    assert torch.equal(sample(again.folder, (5, 6)), sample(pulled.folder, (5, 6)))


def test_trainable_says_which_families_can_be_fine_tuned():
    from gan.models import ARCHITECTURES, trainable

    assert trainable("dcgan") is None and trainable("fastgan") is None and trainable("huggan_dcgan") is None
    for name in ("stylegan2", "lightweight_gan", "huggan_fastgan"):
        assert trainable(name).startswith(f"{name} models can be sampled but not fine-tuned here: ")
    assert set(ARCHITECTURES) >= {"stylegan2", "lightweight_gan", "huggan_fastgan"}
