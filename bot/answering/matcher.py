"""Matching free-text questions to knowledge entries.

A question is reduced to weighted terms (folded, synonyms mapped to concepts, stop words
dropped, stemmed, compounds split, typos corrected against the known vocabulary). Each entry
is scored by how much of the question's weight it explains (coverage, via posting lists over
all entries), scaled by how closely one of its phrasings matches (weighted term overlap plus
rapidfuzz similarity), for the best candidates only. Words the knowledge base has never seen
keep their weight, so a question about something else scores low and is declined.
"""

from __future__ import annotations

import heapq
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.answering.everyday import everyday_words, same_word
from bot.domain import LANGS, PLATFORMS, Lang
from bot.knowledge import Entry, Lexicon, OutOfScopeTopic, SmalltalkIntent
from bot.text import fold, stem, words, words_of_folded

UNKNOWN = "?"  # prefix of a term the knowledge base has never seen
_MIN_FUZZY_LEN = 4
_SHORT_WORD = 6
_MIN_PART = 4
# A platform named as the one compared with ("wie bei XING", "like on LinkedIn").
_COMPARED_WITH = re.compile(
    r"\b(?:(?:wie|als) (?:bei|auf|in)|like (?:on|in)) (xing|linkedin|li|xi)\b"
)
# Nothing but the two platforms, set against each other with "oder" or "or" ("XING oder
# LinkedIn?"): as much a comparison as "XING vs. LinkedIn". With other words it is mostly
# "either" ("Sieht man bei XING oder LinkedIn, wenn ich ablehne?").
_EITHER_PLATFORM = re.compile(
    r"\b(?:xing|xi)\s+(?:oder|or)\s+(?:linkedin|linked in|li)\b"
    r"|\b(?:linkedin|linked in|li)\s+(?:oder|or)\s+(?:xing|xi)\b"
)
# Two things compared ("zwischen Folgen und Vernetzen", "connections vs followers"): when
# neither is a platform, the comparison is not XING against LinkedIn.
_BETWEEN = re.compile(r"\b(?:zwischen|between) (\w+(?: \w+){0,3}?) (?:und|and) (\w+(?: \w+){0,2})")
_VERSUS = re.compile(r"(\w+(?: \w+){0,2}) (?:vs|versus) (\w+(?: \w+){0,2})")
_COMPARISON_WORDS = (
    "unterschied unterschiede zwischen vergleich difference differences between vs versus"
)
_SIDE_ENDS = frozenset(
    ["auf", "bei", "in", "im", "an", "am", "von", "fuer", "mit", "on", "at", "of", "for", "with"]
)
_MAX_ANALYSED = 50_000  # remembered word analyses (a few MB at most)


@dataclass(frozen=True)
class Weights:
    """How the parts of an entry's score are mixed; chosen with `bot eval` on two sets.

    score = 100 * coverage * (base + overlap + similarity parts): a question is only as well
    answered as the share of its weight the entry explains, however close one phrasing looks.
    """

    base: float = 0.5
    overlap: float = 0.3
    similarity: float = 0.2
    # How much an entry only mentioned in answer texts counts, relative to its phrasings.
    answer_credit: float = 0.5
    # Score factor for an entry about the other platform than the question names.
    wrong_platform: float = 0.6
    # Score factor for an entry none of whose defining terms (title and keywords, platform
    # names aside) the question contains: it matched only on words it shares with others.
    off_core: float = 0.75
    # Weight of an unknown word, relative to the rarest known term.
    unknown: float = 0.8
    # A typo is corrected to a known word this many edits away (transpositions count once);
    # one edit for words up to this length, two for longer ones.
    one_edit_up_to: int = 8
    candidates: int = 12


def _only_platforms_weigh(terms: Mapping[str, float]) -> bool:
    """Whether no term but a platform's name carries weight."""
    return all(term in PLATFORMS or weight <= 0 for term, weight in terms.items())


