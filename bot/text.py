"""Text normalisation shared by the knowledge index and incoming questions."""

from __future__ import annotations

import re
import unicodedata

_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ẞ": "ss"})
# "E-Mail", "e mail" and "eMail" are one word for users; join them before splitting on "-".
_EMAIL = re.compile(r"\be[\s\-]?mails?\b")
_NON_WORD = re.compile(r"[^a-z0-9]+")
# Contractions, with any apostrophe a phone or a web page types: "don't" and "don’t" are
# "do not", "won't" is "will not", "you're" is "you", "LinkedIn's" is "linkedin", "gibt's"
# is "gibt", so no stray "re", "ve", "don" or "wo" is taken for a word of its own.
_APOSTROPHES = frozenset("'\u2019\u2018`\u00b4")
_APOSTROPHE = "[" + re.escape("".join(sorted(_APOSTROPHES))) + "]"
_IRREGULAR_NOT = {"wo": "will", "ca": "can", "sha": "shall"}  # won't, can't, shan't
_NOT = re.compile(rf"\b([a-z]+)n{_APOSTROPHE}t\b")
_CLITIC = re.compile(rf"(?<=[a-z]){_APOSTROPHE}(?:s|re|ve|ll|d|m)\b")
# "Wie viele?" and "how many?" ask for a number: one word each, so the lexicon can map them
# (each stays a word of its language, for telling German from English).
_WIE_VIELE = re.compile(r"\bwie viele?n?\b")
_HOW_MANY = re.compile(r"\bhow (?:many|much)\b")
# "How long" before a verb of time asks for a duration ("how long does the restriction
# last?"), not for a length ("how long can the note be?"); so does "wie lang dauert".
_HOW_LONG = re.compile(
    r"\bhow long(?= (?:does|do|did|will|would|until|till|before|should|must|have|has)\b)"
)
_WIE_LANG = re.compile(r"\bwie lang(?= (?:dauert|dauern|dauerts|bis|bleibt|gilt|muss)\b)")
# "Who" opening a sentence asks for people ("Who should I add first?"), and so does "who
# to" anywhere ("how do I decide who to connect with"); elsewhere it is mostly a relative
# pronoun ("people who ..."), which says nothing about the topic.
_ASKING_WHO = re.compile(r"(^|[.?!:;]\s*)((?:so|and|but|ok|okay|then)\s+)?who\b|\bwho(?=\s+to\b)")
# Light stemming: enough to meet plural, verb and "-ung" forms in both languages, applied
# identically to questions and knowledge, so the stems need not be real words.
_SUFFIXES = ("ungen", "ung", "ing", "ern", "en", "er", "ed", "es", "e", "n", "s")
_MIN_STEM = 4


def _spell_out_not(match: re.Match[str]) -> str:
    verb = match.group(1)
    return _IRREGULAR_NOT.get(verb, verb) + " not"


def fold(text: str) -> str:
    """Lower-case, spell out umlauts and ß, drop accents, punctuation to single spaces."""
    text = text.lower().translate(_FOLD)
    if not _APOSTROPHES.isdisjoint(text):
        text = _CLITIC.sub("", _NOT.sub(_spell_out_not, text))
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = _EMAIL.sub("email", text)
    # Most texts hold none of these; the cheap test spares the knowledge base's many
    # thousand folds at start-up three regular expressions each.
    if "viel" in text:
        text = _WIE_VIELE.sub("wieviele", text)
    if "how " in text:
        text = _HOW_LONG.sub("howlong", _HOW_MANY.sub("howmany", text))
    if "wie lang " in text:
        text = _WIE_LANG.sub("wie lange", text)
    if "who" in text:
        text = _ASKING_WHO.sub(r"\1\2whom", text)
    return _NON_WORD.sub(" ", text).strip()


def is_word(folded: str) -> bool:
    """Whether a folded token counts as a word: single letters carry no meaning."""
    return len(folded) > 1 or folded.isdigit()


def words(text: str) -> list[str]:
    """The folded words of `text`; single letters carry no meaning and are dropped."""
    return words_of_folded(fold(text))


def words_of_folded(folded: str) -> list[str]:
    """Like `words`, for a text already folded."""
    return [word for word in folded.split() if is_word(word)]


def stem(word: str) -> str:
    """Strip one common German or English ending, keeping at least four letters."""
    if word.isdigit():
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= _MIN_STEM:
            return word[: -len(suffix)]
    return word
