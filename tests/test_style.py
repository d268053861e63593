"""Style transfer: losses, the stylize loop, colour preservation, weights loading, uploads, the CLI.

The VGG19 here has torchvision's random initialisation (pretrained weights cannot be
downloaded on the test machines): the images are meaningless as art, but every loss,
gradient and code path is the real one. Sizes stay at 32-64 px so the file runs in seconds.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest
import torch
from PIL import Image
from safetensors.torch import save_file

from gan import hub as gan_hub
from gan.cli import main
from gan.data import load_picture
from gan.errors import HubError, ImageInputError, InvalidInputError, StyleWeightsError
from gan.style import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    LAYER_INDEX,
    TORCHVISION_FILE,
    StyleConfig,
    StyleObjective,
    VGGFeatures,
    gram_matrix,
    load_vgg19_weights,
    parse_blend_weights,
    plan_levels,
    rgb_to_yiq,
    stylize,
    total_variation,
)


@pytest.fixture(scope="module")
def weights(random_vgg19):
    return load_vgg19_weights(random_vgg19)


def content_image(height: int = 48, width: int = 48) -> torch.Tensor:
    """A bluish gradient with a pale square: (3, H, W) in [0, 1]."""
    y, x = torch.meshgrid(torch.linspace(0, 1, height), torch.linspace(0, 1, width), indexing="ij")
    image = torch.stack([0.15 + 0.2 * x, 0.3 + 0.3 * y, 0.75 - 0.2 * x * y])
    image[:, height // 4 : height // 2, width // 4 : width // 2] += 0.2
    return image.clamp(0, 1)


def style_image(colour: tuple[float, float, float], side: int = 40, period: int = 6) -> torch.Tensor:
    """Diagonal stripes of `colour` on dark: a texture with an unmistakable palette."""
    y, x = torch.meshgrid(torch.arange(side), torch.arange(side), indexing="ij")
    stripes = (((x + y) // period) % 2).float()
    return (torch.tensor(colour).view(3, 1, 1) * (0.35 + 0.65 * stripes)).clamp(0, 1)


RED, GREEN = (0.95, 0.15, 0.1), (0.1, 0.9, 0.2)


def fast(**overrides) -> StyleConfig:
    """Tiny, single-scale, with L-BFGS tolerances off so it never stops at once on random features."""
    settings = dict(size=48, levels=1, steps=12, coarse_steps=0, tv_weight=0.0, preview_every_s=0.0,
                    tolerance_grad=0.0, tolerance_change=0.0)  # fmt: skip
    return StyleConfig(**{**settings, **overrides})


def run(weights, config: StyleConfig, styles=None, content=None) -> torch.Tensor:
    events = list(stylize(content_image() if content is None else content, styles or [style_image(RED)], weights,
                          config, device="cpu"))  # fmt: skip
    assert events[-1].result is not None
    return events[-1].result


# --- the pieces ---


def test_gram_matrix_matches_a_hand_computed_case_in_float32():
    features = torch.tensor([[1.0, 2.0, 3.0, 4.0], [0.0, 1.0, 0.0, 1.0]]).view(1, 2, 2, 2)  # (B, C, H, W)
    # F F^T = [[1+4+9+16, 2+4], [2+4, 1+1]] = [[30, 6], [6, 2]], divided by C*H*W = 8
    expected = torch.tensor([[[30.0, 6.0], [6.0, 2.0]]]) / 8
    assert torch.allclose(gram_matrix(features), expected)
    half = gram_matrix(features.to(torch.bfloat16))
    assert half.dtype == torch.float32 and torch.allclose(half, expected)
    assert gram_matrix(features.repeat(3, 1, 1, 1)).shape == (3, 2, 2)


def test_total_variation_is_zero_on_flat_images_and_grows_with_noise():
    flat = torch.full((1, 3, 16, 16), 0.5)
    assert total_variation(flat) == 0
    torch.manual_seed(0)
    assert total_variation(flat + 0.2 * torch.rand_like(flat)) > total_variation(flat + 0.05 * torch.rand_like(flat))


def test_features_are_torchvision_vgg19_truncated_after_the_last_layer_used(weights):
    import torchvision

    network = VGGFeatures(weights, ["relu1_1", "conv4_2"])
    assert LAYER_INDEX["conv4_2"] == 21 and len(network.layers) == 22  # nothing after conv4_2 is built
    assert not network.training and not any(p.requires_grad for p in network.parameters())
    reference = torchvision.models.vgg.make_layers(torchvision.models.vgg.cfgs["E"]).eval()
    reference.load_state_dict({name.removeprefix("features."): t for name, t in weights.tensors.items()})
    torch.manual_seed(0)
    image = torch.rand(1, 3, 32, 32)
    normalised = (image - torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)) / torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    with torch.no_grad():
        out = network(image)
        assert torch.allclose(out["conv4_2"], reference[:22](normalised), atol=1e-4)
        assert torch.allclose(out["relu1_1"], reference[:2](normalised), atol=1e-5)


# --- the loop ---


def test_losses_decrease_and_the_result_has_the_content_size(weights):
    events = list(stylize(content_image(32, 48), [style_image(RED, side=60)], weights, fast(), device="cpu"))
    losses = [e.losses["total"] for e in events[:-1]]
    assert len(losses) == 12 and all(math.isfinite(v) for v in losses)
    assert events[0].losses["content"] == pytest.approx(0.0, abs=1e-6)  # it starts from the content image
    assert losses[-1] < 0.6 * losses[0] and min(losses) == losses[-1]
    assert events[-1].losses["style"] < 0.6 * events[0].losses["style"]
    result = events[-1].result
    assert result.shape == (3, 32, 48)  # size is the longer side; the style image's size plays no part
    assert result.min() >= 0 and result.max() <= 1
    assert events[-1].result is events[-1].preview and all(e.result is None for e in events[:-1])


def test_adam_from_noise_decreases_the_loss_too(weights):
    events = list(stylize(content_image(), [style_image(RED)], weights,
                          fast(optimizer="adam", init="noise", steps=15, lr=0.05), device="cpu"))  # fmt: skip
    assert events[-2].losses["total"] < 0.5 * events[0].losses["total"]


def test_coarse_to_fine_solves_at_half_size_first(weights):
    config = fast(size=64, levels=2, coarse_steps=4, steps=3)
    events = list(stylize(content_image(64, 64), [style_image(RED)], weights, config, device="cpu"))
    assert [(e.level, e.size) for e in events[:-1]] == [(0, (32, 32))] * 4 + [(1, (64, 64))] * 3
    assert events[-1].result.shape == (3, 64, 64) and events[-1].total_steps == 7


def test_a_coarse_pass_ends_when_it_stops_improving(weights):
    config = fast(size=64, levels=2, coarse_steps=100, steps=2, coarse_plateau=1.0)  # any 10-step gain is "too small"
    events = list(stylize(content_image(64, 64), [style_image(RED)], weights, config, device="cpu"))
    assert [e.level for e in events[:-1]] == [0] * 11 + [1] * 2
    assert events[-1].step == 13 and events[-2].total_steps == 13  # evaluations: the count shrinks to match
    # progress for a person: a total that never changes, where a pass that ended early counts as done
    assert {e.planned_steps for e in events} == {102} and plan_levels(config, (64, 64)) == [(32, 100), (64, 2)]
    assert [e.position for e in events] == [*range(1, 12), 101, 102, 102]


def test_a_seed_makes_noise_starts_reproducible(weights):
    config = fast(init="noise", steps=4)
    first, again = run(weights, config), run(weights, config)
    other = run(weights, fast(init="noise", steps=4, seed=1))
    assert torch.equal(first, again)
    assert (first - other).abs().mean() > 0.01


def test_stop_keeps_the_current_image(weights):
    calls = []

    def stop_on_third_call() -> bool:
        calls.append(1)
        return len(calls) >= 3

    events = list(stylize(content_image(), [style_image(RED)], weights, fast(steps=500), "cpu", stop_on_third_call))
    final = events[-1]
    assert final.step == 3 and any("stopped" in note for note in final.notes)
    assert torch.equal(final.result, events[-2].preview)  # what was last shown is what is kept
    assert not torch.allclose(final.result, content_image(), atol=1e-3)  # and it is not the untouched start


def test_blend_weights_mix_the_styles(weights):
    red, green = style_image(RED), style_image(GREEN)
    only_red = run(weights, fast(), [red])
    assert torch.equal(run(weights, fast(style_blend=(1, 0)), [red, green]), only_red)  # weight 0: no effect
    mostly_red = run(weights, fast(style_blend=(3, 1)), [red, green])
    mostly_green = run(weights, fast(style_blend=(1, 3)), [red, green])
    network = VGGFeatures(weights, fast().style_layers + fast().content_layers)

    def style_distance(image: torch.Tensor, style: torch.Tensor) -> float:
        objective = StyleObjective(network, content_image()[None], [style[None]], [1.0], fast())
        with torch.no_grad():
            return objective(image[None])[1]["style"].item()

    def leaning_to_red(image: torch.Tensor) -> float:  # < 0: nearer the red style's Gram matrices than the green's
        return style_distance(image, red) - style_distance(image, green)

    assert leaning_to_red(only_red) < leaning_to_red(mostly_red) < leaning_to_red(mostly_green)


def chroma(image: torch.Tensor) -> torch.Tensor:
    return rgb_to_yiq(image)[1:]  # (2, H, W): I and Q


def test_colour_preservation_keeps_the_contents_chroma(weights):
    content = content_image()
    config = dict(steps=15)
    free = run(weights, fast(**config), content=content)
    luminance = run(weights, fast(preserve_colors="luminance", **config), content=content)
    histogram = run(weights, fast(preserve_colors="histogram", **config), content=content)
    drift = (chroma(free) - chroma(content)).abs().mean()
    assert drift > 0.05  # without preservation the red style's colours come through
    assert (chroma(luminance) - chroma(content)).abs().mean() < 0.1 * drift  # same chroma, pixel by pixel
    assert (luminance - content).abs().mean() > 0.01  # while the luminance was stylised
    mean_shift = (chroma(histogram).mean((1, 2)) - chroma(content).mean((1, 2))).abs().max()
    assert mean_shift < 0.3 * (chroma(free).mean((1, 2)) - chroma(content).mean((1, 2))).abs().max()


def test_style_scale_changes_what_the_style_looks_like(weights):
    small, large = run(weights, fast(style_scale=0.5, steps=6)), run(weights, fast(style_scale=2.0, steps=6))
    assert (small - large).abs().mean() > 0.005


def test_mixed_precision_runs_with_float32_losses(weights):
    events = list(stylize(content_image(32, 32), [style_image(RED)], weights,
                          fast(size=32, steps=3, mixed_precision=True), device="cpu"))  # fmt: skip
    assert all(math.isfinite(e.losses["total"]) for e in events) and events[-1].result.dtype == torch.float32


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"size": 8}, "size must be"),
        ({"style_layers": ("conv9_9",)}, "unknown VGG19 layer"),
        ({"preserve_colors": "sepia"}, "preserve_colors must be one of"),
        ({"style_layer_weights": (1.0, 2.0)}, "2 style layer weights for 5 style layers"),
        ({"style_blend": (1.0, -1.0)}, "must be numbers >= 0"),
        ({"content_weight": 0.0, "style_weight": 0.0, "tv_weight": 0.0}, "nothing to optimise"),
        ({"steps": 0}, "steps must be"),
    ],
)
def test_bad_configs_are_refused_with_a_message_naming_the_value(overrides, message):
    with pytest.raises(InvalidInputError, match=message):
        StyleConfig(**overrides)


def test_mismatched_style_weights_are_refused(weights):
    with pytest.raises(InvalidInputError, match="2 style blend weights for 1 style image"):
        next(stylize(content_image(), [style_image(RED)], weights, fast(style_blend=(1, 2)), "cpu"))
    assert parse_blend_weights("2; 1", 2) == (2.0, 1.0) and parse_blend_weights(" ", 3) == ()
    for text, count, message in [("1, 2", 1, "2 style weights given for 1"), ("a, b", 2, "write numbers"),
                                 ("0, 0", 2, "must not all be 0"), ("-1, 2", 2, ">= 0")]:  # fmt: skip
        with pytest.raises(InvalidInputError, match=message):
            parse_blend_weights(text, count)


def test_an_elongated_content_image_too_thin_at_the_size_is_refused(weights):
    with pytest.raises(InvalidInputError, match="shorter side"):
        next(stylize(torch.rand(3, 8, 400), [style_image(RED)], weights, fast(size=64), "cpu"))


# --- weights ---


@pytest.fixture
def forget_downloads():
    """Remove the repos a test downloads from the session's Hugging Face cache, so later tests cannot find them."""
    from huggingface_hub import constants

    yield
    for repo in ("timm/vgg19.tv_in1k", "someone/vgg"):
        shutil.rmtree(Path(constants.HF_HUB_CACHE) / f"models--{repo.replace('/', '--')}", ignore_errors=True)


