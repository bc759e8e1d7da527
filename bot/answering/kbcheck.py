"""Knowledge base lint: indistinguishable phrasings, and runs of words copied from the article.

The article's six-word runs are kept as a fingerprint (`knowledge/article-fingerprint.txt`,
one hash per run) rather than as text: the check then runs on any clone, and the repository
does not carry a copy of the article. `python -m bot kb fingerprint ARTICLE` rebuilds it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import fuzz, process

from bot.answering.matcher import Matcher
from bot.domain import LANGS
from bot.knowledge import DEFAULT_DIR, KnowledgeBase
from bot.text import fold

NEAR_DUPLICATE = 90.0
RUN = 6  # words in a row that count as copied
FINGERPRINT = DEFAULT_DIR / "article-fingerprint.txt"
# The article file starts with our own description of it; its text follows the rule line.
_ARTICLE_START = "\n---\n"


@dataclass(frozen=True)
class NearDuplicate:
    score: float
    left_id: str
    left: str
    right_id: str
    right: str


@dataclass(frozen=True)
class ShownText:
    """One text the bot can show a user, and where it lives."""

    file: str
    where: str
    field: str
    text: str


@dataclass(frozen=True)
class CopiedRun:
    text: ShownText
    run: str


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


def shown_texts(kb: KnowledgeBase) -> Iterator[ShownText]:
    """Every text of the knowledge base that can reach a user (phrasings are input only)."""
    for entry in kb.entries:
        where = f"entry {entry.id!r}"
        for lang in LANGS:
            text = entry.text(lang)
            for name in ("title", "answer", "more", "tip"):
                value = getattr(text, name, None)
                if value:
                    yield ShownText("entries.toml", where, f"{lang}.{name}", value)
        for number, update in enumerate(entry.updates, start=1):
            for lang in LANGS:
                yield ShownText(
                    "entries.toml", where, f"updates[{number}].{lang}", update.text(lang)
                )
    for topic in kb.compare:
        for lang in LANGS:
            for name, value in topic.text(lang).model_dump().items():
                if isinstance(value, str) and value:
                    yield ShownText("compare.toml", f"topic {topic.id!r}", f"{lang}.{name}", value)
    for item in kb.checklist:
        for lang in LANGS:
            yield ShownText("checklist.toml", f"item {item.id!r}", f"{lang}.text", item.text(lang))
    for limit in kb.limits:
        for lang in LANGS:
            for name, value in limit.text(lang).model_dump().items():
                if value:
                    yield ShownText(
                        "limits.toml", f"limit {limit.platform!r}", f"{lang}.{name}", value
                    )
    for lang in LANGS:
        for key, value in (kb.ui.de if lang == "de" else kb.ui.en).items():
            yield ShownText("ui.toml", f"[{lang}]", key, value)


def _runs(text: str) -> Iterator[tuple[str, str]]:
    """Each run of RUN folded words in `text`, with its fingerprint hash."""
    words = fold(text).split()
    for start in range(len(words) - RUN + 1):
        run = " ".join(words[start : start + RUN])
        yield run, hashlib.blake2b(run.encode(), digest_size=8).hexdigest()


def article_fingerprint(article: str) -> list[str]:
    """The sorted hashes of the article's runs (its own text only, not our header)."""
    body = article.split(_ARTICLE_START, 1)[-1]
    return sorted({digest for _, digest in _runs(body)})


def load_fingerprint(path: Path = FINGERPRINT) -> frozenset[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def copied_runs(texts: Iterable[ShownText], fingerprint: frozenset[str]) -> list[CopiedRun]:
    """The first copied run of each text that shares RUN words in a row with the article."""
    found = []
    for shown in texts:
        for run, digest in _runs(shown.text):
            if digest in fingerprint:
                found.append(CopiedRun(shown, run))
                break
    return found
