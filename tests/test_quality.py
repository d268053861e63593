import json
import math
from dataclasses import replace

import pytest
import torch
from blobs import smooth_blobs
from emoji_data import emoji_or_skip, shuffled

from gan import quality
from gan.data import load_builtin
from gan.errors import InvalidInputError
from gan.models import build_generator
from gan.quality import (
    MIN_PER_SIDE,
    QualityReport,
    assess,
    assess_generator,
    choose_space,
    random_space,
    report_lines,
    report_markdown,
    vgg_space,
)
from gan.style import load_vgg19_weights, save_random_vgg19

DISTRIBUTION = ("fd", "kid_x1000", "precision", "recall", "coverage")


@pytest.fixture(scope="module")
def digits() -> torch.Tensor:
    return shuffled(load_builtin("mnist", 32))  # (5000, 1, 32, 32); the set is sorted by label


@pytest.fixture(scope="module")
def vgg_weights(tmp_path_factory):
    return load_vgg19_weights(save_random_vgg19(tmp_path_factory.mktemp("vgg") / "vgg19-random.safetensors"))


def data_and_space(name: str, digits: torch.Tensor, vgg_weights):
    """(real-like images, blobs, feature space) for each space a report can use."""
    if name == "digits":
        return digits, smooth_blobs(300, 1, 32, -1.0), choose_space(digits)
    emoji = shuffled(emoji_or_skip(32, "train").images)
    space = {
        "emoji": lambda: choose_space(emoji),
        "vgg19": lambda: vgg_space(vgg_weights, "test: torchvision's random initialisation"),
        "random": lambda: random_space(3, "test"),
    }[name]()
    return emoji, smooth_blobs(300, 3, 32, 1.0), space


@pytest.mark.parametrize("name", ["digits", "emoji", "vgg19", "random"])
def test_blobs_and_real_images_score_far_apart_and_real_vs_real_sits_on_its_floor(name, digits, vgg_weights):
    images, blobs, space = data_and_space(name, digits, vgg_weights)
    assert space.name == name
    real, other_real = images[:300], images[300:600]  # disjoint sets of one distribution

    same = assess(other_real, real, space=space)
    assert same.scored and same.per_side == 150
    scores = {s.key: s for s in same.scores}
    assert ("fd" in scores) == (space.dim <= 150)  # FD needs as many images a side as feature dimensions
    for key in DISTRIBUTION:
        if key in scores:
            score = scores[key]
            assert score.status == "as real", (key, score)  # the paired difference's interval covers zero
            assert abs(score.value - score.floor) <= score.error, (key, score)  # the interval covers the floor
    assert scores["near_copies"].status == "as real" and scores["diversity"].status == "as real"

    far = assess(blobs, real, space=space)
    far_scores = {s.key: s for s in far.scores}
    for key in ("kid_x1000", "recall", "coverage", *(("fd",) if "fd" in scores else ())):
        score = far_scores[key]
        assert score.status == "worse", (key, score)
        assert abs(score.value - score.floor) > 3 * score.gap_error, (key, score)  # far apart, not just apart
    assert far.verdicts[0].startswith("Measurably worse than real images on")
    assert far_scores["near_copies"].status == "as real"  # smooth blobs are near many images, a copy of none


def test_the_digit_judges_scores_separate_a_blurred_generator_from_real_digits(digits):
    real, other = digits[:400], digits[400:800]
    blurred = torch.nn.functional.avg_pool2d(other, 3, 1, 1)  # real digits, blurred: close, but not real
    report = assess(blurred, real)
    assert report.space == "digits"
    fd = report.score("fd")
    assert fd is not None and fd.status == "worse" and fd.value > fd.floor + fd.gap_error
    assert report.classes is not None and report.classes.present == 10 and report.classes.floor_covered == 10


def test_copies_of_training_images_are_reported_as_copying(digits):
    training = digits[:200]
    copies = (training + 0.05 * torch.randn(200, 1, 32, 32, generator=torch.Generator().manual_seed(0))).clamp(-1, 1)
    report = assess(copies, training)
    near = report.score("near_copies")
    assert near is not None and near.status == "worse" and near.value > 0.9 and near.floor < 0.1
    assert any(line.startswith("Possible copying") for line in report.verdicts)
    novel = assess(digits[200:400], training)
    assert novel.score("near_copies").status == "as real"
    assert any(line.startswith("No sign of copying") for line in novel.verdicts)


def test_too_few_images_says_so_and_shows_only_what_can_still_be_said(digits):
    report = assess(smooth_blobs(30, 1, 32, -1.0), digits[:30])
    assert not report.scored and report.per_side == 15 < MIN_PER_SIDE
    assert [s.key for s in report.scores] == ["nn_distance", "near_copies", "diversity"]
    assert report.verdicts[0].startswith("Too few images to score the distribution")
    assert report.score("diversity").status == "worse"  # three blobs vary less than digits do
    markdown = report_markdown(report)
    assert "Too few images" in markdown and "| FD |" not in markdown and "| diversity" in markdown


