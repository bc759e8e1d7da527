"""The knowledge files: complete, consistent, and loud about mistakes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.knowledge import DEFAULT_DIR, MIN_PHRASINGS, KnowledgeBase, KnowledgeError, load

# Topics the article covers; each must have an entry (see issue "Knowledge base").
ARTICLE_TOPICS = {
    "value", "second-degree", "li-search", "whom", "whom-first", "private", "find",
    "find-common", "send", "xing-note", "li-note", "send-from-profile", "li-email",
    "xing-react", "xing-decline-text", "xing-decline-hidden", "xing-decide", "xing-spam",
    "li-react", "li-ignore", "li-restrict", "fake-spam", "verdict", "about",
}  # fmt: skip


def test_every_article_topic_has_an_entry(kb: KnowledgeBase) -> None:
    assert {entry.id for entry in kb.entries} >= ARTICLE_TOPICS


def test_entries_have_enough_phrasings_in_both_languages(kb: KnowledgeBase) -> None:
    for entry in kb.entries:
        assert len(entry.de.phrasings) >= MIN_PHRASINGS, entry.id
        assert len(entry.en.phrasings) >= MIN_PHRASINGS, entry.id


def test_compare_topics_required_by_the_product_exist(kb: KnowledgeBase) -> None:
    titles = {topic.id for topic in kb.compare}
    assert {
        "send-request", "request-note", "one-click-email", "answer-request",
        "spam-fake", "search-visibility", "verdict",
    } <= titles  # fmt: skip


def test_updates_are_dated_and_rated(kb: KnowledgeBase) -> None:
    li_note = kb.entry("li-note")
    assert li_note is not None
    assert any("200" in update.de and update.confidence == "M" for update in li_note.updates)


@pytest.fixture
def kb_copy(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(DEFAULT_DIR, target)
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture text not found: {old!r}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_copy_of_the_knowledge_base_loads(kb_copy: Path) -> None:
    assert len(load(kb_copy).entries) >= len(ARTICLE_TOPICS)


def test_too_few_phrasings_names_file_entry_and_field(kb_copy: Path) -> None:
    path = kb_copy / "entries.toml"
    text = path.read_text(encoding="utf-8")
    start = text.index("[entry.de]", text.index('id = "xing-decline-hidden"'))
    phrasings = text.index("phrasings = [", start)
    end = text.index("\n]", phrasings)
    path.write_text(text[:phrasings] + 'phrasings = ["nur eine"' + text[end:], encoding="utf-8")
    with pytest.raises(
        KnowledgeError,
        match=r"entries\.toml: entry 'xing-decline-hidden': de\.phrasings: .*at least 6",
    ):
        load(kb_copy)


def test_unknown_field_is_reported(kb_copy: Path) -> None:
    _edit(kb_copy / "entries.toml", 'source = "article"', 'source = "article"\nsorce = "x"')
    with pytest.raises(KnowledgeError, match=r"entry 'value': sorce: Extra inputs"):
        load(kb_copy)


def test_wrong_platform_name_is_reported(kb_copy: Path) -> None:
    _edit(kb_copy / "entries.toml", 'platforms = ["linkedin"]', 'platforms = ["facebook"]')
    with pytest.raises(KnowledgeError, match=r"entries\.toml: entry 'li-search': platforms\.0"):
        load(kb_copy)


def test_out_of_scope_topics_are_about_both_platforms_unless_they_name_one(
    kb: KnowledgeBase, kb_copy: Path
) -> None:
    platforms = {topic.id: topic.platforms for topic in kb.out_of_scope}
    assert platforms["premium-plans"] == ["xing", "linkedin"]
    assert platforms["linkedin-sender-notice"] == ["linkedin"]
    _edit(
        kb_copy / "out_of_scope.toml",
        'id = "linkedin-sender-notice"\nplatforms = ["linkedin"]',
        'id = "linkedin-sender-notice"\nplatforms = ["myspace"]',
    )
    with pytest.raises(KnowledgeError, match=r"topic 'linkedin-sender-notice': platforms\.0"):
        load(kb_copy)


def test_unknown_related_entry_is_reported(kb_copy: Path) -> None:
    _edit(
        kb_copy / "entries.toml", 'related = ["value", "li-search", "whom"]', 'related = ["nope"]'
    )
    with pytest.raises(KnowledgeError, match=r"entry 'second-degree': related: 'nope'"):
        load(kb_copy)


def test_one_sided_twin_is_reported(kb_copy: Path) -> None:
    _edit(kb_copy / "entries.toml", 'twin = "li-note"', 'twin = "li-react"')
    with pytest.raises(KnowledgeError, match=r"entry 'xing-note': twin"):
        load(kb_copy)


def test_broken_toml_names_the_file(kb_copy: Path) -> None:
    _edit(kb_copy / "compare.toml", "[[topic]]", "[[topic")
    with pytest.raises(KnowledgeError, match=r"compare\.toml: not valid TOML"):
        load(kb_copy)


def test_missing_ui_text_in_one_language_is_reported(kb_copy: Path) -> None:
    _edit(kb_copy / "ui.toml", 'stats_none = "(none)"', "")
    with pytest.raises(KnowledgeError, match=r"ui\.toml: \[en\]: key 'stats_none' is missing"):
        load(kb_copy)


def test_checklist_item_pointing_nowhere_is_reported(kb_copy: Path) -> None:
    _edit(kb_copy / "checklist.toml", 'entry = "whom-first"', 'entry = "gone"')
    with pytest.raises(KnowledgeError, match=r"item 'close-circle': entry: 'gone'"):
        load(kb_copy)


def test_missing_file_is_reported(kb_copy: Path) -> None:
    (kb_copy / "lexicon.toml").unlink()
    with pytest.raises(KnowledgeError, match=r"lexicon\.toml: file is missing"):
        load(kb_copy)
