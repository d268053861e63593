import json

import pytest
import torch
from emoji_data import emoji_or_skip
from safetensors.torch import load_file, save_file

from gan.data import load_builtin, mnist_labels
from gan.errors import CheckpointError
from gan.judges import JUDGES_DIR, EmojiJudge, load_judge, load_judge_from, save_judge
from gan.zoo import embedded_models


def test_the_shipped_judges_load_and_are_no_generators():
    digits, emoji = load_judge("digits"), load_judge("emoji")
    assert digits is not None and emoji is not None
    assert digits.classes == tuple("0123456789") and digits.resolution == 28 and digits.channels == 1
    assert len(emoji.classes) == 9 and emoji.resolution == 64 and emoji.channels == 3
    assert digits.features(torch.zeros(3, 1, 32, 32)).shape == (3, 128)  # resized to 28 px on the way in
    assert emoji.features(torch.zeros(3, 1, 32, 32)).shape == (3, 64)  # grey repeated into RGB
    assert "judges" not in embedded_models()  # gan.zoo lists every weights/<name>/config.json as a generator
    for name in ("digits", "emoji"):
        config = json.loads((JUDGES_DIR / name / "config.json").read_text())
        assert config["held_out_accuracy"] and (JUDGES_DIR / name / "README.md").is_file()


def test_the_digit_judge_reads_held_out_digits():
    real = load_builtin("mnist", 32)
    labels = torch.from_numpy(mnist_labels()).long()
    order = torch.randperm(len(real), generator=torch.Generator().manual_seed(0))  # its training split's order
    held, held_labels = real[order[4000:]], labels[order[4000:]]
    accuracy = (load_judge("digits").probabilities(held).argmax(1) == held_labels).double().mean()
    assert accuracy > 0.95


def test_the_emoji_judge_names_held_out_emoji_categories_far_above_chance():
    held = emoji_or_skip(64, "held_out")
    accuracy = (load_judge("emoji").probabilities(held.images).argmax(1) == held.category).double().mean()
    assert accuracy > 0.6  # 9 categories, the largest a quarter of them


def test_a_judge_round_trips_and_damaged_ones_are_refused(tmp_path):
    network = EmojiJudge(subcategories=5, categories=3, width=4, feature_dim=8).eval()
    config = {"network": "emoji-judge", "input_resolution": 64, "channels": 3, "width": 4, "feature_dim": 8,
              "classes": ["a", "b", "c"], "subcategories": list("vwxyz")}  # fmt: skip
    folder = save_judge(network, tmp_path / "tiny", config)
    judge = load_judge_from(folder)
    images = torch.rand(2, 3, 64, 64) * 2 - 1
    assert torch.equal(judge.features(images), network.features(images))
    assert judge.probabilities(images).shape == (2, 3)
    assert load_judge("tiny", judges_dir=tmp_path / "none") is None  # absent: the report falls back

    state = load_file(str(folder / "model.safetensors"))
    state["category_head.weight"] = torch.zeros(4, 8)  # a head for 4 classes where the config says 3
    save_file(state, str(folder / "model.safetensors"))
    with pytest.raises(CheckpointError, match="unreadable"):
        load_judge_from(folder)
    (folder / "config.json").write_text(json.dumps({"format": "gan-studio/1", "network": "emoji-judge"}))
    with pytest.raises(CheckpointError, match="not a gan-studio-judge/1 judge config"):
        load_judge_from(folder)
    (folder / "config.json").write_text("{")
    with pytest.raises(CheckpointError, match="unreadable"):
        load_judge_from(folder)
