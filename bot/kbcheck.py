"""Knowledge base lint: phrasings of different entries that the matcher cannot tell apart."""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.knowledge import LANGS, KnowledgeBase
from bot.matcher import Matcher

NEAR_DUPLICATE = 90.0


@dataclass(frozen=True)
class NearDuplicate:
    score: float
    left_id: str
    left: str
    right_id: str
    right: str


def near_duplicates(
    kb: KnowledgeBase, matcher: Matcher, cutoff: float = NEAR_DUPLICATE
) -> list[NearDuplicate]:
    """Pairs of phrasings from different entries whose matching terms are (nearly) the same."""
    found = []
    for lang in LANGS:
        owners: list[str] = []
        texts: list[str] = []
        keys: list[str] = []
        for entry in kb.entries:
            for phrasing in entry.text(lang).phrasings:
                owners.append(entry.id)
                texts.append(phrasing)
                keys.append(" ".join(sorted(set(matcher.analyzer.terms(phrasing, correct=False)))))
        for i, key in enumerate(keys):
            for _, score, j in process.extract(
                key, keys, scorer=fuzz.token_sort_ratio, score_cutoff=cutoff, limit=None
            ):
                if j > i and owners[i] != owners[j]:
                    found.append(NearDuplicate(score, owners[i], texts[i], owners[j], texts[j]))
    return sorted(found, key=lambda d: -d.score)
