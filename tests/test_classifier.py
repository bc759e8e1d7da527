"""The classifier's second opinion: what it learns, and that its fast path changes nothing."""

from __future__ import annotations

import pytest

import bot.answering.classifier
from bot.answering.classifier import OUT_OF_SCOPE
from bot.answering.service import AnswerService

QUESTIONS = [
    "hab gestern 50 anfragen raus, jetzt will linkedin ne mail adresse??",
    "Sehr geehrte Damen und Herren, darf ich bei XING als Basis-Mitglied Text mitschicken?",
    "Wie ändere ich mein Profilbild?",
]


def _guess(service: AnswerService, question: str) -> tuple[str, float, float]:
    _, ranking = service.rank(question)
    guess = service.guess(question, ranking.entries)
    assert guess is not None
    return guess.label, round(guess.probability, 9), round(guess.out_of_scope, 9)


@pytest.mark.parametrize("question", QUESTIONS)
def test_remembered_word_gains_give_the_same_guess(
    service: AnswerService, question: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    remembered = _guess(service, question)
    monkeypatch.setattr(bot.answering.classifier, "_REMEMBER_UP_TO", 0)
    assert _guess(service, question) == remembered


def test_it_tells_entries_from_what_the_article_does_not_cover(service: AnswerService) -> None:
    label, probability, _ = _guess(service, QUESTIONS[0])
    assert label == "li-email" and probability > 0.5
    label, _, outside = _guess(service, QUESTIONS[2])
    assert label.startswith(OUT_OF_SCOPE) and outside > 0.5


def test_a_message_of_unknown_words_gets_no_guess(service: AnswerService) -> None:
    assert service.guess("qqqq zzzz", []) is None
