"""Text normalisation shared by the knowledge index and incoming questions."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ẞ": "ss"})
# "E-Mail", "e mail" and "eMail" are one word for users; join them before splitting on "-".
_EMAIL = re.compile(r"\be[\s\-]?mails?\b")
# ... and LinkedIn's "InMail" comes out of dictation as "in mail", which no sentence says
# otherwise ("in der Mail", "in the mail" have an article).
_INMAIL = re.compile(r"\bin[\s\-]mails?\b")
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
# Dictation hears the platforms' names as other words: "linkt in", "link din", "x ing".
# Where they are also everyday words ("den Link in der Mail", "links in der Ecke", "sing"),
# only after a preposition or a possessive that makes them a place or an account ("bei
# links in", "mein sing profil") or before the platform's own things ("sing gruppen").
_AT = r"\b(bei|auf|ueber|von|mit|mein|meinem|meinen|meine|dein|deinem|ihr|ihrem) "
_SPOKEN_LINKEDIN = re.compile(rf"\b(?:linkt in|link din|linkd in|linked inn)\b|{_AT}links? in\b")
_SPOKEN_XING = re.compile(
    rf"\bx ing\b|{_AT}sing\b|\bsing(?= (?:profil|account|konto|gruppen?|kontakte?|premium)\b)"
)


def _platform(name: str) -> Callable[[re.Match[str]], str]:
    """A replacement that keeps the preposition or possessive before the spoken name."""
    return lambda match: (match.group(1) + " " if match.group(1) else "") + name


_AS_LINKEDIN = _platform("linkedin")
_AS_XING = _platform("xing")


# Light stemming: enough to meet plural, verb and "-ung" forms in both languages, applied
# identically to questions and knowledge, so the stems need not be real words.
_SUFFIXES = ("ungen", "ung", "ing", "ern", "en", "er", "ed", "es", "e", "n", "s")
_MIN_STEM = 4


# Dictation writes numbers out ("dreihundert Zeichen", "hundertzwanzig Anfragen"); the
# knowledge base has them as figures. German hundreds are one word: read them as a figure.
_UNITS = dict(ein=1, eins=1, zwei=2, drei=3, vier=4, fuenf=5, sechs=6, sieben=7, acht=8, neun=9)
_TEENS = dict(
    zehn=10, elf=11, zwoelf=12, dreizehn=13, vierzehn=14, fuenfzehn=15, sechzehn=16,
    siebzehn=17, achtzehn=18, neunzehn=19,
)  # fmt: skip
_TENS = dict(
    zwanzig=20, dreissig=30, vierzig=40, fuenfzig=50, sechzig=60, siebzig=70, achtzig=80,
    neunzig=90,
)  # fmt: skip
_HUNDREDS = re.compile(r"\b(" + "|".join(_UNITS) + r")?hundert(?:und)?([a-z]*)\b")


def _below_hundred(word: str) -> int | None:
    if not word:
        return 0
    for table in (_UNITS, _TEENS, _TENS):
        if word in table:
            return table[word]
    for unit, value in _UNITS.items():
        if word.startswith(unit + "und") and word[len(unit) + 3 :] in _TENS:
            return value + _TENS[word[len(unit) + 3 :]]
    return None


def _hundreds_as_figure(match: re.Match[str]) -> str:
    rest = _below_hundred(match.group(2))
    if rest is None:
        return match.group(0)
    return str(100 * _UNITS[match.group(1) or "ein"] + rest)


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
    if "mail" in text:
        text = _INMAIL.sub("inmail", _EMAIL.sub("email", text))
    # Most texts hold none of these; the cheap tests spare the knowledge base's many
    # thousand folds at start-up a regular expression each.
    if "hundert" in text:
        text = _HUNDREDS.sub(_hundreds_as_figure, text)
    if "viel" in text:
        text = _WIE_VIELE.sub("wieviele", text)
    if "how " in text:
        text = _HOW_LONG.sub("howlong", _HOW_MANY.sub("howmany", text))
    if "wie lang " in text:
        text = _WIE_LANG.sub("wie lange", text)
    if "who" in text:
        text = _ASKING_WHO.sub(r"\1\2whom", text)
    text = _NON_WORD.sub(" ", text).strip()
    if "link" in text:
        text = _SPOKEN_LINKEDIN.sub(_AS_LINKEDIN, text)
    if "x ing" in text or "sing" in text:
        text = _SPOKEN_XING.sub(_AS_XING, text)
    return text


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
