"""The knowledge base: TOML files in `knowledge/` loaded into validated pydantic models.

The repository keeps them in the top-level `knowledge/`; a wheel ships the same folder as the
package `bot.content` (see `[tool.setuptools.package-dir]` in pyproject.toml).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.domain import PLATFORMS, Lang, Platform

Confidence = Literal["H", "M", "L"]


def _default_dir() -> Path:
    """The knowledge files beside this code: `bot/content` if installed, else the checkout's."""
    # Looked up from the `bot` package actually imported, not as `bot.content`: an editable
    # install of another checkout also answers for `bot.content` and would lend us its files.
    shipped = resources.files("bot") / "content"
    if isinstance(shipped, Path) and shipped.is_dir():
        return shipped
    # A checkout, editable install or not: `knowledge/` sits next to `bot/`.
    return Path(__file__).resolve().parent.parent / "knowledge"


DEFAULT_DIR = _default_dir()
MIN_PHRASINGS = 6
# Button arguments hold at most this many characters (callback data is 64 bytes).
MAX_BUTTON_ARG = 40
ANSWER_MAX = 320

Id = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=MAX_BUTTON_ARG)
]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class KnowledgeError(Exception):
    """A knowledge file is missing, unparsable or inconsistent; the message names where."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# What fits a full-width button on a phone (about 30 characters), and a compare topic's
# short name after "⚖️ Vergleich: ".
BUTTON_MAX = 30
COMPARE_BUTTON_MAX = 17
Label = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=BUTTON_MAX)
]


class EntryText(_Model):
    title: Text
    button: Label  # the title as a button: at most BUTTON_MAX characters
    # The article's fact, first screen of a phone: at most about 300 characters.
    answer: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=ANSWER_MAX)
    ]
    # Details behind the "Mehr dazu" button, still from the sources.
    more: Text | None = None
    # Advice of our own, which neither source gives: shown apart and marked as the coach's.
    tip: Text | None = None
    phrasings: list[Text] = Field(min_length=MIN_PHRASINGS)


class Update(_Model):
    """A newer fact from the updates file: the year it changed, or the date it was true."""

    since: int | None = Field(default=None, ge=2000, le=2100)  # the year the change happened
    as_of: int | None = Field(default=None, ge=2000, le=2100)  # no change date: "Stand YYYY"
    confidence: Confidence
    de: Text
    en: Text

    @model_validator(mode="after")
    def _one_date(self) -> Update:
        if (self.since is None) == (self.as_of is None):
            raise ValueError("give exactly one of since (year of the change) or as_of")
        return self

    def text(self, lang: Lang) -> str:
        return self.de if lang == "de" else self.en


class Entry(_Model):
    id: Id
    platforms: list[Platform] = Field(min_length=1)
    twin: Id | None = None
    related: list[Id] = []
    compare: Id | None = None
    keywords: list[Text] = []
    source: Literal["article", "updates"]
    de: EntryText
    en: EntryText
    updates: list[Update] = []

    def text(self, lang: Lang) -> EntryText:
        return self.de if lang == "de" else self.en


class CompareText(_Model):
    title: Text
    button: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=COMPARE_BUTTON_MAX)
    ]
    xing: Text
    linkedin: Text
    verdict: Text


class CompareTopic(_Model):
    id: Id
    entries: list[Id] = Field(min_length=1)
    keywords: list[Text] = []
    # Dated updates shown under their platform, each with its own label: "li-note#1" is the
    # first update of entry li-note. The side texts hold the article's facts only.
    updates: list[Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]+#[1-9][0-9]*$")]] = []
    de: CompareText
    en: CompareText

    def text(self, lang: Lang) -> CompareText:
        return self.de if lang == "de" else self.en


class ItemText(_Model):
    text: Text


class ChecklistItem(_Model):
    id: Id
    entry: Id
    platform: Platform | None = None
    de: ItemText
    en: ItemText

    def text(self, lang: Lang) -> str:
        return (self.de if lang == "de" else self.en).text


class LimitText(_Model):
    over_max: str
    over_soft: str
    always: str


class NoteLimit(_Model):
    """What a platform allows in a request note, and the hints to give."""

    platform: Platform
    entry: Id
    note_max: int | None = Field(default=None, gt=0)
    note_soft: int | None = Field(default=None, gt=0)
    withdraw_after_days: int | None = Field(default=None, gt=0)
    de: LimitText
    en: LimitText

    def text(self, lang: Lang) -> LimitText:
        return self.de if lang == "de" else self.en


class Stopwords(_Model):
    de: list[Text]
    en: list[Text]
    # Word pairs that carry no topic together though each word may ("Guten Tag" is a
    # greeting, "pro Tag" is not).
    pairs: list[Text] = []

    @field_validator("pairs")
    @classmethod
    def _two_words(cls, pairs: list[str]) -> list[str]:
        for pair in pairs:
            if len(pair.split()) != 2:
                raise ValueError(f"stop pair {pair!r} is not two words")
        return pairs


class Negation(_Model):
    """Terms that a nearby negation turns into another concept: "Leute, die ich nicht
    kenne" are strangers, "people I have never met" too."""

    words: list[Text] = []  # the negating words, folded ("nicht", "never")
    reach: int = Field(default=3, ge=1)  # words either side a negation reaches
    turns: dict[Text, Text] = {}  # folded word -> the concept it becomes when negated


