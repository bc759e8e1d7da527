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


@pytest.mark.parametrize(
    ("name", "floor"),
    [
        # mixed German and English: fresh 76.7 %, 83.3 % after general lexicon fixes
        ("dev5_questions.jsonl", 0.80),
        # long, chatty questions: fresh 60.0 %, 76.7 % now; the known weak spot (context
        # words dilute the coverage of the right entry below the threshold)
        ("dev6_questions.jsonl", 0.73),
        # written after the fixes for dev4 to dev6, to check they carry over: fresh 80.0 %
        ("dev7_questions.jsonl", 0.80),
    ],
)
def test_the_hardest_sets_do_not_slip(service: AnswerService, name: str, floor: float) -> None:
    """Floors against regressions at today's level, not quality claims."""
    report = evaluate(service, load_cases(DATA / name))
    misses = [(m.q, m.outcome, m.matched) for m in report.misses]
    assert report.accuracy >= floor, misses
    assert report.decline_rate >= 0.88, misses
