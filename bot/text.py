"""Text normalisation shared by the knowledge index and incoming questions."""

from __future__ import annotations

import re
import unicodedata

_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ẞ": "ss"})
# "E-Mail", "e mail" and "eMail" are one word for users; join them before splitting on "-".
_EMAIL = re.compile(r"\be[\s\-]?mails?\b")
_NON_WORD = re.compile(r"[^a-z0-9]+")
# Light stemming: enough to meet plural, verb and "-ung" forms in both languages, applied
# identically to questions and knowledge, so the stems need not be real words.
_SUFFIXES = ("ungen", "ung", "ing", "ern", "en", "er", "ed", "es", "e", "n", "s")
_MIN_STEM = 4


def fold(text: str) -> str:
    """Lower-case, spell out umlauts and ß, drop accents, punctuation to single spaces."""
    text = text.lower().translate(_FOLD)
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = _EMAIL.sub("email", text)
    return _NON_WORD.sub(" ", text).strip()


def words(text: str) -> list[str]:
    """The folded words of `text`; single letters carry no meaning and are dropped."""
    return [word for word in fold(text).split() if len(word) > 1 or word.isdigit()]


def stem(word: str) -> str:
    """Strip one common German or English ending, keeping at least four letters."""
    if word.isdigit():
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= _MIN_STEM:
            return word[: -len(suffix)]
    return word