class Lexicon(_Model):
    stopwords: Stopwords
    synonyms: dict[str, Text]
    negation: Negation = Negation()


class SmalltalkIntent(_Model):
    id: Id
    reply: Text
    phrases: list[Text] = Field(min_length=1)


class UiTexts(_Model):
    de: dict[str, str]
    en: dict[str, str]
    smalltalk: list[SmalltalkIntent]

    def get(self, lang: Lang, key: str, **values: object) -> str:
        """The UI text `key` in `lang`, with placeholders filled."""
        text = (self.de if lang == "de" else self.en)[key]
        return text.format(**values) if values else text

    def prefixed(self, lang: Lang, prefix: str) -> dict[str, str]:
        """The texts whose keys start with `prefix`, keyed without it ("chart_rate" -> "rate")."""
        texts = self.de if lang == "de" else self.en
        return {
            key.removeprefix(prefix): text for key, text in texts.items() if key.startswith(prefix)
        }


class TopicGroup(_Model):
    """A group of entries on /themen, one screen each (see topics.toml)."""

    id: Id
    de: Label
    en: Label
    entries: list[Id] = Field(min_length=1)

    def title(self, lang: Lang) -> str:
        return self.de if lang == "de" else self.en


class OutOfScopeTopic(_Model):
    """Questions on the platforms that the article does not answer (see out_of_scope.toml)."""

    id: Id
    de: list[Text] = Field(min_length=3)
    en: list[Text] = Field(min_length=3)
    # Most topics are beside the article on either platform; one the article covers for
    # one platform only ("does the sender learn I declined?": XING yes, LinkedIn no) names
    # the platform it is out of scope on.
    platforms: list[Platform] = Field(default=list(PLATFORMS), min_length=1)

    def phrasings(self, lang: Lang) -> list[str]:
        return self.de if lang == "de" else self.en