def test_weights_come_from_the_hub_torchvision_cache_or_a_file(
    weights, random_vgg19, tmp_path, monkeypatch, hub, forget_downloads
):
    from safetensors.torch import save as safetensors_bytes

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))  # an empty torchvision cache
    # No source: the default Hub repo, served as timm serves it (a classifier too), through huggingface_hub.
    hub.add_repo("timm/vgg19.tv_in1k", {"model.safetensors": safetensors_bytes(
        {**weights.tensors, "pre_logits.fc1.weight": torch.zeros(8, 4)})})  # fmt: skip
    auto = load_vgg19_weights(None)
    assert auto.source == "timm/vgg19.tv_in1k" and hub.downloaded("timm/vgg19.tv_in1k") == ["model.safetensors"]
    assert torch.equal(auto.tensors["features.34.weight"], weights.tensors["features.34.weight"])

    # A file in a folder of another repo, with keys under a wrapper's prefix.
    prefixed = {f"model.{name}": tensor for name, tensor in weights.tensors.items()}
    hub.add_repo("someone/vgg", {"exports/vgg19.safetensors": safetensors_bytes(prefixed)})
    assert (
        load_vgg19_weights("hf://someone/vgg/exports/vgg19.safetensors").source
        == "someone/vgg/exports/vgg19.safetensors"
    )
    assert load_vgg19_weights(str(random_vgg19)).source == str(random_vgg19)  # and a local file

    # torchvision's own cache file (a pickled state dict with the classifier) comes before the Hub.
    checkpoints = tmp_path / "torch" / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    torch.save({**weights.tensors, "classifier.0.weight": torch.zeros(4, 4)}, checkpoints / TORCHVISION_FILE)
    cached = load_vgg19_weights(None)
    assert cached.source.endswith(TORCHVISION_FILE) and hub.downloaded("timm/vgg19.tv_in1k") == ["model.safetensors"]
    assert torch.equal(cached.tensors["features.0.bias"], weights.tensors["features.0.bias"])


