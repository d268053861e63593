from dataclasses import replace

import torch

from gan.card import model_card
from gan.checkpoint import load_checkpoint
from gan.quality import assess


def card_with_quality(folder, quality) -> str:
    checkpoint = load_checkpoint(folder)
    checkpoint = replace(checkpoint, metadata={**checkpoint.metadata, "quality": quality})
    return model_card(checkpoint, "alice/tiny-gan", samples=None)


def test_the_card_shows_a_quality_report_with_its_intervals_and_verdicts(tiny_checkpoint):
    real = torch.rand(120, 1, 32, 32) * 2 - 1
    report = assess(real.flip(0)[:60].repeat(2, 1, 1, 1), real, space="random")
    card = card_with_quality(tiny_checkpoint, report.to_dict())
    assert "| score | generated | real vs real | reading |" in card and "| coverage |" in card
    assert "±" in card and report.verdicts[0] in card and "untrained network" in card


def test_older_and_damaged_quality_records_still_give_a_card(tiny_checkpoint):
    older = {"generated": {"fd": 8.15, "precision": 1.0}, "real_floor": {"fd": 8.03, "precision": 0.9}}
    assert "| fd | 8.15 | 8.03 |" in card_with_quality(tiny_checkpoint, older)
    damaged = {"format": "gan-studio-quality/1", "scores": "none"}
    assert "quality report recorded with this checkpoint is unreadable" in card_with_quality(tiny_checkpoint, damaged)
