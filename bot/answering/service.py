"""The answer engine: a question in, one of four outcomes with a ready reply out."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from bot.answering.classifier import OUT_OF_SCOPE, Guess, IntentModel
from bot.answering.matcher import (
    Matcher,
    Query,
    Ranking,
    Scored,
    SmalltalkDetector,
    Weights,
)
from bot.domain import Lang
from bot.knowledge import Entry, KnowledgeBase
from bot.reply import Action, ActionKind, Block, Button, Reply

Outcome = Literal["answer", "clarify", "decline", "smalltalk"]
# Of a longer message only this much is matched: its beginning (who asks, about what) and
# its end, where a story usually puts the question. Nobody asks in 4000 characters.
MAX_QUESTION_CHARS = 500
_HEAD_CHARS = 150
RANKED = 5  # entries kept per ranking: enough for an answer, its twin and three offers
# Sentence ends, line breaks, dashes, colons and parentheses between a message's parts; one
# group, so that splitting keeps the separators (a colon after a part makes it a heading).
_PARTS = re.compile(r"((?<=[.!?;])\s+|\n+|\s[–-]\s|:\s|\(|\)|\[\.\.\.\])")


@dataclass(frozen=True)
class Policy:
    """Score thresholds (0..100) that turn a ranking into an outcome; see `bot eval`.

    The ladder: at or above `answer` the best entry is answered; from `clarify` up, the
    bot asks "Meinten Sie ...?" with the best candidates; below, it declines and still
    offers the candidates that reach `offer`, so a near miss is one tap away. The sweeps
    found that a band between the two mostly catches off-topic questions, so by default
    there is none: clarify comes from two close, unrelated candidates at the top.
    """

    answer: float = 40.0
    clarify: float = 40.0
    # A message of `long_terms` terms or more (a story with the question in it) is answered
    # from `long_answer` up: its words dilute the share any one entry can explain, so the
    # same score says more than on a short question. Chosen on all sets: 10-11 terms and
    # 20-26 points are one plateau (+7 to +8 right answers, one or two off-topic more).
    long_terms: int = 11
    long_answer: float = 25.0
    offer: float = 15.0
    margin: float = 2.0  # a runner-up closer than this makes the answer ambiguous
    twin_margin: float = 12.0  # twins this close are answered together if no platform is named
    part_factor: float = 0.9  # a sentence of a longer message scores this share of its own
    # ... and a part before a colon or in parentheses this share: a heading, a frame or an
    # aside ("LinkedIn Invitations: Personalizing is optional?", "Kollegin fragt: ...",
    # "A client of mine (IT consultant, ...) asked") names the subject or who asks, not the
    # question, and its two or three words fit many entries and topics fully. Below 0.4,
    # such a part alone never reaches the answer threshold. Chosen on all sets: 0.35 to 0.45
    # is one plateau for headings (+2 to +3 right answers, +2 off-topic declined, nothing
    # lost; asides +1 more); at 0.3 and below, headings that carry the question ("XING oder
    # LinkedIn: ...") are lost.
    heading_factor: float = 0.35
    # An out-of-scope topic scoring more than this above the best entry means "not covered".
    scope_margin: float = 0.0
    # ... and then an entry is offered only if it scores this share of that topic's score:
    # "Sales Navigator?" fits billing (85) and gets no button for second-degree contacts (16).
    # Every share from 0 to 0.35 keeps each right offer on all sets; 0.3 takes a sixth of
    # the buttons off declined off-topic questions (0.4 loses a right one).
    scope_offer_share: float = 0.3
    max_offers: int = 3
    # The second opinion (bot/answering/classifier.py): an unsure top entry at or above `agreed` is
    # answered when the classifier names it with at least `agreed_probability`; an answer is
    # withdrawn when the classifier puts "out of scope" at `out_of_scope_probability` or more,
    # unless the entry outscores every out-of-scope topic by `veto_gap` or more: then the
    # words fit the entry far better than anything the bot does not cover, and the
    # classifier's lean comes from letter groups ("Muss man sich wirklich vernetzen?").
    # Below `veto_alone` the veto also needs both opinions to name the same out-of-scope
    # topic: a classifier torn between "out of scope" and the entry that names another
    # topic than the matcher has only its letter groups to go on ("Should You Send a Note
    # When Connecting?": the matcher finds messaging, the classifier following).
    agreed: float = 25.0
    agreed_probability: float = 0.9
    out_of_scope_probability: float = 0.3
    veto_gap: float = 35.0
    veto_alone: float = 0.65
    # ... and a runner-up within `switch_margin` of the top is answered instead when the
    # classifier names it with at least `switch_probability`.
    switch_probability: float = 0.85
    switch_margin: float = 10.0
    # An unsure top entry is also answered when the classifier names it with at least
    # `likely_probability`, holds "out of scope" at `likely_out_of_scope` at most, and no
    # out-of-scope topic fits the question better than that entry.
    likely_probability: float = 0.5
    likely_out_of_scope: float = 0.15
    # A top entry at or above `agreed` that loses to a closer out-of-scope topic is
    # answered anyway when the classifier names it with `certain_probability` and holds
    # "out of scope" at `certain_out_of_scope` at most.
    certain_probability: float = 0.95
    certain_out_of_scope: float = 0.02
    # Candidates within `rerank_band` of the best are put in the order of their score plus
    # `rerank_weight` times the classifier's probability (see `rerank`). Chosen on the
    # real-style sets: a weight of 60 to 100 within 30 to 60 points is one plateau
    # (on-topic 84.1 -> 85.1-85.6 %); 20 within 20 left a third of the gain.
    rerank_band: float = 40.0
    rerank_weight: float = 60.0


@dataclass(frozen=True)
class Answer:
    question: str
    lang: Lang
    outcome: Outcome
    reply: Reply
    match: Scored | None
    alternatives: tuple[Scored, ...]
    offers: tuple[Scored, ...] = ()  # entries shown as buttons for clarify and decline


def matched_text(message: str) -> str:
    """What of a message is matched: all of it, or its beginning and its end if it is long."""
    if len(message) <= MAX_QUESTION_CHARS:
        return message
    tail = MAX_QUESTION_CHARS - _HEAD_CHARS
    # A line break between the two keeps them apart as parts of the message (see `rank`).
    return message[:_HEAD_CHARS] + "\n" + message[-tail:]


def message_parts(text: str) -> list[tuple[str, bool]]:
    """A message's parts, each with whether it frames the question rather than asks it: a
    heading before a colon, or an aside in parentheses."""
    pieces = _PARTS.split(text)  # parts and, between them, the separators (one group)
    found: list[tuple[str, bool]] = []
    for index in range(0, len(pieces), 2):
        if pieces[index].strip():
            before = pieces[index - 1] if index > 0 else ""
            after = pieces[index + 1] if index + 1 < len(pieces) else ""
            aside = before == "(" and after == ")"
            found.append((pieces[index], after.startswith(":") or aside))
    return found


def decide(
    ranked: Sequence[Scored], query: Query, policy: Policy, outside: float = 0.0
) -> tuple[Outcome, list[Scored]]:
    """The outcome for a ranking, and the entries it shows (answered, or offered).

    `outside` is the score of the best out-of-scope topic: a question that fits a topic the
    article does not cover better than any entry is declined, with the entries offered that
    come anywhere near it.
    """
    if (
        not ranked
        or ranked[0].score < policy.clarify
        or outside > ranked[0].score + policy.scope_margin
    ):
        return "decline", _decline_offers(ranked, outside, policy)
    if query.platform_only:
        # Just "XING?": no topic to answer, so offer the strongest ones for that platform.
        return "clarify", list(ranked[: policy.max_offers])
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
    offers = _offers(ranked, policy)
    if len(offers) == 1 and top.score >= policy.answer:
        return "answer", offers
    return "clarify", offers


def second_opinion(
    outcome: Outcome,
    shown: list[Scored],
    ranked: Sequence[Scored],
    query: Query,
    outside: float,
    guess: Guess | None,
    policy: Policy,
    outside_topic: str | None = None,
) -> tuple[Outcome, list[Scored]]:
    """The outcome after the classifier's view: confirm an unsure match, prefer the close
    runner-up it is sure of, overrule an out-of-scope topic when it is certain of the top
    entry, or veto an answer it holds out of scope.

    `outside_topic` is the id of the out-of-scope topic scoring `outside`."""
    if guess is None or not ranked or query.platform_only:
        return outcome, shown
    top = ranked[0]
    pick = next((s for s in ranked[:3] if s.entry.id == guess.label), None)
    sure_of_close_one = (
        pick is not None
        and guess.probability >= policy.switch_probability
        and pick.score >= top.score - policy.switch_margin
    )
    if outcome == "answer":
        if (
            guess.out_of_scope >= policy.out_of_scope_probability
            and top.score - outside < policy.veto_gap
            and (
                guess.out_of_scope >= policy.veto_alone
                or (outside_topic is not None and guess.likeliest_scope() == outside_topic)
            )
        ):
            return "decline", _decline_offers(ranked, outside, policy)
        # A near tie the matcher cannot break goes to the classifier's pick.
        near_tie = pick is not None and pick.score >= top.score - policy.margin
        if pick is not None and (sure_of_close_one or near_tie) and pick not in shown:
            return "answer", [pick]
        return outcome, shown
    if pick is None or pick.score < policy.agreed:
        return outcome, shown
    if outside > top.score:
        # An out-of-scope topic that fits better loses to a classifier all but certain of
        # the top entry ("50 Anfragen verschickt, jetzt will LinkedIn ne Mail-Adresse" shares
        # "Mail-Adresse" with changing one's login address).
        certain = (
            pick is top
            and guess.probability >= policy.certain_probability
            and guess.out_of_scope <= policy.certain_out_of_scope
        )
        return ("answer", [top]) if certain else (outcome, shown)
    likely = (
        guess.probability >= policy.likely_probability
        and guess.out_of_scope <= policy.likely_out_of_scope
    )
    confirmed = pick is top and (guess.probability >= policy.agreed_probability or likely)
    if confirmed or sure_of_close_one:
        return "answer", [pick]
    return outcome, shown


def _offers(ranked: Sequence[Scored], policy: Policy) -> list[Scored]:
    """The candidates worth a button: the best few that reach the offer threshold."""
    return [s for s in ranked[: policy.max_offers] if s.score >= policy.offer]


def _decline_offers(ranked: Sequence[Scored], outside: float, policy: Policy) -> list[Scored]:
    """The offers of a decline: none that an out-of-scope topic outscores by far."""
    floor = policy.scope_offer_share * outside
    return [s for s in _offers(ranked, policy) if s.score >= floor]


def rerank(
    ranked: Sequence[Scored], guess: Guess | None, policy: Policy, query: Query
) -> list[Scored]:
    """The near-top candidates in the order both opinions give them; the scores stay put.

    Near the top the matcher's scores differ by a word or two, which a real message's
    wording decides by chance; the classifier, judging the whole message, breaks such ties.
    Each rank keeps its score, so reordering never makes the engine surer that one of the
    candidates is right: only which one it names first changes. An entry about another
    platform than the one named is never moved up: it could not be answered ("pending
    requests auf li liegen lassen" is not XING's "leave the request unanswered").
    """
    if guess is None or not ranked:
        return list(ranked)
    floor = ranked[0].score - policy.rerank_band

    def both(scored: Scored) -> float:
        if scored.score < floor or not query.fits(scored.entry.platforms):
            return scored.score
        return scored.score + policy.rerank_weight * guess.of(scored.entry.id)

    order = sorted(ranked, key=lambda s: (-both(s), s.entry.id))
    return [Scored(s.entry, rank.score) for s, rank in zip(order, ranked, strict=True)]


def choose(
    ranking: Ranking, query: Query, guess: Guess | None, policy: Policy
) -> tuple[Outcome, list[Scored]]:
    """The outcome of a ranking: reordered, decided by the matcher, then the classifier's view."""
    if len(query.terms) >= policy.long_terms:
        policy = replace(
            policy,
            answer=min(policy.answer, policy.long_answer),
            clarify=min(policy.clarify, policy.long_answer),
        )
    ranking = replace(ranking, entries=rerank(ranking.entries, guess, policy, query))
    outcome, shown = decide(ranking.entries, query, policy, ranking.out_of_scope)
    outcome, shown = second_opinion(
        outcome,
        shown,
        ranking.entries,
        query,
        ranking.out_of_scope,
        guess,
        policy,
        ranking.out_of_scope_id,
    )
    if outcome == "answer" and not any(query.fits(s.entry.platforms) for s in shown):
        # "LinkedIn tot?" is not answered with XING's news: the entry is offered instead.
        return "decline", _decline_offers(ranking.entries, ranking.out_of_scope, policy)
    return outcome, shown


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
        self.matcher = Matcher(kb.entries, kb.lexicon, weights, kb.out_of_scope)
        self.intents = IntentModel.from_knowledge(kb, self.matcher.analyzer)
        # Out-of-scope topics about one platform only, by classifier label.
        self._scoped = {
            OUT_OF_SCOPE + topic.id: frozenset(topic.platforms)
            for topic in kb.out_of_scope
            if len(topic.platforms) < 2
        }
        self.smalltalk = SmalltalkDetector(kb.ui.smalltalk)
        # Replies are immutable and depend only on language and entries: build each once.
        self._entry_replies: dict[tuple[Lang, tuple[str, ...], bool], Reply] = {}

    def views(self, question: str) -> tuple[str, Query, Ranking, Guess | None]:
        """Both opinions of a message: the text matched of it, its query and ranking, and
        the classifier's guess among the ranked entries."""
        text = matched_text(question)
        query, ranking = self.rank(text)
        return text, query, ranking, self.guess(text, ranking.entries, query.platforms)

    def ask(self, question: str, lang: Lang | None = None, fallback: Lang = "de") -> Answer:
        """Answer `question` in `lang`, or in its detected language, or in `fallback`."""
        text, query, ranking, guess = self.views(question)
        lang = lang or query.lang or fallback
        ranked = ranking.entries
        outcome, shown = choose(ranking, query, guess, self.policy)
        # "Wer bist du?" as a whole is small talk even if its words happen to match an entry;
        # "Hallo, wie lang darf die Notiz sein?" is a question with a greeting in front.
        whole = self.smalltalk.detect_whole(text)
        if whole is not None or outcome != "answer":
            intent = whole or self.smalltalk.detect_words(text)
            if intent is not None:
                reply = Reply((Block(self.kb.ui.get(lang, intent.reply)),), self.main_buttons(lang))
                return Answer(question, lang, "smalltalk", reply, None, tuple(ranked[:3]))
        offers: tuple[Scored, ...] = ()
        if outcome == "answer":
            entries = [s.entry for s in shown]
            reply = self.with_wrong_button(lang, self.entries_reply(lang, entries), entries)
        elif outcome == "clarify":
            offers = tuple(shown)
            reply = self._clarify_reply(lang, offers)
        else:
            offers = tuple(shown) if query.terms else ()
            reply = self.decline_reply(lang, offers, empty=not query.terms)
        if len(question) > MAX_QUESTION_CHARS:
            note = Block(self.kb.ui.get(lang, "too_long", limit=MAX_QUESTION_CHARS), "note")
            reply = Reply((note, *reply.blocks), reply.buttons)
        match = shown[0] if outcome == "answer" else None
        alternatives = tuple(s for s in ranked[:3] if match is None or s is not match)
        return Answer(question, lang, outcome, reply, match, alternatives, offers)

    def others(self, question: str, answered: Sequence[str]) -> list[Scored]:
        """The candidates for `question` beside the entries `answered`, as offers for a
        user who found the answer did not fit ("Passt nicht?"): the best few that reach
        the offer threshold and are about a platform the question names, if it names one."""
        _, query, ranking, guess = self.views(question)
        ranked = rerank(ranking.entries, guess, self.policy, query)
        rest = [s for s in ranked if s.entry.id not in answered and query.fits(s.entry.platforms)]
        return _offers(rest, self.policy)

    def neighbours(self, answered: Sequence[str]) -> list[Scored]:
        """Offers for "Passt nicht?" when the question itself is gone (not logged, or over
        an hour old): the entries the answered ones link to, in their order."""
        seen = set(answered)
        found: list[Scored] = []
        for ref in answered:
            entry = self.kb.entry(ref)
            for other in entry.related if entry is not None else ():
                related = self.kb.entry(other)
                if related is not None and other not in seen:
                    seen.add(other)
                    found.append(Scored(related, 0.0))
        return found[: self.policy.max_offers]

    def wrong_reply(self, lang: Lang, offers: Sequence[Scored]) -> Reply:
        """After "Passt nicht?": noted, and the other candidates, or the topics."""
        ui = self.kb.ui
        if offers:
            return Reply((Block(ui.get(lang, "wrong_offers")),), self._offer_buttons(lang, offers))
        return Reply((Block(ui.get(lang, "wrong_noted")),), self.main_buttons(lang))

    def with_wrong_button(self, lang: Lang, reply: Reply, entries: Sequence[Entry]) -> Reply:
        """An answer to a question gets "Passt nicht?", beside "Mehr dazu" if it has that,
        and keeps it when "Mehr dazu" shows the details.

        Only answers to free text: an entry the user picked from a button is what they
        asked for. The button names the answered entries, so a press finds the question.
        """
        ids = ".".join(entry.id for entry in entries)
        wrong = Button(self.kb.ui.get(lang, "button_wrong"), Action(ActionKind.WRONG, ids))
        rows = list(reply.buttons)
        if rows and len(rows[0]) == 1 and rows[0][0].action.kind is ActionKind.MORE:
            more = rows[0][0]
            rows[0] = (Button(more.label, Action(ActionKind.MORE_ASKED, more.action.arg)), wrong)
        else:
            rows.append((wrong,))
        return replace(reply, buttons=tuple(rows))

    def guess(
        self, text: str, ranked: Sequence[Scored], platforms: frozenset[str] = frozenset()
    ) -> Guess | None:
        """The classifier's view of `text`, among the ranked entries and "out of scope".

        The classifier reads words, not platforms: "Kontaktanfrage von einer unbekannten
        Person" on LinkedIn sounds like the XING entry as much as the LinkedIn one. When the
        question names a platform, the share of an entry about the other one goes to its
        twin (the same topic on the named platform).
        """
        guess = self.intents.guess(text, (s.entry.id for s in ranked))
        if guess is None or not (platforms or self._scoped):
            return guess
        shares = dict(guess.probabilities)
        if platforms:
            for scored in ranked:
                entry = scored.entry
                if entry.twin and entry.id in shares and platforms.isdisjoint(entry.platforms):
                    shares[entry.twin] = shares.get(entry.twin, 0.0) + shares.pop(entry.id)
        # A topic out of scope on one platform only counts when the question names it: on
        # the other one the article covers it ("sieht man bei XING, dass ich ablehne?"). Its
        # share goes to the rest, in proportion.
        dropped = sum(
            shares.pop(label)
            for label, on in self._scoped.items()
            if label in shares and not platforms & on
        )
        if len(shares) == len(guess.probabilities):
            return guess
        kept = max(1.0 - dropped, 1e-9)
        shares = {label: share / kept for label, share in shares.items()}
        outside = max(guess.out_of_scope - dropped, 0.0) / kept
        label = max(shares, key=shares.__getitem__)
        return Guess(label, shares[label], outside, shares)

    def rank(self, text: str) -> tuple[Query, Ranking]:
        """The whole message's query, and the ranking of the message or of its best part.

        Real messages tell a story first and ask last ("Ich hab gestern 50 Anfragen
        verschickt. Jetzt will LinkedIn eine E-Mail-Adresse?"); the story's words dilute the
        question's coverage, so each sentence is also ranked on its own (a little damped)
        and every entry keeps its best score. Platforms named anywhere still count.
        """
        query = self.matcher.query(text)
        ranking = self.matcher.rank_scoped(query, RANKED)
        parts = message_parts(text)
        if len(parts) < 2:
            return query, ranking
        # Each entry keeps its best score, from the whole message or from one of its parts.
        best = {s.entry.id: s for s in ranking.entries}
        outside, outside_id = ranking.out_of_scope, ranking.out_of_scope_id
        for part, framing in parts:
            factor = self.policy.heading_factor if framing else self.policy.part_factor
            sub = self.matcher.query(part)
            if len(sub.terms) < 2:
                continue
            sub = replace(
                sub,
                platforms=sub.platforms | query.platforms,
                compares_other_things=sub.compares_other_things or query.compares_other_things,
            )
            candidate = self.matcher.rank_scoped(sub, RANKED)
            for scored in candidate.entries:
                score = round(scored.score * factor, 1)
                known = best.get(scored.entry.id)
                if known is None or score > known.score:
                    best[scored.entry.id] = Scored(scored.entry, score)
            if candidate.out_of_scope * factor > outside:
                outside = round(candidate.out_of_scope * factor, 1)
                outside_id = candidate.out_of_scope_id
        merged = sorted(best.values(), key=lambda s: (-s.score, s.entry.id))
        return query, Ranking(merged[:RANKED], outside, outside_id)

    def entries_reply(self, lang: Lang, entries: Sequence[Entry], *, full: bool = False) -> Reply:
        """One entry, or twins side by side (XING first), with updates, source and follow-ups.

        The first screen holds the facts and the dated updates; details and the coach's own
        tip come with `full`, which the "Mehr dazu" button asks for (edited in place).
        """
        key = (lang, tuple(entry.id for entry in entries), full)
        reply = self._entry_replies.get(key)
        if reply is None:
            reply = self._entry_replies[key] = self._build_entries_reply(lang, entries, full)
        return reply

    def _build_entries_reply(self, lang: Lang, entries: Sequence[Entry], full: bool) -> Reply:
        ui = self.kb.ui
        blocks: list[Block] = []
        if len(entries) > 1:
            entries = sorted(entries, key=lambda e: e.platforms != ["xing"])
            blocks.append(Block(ui.get(lang, "both_platforms")))
        has_more = False
        for entry in entries:
            text = entry.text(lang)
            blocks.append(Block(text.title, "title"))
            blocks.append(Block(text.answer))
            if full and text.more:
                blocks.append(Block(text.more))
            blocks += [Block(self.kb.update_line(lang, update), "note") for update in entry.updates]
            if full and text.tip:
                blocks.append(Block(ui.get(lang, "tip", tip=text.tip), "note"))
            has_more = has_more or bool(text.more or text.tip)
        sources = {entry.source for entry in entries}
        for source in sorted(sources):
            blocks.append(Block(ui.get(lang, f"source_{source}"), "note"))
        buttons = self._follow_ups(lang, entries)
        if has_more and not full:
            ids = ".".join(entry.id for entry in entries)
            buttons = (
                (Button(ui.get(lang, "button_more"), Action(ActionKind.MORE, ids)),),
                *buttons,
            )
        return Reply(tuple(blocks), buttons, edit=full)

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
                label = self.kb.ui.get(lang, "compare_button", title=topic.text(lang).button)
                rows.append((Button(label, Action(ActionKind.COMPARE, topic.id)),))
        return tuple(rows)

    @staticmethod
    def entry_button(lang: Lang, entry: Entry) -> Button:
        return Button(entry.text(lang).button, Action(ActionKind.ENTRY, entry.id))

    def _clarify_reply(self, lang: Lang, offers: Sequence[Scored]) -> Reply:
        blocks = [Block(self.kb.ui.get(lang, "clarify"))]
        return Reply(tuple(blocks), self._offer_buttons(lang, offers))

    def _offer_buttons(
        self, lang: Lang, offers: Sequence[Scored]
    ) -> tuple[tuple[Button, ...], ...]:
        """One button per candidate, then "Nichts davon", which records the miss."""
        rows = [
            (Button(s.entry.text(lang).button, Action(ActionKind.OFFER, s.entry.id)),)
            for s in offers
        ]
        rows.append((Button(self.kb.ui.get(lang, "button_none"), Action(ActionKind.NONE)),))
        return tuple(rows)

    def decline_reply(
        self, lang: Lang, offers: Sequence[Scored] = (), *, empty: bool = False
    ) -> Reply:
        """Say honestly that this is not covered, what is, and offer the closest entries."""
        ui = self.kb.ui
        if empty:
            return Reply((Block(ui.get(lang, "empty")),), self.main_buttons(lang))
        if offers:
            text = ui.get(lang, "decline_offers")
            return Reply(
                (Block(text),), self._offer_buttons(lang, offers) + self.main_buttons(lang)
            )
        return Reply((Block(ui.get(lang, "decline")),), self.main_buttons(lang))

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