def vgg16_like_keys() -> list[str]:
    convs = [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28]  # VGG16's convolutions in `features`
    return [f"features.{i}.{kind}" for i in convs for kind in ("weight", "bias")]


def written(path, content):
    """Write a tensors dict (as safetensors) or bytes to `path`; return the path."""
    if isinstance(content, dict):
        save_file(content, str(path))
    else:
        path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda tmp, dcgan: dcgan / "model.safetensors", "not a VGG19 feature file: 32 of its 32"),
        (lambda tmp, dcgan: written(tmp / "vgg16.safetensors", {k: torch.zeros(1) for k in vgg16_like_keys()}),
         r"missing \(first: features\.16\.weight\)"),
        (lambda tmp, dcgan: written(tmp / "shapes.safetensors", {f"features.{i}.{kind}": torch.zeros(1)
                                                                  for i in range(37) for kind in ("weight", "bias")}),
         r"features\.0\.weight is \(1,\), VGG19 needs \(64, 3, 3, 3\)"),
        (lambda tmp, dcgan: written(tmp / "text.safetensors", b"not weights"), "not a readable safetensors file"),
        (lambda tmp, dcgan: written(tmp / "junk.pth", b"\x80junk"), "not a readable PyTorch weights file"),
        (lambda tmp, dcgan: torch.save([1, 2], tmp / "list.pth") or tmp / "list.pth", "holds a list"),
    ],
)  # fmt: skip
def test_a_wrong_weights_file_is_refused(make, message, tmp_path, tiny_checkpoint):
    with pytest.raises(StyleWeightsError, match=message):
        load_vgg19_weights(make(tmp_path, tiny_checkpoint))


