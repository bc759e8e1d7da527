"""A second opinion on a question: naive Bayes over words and letter groups, trained at start.

The matcher scores how much of a question an entry explains; on real messages (a story
first, slang, words the knowledge base never uses) the right entry often ranks first with
a score too low to answer. This model is trained from the same phrasings (and the
out-of-scope topics, each a class) and judges the whole message at once, from its
matching terms (synonyms and typo correction included) and the letter groups of its words,
which carry over to word forms and compounds nobody wrote down. Where both agree, the
answer engine trusts the match; where this model is sure a message is out of scope, the
engine declines. Trained in about 0.2 s from `knowledge/`, no dependency beyond the standard
library; only the matcher's best candidates are scored, from gains remembered per word.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from bot.answering.matcher import UNKNOWN, Analyzer
from bot.domain import LANGS
from bot.knowledge import KnowledgeBase
from bot.text import fold, is_word

OUT_OF_SCOPE = "out-of-scope:"  # + topic id: each out-of-scope topic is a class of its own
_GRAMS = (3, 4)  # letter groups within a word, "<" and ">" marking its ends
_MAX_WORDS = 50_000  # remembered word analyses
_REMEMBER_UP_TO = 500  # labels up to which per-word gains are remembered


@dataclass(frozen=True)
class Guess:
    """The most likely class of a message, its probability, and that of "out of scope"."""

    label: str
    probability: float
    out_of_scope: float
    # The probability of each candidate entry (and out-of-scope topic) scored.
    probabilities: Mapping[str, float] = field(default_factory=dict)

    def of(self, label: str) -> float:
        return self.probabilities.get(label, 0.0)

    def likeliest_scope(self) -> str | None:
        """The id of the out-of-scope topic found likeliest among those scored."""
        scopes = [
            (p, label) for label, p in self.probabilities.items() if label.startswith(OUT_OF_SCOPE)
        ]
        return max(scopes)[1][len(OUT_OF_SCOPE) :] if scopes else None


class IntentModel:
    """Multinomial naive Bayes with Laplace smoothing and a temperature on the posterior.

    Naive Bayes treats a message's many overlapping features as independent and so is far
    too sure of itself; dividing the log-likelihood by the number of features and scaling
    it by `temperature` gives probabilities a threshold can work with.
    """

    def __init__(
        self,
        examples: Iterable[tuple[str, str]],
        analyzer: Analyzer,
        alpha: float = 0.1,
        temperature: float = 10.0,
    ) -> None:
        self.analyzer = analyzer
        self.temperature = temperature
        counts: dict[str, Counter[str]] = defaultdict(Counter)
        for label, text in examples:
            counts[label].update(self._features(text, correct=False))
        self.labels = sorted(counts)
        vocabulary = set().union(*counts.values()) if counts else set()
        size = len(vocabulary)
        totals = {label: sum(counts[label].values()) for label in self.labels}
        # log P(feature | label) = log(count + alpha) - log(total + alpha * size): kept as
        # the unseen value per label plus, per feature, the gain for the labels it was seen in.
        self._unseen = {
            label: math.log(alpha) - math.log(totals[label] + alpha * size) for label in self.labels
        }
        self._gain = {
            label: {f: math.log(n + alpha) - math.log(alpha) for f, n in counts[label].items()}
            for label in self.labels
        }
        self._known = vocabulary
        # Per word: how many known features it has and what they add to each label's score.
        # Users reuse words, so a message costs a few lookups per word once they were seen.
        self._words: dict[tuple[str, bool], tuple[int, dict[str, float]]] = {}
        self._seen_with: dict[str, list[tuple[str, float]]] = defaultdict(list)
        for label, table in self._gain.items():
            for feature, gain in table.items():
                self._seen_with[feature].append((label, gain))
        self._scopes = [label for label in self.labels if label.startswith(OUT_OF_SCOPE)]

    @classmethod
    def from_knowledge(cls, kb: KnowledgeBase, analyzer: Analyzer) -> IntentModel:
        """Trained on every entry's title and phrasings and each out-of-scope topic."""
        examples: list[tuple[str, str]] = []
        for entry in kb.entries:
            for lang in LANGS:
                text = entry.text(lang)
                examples += [(entry.id, p) for p in (text.title, *text.phrasings)]
        for topic in kb.out_of_scope:
            for lang in LANGS:
                examples += [(OUT_OF_SCOPE + topic.id, p) for p in topic.phrasings(lang)]
        return cls(examples, analyzer)

    def _features(self, text: str, *, correct: bool = True, negated: bool = False) -> Counter[str]:
        """Terms and letter groups; `negated` turns the terms as a negation nearby would."""
        features: Counter[str] = Counter()
        terms = self.analyzer.terms(text, correct=correct)
        for term in self.analyzer.turn(terms) if negated else terms:
            if not term.startswith(UNKNOWN):
                features["w " + term] += 1
        for word in fold(text).split():
            marked = f"<{word}>"
            for n in _GRAMS:
                for start in range(len(marked) - n + 1):
                    features[marked[start : start + n]] += 1
        return features

    def _word(self, word: str, negated: bool = False) -> tuple[int, dict[str, float]]:
        """A folded word's known features, counted, and their gain per label."""
        known = self._words.get((word, negated))
        if known is None:
            if len(self._words) >= _MAX_WORDS:
                self._words.clear()  # bounded; rebuilt from the words in use
            features = {
                f: n for f, n in self._features(word, negated=negated).items() if f in self._known
            }
            gains: dict[str, float] = defaultdict(float)
            for feature, times in features.items():
                for label, gain in self._seen_with[feature]:
                    gains[label] += times * gain
            known = self._words[(word, negated)] = (sum(features.values()), dict(gains))
        return known

    def _negated(self, folded: Sequence[str]) -> set[int]:
        """The positions in `folded` a negation reaches, counted as the analyser counts them
        (over `words`, which drops single letters): so a word's terms turn as in training."""
        kept = [index for index, word in enumerate(folded) if is_word(word)]
        reached = self.analyzer.negated([folded[index] for index in kept])
        return {kept[position] for position in reached if 0 <= position < len(kept)}

    def guess(self, text: str, candidates: Iterable[str]) -> Guess | None:
        """The likeliest of `candidates` (and "out of scope") for `text`; None if unknown.

        Only the candidates are scored, the matcher's best entries: the cost stays the same
        however large the knowledge base grows, and an entry the matcher ranks nowhere near
        the top is no answer anyway.
        """
        labels = {label for label in (*candidates, *self._scopes) if label in self._gain}
        if not labels:
            return None
        scores: dict[str, float]
        if len(self.labels) <= _REMEMBER_UP_TO:
            folded = fold(text).split()
            negated = self._negated(folded)
            words = [self._word(word, index in negated) for index, word in enumerate(folded)]
            seen = sum(count for count, _ in words)
            scores = {label: seen * self._unseen[label] for label in labels}
            for _, gains in words:
                for label in labels:
                    scores[label] += gains.get(label, 0.0)
        else:
            # A word's gains over thousands of labels cost more to remember than to skip:
            # score the few candidates directly.
            features = {f: n for f, n in self._features(text).items() if f in self._known}
            seen = sum(features.values())
            scores = {}
            for label in labels:
                table = self._gain[label]
                score = seen * self._unseen[label]
                for feature, times in features.items():
                    score += times * table.get(feature, 0.0)
                scores[label] = score
        if not seen:
            return None
        scale = self.temperature / seen
        top = max(scores.values())
        weights = {label: math.exp((score - top) * scale) for label, score in scores.items()}
        total = sum(weights.values())
        label = max(weights, key=weights.__getitem__)
        outside = sum(weights.get(scope, 0.0) for scope in self._scopes)
        shares = {name: weight / total for name, weight in weights.items()}
        return Guess(label, shares[label], outside / total, shares)