class KnowledgeBase(_Model):
    entries: list[Entry]
    out_of_scope: list[OutOfScopeTopic]
    compare: list[CompareTopic]
    checklist: list[ChecklistItem]
    groups: list[TopicGroup]
    limits: list[NoteLimit]
    lexicon: Lexicon
    ui: UiTexts

    _entries: dict[str, Entry] = PrivateAttr()
    _compare: dict[str, CompareTopic] = PrivateAttr()
    _checklist: dict[str, ChecklistItem] = PrivateAttr()

    def model_post_init(self, context: Any, /) -> None:
        self._entries = {entry.id: entry for entry in self.entries}
        self._compare = {topic.id: topic for topic in self.compare}
        self._checklist = {item.id: item for item in self.checklist}

    def entry(self, entry_id: str) -> Entry | None:
        return self._entries.get(entry_id)

    def compare_topic(self, topic_id: str) -> CompareTopic | None:
        return self._compare.get(topic_id)

    def checklist_done(self, done: set[str]) -> int:
        """How many of the current checklist's items are among the ticked ids `done`."""
        return sum(item.id in done for item in self.checklist)

    def update_line(self, lang: Lang, update: Update) -> str:
        """One dated update as one line: "Update seit 2023 (gut belegt): ..."."""
        if update.since is not None:
            label = self.ui.get(lang, "update_since", year=update.since)
        else:
            label = self.ui.get(lang, "update_as_of", year=update.as_of)
        confidence = self.ui.get(lang, f"confidence_{update.confidence}")
        return self.ui.get(
            lang, "update_line", label=label, confidence=confidence, text=update.text(lang)
        )

    def update_ref(self, ref: str) -> tuple[Entry, Update] | None:
        """The entry and update that a reference like "li-note#1" names."""
        entry_id, _, number = ref.partition("#")
        entry = self._entries.get(entry_id)
        if entry is None or not number.isdigit() or not 1 <= int(number) <= len(entry.updates):
            return None
        return entry, entry.updates[int(number) - 1]

    def checklist_item(self, item_id: str) -> ChecklistItem | None:
        return self._checklist.get(item_id)

    def limit(self, platform: str) -> NoteLimit | None:
        return next((limit for limit in self.limits if limit.platform == platform), None)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise KnowledgeError(f"{path}: file is missing") from None
    except tomllib.TOMLDecodeError as exc:
        raise KnowledgeError(f"{path}: not valid TOML: {exc}") from None


def _describe(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]) or "(top level)"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


_M = TypeVar("_M", bound=BaseModel)


def _validate_list(path: Path, key: str, kind: str, model: type[_M], raw: Any) -> list[_M]:
    if not isinstance(raw, list) or not raw:
        raise KnowledgeError(f"{path}: needs at least one [[{key}]] table")
    items = []
    for number, item in enumerate(raw, start=1):
        label = item.get("id") if isinstance(item, dict) else None
        name = f"{kind} {label!r}" if label else f"{kind} #{number}"
        try:
            items.append(model.model_validate(item))
        except ValidationError as exc:
            raise KnowledgeError(f"{path}: {name}: {_describe(exc)}") from None
    return items


def _validate(path: Path, name: str, model: type[_M], raw: Any) -> _M:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise KnowledgeError(f"{path}: {name}: {_describe(exc)}") from None


def load(directory: Path = DEFAULT_DIR) -> KnowledgeBase:
    """Load and cross-check every knowledge file; raise KnowledgeError naming the fault."""
    files = {
        name: directory / f"{name}.toml"
        for name in (
            "entries",
            "out_of_scope",
            "compare",
            "checklist",
            "topics",
            "limits",
            "lexicon",
            "ui",
        )
    }
    raw = {name: _read_toml(path) for name, path in files.items()}
    entries = _validate_list(files["entries"], "entry", "entry", Entry, raw["entries"].get("entry"))
    out_of_scope = _validate_list(
        files["out_of_scope"], "topic", "topic", OutOfScopeTopic, raw["out_of_scope"].get("topic")
    )
    compare = _validate_list(
        files["compare"], "topic", "topic", CompareTopic, raw["compare"].get("topic")
    )
    checklist = _validate_list(
        files["checklist"], "item", "item", ChecklistItem, raw["checklist"].get("item")
    )
    groups = _validate_list(
        files["topics"], "group", "group", TopicGroup, raw["topics"].get("group")
    )
    limits = _validate_list(
        files["limits"], "limit", "limit", NoteLimit, raw["limits"].get("limit")
    )
    lexicon = _validate(files["lexicon"], "lexicon", Lexicon, raw["lexicon"])
    ui = _validate(files["ui"], "ui", UiTexts, raw["ui"])
    kb = KnowledgeBase(
        entries=entries,
        out_of_scope=out_of_scope,
        compare=compare,
        checklist=checklist,
        groups=groups,
        limits=limits,
        lexicon=lexicon,
        ui=ui,
    )
    problems = list(_cross_check(kb))
    if problems:
        raise KnowledgeError(f"{directory}: " + "; ".join(problems))
    return kb


