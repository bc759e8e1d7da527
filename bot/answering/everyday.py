"""Everyday words of German and English, to tell a real word from a typo.

The typo step corrects a word the knowledge base lacks towards a known word one or two edits
away. For a typo that is right ("anfrgae", "kontake"), but a real word is no typo: "besucht"
is not "gesucht", "spending" is not "pending", "reicht" is not "recht". The word lists are
wordfreq's small ones (about 39,000 German and 29,000 English words, the most frequent on
the web, subtitles, books and news), folded like questions; loaded once, in about 0.3 s.
"""

from __future__ import annotations

from functools import cache

from bot.domain import LANGS, Lang
from bot.text import fold


@cache
def everyday_words() -> dict[Lang, frozenset[str]]:
    """Folded everyday words per language."""
    # 0.15 s to import: only when an engine is built. The list comes in frequency bands of
    # words, without the per-word figures a frequency dictionary would build.
    from wordfreq import get_frequency_list

    return {
        lang: frozenset(
            fold(word) for band in get_frequency_list(lang, wordlist="small") for word in band
        )
        for lang in LANGS
    }


def _plain(word: str) -> str:
    # "kürzer" typed as "kurzer": a spelled-out umlaut against a dropped one is no difference
    return word.replace("ae", "a").replace("oe", "o").replace("ue", "u")


def same_word(word: str, other: str, tail: int = 2) -> bool:
    """Whether two words differ only in their last `tail` letters: forms of one word
    ("kennt", "kenne"; "wichtigsten", "wichtig"), not two words ("besucht", "gesucht")."""
    a, b = _plain(word), _plain(other)
    common = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        common += 1
    return common >= min(len(a), len(b)) - tail
