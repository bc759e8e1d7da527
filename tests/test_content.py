"""Content rules over every text the bot can show: own words, honest dates and confidence."""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path

import pytest

from bot.__main__ import cmd_kb_check
from bot.answering.kbcheck import copied_runs, load_fingerprint, shown_texts
from bot.answering.service import AnswerService
from bot.coach import Coach
from bot.domain import LANGS
from bot.knowledge import DEFAULT_DIR, KnowledgeBase, load
from bot.render import to_plain

# Our copy of the updates file (shared/source/updates-since-2019.md): the only source of
# years an update may carry, besides the article's own 2019.
UPDATES_FILE = DEFAULT_DIR / "sources" / "updates-since-2019.md"
YEAR = re.compile(r"\b(?:19|20)\d\d\b")
# Words that hedge a statement; a claim rated below H must carry one ("say about").
HEDGES = {
    "de": ("etwa", "ungefähr", "rund", "laut", "unklar", "meist", "raten", "kann"),
    "en": ("about", "around", "roughly", "according", "unclear", "usually", "advise", "can"),
}
# Words that mark a claim as weaker than official: never under the H label's strong word.
WEAK_SOURCES = ("praktiker", "drittanbieter", "third-party", "practitioner", "unklar", "unclear")


def _update_lines(kb: KnowledgeBase, service: AnswerService) -> list[tuple[str, str, str]]:
    """(where, confidence, rendered line) for every update in both languages."""
    return [
        (f"{entry.id}#{number}.{lang}", update.confidence, kb.update_line(lang, update))
        for entry in kb.entries
        for number, update in enumerate(entry.updates, start=1)
        for lang in LANGS
    ]


def test_no_text_copies_six_words_from_the_article(kb: KnowledgeBase) -> None:
    found = copied_runs(shown_texts(kb), load_fingerprint())
    assert not found, [(c.text.where, c.text.field, c.run) for c in found]


def test_kb_check_fails_on_a_planted_run_and_names_it(tmp_path: Path) -> None:
    copy = tmp_path / "knowledge"
    shutil.copytree(DEFAULT_DIR, copy)
    entries = copy / "entries.toml"
    text = entries.read_text(encoding="utf-8")
    planted = "Bestätigt sich der Verdacht, wird das Profil gesperrt."
    # The planted sentence goes into the English answer of the first entry.
    start = text.index("[entry.en]")
    answer = text.index('answer = """', start) + len('answer = """')
    entries.write_text(text[:answer] + planted + " " + text[answer:], encoding="utf-8")
    kb = load(copy)
    out = io.StringIO()
    assert cmd_kb_check(kb, AnswerService(kb), out) == 1
    assert f"entries.toml: entry '{kb.entries[0].id}': en.answer" in out.getvalue()
    assert '"bestaetigt sich der verdacht wird das"' in out.getvalue()


def test_an_update_line_has_one_label_and_one_colon(
    kb: KnowledgeBase, service: AnswerService
) -> None:
    for where, _, line in _update_lines(kb, service):
        assert line.count(":") == 1, (where, line)
        assert not re.search(r"\d{4}\s*[–-]\s*\d{4}", line), (where, "no year ranges", line)


def test_update_years_come_from_the_updates_file(kb: KnowledgeBase) -> None:
    known = set(YEAR.findall(UPDATES_FILE.read_text(encoding="utf-8"))) | {"2019"}
    for entry in kb.entries:
        for update in entry.updates:
            year = update.since if update.since is not None else update.as_of
            assert str(year) in known, (entry.id, year)
    for shown in shown_texts(kb):
        for year in YEAR.findall(shown.text):
            assert year in known, (shown.where, shown.field, year)


def test_confidence_labels_match_their_text(kb: KnowledgeBase, service: AnswerService) -> None:
    labels = {lang: {c: kb.ui.get(lang, f"confidence_{c}") for c in "HML"} for lang in LANGS}
    for lang in LANGS:
        assert len(set(labels[lang].values())) == 3, "H, M and L read differently"
        for weaker in "ML":
            assert "offiziell" not in labels[lang][weaker].lower()
            assert "official" not in labels[lang][weaker].lower()
    for entry in kb.entries:
        for update in entry.updates:
            for lang in LANGS:
                text = update.text(lang).lower()
                if update.confidence == "H":
                    assert not any(w in text for w in WEAK_SOURCES), (entry.id, lang, text)
                else:
                    assert any(h in text for h in HEDGES[lang]), (entry.id, lang, text)


def test_labels_live_only_in_the_update_lines(kb: KnowledgeBase) -> None:
    """Free texts never spell an update label of their own ("Update 2023 (etwa ...)")."""
    label = re.compile(r"\b(?:Update|Stand|as of)\s+\(?(?:19|20)\d\d", re.IGNORECASE)
    for shown in shown_texts(kb):
        assert not label.search(shown.text), (shown.file, shown.where, shown.field)


def test_no_line_stacks_two_labels(kb: KnowledgeBase, coach: Coach) -> None:
    """ "Fazit: Gleichwertig: ..." reads as a form, not a sentence."""
    for topic in kb.compare:
        for lang in LANGS:
            for line in to_plain(coach.compare_topic(lang, topic.id)).splitlines():
                assert line.count(": ") <= 1, (topic.id, lang, line)


@pytest.mark.parametrize("lang", LANGS)
def test_answers_fit_a_phone(kb: KnowledgeBase, service: AnswerService, lang: str) -> None:
    for entry in kb.entries:
        assert len(entry.text(lang).answer) <= 330, entry.id
    for entry in kb.entries:
        if entry.twin and entry.platforms == ["xing"]:
            twin = kb.entry(entry.twin)
            assert twin is not None
            both = to_plain(service.entries_reply(lang, [entry, twin]))
            assert len(both) <= 750, (entry.id, len(both))


def test_no_phrasing_is_a_copy_of_a_test_question(kb: KnowledgeBase) -> None:
    """Tuning questions measure the bot; copied into the knowledge they would only flatter it."""
    from rapidfuzz import fuzz, process

    from bot.text import fold

    sets = [*(Path(__file__).parent / "data").glob("*.jsonl")]
    shared = DEFAULT_DIR.parent.parent / "shared" / "eval"
    sets += sorted(shared.glob("*.jsonl")) if shared.is_dir() else []
    questions = [
        fold(json.loads(line)["q"])
        for path in sets
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    phrasings = [
        (entry.id, p) for entry in kb.entries for lang in LANGS for p in entry.text(lang).phrasings
    ]
    phrasings += [(t.id, p) for t in kb.out_of_scope for lang in LANGS for p in t.phrasings(lang)]
    copies = []
    for owner, phrasing in phrasings:
        found = process.extractOne(
            fold(phrasing), questions, scorer=fuzz.token_sort_ratio, score_cutoff=90
        )
        if found is not None:
            copies.append((owner, phrasing, found[0]))
    assert not copies, copies
