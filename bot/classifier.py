"""A second opinion on a question: naive Bayes over words and letter groups, trained at start.

The matcher scores how much of a question an entry explains; on real messages (a story
first, slang, words the knowledge base never uses) the right entry often ranks first with
a score too low to answer. This model is trained from the same phrasings (and the
out-of-scope topics, each a class) and judges the whole message at once, from its
matching terms (synonyms and typo correction included) and the letter groups of its words,
which carry over to word forms and compounds nobody wrote down. Where both agree, the
answer engine trusts the match; where this model is sure a message is out of scope, the
engine declines. Trained in about 0.2 s from `knowledge/`, no dependency beyond the standard
library; only the matcher's best candidates are scored, so a guess costs about 0.2 ms.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from bot.knowledge import LANGS, KnowledgeBase
from bot.matcher import UNKNOWN, Analyzer
from bot.text import fold

OUT_OF_SCOPE = "out-of-scope:"  # + topic id: each out-of-scope topic is a class of its own
_GRAMS = (3, 4)  # letter groups within a word, "<" and ">" marking its ends


@dataclass(frozen=True)
class Guess:
    """The most likely class of a message, its probability, and that of "out of scope"."""

    label: str
    probability: float
    out_of_scope: float


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

    def _features(self, text: str, *, correct: bool = True) -> Counter[str]:
        features: Counter[str] = Counter()
        for term in self.analyzer.terms(text, correct=correct):
            if not term.startswith(UNKNOWN):
                features["w " + term] += 1
        for word in fold(text).split():
            marked = f"<{word}>"
            for n in _GRAMS:
                for start in range(len(marked) - n + 1):
                    features[marked[start : start + n]] += 1
        return features

    def guess(self, text: str, candidates: Iterable[str]) -> Guess | None:
        """The likeliest of `candidates` (and "out of scope") for `text`; None if unknown.

        Only the candidates are scored, the matcher's best entries: the cost stays the same
        however large the knowledge base grows, and an entry the matcher ranks nowhere near
        the top is no answer anyway.
        """
        features = {f: n for f, n in self._features(text).items() if f in self._known}
        labels = {label for label in (*candidates, *self._scopes) if label in self._gain}
        if not features or not labels:
            return None
        seen = sum(features.values())
        scores = {}
        for label in labels:
            gain = self._gain[label]
            score = seen * self._unseen[label]
            for feature, times in features.items():
                score += times * gain.get(feature, 0.0)
            scores[label] = score
        scale = self.temperature / seen
        top = max(scores.values())
        weights = {label: math.exp((score - top) * scale) for label, score in scores.items()}
        total = sum(weights.values())
        label = max(weights, key=weights.__getitem__)
        outside = sum(weights.get(scope, 0.0) for scope in self._scopes)
        return Guess(label, weights[label] / total, outside / total)
