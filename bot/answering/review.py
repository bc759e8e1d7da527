"""`python -m bot review`: what the bot could not answer, grouped, for growing the phrasings.

Declined and clarified questions, every "Nichts davon" and every answer marked "Passt
nicht?" come from the question log (kept for the retention period only). Questions whose
matching terms look alike form one group, so a maintainer sees the ten ways people asked
one thing and the entries the bot thought of, and adds a phrasing, a synonym or an
out-of-scope topic in minutes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from bot.answering.service import AnswerService
from bot.storage import LoggedQuestion
from bot.storage.questions import WRONG

SIMILAR = 75.0  # token_set_ratio of the sorted terms at which two questions are one group


@dataclass
class Group:
    """Questions that ask alike, with what happened to them and the best candidates."""

    questions: list[LoggedQuestion] = field(default_factory=list)
    candidates: list[tuple[str, float]] = field(default_factory=list)

    @property
    def outcomes(self) -> Counter[str]:
        counts: Counter[str] = Counter(
            f"answered {q.entry_id}, did not fit" if q.outcome == "answer" else q.outcome
            for q in self.questions
        )
        counts.update(
            "tapped " + q.feedback
            for q in self.questions
            if q.feedback not in (None, "none", WRONG)
        )
        counts.update("nothing fitted" for q in self.questions if q.feedback == "none")
        return counts


def group_questions(service: AnswerService, questions: Sequence[LoggedQuestion]) -> list[Group]:
    """Groups of alike questions, largest first; candidates from the current knowledge."""
    keys: list[str] = []
    groups: list[Group] = []
    for question in questions:
        query, _ = service.rank(question.text)
        key = " ".join(sorted(query.terms))
        found = process.extractOne(key, keys, scorer=fuzz.token_set_ratio, score_cutoff=SIMILAR)
        if found is None:
            keys.append(key)
            groups.append(Group())
            index = len(groups) - 1
        else:
            index = found[2]
        groups[index].questions.append(question)
    for group in groups:
        _, ranking = service.rank(group.questions[0].text)
        group.candidates = [(s.entry.id, s.score) for s in ranking.entries[:3]]
    return sorted(groups, key=lambda g: -len(g.questions))


def format_groups(groups: Sequence[Group], limit: int = 8) -> str:
    """Plain text for the terminal: each group's size, outcomes, candidates and wordings."""
    if not groups:
        return "Nothing unanswered in this period."
    lines = []
    for group in groups:
        outcomes = ", ".join(f"{name} {n}" for name, n in sorted(group.outcomes.items()))
        lines.append(f"{len(group.questions)}× ({outcomes})")
        candidates = ", ".join(f"{entry} {score:.0f}" for entry, score in group.candidates)
        lines.append(f"   candidates: {candidates or '-'}")
        for question in group.questions[:limit]:
            lines.append(f"   [{question.lang}] {question.text[:200]}")
        if len(group.questions) > limit:
            lines.append(f"   … and {len(group.questions) - limit} more")
    return "\n".join(lines)