@dataclass(frozen=True)
class Query:
    """A question reduced to terms, with their weights and the platforms it names."""

    text: str
    terms: dict[str, float]
    platforms: frozenset[str]
    lang: Lang | None
    # Two things compared of which neither is a platform ("Kontakte vs. Verbindungen"):
    # entries comparing XING with LinkedIn are not what is asked.
    compares_other_things: bool = False

    @property
    def unknown(self) -> list[str]:
        return [term[1:] for term in self.terms if term.startswith(UNKNOWN)]

    def fits(self, platforms: Iterable[str]) -> bool:
        """Something about `platforms` fits: the question names one of them, or none."""
        return not self.platforms or not self.platforms.isdisjoint(platforms)

    @property
    def platform_only(self) -> bool:
        """Nothing but a platform carries weight: "XING?", or "Ist XING tot?" with an
        unknown word too short to be a topic."""
        return _only_platforms_weigh(self.terms)


@dataclass(frozen=True)
class Scored:
    entry: Entry
    score: float


@dataclass(frozen=True)
class Ranking:
    """The best entries for a question, and how well the best out-of-scope topic fits it."""

    entries: list[Scored]
    out_of_scope: float = 0.0
    out_of_scope_id: str | None = None


@dataclass
class _Indexed:
    """One entry (or out-of-scope topic), ready for scoring; a "doc" is one of its titles,
    phrasings or keyword sets."""

    entry: Entry | None
    scope_id: str | None = None
    strong: set[str] = field(default_factory=set)
    weak: set[str] = field(default_factory=set)
    core: set[str] = field(default_factory=set)
    doc_terms: list[frozenset[str]] = field(default_factory=list)
    doc_postings: dict[str, list[int]] = field(default_factory=dict)  # term -> docs with it
    doc_texts: list[str] = field(default_factory=list)  # sorted terms joined, for rapidfuzz
    doc_weights: list[float] = field(default_factory=list)  # summed IDF of each doc's terms
    platforms: frozenset[str] = frozenset()


