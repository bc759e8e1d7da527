"""The answer engine: a question in, one of four outcomes with a ready reply out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from bot.knowledge import Entry, KnowledgeBase, Lang
from bot.matcher import PLATFORMS, Matcher, Query, Scored, SmalltalkDetector, Weights
from bot.reply import Action, ActionKind, Block, Button, Reply

Outcome = Literal["answer", "clarify", "decline", "smalltalk"]
# Questions are matched on their beginning only; nobody asks a question in 4000 characters.
MAX_QUESTION_CHARS = 500


@dataclass(frozen=True)
class Policy:
    """Score thresholds (0..100) that turn a ranking into an outcome; see `bot eval`."""

    answer: float = 42.0  # the best entry is answered at or above this score
    # Below `clarify` a question is declined; between the two, candidates are offered. The
    # sweep showed that a band below `answer` mostly catches off-topic questions, so by
    # default clarify is only used when two entries at the top are close (see `margin`).
    clarify: float = 42.0
    margin: float = 4.0  # a runner-up closer than this makes the answer ambiguous
    twin_margin: float = 12.0  # twins this close are answered together if no platform is named


@dataclass(frozen=True)
class Answer:
    question: str
    lang: Lang
    outcome: Outcome
    reply: Reply
    match: Scored | None
    alternatives: tuple[Scored, ...]


def decide(ranked: Sequence[Scored], query: Query, policy: Policy) -> tuple[Outcome, list[Scored]]:
    """The outcome for a ranking, and the entries it shows (one or two answered, or offers)."""
    if not ranked or ranked[0].score < policy.clarify:
        return "decline", []
    if set(query.terms) <= set(PLATFORMS):
        # Just "XING?": no topic to answer, so offer the strongest ones for that platform.
        return "clarify", list(ranked[:3])
    top = ranked[0]
    runner_up = ranked[1] if len(ranked) > 1 else None
    if top.score >= policy.answer:
        twin = _twin_of(top, ranked, query, policy)
        if twin is not None:
            return "answer", [top, twin]
        if (
            runner_up is None
            or top.score - runner_up.score >= policy.margin
            # Close but related entries are one topic seen from two sides: answer the top
            # one, its reply links to the other.
            or runner_up.entry.id in top.entry.related
            or top.entry.id in runner_up.entry.related
        ):
            return "answer", [top]
    offers = [s for s in ranked[:3] if s.score >= policy.clarify]
    if len(offers) == 1 and top.score >= policy.answer:
        return "answer", offers
    return "clarify", offers


def _twin_of(top: Scored, ranked: Sequence[Scored], query: Query, policy: Policy) -> Scored | None:
    if query.platforms or top.entry.twin is None:
        return None
    for other in ranked[1:]:
        if other.entry.id == top.entry.twin and (
            other.score >= policy.answer or top.score - other.score <= policy.twin_margin
        ):
            return other
    return None


class AnswerService:
    """Answers questions from the knowledge base; built once, shared by every front door."""

    def __init__(
        self,
        kb: KnowledgeBase,
        policy: Policy | None = None,
        weights: Weights | None = None,
    ) -> None:
        self.kb = kb
        self.policy = policy or Policy()
        self.matcher = Matcher(kb.entries, kb.lexicon, weights)
        self.smalltalk = SmalltalkDetector(kb.ui.smalltalk)
        # Replies are immutable and depend only on language and entries: build each once.
        self._entry_replies: dict[tuple[Lang, tuple[str, ...]], Reply] = {}

    def ask(self, question: str, lang: Lang | None = None, fallback: Lang = "de") -> Answer:
        """Answer `question` in `lang`, or in its detected language, or in `fallback`."""
        text = question[:MAX_QUESTION_CHARS]
        query = self.matcher.query(text)
        lang = lang or query.lang or fallback
        ranked = self.matcher.rank(query)
        outcome, shown = decide(ranked, query, self.policy)
        # "Wer bist du?" as a whole is small talk even if its words happen to match an entry;
        # "Hallo, wie lang darf die Notiz sein?" is a question with a greeting in front.
        whole = self.smalltalk.detect_whole(text)
        if whole is not None or outcome != "answer":
            intent = whole or self.smalltalk.detect_words(text)
            if intent is not None:
                reply = Reply((Block(self.kb.ui.get(lang, intent.reply)),))
                return Answer(question, lang, "smalltalk", reply, None, tuple(ranked[:3]))
        if outcome == "answer":
            reply = self.entries_reply(lang, [s.entry for s in shown])
        elif outcome == "clarify":
            reply = self._clarify_reply(lang, shown)
        else:
            reply = self.decline_reply(lang, empty=not query.terms)
        if len(question) > MAX_QUESTION_CHARS:
            note = Block(self.kb.ui.get(lang, "too_long", limit=MAX_QUESTION_CHARS), "note")
            reply = Reply((note, *reply.blocks), reply.buttons)
        match = shown[0] if outcome == "answer" else None
        alternatives = tuple(s for s in ranked[:3] if match is None or s is not match)
        return Answer(question, lang, outcome, reply, match, alternatives)

    def entries_reply(self, lang: Lang, entries: Sequence[Entry]) -> Reply:
        """One entry, or twins side by side (XING first), with updates, source and follow-ups."""
        key = (lang, tuple(entry.id for entry in entries))
        reply = self._entry_replies.get(key)
        if reply is None:
            reply = self._entry_replies[key] = self._build_entries_reply(lang, entries)
        return reply

    def _build_entries_reply(self, lang: Lang, entries: Sequence[Entry]) -> Reply:
        ui = self.kb.ui
        blocks: list[Block] = []
        if len(entries) > 1:
            entries = sorted(entries, key=lambda e: e.platforms != ["xing"])
            blocks.append(Block(ui.get(lang, "both_platforms")))
        for entry in entries:
            text = entry.text(lang)
            blocks.append(Block(text.title, "title"))
            blocks.append(Block(text.answer))
            for update in entry.updates:
                label = ui.get(lang, "update_label", year=update.year)
                confidence = ui.get(lang, f"confidence_{update.confidence}")
                blocks.append(Block(f"{label} ({confidence}): {update.text(lang)}", "note"))
        sources = {entry.source for entry in entries}
        for source in sorted(sources):
            blocks.append(Block(ui.get(lang, f"source_{source}"), "note"))
        return Reply(tuple(blocks), self._follow_ups(lang, entries))

    def _follow_ups(self, lang: Lang, entries: Sequence[Entry]) -> tuple[tuple[Button, ...], ...]:
        shown = {entry.id for entry in entries}
        rows: list[tuple[Button, ...]] = []
        for entry in entries:
            for ref in entry.related:
                related = self.kb.entry(ref)
                if related is not None and related.id not in shown and len(rows) < 3:
                    shown.add(related.id)
                    rows.append((self.entry_button(lang, related),))
        topics = {entry.compare for entry in entries if entry.compare}
        for topic_id in sorted(topics):
            topic = self.kb.compare_topic(topic_id)
            if topic is not None:
                label = self.kb.ui.get(lang, "compare_button", title=topic.text(lang).title)
                rows.append((Button(label, Action(ActionKind.COMPARE, topic.id)),))
        return tuple(rows)

    @staticmethod
    def entry_button(lang: Lang, entry: Entry) -> Button:
        return Button(entry.text(lang).title, Action(ActionKind.ENTRY, entry.id))

    def _clarify_reply(self, lang: Lang, offers: Sequence[Scored]) -> Reply:
        blocks = [Block(self.kb.ui.get(lang, "clarify"))]
        blocks += [Block(s.entry.text(lang).title, "item") for s in offers]
        buttons = tuple((self.entry_button(lang, s.entry),) for s in offers)
        return Reply(tuple(blocks), buttons)

    def decline_reply(self, lang: Lang, empty: bool = False) -> Reply:
        """Say kindly that this is not covered, and offer the ways in."""
        ui = self.kb.ui
        blocks = [Block(ui.get(lang, "empty" if empty else "decline"))]
        if not empty:
            blocks += [Block(title, "item") for title in self.topic_titles(lang)]
        return Reply(tuple(blocks), self.main_buttons(lang))

    def topic_titles(self, lang: Lang) -> list[str]:
        """The broad topics, one line each (the compare topics span the whole article)."""
        return [topic.text(lang).title for topic in self.kb.compare]

    def main_buttons(self, lang: Lang) -> tuple[tuple[Button, ...], ...]:
        ui = self.kb.ui
        return (
            (
                Button(ui.get(lang, "button_topics"), Action(ActionKind.TOPICS)),
                Button(ui.get(lang, "button_compare"), Action(ActionKind.COMPARE_MENU)),
            ),
            (
                Button(ui.get(lang, "button_checklist"), Action(ActionKind.CHECKLIST)),
                Button(ui.get(lang, "button_help"), Action(ActionKind.HELP)),
            ),
        )
