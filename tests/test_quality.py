"""Answer quality gates on our own dev sets (written to probe, not tuned per question)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.answers import AnswerService
from bot.evaluation import evaluate, load_cases

DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize(
    "name",
    ["dev_questions.jsonl", "dev2_questions.jsonl", "dev3_questions.jsonl", "dev4_questions.jsonl"],
)
def test_dev_sets_stay_above_the_bar(service: AnswerService, name: str) -> None:
    report = evaluate(service, load_cases(DATA / name))
    misses = [(m.q, m.outcome, m.matched) for m in report.misses]
    assert report.accuracy >= 0.90, misses
    assert report.decline_rate >= 0.88, misses
    assert report.language_correct >= report.language_labelled - 1


def test_the_hardest_set_does_not_slip(service: AnswerService) -> None:
    """dev5 was written last and measured fresh at 76.7 % on-topic; after general lexicon
    fixes it is at 83.3 %. This is a floor against regressions, not a quality claim."""
    report = evaluate(service, load_cases(DATA / "dev5_questions.jsonl"))
    misses = [(m.q, m.outcome, m.matched) for m in report.misses]
    assert report.accuracy >= 0.80, misses
    assert report.decline_rate >= 0.88, misses