class Analyzer:
    """Turns text into matching terms; learns the knowledge base's vocabulary first."""

    def __init__(
        self,
        lexicon: Lexicon,
        one_edit_up_to: int = Weights.one_edit_up_to,
        everyday: Mapping[Lang, frozenset[str]] | None = None,
    ) -> None:
        self.one_edit_up_to = one_edit_up_to
        self._everyday = everyday_words() if everyday is None else everyday
        self.synonyms = lexicon.synonyms
        self.stopwords: dict[Lang, frozenset[str]] = {
            "de": frozenset(lexicon.stopwords.de),
            "en": frozenset(lexicon.stopwords.en),
        }
        self._all_stop = self.stopwords["de"] | self.stopwords["en"]
        # Second word -> the first words that make the pair a greeting ("tag": {"guten"}).
        self._stop_pairs: dict[str, frozenset[str]] = {}
        for first, second in (pair.split() for pair in lexicon.stopwords.pairs):
            self._stop_pairs[second] = self._stop_pairs.get(second, frozenset()) | {first}
        self._concepts = frozenset(self.synonyms.values())
        self._negators = frozenset(lexicon.negation.words)
        self._negation_reach = lexicon.negation.reach
        # Written as words, kept as the terms they become ("kenne" -> "kenn").
        self._turns = {
            term: concept
            for word, concept in lexicon.negation.turns.items()
            if (term := self.term(word)) is not None
        }
        self.vocab: set[str] = set()
        self.surface: dict[str, Lang | None] = {}
        self._frequency: dict[str, int] = {}
        self._surface_by_lang: dict[Lang | None, list[str]] = {}
        self._compounds: dict[str, tuple[str, ...]] = {}
        # Terms seen only in English texts: English writes compounds apart, so such a term
        # is neither split nor a part of a German compound ("einstellen" is not "tell").
        self._english_only: set[str] = set()
        self._langs_seen: dict[str, set[Lang | None]] = {}
        # A word's terms depend only on the word, the language and the frozen vocabulary,
        # and users reuse words (and typos) all the time: typo search is the costly step.
        self._analysed: dict[tuple[str, Lang | None], tuple[str, ...]] = {}

    def term(self, word: str) -> str | None:
        """The term for one folded word, or None for a stop word."""
        mapped = self.synonyms.get(word)
        if mapped is not None:
            return mapped
        if word in self._all_stop:
            return None
        return stem(word)

    def learn(self, text: str, lang: Lang | None) -> None:
        """Add the words of a knowledge text to the vocabulary."""
        for word in words(text):
            self._frequency[word] = self._frequency.get(word, 0) + 1
            known = self.surface.get(word, lang)
            # A word seen in both languages says nothing about the language.
            self.surface[word] = lang if known == lang else None
            term = self.term(word)
            if term is not None:
                self.vocab.add(term)
                self._langs_seen.setdefault(term, set()).add(lang)

    def freeze(self) -> None:
        """Finish learning: split compounds into known parts, prepare typo lookup."""
        # Typos are corrected towards words of the question's language: "wetter" must not
        # become "better". Synonyms and words seen in both languages serve either.
        neutral = set(self.synonyms) | {w for w, lang in self.surface.items() if lang is None}
        for lang in LANGS:
            own = {w for w, seen in self.surface.items() if seen == lang} | self.stopwords[lang]
            self._surface_by_lang[lang] = sorted(neutral | own)
        self._surface_by_lang[None] = sorted(neutral | set(self.surface) | self._all_stop)
        self._compounds = {}
        self._analysed = {}
        self._english_only = {t for t, seen in self._langs_seen.items() if seen == {"en"}}
        for term in self.vocab - self._english_only:
            parts = self._split(term)
            if parts:
                self._compounds[term] = parts

    def forget_words(self) -> None:
        """Drop the remembered word analyses (they are rebuilt on demand)."""
        self._analysed.clear()

    def _split(self, term: str) -> tuple[str, ...]:
        """Known parts of a compound ("vernetzungsanfrag" -> "anfrag"), head last."""
        if term in self._concepts or len(term) < 2 * _MIN_PART:
            return ()
        for cut in range(_MIN_PART, len(term) - _MIN_PART + 1):
            head = self._known_part(term[cut:])
            if head is None or head == term:
                continue
            modifier = term[:cut]
            parts = [head]
            for candidate in (modifier, modifier[:-1] if modifier.endswith("s") else ""):
                known = self._known_part(candidate) if len(candidate) >= _MIN_PART else None
                if known is not None:
                    parts.insert(0, known)
                    break
            return tuple(parts)
        return ()

    def _known_part(self, part: str) -> str | None:
        for candidate in (part, stem(part)):
            if candidate in self.vocab and candidate not in self._english_only:
                return candidate
            mapped = self.synonyms.get(candidate)
            if mapped is not None:
                return mapped
        return None

    def terms(self, text: str, *, correct: bool = True, lang: Lang | None = None) -> list[str]:
        """Terms of `text`; unknown words come back prefixed with UNKNOWN.

        With `correct`, words the vocabulary lacks are split as compounds or corrected as
        typos towards words of `lang`.
        """
        return self.terms_of(words(text), correct=correct, lang=lang)

    def terms_of(
        self, folded: Sequence[str], *, correct: bool = True, lang: Lang | None = None
    ) -> list[str]:
        """Like `terms`, for words already folded."""
        result: list[str] = []
        negated = self.negated(folded)
        for index, word in enumerate(folded):
            firsts = self._stop_pairs.get(word)
            if firsts is not None and index > 0 and folded[index - 1] in firsts:
                continue  # "Guten Tag": the "Guten" is a stop word already
            known = self._word_analysis(word, correct, lang)
            if index in negated:
                known = self.turn(known)
            result.extend(known)
        return result

    def _word_analysis(self, word: str, correct: bool, lang: Lang | None) -> tuple[str, ...]:
        if not correct:
            return tuple(self._word_terms(word, False, lang))
        known = self._analysed.get((word, lang))
        if known is None:
            if len(self._analysed) >= _MAX_ANALYSED:
                self._analysed.clear()  # bounded; rebuilt from the words in use
            known = self._analysed[(word, lang)] = tuple(self._word_terms(word, True, lang))
        return known

    def turn(self, terms: Iterable[str]) -> tuple[str, ...]:
        """The terms as a negation nearby turns them ("kenn" -> "unbekannt"), also those of a
        word the knowledge base never uses ("niemals getroffen")."""
        return tuple(self._turns.get(term.removeprefix(UNKNOWN), term) for term in terms)

    def negated(self, folded: Sequence[str]) -> frozenset[int]:
        """Positions within reach of a negating word ("nicht kenne", "never met")."""
        if not self._turns:
            return frozenset()
        reach = self._negation_reach
        return frozenset(
            near
            for index, word in enumerate(folded)
            if word in self._negators
            for near in range(index - reach, index + reach + 1)
        )

    def _word_terms(self, word: str, correct: bool, lang: Lang | None) -> Iterable[str]:
        term = self.term(word)
        if term is None:
            return ()
        if term in self.vocab or not correct:
            return (term, *self._compounds.get(term, ()))
        # A compound of two known words first, then a typo of a known word, and only then a
        # compound whose head alone is known ("hinzuztfuegen" is a typo, not "...fueg").
        parts = self._split(term)
        if len(parts) < 2 and term != word:
            # The stem may have cut the head's own ending ("einladungssperr"): the word
            # itself splits into two known parts, "einladung" + "sperre".
            whole = self._split(word)
            parts = whole if len(whole) > 1 else parts
        if len(parts) > 1:
            return parts
        if len(word) >= _MIN_FUZZY_LEN and not word.isdigit():
            edits = 1 if len(word) <= self.one_edit_up_to else 2
            close = process.extract(
                word, self._surface_by_lang[lang], scorer=OSA.distance, score_cutoff=edits,
                limit=None,
            )  # fmt: skip
            if len(word) <= _SHORT_WORD:
                # A short word with another first letter is more often a different word
                # ("wetter" is not "better") than a typo: phone typos keep the first letter.
                close = [c for c in close if c[0][0] == word[0]]
            if close and self._is_everyday(word, lang):
                # A real word is no typo ("besucht" is not "gesucht", "spending" not
                # "pending"): only another form of it counts ("kennt" for "kenne").
                tail = 1 if len(word) <= _SHORT_WORD else 2
                close = [c for c in close if same_word(word, c[0], tail)]
            if close:
                # Fewest edits first; among equals the word the knowledge base uses most
                # ("sche": "suche" before "sehe"), so the likelier intent wins.
                best = min(close, key=lambda c: (c[1], -self._frequency.get(c[0], 0), c[0]))
                return self._word_terms(best[0], False, lang)
        if parts:
            return parts
        return (UNKNOWN + term,)

    def _is_everyday(self, word: str, lang: Lang | None) -> bool:
        if lang is not None:
            return word in self._everyday.get(lang, frozenset())
        return any(word in known for known in self._everyday.values())

    def detect_language(self, text: str, folded: Sequence[str] | None = None) -> Lang | None:
        """German or English by stop words and language-specific vocabulary; None if unsure."""
        votes = {"de": 0.0, "en": 0.0}
        if any(ch in text for ch in "äöüÄÖÜß"):
            votes["de"] += 2
        for word in words(text) if folded is None else folded:
            for lang in LANGS:
                if word in self.stopwords[lang]:
                    votes[lang] += 1
            learned = self.surface.get(word)
            if learned is not None:
                votes[learned] += 0.5
        if votes["de"] == votes["en"]:
            return None
        return "de" if votes["de"] > votes["en"] else "en"