def _duplicates(ids: list[str]) -> set[str]:
    seen: set[str] = set()
    return {item for item in ids if item in seen or seen.add(item)}  # type: ignore[func-returns-value]


def _cross_check(kb: KnowledgeBase) -> Iterator[str]:
    """Yield every reference between files that does not resolve."""
    entry_ids = {entry.id for entry in kb.entries}
    topic_ids = {topic.id for topic in kb.compare}
    for label, ids in (
        ("entries.toml: entry", [e.id for e in kb.entries]),
        ("compare.toml: topic", [t.id for t in kb.compare]),
        ("checklist.toml: item", [i.id for i in kb.checklist]),
        ("out_of_scope.toml: topic", [t.id for t in kb.out_of_scope]),
    ):
        for dup in sorted(_duplicates(ids)):
            yield f"{label} {dup!r}: id is used twice"
    for entry in kb.entries:
        where = f"entries.toml: entry {entry.id!r}"
        for ref in entry.related:
            if ref not in entry_ids or ref == entry.id:
                yield f"{where}: related: {ref!r} is not another entry"
        if entry.compare is not None and entry.compare not in topic_ids:
            yield f"{where}: compare: {entry.compare!r} is not a compare topic"
        if entry.twin is not None:
            twin = kb.entry(entry.twin)
            if twin is None:
                yield f"{where}: twin: {entry.twin!r} is not an entry"
            elif twin.twin != entry.id:
                yield f"{where}: twin: {entry.twin!r} does not name {entry.id!r} back"
            elif set(twin.platforms) & set(entry.platforms):
                yield f"{where}: twin: {entry.twin!r} must be about the other platform"
            elif len(entry.id) + len(twin.id) + 1 > MAX_BUTTON_ARG:
                # Twins shown together share one "Mehr dazu" button naming both.
                yield f"{where}: twin: ids of {entry.id!r} and {twin.id!r} are too long together"
        if entry.source == "updates" and not entry.updates:
            yield f"{where}: updates: an entry sourced from updates needs at least one update"
    for topic in kb.compare:
        for ref in topic.entries:
            if ref not in entry_ids:
                yield f"compare.toml: topic {topic.id!r}: entries: {ref!r} is not an entry"
        for ref in topic.updates:
            if kb.update_ref(ref) is None:
                yield f"compare.toml: topic {topic.id!r}: updates: {ref!r} is not an update"
    grouped = [ref for group in kb.groups for ref in group.entries]
    for ref in sorted(set(grouped) - entry_ids):
        yield f"topics.toml: entries: {ref!r} is not an entry"
    for ref in sorted(_duplicates(grouped)):
        yield f"topics.toml: entry {ref!r} is in two groups"
    for ref in sorted(entry_ids - set(grouped)):
        yield f"topics.toml: entry {ref!r} is in no group"
    for limit in kb.limits:
        if limit.entry not in entry_ids:
            yield f"limits.toml: limit {limit.platform!r}: entry: {limit.entry!r} is not an entry"
    for dup in sorted(_duplicates([limit.platform for limit in kb.limits])):
        yield f"limits.toml: platform {dup!r} has two limits"
    for item in kb.checklist:
        if item.entry not in entry_ids:
            yield f"checklist.toml: item {item.id!r}: entry: {item.entry!r} is not an entry"
    for missing in sorted(set(kb.ui.de) ^ set(kb.ui.en)):
        lang = "en" if missing in kb.ui.de else "de"
        yield f"ui.toml: [{lang}]: key {missing!r} is missing"
    for intent in kb.ui.smalltalk:
        if intent.reply not in kb.ui.de:
            yield f"ui.toml: smalltalk {intent.id!r}: reply: {intent.reply!r} is not a UI key"