def test_kid_below_zero_is_shown_with_its_error_and_a_note():
    # an unbiased estimate of a squared distance scatters around zero for one distribution: some runs go negative
    reports = [
        assess(torch.rand(120, 3, 16, 16) * 2 - 1, torch.rand(120, 3, 16, 16) * 2 - 1, space="random", seed=seed)
        for seed in range(6)
    ]
    negative = [r for r in reports if min(r.score("kid_x1000").value, r.score("kid_x1000").floor) < 0]
    assert negative, "no run went below zero"
    for report in reports:
        noted = any("KID below zero" in note for note in report.notes)
        assert noted == (report in negative)
    kid_row = next(line for line in report_markdown(negative[0]).splitlines() if line.startswith("| KID"))
    assert "-" in kid_row and "±" in kid_row


def test_a_report_survives_json_and_rejects_anything_else(digits):
    report = assess(smooth_blobs(120, 1, 32, -1.0), digits[:120])
    data = json.loads(json.dumps(report.to_dict()))
    assert QualityReport.from_dict(data) == report
    assert report_markdown(QualityReport.from_dict(data)) == report_markdown(report)
    broken = [
        {**data, "format": "gan-studio-quality/0"},
        {**data, "scores": [{"key": "fd"}]},
        {**data, "scores": [{**data["scores"][0], "value": "1.5"}]},
        {**data, "scored": "false"},
        {**data, "per_side": 1.5},
        {key: value for key, value in data.items() if key != "space"},
        {**data, "verdicts": "one line"},
        [data],
    ]
    for junk in broken:
        with pytest.raises(InvalidInputError):
            QualityReport.from_dict(junk)
    not_finite = replace(report, scores=(replace(report.scores[0], error=math.nan), *report.scores[1:]))
    data = json.loads(json.dumps(not_finite.to_dict(), allow_nan=False))  # JSON has no NaN: it is written as null
    assert math.isnan(QualityReport.from_dict(data).scores[0].error)


def test_the_feature_space_is_the_most_meaningful_available(digits, vgg_weights, monkeypatch):
    monkeypatch.setattr(quality, "local_vgg19_weights", lambda: None)
    assert choose_space(digits[:200]).name == "digits"
    grey_pictures = smooth_blobs(200, 1, 32, -1.0)  # greyscale, not digit-like
    assert choose_space(grey_pictures, vgg_weights=vgg_weights).name == "vgg19"
    chosen = choose_space(grey_pictures)
    assert chosen.name == "emoji" and "no VGG19 weights" in chosen.reason
    assert choose_space(smooth_blobs(50, 3, 32, 1.0)).name == "emoji"
    assert choose_space(digits[:50].expand(-1, 3, -1, -1)).name == "digits"  # grey saved as RGB is still grey
    monkeypatch.setattr(quality, "_judge_space", lambda name, reason: None)  # no judge's weights
    last = choose_space(smooth_blobs(50, 3, 32, 1.0))
    assert last.name == "random" and not last.trained and "untrained" in last.label
    with pytest.raises(InvalidInputError, match="emoji judge's weights are missing"):
        choose_space(digits[:50], "emoji")
    with pytest.raises(InvalidInputError, match="unknown feature space"):
        choose_space(digits[:50], "inception")
    report = assess(smooth_blobs(120, 3, 32, 1.0), smooth_blobs(120, 3, 32, 1.0, seed=1))
    assert "untrained network" in report.verdicts[-1]


@pytest.mark.parametrize(
    ("samples", "real", "message"),
    [
        (torch.zeros(10, 1, 32, 32), torch.zeros(10, 3, 32, 32), "differ in channels or size"),
        (torch.zeros(10, 2, 32, 32), torch.zeros(10, 2, 32, 32), r"\(N, 1 or 3, H, W\)"),
        (torch.full((10, 1, 8, 8), math.nan), torch.zeros(10, 1, 8, 8), "finite"),
        (torch.zeros(1, 1, 8, 8), torch.zeros(10, 1, 8, 8), "at least 2"),
        ([0.0], torch.zeros(10, 1, 8, 8), "tensor"),
    ],
)
def test_bad_inputs_are_refused_with_a_message(samples, real, message):
    with pytest.raises(InvalidInputError, match=message):
        assess(samples, real, space="random")


def test_held_out_images_give_the_copying_checks_floor(digits):
    report = assess(digits[1000:1200], digits[200:400], training=digits[:200])
    assert report.floor_kind == "held-out"
    assert any("held-out images" in line for line in report.verdicts)


def test_a_generators_report_renders_for_the_cli_and_the_tab(digits, tiny_config):
    generator = build_generator("dcgan", tiny_config).eval()  # untrained: noise, nothing like digits
    report = assess_generator(generator, digits[:160])
    again = assess_generator(generator, digits[:160])
    assert replace(report, seconds=0) == replace(again, seconds=0)  # seeds 0.. and seeded splits: reproducible
    assert report.space == "digits" and report.sample_count == 160 and report.per_side == 80
    assert report.score("coverage").status == "worse"
    lines = report_lines(report)
    assert lines[0].startswith("quality, in the digit judge's") and any("coverage" in line for line in lines)
    markdown = report_markdown(report)
    assert "| score | generated | real vs real | reading |" in markdown and "95% range" in markdown