class Matcher:
    """Scores questions against all entries; built once at start and shared."""

    def __init__(
        self,
        entries: Sequence[Entry],
        lexicon: Lexicon,
        weights: Weights | None = None,
        out_of_scope: Sequence[OutOfScopeTopic] = (),
    ):
        self.weights = weights or Weights()
        self.analyzer = Analyzer(lexicon, self.weights.one_edit_up_to)
        for entry in entries:
            for lang in LANGS:
                for text in self._strong_texts(entry, lang):
                    self.analyzer.learn(text, lang)
                for text in self._weak_texts(entry, lang):
                    self.analyzer.learn(text, lang)
        for topic in out_of_scope:
            for lang in LANGS:
                for text in topic.phrasings(lang):
                    self.analyzer.learn(text, lang)
        self.analyzer.freeze()
        self._index = [self._index_entry(entry) for entry in entries]
        self._scopes = len(self._index)
        self._index += [self._index_scope(topic) for topic in out_of_scope]
        self._postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for number, item in enumerate(self._index):
            for term in item.strong:
                self._postings[term].append((number, 1.0))
            for term in item.weak - item.strong:
                self._postings[term].append((number, self.weights.answer_credit))
        total = len(self._index)
        self._idf = {
            term: math.log(1 + total / len(postings)) for term, postings in self._postings.items()
        }
        self._unknown_weight = self.weights.unknown * math.log(1 + total)
        comparison = {
            term
            for lang in LANGS
            for term in self.analyzer.terms_of(_COMPARISON_WORDS.split(), correct=False, lang=lang)
        }
        # Entries that compare the platforms: a comparison word among their keywords.
        self._comparing = frozenset(
            number
            for number, item in enumerate(self._index)
            if item.entry is not None
            and not comparison.isdisjoint(
                self.analyzer.terms(" ".join(item.entry.keywords), correct=False)
            )
        )
        for item in self._index:
            item.doc_weights = [
                sum(self._idf.get(term, 0.0) for term in doc) for doc in item.doc_terms
            ]

    @staticmethod
    def _strong_texts(entry: Entry, lang: Lang) -> list[str]:
        text = entry.text(lang)
        return [text.title, *text.phrasings, " ".join(entry.keywords)]

    @staticmethod
    def _weak_texts(entry: Entry, lang: Lang) -> list[str]:
        return [entry.text(lang).answer, *(update.text(lang) for update in entry.updates)]

    def _index_entry(self, entry: Entry) -> _Indexed:
        item = _Indexed(entry)
        for lang in LANGS:
            for text in self._strong_texts(entry, lang):
                terms = self.analyzer.terms(text, correct=False)
                item.strong.update(terms)
                if terms:
                    item.doc_terms.append(frozenset(terms))
            for text in self._weak_texts(entry, lang):
                item.weak.update(self.analyzer.terms(text, correct=False))
            item.core.update(self.analyzer.terms(entry.text(lang).title, correct=False))
        # An entry covers the platforms it is about, whether or not its phrasings say so.
        item.strong.update(entry.platforms)
        item.core.update(self.analyzer.terms(" ".join(entry.keywords), correct=False))
        item.core.difference_update(PLATFORMS)
        item.platforms = frozenset(entry.platforms)
        return self._link_docs(item)

    def _index_scope(self, topic: OutOfScopeTopic) -> _Indexed:
        item = _Indexed(None, topic.id)
        for lang in LANGS:
            for text in topic.phrasings(lang):
                terms = self.analyzer.terms(text, correct=False)
                item.strong.update(terms)
                if terms:
                    item.doc_terms.append(frozenset(terms))
        # All of a topic's words define it; it is about the platforms it names.
        item.platforms = frozenset(topic.platforms)
        item.core = set(item.strong) - set(PLATFORMS)
        return self._link_docs(item)

    @staticmethod
    def _link_docs(item: _Indexed) -> _Indexed:
        """Postings from each term to the docs that hold it, and each doc's text for rapidfuzz."""
        for number, doc in enumerate(item.doc_terms):
            for term in doc:
                item.doc_postings.setdefault(term, []).append(number)
        item.doc_texts = [" ".join(sorted(doc)) for doc in item.doc_terms]
        return item

    def query(self, text: str) -> Query:
        """Analyse a question once; the result is scored by `rank`."""
        terms: dict[str, float] = {}
        flat = fold(text)
        folded = words_of_folded(flat)
        lang = self.analyzer.detect_language(text, folded)
        for term in self.analyzer.terms_of(folded, lang=lang):
            if term.startswith(UNKNOWN):
                # Very short unknown bits ("ab", "zb", "oay") are noise, not a topic.
                weight = self._unknown_weight if len(term) - len(UNKNOWN) > 3 else 0.0
            else:
                weight = self._idf.get(term, 0.0)
            terms[term] = max(weight, terms.get(term, 0.0))
        platforms = frozenset(term for term in terms if term in PLATFORMS)
        if len(platforms) > 1:
            # "Kann man bei LinkedIn auch ablehnen, so wie bei XING?": the platform compared
            # with is not the one asked about.
            compared = {self.analyzer.term(m.group(1)) for m in _COMPARED_WITH.finditer(flat)}
            if platforms - compared:
                # ... nor is it a word of the question: XING's entries do not fit it better
                for platform in platforms & compared:
                    terms[platform] = 0.0
                platforms = platforms - compared
        if len(platforms) > 1 and _only_platforms_weigh(terms) and _EITHER_PLATFORM.search(flat):
            versus = self.analyzer.term("vs")
            if versus is not None:
                terms[versus] = self._idf.get(versus, 0.0)
        other_things = len(platforms) < 2 and self._compares_other_things(flat)
        return Query(text, terms, platforms, lang, other_things)

    def _compares_other_things(self, folded: str) -> bool:
        """Whether the (folded) question compares two things of which neither is a platform.

        Each side ends at a preposition: in "zwischen Kontakten und Verbindungen auf
        LinkedIn" the platform is where the two are, not one of them."""
        sides: list[list[str]] = []
        for match in _BETWEEN.finditer(folded):
            sides += [_until_preposition(side.split()) for side in match.groups()]
        for match in _VERSUS.finditer(folded):
            left, right = match.group(1).split(), match.group(2).split()
            sides.append(_until_preposition(left[::-1])[::-1])
            sides.append(_until_preposition(right))
        return bool(sides) and not any(self._names_a_platform(side) for side in sides)

    def _names_a_platform(self, side: list[str]) -> bool:
        """Whether one side of a comparison is a platform: "XING", not "XING ProJobs" nor
        "LinkedIn InMail", which are things on a platform."""
        terms = [term for term in map(self.analyzer.term, side) if term is not None]
        return bool(terms) and all(term in PLATFORMS for term in terms)

    def rank(self, query: Query, limit: int = 5) -> list[Scored]:
        """The best-scoring entries for `query`, best first, scores 0..100."""
        return self.rank_scoped(query, limit).entries

    def rank_scoped(self, query: Query, limit: int = 5) -> Ranking:
        """Like `rank`, plus the score of the out-of-scope topic that fits best."""
        total = sum(query.terms.values())
        if total <= 0:
            return Ranking([])
        covered: dict[int, float] = {}
        for term, weight in query.terms.items():
            for number, credit in self._postings.get(term, ()):
                covered[number] = covered.get(number, 0.0) + weight * credit
        if query.compares_other_things:
            for number in self._comparing:
                covered.pop(number, None)
        if not covered:
            return Ranking([])
        # Out-of-scope topics are indexed after the entries: their numbers start at _scopes.
        scopes = [
            (n, covered.pop(n)) for n in range(self._scopes, len(self._index)) if n in covered
        ]
        best = heapq.nlargest(self.weights.candidates, covered.items(), key=lambda kv: kv[1])
        if len(best) == self.weights.candidates and len(covered) > len(best):
            # A cut through a tie would drop some of the tied entries by their place in the
            # file: "was kann ich mit einer LinkedIn-Einladung machen" covers a dozen entries
            # fully. All tied with the last one are scored.
            last = best[-1][1]
            best = sorted((kv for kv in covered.items() if kv[1] >= last), key=lambda kv: -kv[1])
        query_terms = frozenset(query.terms)
        query_text = " ".join(sorted(query_terms))
        scored: list[Scored] = []
        top: list[float] = []  # min-heap of the best `limit` scores so far
        w = self.weights
        for number, weight in best:
            coverage = weight / total
            floor = top[0] if len(top) >= limit else -1.0
            # The phrasing factor is at most 1, so 100 * coverage bounds the score; candidates
            # come in falling coverage, so none of the rest can enter the top `limit`.
            if 100 * coverage <= floor:
                break
            item = self._index[number]
            penalty = self._penalty(item, query, query_terms)
            if 100 * coverage * penalty * (w.base + w.overlap + w.similarity) <= floor:
                continue  # even a perfect phrasing would not reach the top
            partial = w.base + w.overlap * self._overlap(item, query, total)
            if 100 * coverage * penalty * (partial + w.similarity) <= floor:
                continue  # even a perfect rapidfuzz similarity would not reach the top
            score = self._score(item, coverage, penalty, partial, query_text)
            assert item.entry is not None
            scored.append(Scored(item.entry, score))
            if len(top) < limit:
                heapq.heappush(top, score)
            else:
                heapq.heappushpop(top, score)
        # On a tie, an entry about exactly the platform the question names goes first.
        scored.sort(
            key=lambda s: (
                -s.score,
                not (query.platforms and set(s.entry.platforms) == set(query.platforms)),
                s.entry.id,
            )
        )
        outside, outside_id = 0.0, None
        # A topic out of scope on one platform only counts for a question naming it: on the
        # other platform, or on both, the article may well cover the question.
        scopes = [(n, w) for n, w in scopes if self._scope_applies(self._index[n], query)]
        for number, weight in heapq.nlargest(3, scopes, key=lambda kv: kv[1]):
            item = self._index[number]
            penalty = self._penalty(item, query, query_terms)
            partial = w.base + w.overlap * self._overlap(item, query, total)
            score = self._score(item, weight / total, penalty, partial, query_text)
            if score > outside:
                outside, outside_id = score, item.scope_id
        return Ranking(scored[:limit], outside, outside_id)

    @staticmethod
    def _scope_applies(item: _Indexed, query: Query) -> bool:
        return len(item.platforms) == len(PLATFORMS) or bool(query.platforms & item.platforms)

    def _penalty(self, item: _Indexed, query: Query, query_terms: frozenset[str]) -> float:
        penalty = 1.0
        if not query.fits(item.platforms):
            penalty *= self.weights.wrong_platform
        if not query_terms & item.core:
            penalty *= self.weights.off_core
        return penalty

    def _score(
        self, item: _Indexed, coverage: float, penalty: float, partial: float, query_text: str
    ) -> float:
        similar = process.extractOne(query_text, item.doc_texts, scorer=fuzz.ratio, processor=None)
        similarity = similar[1] / 100 if similar else 0.0
        return round(100 * coverage * penalty * (partial + self.weights.similarity * similarity), 1)

    @staticmethod
    def _overlap(item: _Indexed, query: Query, total: float) -> float:
        """Weighted Dice overlap between the question and the entry's closest phrasing."""
        shared: dict[int, float] = {}
        postings = item.doc_postings
        for term, weight in query.terms.items():
            for doc in postings.get(term, ()):
                shared[doc] = shared.get(doc, 0.0) + weight
        best = 0.0
        weights = item.doc_weights
        for doc, weight in shared.items():
            value = weight / (total + weights[doc])
            if value > best:
                best = value
        return 2 * best


