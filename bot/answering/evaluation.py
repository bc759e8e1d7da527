"""Batch evaluation of the answer engine against labelled questions (`python -m bot eval`)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from pydantic import BaseModel, ValidationError

from bot.answering.service import Answer, AnswerService, Policy, choose
from bot.domain import Lang
from bot.knowledge import Entry, KnowledgeError
from bot.render import to_plain
from bot.reply import ActionKind
from bot.text import fold

SWEEP = tuple(range(30, 81, 5))


class Case(BaseModel):
    """One labelled question; both expectation lists empty means it must be declined."""

    q: str
    lang: Lang | None = None
    expect_any: list[str] = []
    expect_all: list[str] = []
    topic: str = ""

    @property
    def on_topic(self) -> bool:
        return bool(self.expect_any or self.expect_all)

    def satisfied_by(self, text: str) -> bool:
        folded = fold(text)
        return all(fold(p) in folded for p in self.expect_all) and (
            not self.expect_any or any(fold(p) in folded for p in self.expect_any)
        )


@dataclass(frozen=True)
class Miss:
    q: str
    topic: str
    outcome: str
    matched: str | None
    candidates: list[str]
    answer: str


@dataclass(frozen=True)
class SweepRow:
    threshold: float
    accuracy: float  # on-topic answered correctly / on-topic
    coverage: float  # on-topic answered at all / on-topic
    declined: float  # off-topic declined / off-topic


@dataclass(frozen=True)
class Report:
    questions: int
    on_topic: int
    off_topic: int
    correct: int
    declined: int  # off-topic questions not answered (declined, clarified or small talk)
    one_tap: int  # on-topic questions answered right, or with the right entry offered
    # On-topic questions answered wrongly whose answer links to the right entry (one of the
    # answer's own buttons): one tap away too, but not counted in `one_tap`, which counts
    # only what "Meinten Sie ...?" and a decline offer.
    linked: int
    outcomes_off_topic: dict[str, int]  # how the off-topic questions were handled
    language_correct: int
    language_labelled: int
    misses: list[Miss]
    sweep: list[SweepRow]

    @property
    def accuracy(self) -> float:
        return self.correct / self.on_topic if self.on_topic else 1.0

    @property
    def decline_rate(self) -> float:
        return self.declined / self.off_topic if self.off_topic else 1.0

    @property
    def one_tap_rate(self) -> float:
        return self.one_tap / self.on_topic if self.on_topic else 1.0

    def to_json(self) -> str:
        data = asdict(self)
        data["accuracy"] = round(self.accuracy, 4)
        data["decline_rate"] = round(self.decline_rate, 4)
        data["one_tap_rate"] = round(self.one_tap_rate, 4)
        return json.dumps(data, ensure_ascii=False, indent=2)

    def to_text(self) -> str:
        lines = [
            f"Questions: {self.questions} ({self.on_topic} on-topic, {self.off_topic} off-topic)",
            f"On-topic accuracy:  {self.correct}/{self.on_topic} = {100 * self.accuracy:.1f} %",
            f"Off-topic not answered: {self.declined}/{self.off_topic} = "
            f"{100 * self.decline_rate:.1f} %",
            "  (" + ", ".join(f"{k} {v}" for k, v in sorted(self.outcomes_off_topic.items())) + ")",
            f"Right answer within one tap: {self.one_tap}/{self.on_topic} = "
            f"{100 * self.one_tap_rate:.1f} %",
            f"Answered wrongly, the right entry among the answer's buttons: {self.linked}",
            f"Language detected:  {self.language_correct}/{self.language_labelled}",
            "",
            f"Misses ({len(self.misses)}):" if self.misses else "Misses: none",
        ]
        for miss in self.misses:
            lines.append(f"  [{miss.topic}] {miss.q}")
            lines.append(
                f"      -> {miss.outcome} {miss.matched or ''}  candidates: "
                f"{', '.join(miss.candidates) or '-'}"
            )
        lines += ["", "Threshold sweep (answer threshold; other settings unchanged):"]
        lines.append("  threshold  accuracy  coverage  off-topic declined")
        for row in self.sweep:
            lines.append(
                f"  {row.threshold:9.0f}  {100 * row.accuracy:7.1f}%  {100 * row.coverage:7.1f}%"
                f"  {100 * row.declined:17.1f}%"
            )
        return "\n".join(lines)


def load_cases(path: Path) -> list[Case]:
    cases = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            cases.append(Case.model_validate_json(line))
        except ValidationError as exc:
            raise KnowledgeError(f"{path}:{number}: {exc.errors()[0]['msg']}") from None
    return cases


def _is_correct(case: Case, answer: Answer) -> bool:
    if not case.on_topic:
        return answer.outcome != "answer"
    return answer.outcome == "answer" and case.satisfied_by(to_plain(answer.reply))


def _leads_right(
    service: AnswerService, case: Case, lang: Lang, entries: Iterable[Entry | None]
) -> bool:
    """One of `entries`, shown on its own after a tap, satisfies the case."""
    return any(
        entry is not None and case.satisfied_by(to_plain(service.entries_reply(lang, [entry])))
        for entry in entries
    )


def _offered_right(service: AnswerService, case: Case, answer: Answer) -> bool:
    """The right answer is one tap away: one of the offered entries satisfies the case."""
    return _leads_right(service, case, answer.lang, (offer.entry for offer in answer.offers))


def _linked_right(service: AnswerService, case: Case, answer: Answer) -> bool:
    """An answer's own buttons lead to an entry that satisfies the case."""
    if answer.outcome != "answer":
        return False
    linked = (
        service.kb.entry(button.action.arg)
        for row in answer.reply.buttons
        for button in row
        if button.action.kind == ActionKind.ENTRY
    )
    return _leads_right(service, case, answer.lang, linked)