def test_without_weights_the_message_says_how_to_provide_them(tmp_path, monkeypatch, hub):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))  # an empty torchvision cache, and a Hub without the repo
    with pytest.raises(StyleWeightsError) as info:
        load_vgg19_weights(None)
    message = str(info.value)
    assert "GAN_STYLE_WEIGHTS" in message and "timm/vgg19.tv_in1k" in message and "not found" in message
    with pytest.raises(StyleWeightsError, match="no such file"):
        load_vgg19_weights(tmp_path / "missing.safetensors")

    def unreachable(*args, **kwargs):
        raise HubError("cannot reach the Hub to fetch someone/vgg19/model.safetensors")

    monkeypatch.setattr(gan_hub, "download_file", unreachable)
    with pytest.raises(StyleWeightsError, match=r"cannot reach the Hub.*GAN_STYLE_WEIGHTS"):
        load_vgg19_weights("someone/vgg19")


# --- uploads ---


def test_pictures_load_with_their_aspect_and_bad_ones_are_refused(tmp_path):
    Image.new("RGBA", (90, 30), (255, 0, 0, 0)).save(tmp_path / "clear.png")
    image, notes = load_picture(tmp_path / "clear.png", "style image")
    assert image.shape == (3, 30, 90) and torch.allclose(image, torch.ones_like(image))  # transparent -> white
    assert notes == []
    Image.new("RGB", (300, 120), (0, 0, 255)).save(tmp_path / "big.jpg")
    image, notes = load_picture(tmp_path / "big.jpg", "content image", max_side=150)
    assert image.shape == (3, 60, 150) and "content image was 300×120 px: downscaled to 150×60" in notes[0]

    Image.new("RGB", (7, 5), (0, 200, 0)).save(tmp_path / "tiny.png")
    image, notes = load_picture(tmp_path / "tiny.png", "style image")
    assert image.shape == (3, 16, 22) and "style image was 7×5 px: upscaled to 22×16" in notes[0]

    (tmp_path / "notes.png").write_text("hello")
    (tmp_path / "empty.png").write_bytes(b"")
    Image.new("RGB", (64, 64), "red").save(tmp_path / "full.png")
    (tmp_path / "cut.png").write_bytes((tmp_path / "full.png").read_bytes()[:60])
    for name, message in [("notes.png", "not an image"), ("empty.png", "empty file"), ("cut.png", "corrupt"),
                          ("absent.png", "no such file")]:  # fmt: skip
        with pytest.raises(ImageInputError, match=message):
            load_picture(tmp_path / name, "content image")