class SmalltalkDetector:
    """Recognises greetings, thanks and similar short messages as a whole."""

    _FILLER = frozenset({"bot", "coach", "du", "dir", "sie", "ihnen", "euch", "dear", "you", "so"})

    def __init__(self, intents: Sequence[SmalltalkIntent]) -> None:
        self._phrases = [(fold(p), intent) for intent in intents for p in intent.phrases]
        self._phrase_texts = [phrase for phrase, _ in self._phrases]
        self._vocab = {
            intent.id: {w for p in intent.phrases for w in fold(p).split()} for intent in intents
        }
        self._intents = {intent.id: intent for intent in intents}
        # fuzz.ratio >= 85 is impossible once a text is 1.36 times longer than every phrase.
        self._max_len = int(max((len(p) for p, _ in self._phrases), default=0) * 1.36) + 1

    def detect_whole(self, text: str) -> SmalltalkIntent | None:
        """The intent whose phrase the whole message is, allowing a typo or two."""
        folded = fold(text)
        if not folded or len(folded) > self._max_len:
            return None
        choice = process.extractOne(folded, self._phrase_texts, scorer=fuzz.ratio, score_cutoff=85)
        return self._phrases[choice[2]][1] if choice is not None else None

    def detect_words(self, text: str) -> SmalltalkIntent | None:
        """The intent whose words alone make up the message ("ok super danke dir")."""
        message = set(fold(text).split())
        if not message:
            return None
        for intent_id, vocab in self._vocab.items():
            if message <= vocab | self._FILLER and message & vocab:
                return self._intents[intent_id]
        return None


def _until_preposition(side: list[str]) -> list[str]:
    """The words of one side of a comparison before the first preposition."""
    for index, word in enumerate(side):
        if word in _SIDE_ENDS:
            return side[:index]
    return side