def evaluate(service: AnswerService, cases: Sequence[Case]) -> Report:
    """Ask every question once (language detected as in real use) and score the results."""
    correct = declined = one_tap = linked = language_correct = language_labelled = 0
    outcomes_off_topic: dict[str, int] = {}
    misses = []
    for case in cases:
        answer = service.ask(case.q)
        ok = _is_correct(case, answer)
        if case.on_topic:
            correct += ok
            one_tap += ok or _offered_right(service, case, answer)
            linked += not ok and _linked_right(service, case, answer)
        else:
            declined += ok
            outcomes_off_topic[answer.outcome] = outcomes_off_topic.get(answer.outcome, 0) + 1
        if case.lang is not None:
            language_labelled += 1
            language_correct += answer.lang == case.lang
        if not ok:
            misses.append(
                Miss(
                    q=case.q,
                    topic=case.topic,
                    outcome=answer.outcome,
                    matched=answer.match.entry.id if answer.match else None,
                    candidates=[f"{s.entry.id} {s.score:.1f}" for s in answer.alternatives],
                    answer=to_plain(answer.reply)[:300],
                )
            )
    on_topic = sum(case.on_topic for case in cases)
    return Report(
        questions=len(cases),
        on_topic=on_topic,
        off_topic=len(cases) - on_topic,
        correct=correct,
        declined=declined,
        one_tap=one_tap,
        linked=linked,
        outcomes_off_topic=outcomes_off_topic,
        language_correct=language_correct,
        language_labelled=language_labelled,
        misses=misses,
        sweep=sweep(service, cases),
    )


def sweep(
    service: AnswerService, cases: Sequence[Case], thresholds: Sequence[float] = SWEEP
) -> list[SweepRow]:
    """Accuracy, coverage and decline rate if the answer threshold were each of `thresholds`."""
    ranked = []
    for case in cases:
        _, query, ranking, guess = service.views(case.q)
        ranked.append((case, query, ranking, guess, query.lang or "de"))
    rows = []
    on_topic = sum(case.on_topic for case in cases) or 1
    off_topic = (len(cases) - sum(case.on_topic for case in cases)) or 1
    for threshold in thresholds:
        policy = replace(
            service.policy, answer=threshold, clarify=min(service.policy.clarify, threshold)
        )
        answered = right = declined = 0
        for case, query, ranking, guess, lang in ranked:
            outcome, shown = choose(ranking, query, guess, policy)
            if not case.on_topic:
                declined += outcome != "answer"
            elif outcome == "answer":
                answered += 1
                reply = service.entries_reply(lang, [s.entry for s in shown])
                right += case.satisfied_by(to_plain(reply))
        rows.append(
            SweepRow(threshold, right / on_topic, answered / on_topic, declined / off_topic)
        )
    return rows


def policy_summary(policy: Policy) -> str:
    return ", ".join(f"{key}={value:g}" for key, value in asdict(policy).items())