def test_content_already_at_the_output_size_and_tiny_pictures_stylise(weights, tmp_path):
    # A decoded picture is channels-last in memory; at exactly the output size nothing resizes it, and L-BFGS
    # once failed on it ("view size is not compatible").
    Image.fromarray((content_image(48, 40).permute(1, 2, 0).numpy() * 255).astype("uint8")).save(tmp_path / "c.png")
    Image.new("RGB", (7, 5), (200, 30, 30)).save(tmp_path / "s.png")
    content, _ = load_picture(tmp_path / "c.png", "content image")
    style, notes = load_picture(tmp_path / "s.png", "style image")
    assert "upscaled" in notes[0]
    for size, levels in ((48, 1), (48, 2)):
        result = run(weights, fast(size=size, levels=levels, coarse_steps=2, steps=3), [style], content)
        assert result.shape == (3, 48, 40) and torch.isfinite(result).all()


# --- command line ---


def test_cli_writes_a_png_with_its_settings(random_vgg19, tmp_path):
    to_pil = Image.fromarray
    to_pil((content_image(40, 56).permute(1, 2, 0).numpy() * 255).astype("uint8")).save(tmp_path / "c.png")
    to_pil((style_image(RED).permute(1, 2, 0).numpy() * 255).astype("uint8")).save(tmp_path / "s1.png")
    to_pil((style_image(GREEN).permute(1, 2, 0).numpy() * 255).astype("uint8")).save(tmp_path / "s2.png")
    out = tmp_path / "out" / "styled.png"
    code = main(["style", str(tmp_path / "c.png"), str(tmp_path / "s1.png"), str(tmp_path / "s2.png"),
                 "--out", str(out), "--style-weights", str(random_vgg19), "--size", "48", "--steps", "3",
                 "--levels", "1", "--blend", "2,1", "--seed", "7"])  # fmt: skip
    assert code == 0
    with Image.open(out) as image:
        assert image.size == (48, 34) and image.text["seed"] == "7" and image.text["blend"] == "2, 1"
        assert image.text["styles"] == "s1.png, s2.png" and image.text["weights"] == random_vgg19.name  # no path


def test_cli_bad_input_is_one_line_and_exit_2(random_vgg19, tmp_path, capsys, monkeypatch, hub):
    (tmp_path / "text.png").write_text("not a picture")
    Image.new("RGB", (32, 32)).save(tmp_path / "ok.png")
    monkeypatch.delenv("GAN_STYLE_WEIGHTS", raising=False)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    common = ["--style-weights", str(random_vgg19), "--size", "32", "--steps", "1"]
    assert main(["style", str(tmp_path / "text.png"), str(tmp_path / "ok.png"), "--out", "x.png", *common]) == 2
    assert main(["style", str(tmp_path / "ok.png"), str(tmp_path / "ok.png"), "--out", "x.png", "--blend", "1,2",
                 *common]) == 2  # fmt: skip
    assert main(["style", str(tmp_path / "ok.png"), str(tmp_path / "ok.png"), "--out", str(tmp_path / "x.png")]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 3 and all(line.startswith("error: ") for line in lines)
    assert "not an image" in lines[0] and "2 style weights given for 1" in lines[1] and "GAN_STYLE_WEIGHTS" in lines[2]


def test_offline_the_default_weights_fail_at_once_in_one_line_without_any_request(tmp_path, monkeypatch):
    import huggingface_hub

    requests: list[dict] = []

    def no_request(*args, **kwargs):
        requests.append(kwargs)
        raise AssertionError("no request may be made when HF_HUB_OFFLINE is set")

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))  # an empty torchvision cache; the Hub cache is empty too
    monkeypatch.setattr(huggingface_hub, "get_hf_file_metadata", no_request)
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", no_request)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(StyleWeightsError) as info:
        load_vgg19_weights(None)
    message = str(info.value)
    assert "\n" not in message and "HF_HUB_OFFLINE is set" in message and "GAN_STYLE_WEIGHTS" in message
    assert "everything else works offline" in message and requests == []


def test_an_unreachable_hub_costs_one_request_not_its_retries(tmp_path, monkeypatch):
    import huggingface_hub
    from huggingface_hub.errors import HTTPError

    requests: list[dict] = []

    def refused(*args, **kwargs):
        requests.append(kwargs)
        raise HTTPError("connection refused")

    def no_download(*args, **kwargs):
        raise AssertionError("no download (with its retries) after the first request failed")

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(huggingface_hub, "get_hf_file_metadata", refused)
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", no_download)
    with pytest.raises(StyleWeightsError, match=r"connection to the Hub failed.*GAN_STYLE_WEIGHTS.*works offline"):
        load_vgg19_weights(None)
    with pytest.raises(StyleWeightsError, match=r"connection to the Hub failed"):
        load_vgg19_weights("someone/vgg19")
    assert len(requests) == 2 and all(request["retry_on_errors"] is False for request in requests)


def test_weights_in_the_hub_cache_load_without_a_request(tmp_path, monkeypatch, random_vgg19):
    import huggingface_hub

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setattr(huggingface_hub, "try_to_load_from_cache", lambda *args, **kwargs: str(random_vgg19))
    monkeypatch.setattr(huggingface_hub, "get_hf_file_metadata", lambda *a, **k: pytest.fail("asked the Hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert load_vgg19_weights(None).source == "timm/vgg19.tv_in1k"
