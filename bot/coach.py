"""The bot's brain: commands, questions and button presses in, Replies out; no transport."""

from __future__ import annotations

import asyncio
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from rapidfuzz import fuzz, process

from bot.answering.service import Answer, AnswerService
from bot.config import Settings
from bot.domain import Clock, GuidedStep, Lang, User, language_for, utc_now
from bot.followups.drafts import DraftCheck
from bot.followups.linkedin_export import ExportError, parse_export
from bot.followups.policy import NudgePolicy
from bot.followups.preferences import Preferences
from bot.followups.reports import Reports
from bot.followups.requests import name_part, read_reply
from bot.followups.tracker import RequestTracker
from bot.knowledge import BUTTON_MAX, CompareText, Entry, KnowledgeBase
from bot.privacy import readable_export
from bot.render import to_plain
from bot.reply import Action, ActionKind, Block, Button, Document, Reply
from bot.storage import Storage
from bot.text import fold


@dataclass(frozen=True)
class InlineResult:
    """One answer offered in inline mode: sent as `reply`'s text, with a button to the bot."""

    id: str
    title: str
    description: str
    reply: Reply
    open_label: str


# Inline mode offers at most this many answers (Telegram allows 50; a phone shows about 5).
INLINE_RESULTS = 5


@dataclass(frozen=True)
class UserRef:
    """Who is talking: an id and the client's language code, if any.

    `shared` marks an id that is no one's own: Telegram's stand-in for an anonymous group
    admin or a channel, the same in every group and channel. Such a sender is answered, but
    nothing is stored under it, and personal commands point to the person's own account.
    """

    id: int
    language_code: str | None = None
    shared: bool = False


# Command names (English) and their German aliases; both front doors route through this.
COMMANDS: dict[str, tuple[str, ...]] = {
    "start": (),
    "help": ("hilfe",),
    "topics": ("themen",),
    "compare": ("vergleich",),
    "checklist": ("checkliste",),
    "settings": ("einstellungen",),
    "request": ("anfrage",),
    "pending": ("offen",),
    "draft": ("entwurf",),
    "progress": ("fortschritt",),
    "import": ("importieren",),
    "cancel": ("abbrechen",),
    "privacy": ("datenschutz",),
    "export": (),
    "delete": ("loeschen",),
    "stats": (),
}
_COMPARE_WORDS = frozenset({"vergleich", "vergleiche", "vergleichen", "compare", "vs", "versus"})
# Up to this many words, a message's language is a guess and the user's choice wins.
SHORT_MESSAGE_WORDS = 3
# A tap on an offer or on "Nichts davon" belongs to a question asked this recently.
FEEDBACK_WINDOW = timedelta(hours=1)
_ALIASES = {alias: name for name, aliases in COMMANDS.items() for alias in (name, *aliases)}


# Commands that show or change a user's own data: answered in the private chat only.
PERSONAL_COMMANDS = frozenset(
    {"checklist", "settings", "request", "pending", "draft", "progress", "import", "cancel",
     "export", "delete", "stats"}
)  # fmt: skip


def split_command(text: str) -> tuple[str, str]:
    """ "/anfrage linkedin Erika\nMesse" -> ("/anfrage", "linkedin Erika\nMesse"): the
    arguments keep their line breaks (a new line separates the memo)."""
    parts = text.strip().split(maxsplit=1)
    if not parts:
        return "", ""
    return parts[0], text.strip()[len(parts[0]) :].strip()


def linked_command(name: str, args: str) -> str:
    """The command that runs: a deep link's ("/start export" is /export), else `name`."""
    target = args.strip()
    return target if name == "start" and target in COMMANDS and target != "start" else name


def canonical_command(name: str) -> str | None:
    """The command a typed name or alias stands for ("/Hilfe@bot" -> "help"), if any."""
    return _ALIASES.get(name.lstrip("/").split("@", 1)[0].lower())


class Coach:
    """One instance serves every user of every front door."""

    def __init__(
        self,
        answers: AnswerService,
        store: Storage,
        *,
        default_language: Lang = "de",
        admin_ids: frozenset[int] = frozenset(),
        timezone: ZoneInfo | None = None,
        policy: NudgePolicy | None = None,
        log_retention_days: int = 90,
        clock: Clock = utc_now,
    ) -> None:
        self.answers = answers
        self.kb: KnowledgeBase = answers.kb
        self.store = store
        self.default_language = default_language
        self.admin_ids = admin_ids
        self.timezone = timezone or ZoneInfo("Europe/Berlin")
        self.clock = clock
        self.log_retention_days = log_retention_days
        self.tracker = RequestTracker(
            answers.kb,
            store,
            policy or NudgePolicy(timedelta(days=7), timedelta(days=7)),
            zone=self.timezone,
            retention=timedelta(days=log_retention_days),
        )
        self.preferences = Preferences(self.tracker)
        self.drafts = DraftCheck(self.tracker)
        self.reports = Reports(self.tracker)
        self._compare_choices = {
            topic.id: fold(" ".join([topic.de.title, topic.en.title, *topic.keywords]))
            for topic in self.kb.compare
        }

    async def language(self, user: UserRef, *, touch: bool = True) -> Lang:
        """The user's setting, else their client's language (en* English), else the default.

        With `touch` (a message from the user) they are also recorded as seen and active;
        the nudge sweep reads without touching, so a nudge never reactivates anyone. A
        shared sender is never recorded.
        """
        record: User | None
        if touch and not user.shared:
            record = await self.store.users.touch(user.id, user.language_code, self.clock())
        else:
            record = await self.store.users.get(user.id)
        return self.language_of(record, user.language_code)

    async def failure(self, user: UserRef | None) -> Reply:
        """The friendly reply when a user's update could not be handled."""
        lang = await self.language(user, touch=False) if user else self.default_language
        return Reply((Block(self._ui(lang, "error")),))

    def language_of(self, record: User | None, language_code: str | None = None) -> Lang:
        """The language for a user already read from the storage."""
        return language_for(record, language_code, self.default_language)

    def _ui(self, lang: Lang, key: str, **values: object) -> str:
        return self.kb.ui.get(lang, key, **values)

    @classmethod
    def from_settings(
        cls, answers: AnswerService, store: Storage, settings: Settings, clock: Clock = utc_now
    ) -> Coach:
        """The Coach as configured by the operator (both front doors use this)."""
        return cls(
            answers,
            store,
            default_language=settings.default_language,
            admin_ids=settings.admin_ids,
            timezone=settings.zone,
            policy=settings.nudge_policy,
            log_retention_days=settings.log_retention_days,
            clock=clock,
        )

    async def command(self, user: UserRef, name: str, args: str = "") -> Reply:
        """Run a command by its canonical name; unknown names get a friendly pointer.

        Any command ends a guided step, so the text after it is never taken as a name.
        """
        if user.shared and linked_command(name, args) in PERSONAL_COMMANDS:
            return await self.private_only(user)
        if name == "cancel":
            return await self.tracker.cancel(user.id, await self.language(user))
        await self.store.users.clear_step(user.id)
        if name == "draft":
            return await self.drafts.draft(user.id, await self.language(user), args, self.clock())
        if name == "progress":
            return await self.reports.progress(user.id, await self.language(user), self.clock())
        if name == "import":
            lang = await self.language(user)
            return Reply((Block(self._ui(lang, "import_how")),))
        if linked_command(name, args) != name:  # a deep link from a group
            return await self.command(user, linked_command(name, args))
        if name == "start":
            return await self.start(user)
        if name == "help":
            return await self.help(user)
        if name == "topics":
            return await self.topics(user)
        if name == "compare":
            return await self.compare(user, args)
        if name == "checklist":
            return await self.checklist(user)
        if name == "settings":
            return await self.settings(user)
        if name == "stats":
            return await self.stats(user)
        if name == "request":
            return await self.tracker.request(
                user.id, await self.language(user), args, self.clock()
            )
        if name == "pending":
            return await self.tracker.pending(user.id, await self.language(user), self.clock())
        if name == "privacy":
            lang = await self.language(user)
            return Reply((Block(self._ui(lang, "privacy", days=self.log_retention_days)),))
        if name == "export":
            return await self.export(user)
        if name == "delete":
            lang = await self.language(user)
            # "Ja, löschen" is good once, for this question only: a step with a fresh code.
            code = secrets.token_hex(4)
            await self.store.users.set_step(user.id, "confirm_delete", {"code": code}, self.clock())
            buttons = (
                Button(self._ui(lang, "button_forget"), Action(ActionKind.FORGET, f"yes-{code}")),
                Button(self._ui(lang, "button_cancel"), Action(ActionKind.FORGET, "no")),
            )
            return Reply((Block(self._ui(lang, "forget_ask")),), (buttons,))
        return await self.unknown_command(user)

    async def start(self, user: UserRef) -> Reply:
        lang = await self.language(user)
        return Reply((Block(self._ui(lang, "start")),), self.answers.main_buttons(lang))

    async def help(self, user: UserRef) -> Reply:
        lang = await self.language(user)
        return Reply((Block(self._ui(lang, "help")),), self.answers.main_buttons(lang))

    async def unknown_command(self, user: UserRef) -> Reply:
        lang = await self.language(user)
        return Reply((Block(self._ui(lang, "unknown_command")),), self.answers.main_buttons(lang))

    async def import_file(self, user: UserRef, data: bytes, filename: str) -> Reply:
        """A file the user sent: LinkedIn's data export (ZIP or CSV) becomes follow-ups.

        The file itself is never stored: it is read in memory, and only the rows that became
        requests are kept.
        """
        lang = await self.language(user)
        await self.store.users.clear_step(user.id)
        try:
            # Parsing thousands of rows is CPU work: off the event loop.
            content = await asyncio.to_thread(parse_export, data, filename)
        except ExportError as error:
            return self._refusal(lang, error.reason)
        return await self.reports.import_export(user.id, lang, content, self.clock())

    async def inline(self, user: UserRef, query: str) -> list[InlineResult]:
        """`@bot <question>` in any chat: the answers the engine would give, nothing else.

        The same outcome rules as in the private chat: an answer is offered as itself, an
        unsure question offers its candidates, an off-topic one offers nothing. An empty
        query offers the most asked topics. Nothing is logged: the chat is not ours.
        """
        lang = await self.language(user, touch=False)
        text = query.strip()
        if not text:
            since = self.clock() - timedelta(days=30)
            popular = await self.store.questions.top_entries(since, INLINE_RESULTS)
            chosen = [e for ref in popular if (e := self.kb.entry(ref)) is not None]
            for fallback in self.kb.groups:  # too few asked yet: one topic per step
                entry = self.kb.entry(fallback.entries[0])
                if entry is not None and entry not in chosen:
                    chosen.append(entry)
            entries = chosen[:INLINE_RESULTS]
            return [self._inline_result(lang, entry) for entry in entries]
        answer = self.answers.ask(text, fallback=lang)
        if answer.outcome == "answer" and answer.match is not None:
            # Exactly what the private chat would show (twins side by side included).
            return [self._inline_result(answer.lang, answer.match.entry, answer.reply)]
        if answer.outcome == "clarify":
            return [self._inline_result(answer.lang, s.entry) for s in answer.offers]
        return []

    def _inline_result(self, lang: Lang, entry: Entry, shown: Reply | None = None) -> InlineResult:
        """`entry` offered inline, as `shown` if the engine already wrote it out."""
        reply = shown or self.answers.entries_reply(lang, [entry])
        text = entry.text(lang)
        return InlineResult(
            id=entry.id,
            title=text.title,
            description=text.answer[:100],
            reply=Reply(reply.blocks),
            open_label=self._ui(lang, "inline_open"),
        )

    async def private_only(self, user: UserRef, link: str | None = None) -> Reply:
        """A personal command in a group: a pointer to the private chat (`link`, if known),
        nothing personal.

        A shared sender (an anonymous admin, a channel) is asked to write from their own
        account: nothing under the shared id is anyone's own.
        """
        lang = await self.language(user, touch=False)
        text = self._ui(lang, "own_account_only" if user.shared else "private_only")
        if link is None:
            return Reply((Block(text),))
        button = Button(self._ui(lang, "button_private_chat"), Action(ActionKind.HELP), url=link)
        return Reply((Block(text),), ((button,),))

    async def file_refused(self, user: UserRef, reason: str) -> Reply:
        """A file not read at all: too large to download, or the download failed."""
        return self._refusal(await self.language(user), reason)

    def _refusal(self, lang: Lang, reason: str) -> Reply:
        return Reply((Block(self._ui(lang, f"import_error_{reason}")),))

    async def non_text(self, user: UserRef) -> Reply:
        lang = await self.language(user)
        return Reply((Block(self._ui(lang, "non_text")),), self.answers.main_buttons(lang))

    async def topics(self, user: UserRef, group_id: str = "", *, edit: bool = False) -> Reply:
        """The topic groups (the article's steps); a group shows its entries, edited in place."""
        lang = await self.language(user)
        group = next((g for g in self.kb.groups if g.id == group_id), None)
        if group is None:
            buttons = tuple(
                (Button(g.title(lang), Action(ActionKind.TOPICS, g.id)),) for g in self.kb.groups
            )
            return Reply(
                (Block(self._ui(lang, "topics_title"), "title"), Block(self._ui(lang, "topics"))),
                buttons,
                edit=edit,
            )
        rows = [
            (self.answers.entry_button(lang, entry),)
            for ref in group.entries
            if (entry := self.kb.entry(ref)) is not None
        ]
        back = (Button(self._ui(lang, "button_topics_back"), Action(ActionKind.TOPICS, "menu")),)
        return Reply((Block(group.title(lang), "title"),), (*rows, back), edit=True)

    async def question(self, user: UserRef, text: str) -> Reply:
        """Answer free text in the question's language, falling back to the user's.

        A language chosen in /settings wins for short messages ("ok", "Sales Navigator?"),
        whose detected language is a guess. A shared sender's question is answered and
        neither logged nor taken as a guided step's reply.
        """
        if user.shared:
            lang = self.language_of(None, user.language_code)
            return self._ask(None, lang, text).reply
        record = await self.store.users.touch(user.id, user.language_code, self.clock())
        lang = self.language_of(record, user.language_code)
        step = await self.tracker.step(user.id, self.clock())
        if step is not None:
            return await self._step_text(user, record, lang, step, text)
        answer = self._ask(record, lang, text)
        await self._log_question(user, text, answer)
        return answer.reply

    def _ask(self, record: User | None, lang: Lang, text: str) -> Answer:
        chosen = record.language if record is not None else None
        short = len(fold(text).split()) <= SHORT_MESSAGE_WORDS
        return self.answers.ask(text, lang=chosen if short else None, fallback=lang)

    async def _step_text(
        self, user: UserRef, record: User, lang: Lang, step: GuidedStep, text: str
    ) -> Reply:
        """Text while a guided step waits: a name, a draft, a time zone, or a way out.

        A reply to "Wie heißt die Person?" that reads like a question is answered (the
        request is not logged), a cancel phrase cancels, and anything unsure is asked back.
        """
        now = self.clock()
        if step.kind == "draft":
            return await self.drafts.draft_given(user.id, lang, step, text)
        if step.kind in ("timezone", "correct") and read_reply(text) == "cancel":
            return await self.tracker.cancel(user.id, lang)
        if step.kind == "timezone":
            return await self.preferences.timezone_given(user.id, lang, text)
        if step.kind == "correct":
            return await self.tracker.correction_given(user.id, lang, step, text, now)
        if step.kind == "confirm_name":
            word = fold(text).strip(" .!")
            if word in _YES:
                return await self.tracker.confirmed(user.id, lang, step, True, now)
            if word in _NO:
                return await self.tracker.confirmed(user.id, lang, step, False, now)
        reading = read_reply(text)
        if reading == "cancel":
            return await self.tracker.cancel(user.id, lang)
        answer = self._ask(record, lang, text if reading != "name" else name_part(text))
        knows = answer.outcome == "answer"
        if reading == "question" or (reading == "unsure" and knows):
            await self._log_question(user, text, answer)
            still = Block(self._ui(lang, "request_not_logged"), "note")
            cancel = self.tracker.cancel_row(lang)
            return Reply((*answer.reply.blocks, still), (*answer.reply.buttons, cancel))
        if reading == "unsure" or knows:  # "XING Premium" reads like a name, but is a topic
            return await self.tracker.ask_to_confirm(user.id, lang, step, text, now)
        return await self.tracker.name_given(user.id, lang, step, text, now)

    async def _wrong(self, user: UserRef, lang: Lang, arg: str) -> Reply:
        """ "Passt nicht?" under an answer: the question is marked as answered wrongly (for
        `bot review`), and its other candidates are offered; a tap on one is recorded as
        with any offer. Without a logged question (a shared sender's, or over an hour old)
        the entries the answer links to are offered instead."""
        answered = arg.split(".")
        if not arg or any(self.kb.entry(ref) is None for ref in answered):
            return Reply((), notice=self._ui(lang, "stale_button"))
        since = self.clock() - FEEDBACK_WINDOW
        question = await self.store.questions.mark_wrong(user.id, answered, since)
        if question is None:
            return self.answers.wrong_reply(lang, self.answers.neighbours(answered))
        return self.answers.wrong_reply(lang, self.answers.others(question, answered))

    async def _log_question(self, user: UserRef, text: str, answer: Answer) -> None:
        match = answer.match
        await self.store.questions.log(
            user.id,
            text,
            answer.lang,
            answer.outcome,
            match.entry.id if match else None,
            match.score if match else None,
            self.clock(),
        )

    async def compare(self, user: UserRef, words: str = "") -> Reply:
        """Without words a topic menu; with words the best-matching topic side by side."""
        lang = await self.language(user)
        if not fold(words):
            return Reply((Block(self._ui(lang, "compare_menu")),), self._compare_menu(lang))
        topic_id = self._compare_topic_for(words)
        if topic_id is None:
            return Reply((Block(self._ui(lang, "compare_unknown")),), self._compare_menu(lang))
        return self.compare_topic(lang, topic_id)

    def _compare_topic_for(self, words: str) -> str | None:
        """The topic whose title or keywords the words name, else the topic of the entry
        they match as a question would ("/vergleich wie antworte ich")."""
        named = process.extractOne(
            fold(words),
            self._compare_choices,
            scorer=fuzz.token_set_ratio,
            processor=None,
            score_cutoff=90,
        )
        if named is not None:
            return str(named[2])
        # "/vergleich spamschutz vergleich": the command's own word is no topic.
        topic_words = " ".join(w for w in fold(words).split() if w not in _COMPARE_WORDS)
        _, ranking = self.answers.rank(topic_words)
        for scored in ranking.entries:
            if scored.score < self.answers.policy.clarify:
                break
            for topic in self.kb.compare:
                if scored.entry.compare == topic.id or scored.entry.id in topic.entries:
                    return topic.id
        return None

    def _compare_menu(self, lang: Lang) -> tuple[tuple[Button, ...], ...]:
        return tuple(
            (Button(_label(topic.text(lang)), Action(ActionKind.COMPARE, topic.id)),)
            for topic in self.kb.compare
        )

    def compare_topic(self, lang: Lang, topic_id: str) -> Reply:
        topic = self.kb.compare_topic(topic_id)
        if topic is None:
            return Reply((Block(self._ui(lang, "compare_unknown")),), self._compare_menu(lang))
        text = topic.text(lang)
        blocks = [Block(f"XING vs. LinkedIn: {text.title}", "title")]
        for platform, name, side in (
            ("xing", "XING", text.xing),
            ("linkedin", "LinkedIn", text.linkedin),
        ):
            blocks += [Block(name, "title"), Block(side)]
            for ref in topic.updates:
                found = self.kb.update_ref(ref)
                if found is not None and platform in found[0].platforms:
                    blocks.append(Block(self.kb.update_line(lang, found[1]), "note"))
        blocks.append(Block(self._ui(lang, "compare_verdict", verdict=text.verdict), "note"))
        buttons = tuple(
            (self.answers.entry_button(lang, entry),)
            for entry in (self.kb.entry(ref) for ref in topic.entries[:3])
            if entry is not None
        )
        return Reply(tuple(blocks), buttons)

    async def checklist(self, user: UserRef, *, edit: bool = False) -> Reply:
        """The checklist: a progress bar, each step once (numbered), toggles by number."""
        lang = await self.language(user)
        done = await self.store.checklist.done(user.id)
        items = self.kb.checklist
        count = self.kb.checklist_done(done)
        bar = "▓" * count + "░" * (len(items) - count)
        blocks = [
            Block(self._ui(lang, "checklist_title"), "title"),
            Block(self._ui(lang, "checklist_progress", bar=bar, done=count, total=len(items))),
        ]
        for number, item in enumerate(items, start=1):
            mark = "✅" if item.id in done else "⬜"
            blocks.append(Block(f"{mark} {number}. {item.text(lang)}"))
        closing = "checklist_done_all" if count == len(items) else "checklist_hint"
        blocks.append(Block(self._ui(lang, closing), "note"))
        toggles = [
            Button(
                f"{'✅' if item.id in done else '⬜'} {number}", Action(ActionKind.CHECK, item.id)
            )
            for number, item in enumerate(items, start=1)
        ]
        rows = tuple(tuple(toggles[start : start + 3]) for start in range(0, len(toggles), 3))
        return Reply(tuple(blocks), rows, edit=edit)

    async def toggle(self, user: UserRef, item_id: str) -> Reply:
        lang = await self.language(user)
        if self.kb.checklist_item(item_id) is None:
            reply = await self.checklist(user)
            return Reply(reply.blocks, reply.buttons, notice=self._ui(lang, "checklist_unknown"))
        done = item_id in await self.store.checklist.done(user.id)
        await self.store.checklist.mark(user.id, item_id, not done, self.clock())
        return await self.checklist(user, edit=True)

    async def export(self, user: UserRef) -> Reply:
        """All of the user's rows as a JSON document."""
        lang = await self.language(user)
        data = {
            "exported_at": self.clock().isoformat(),
            "timestamps": "seconds since 1970-01-01 UTC",
            **await self.store.export_user(user.id),
        }
        content = json.dumps(data, ensure_ascii=False, indent=2).encode()
        record = await self.store.users.get(user.id)
        text = readable_export(data, self.kb, lang, self.tracker.zone_for(record), self.clock())
        documents = (
            Document(f"netzwerk-coach-{user.id}.txt", text.encode("utf-8")),
            Document(f"netzwerk-coach-{user.id}.json", content),
        )
        blocks = (Block(self._ui(lang, "export_caption")), Block(self._ui(lang, "export_files")))
        return Reply(blocks, documents=documents)

    async def forget(self, user: UserRef) -> None:
        """Erase every row about the user, and what the process remembers of them."""
        await self.store.delete_user(user.id)

    async def purge_old_questions(self) -> int:
        """Apply the retention period to the question log, closed requests and the updates
        set aside; run daily."""
        before = self.clock() - timedelta(days=self.log_retention_days)
        await self.store.follow_ups.purge_closed(before)
        await self.store.inbox.prune_dead_letters(before)
        return await self.store.questions.purge(before)

    async def settings(self, user: UserRef, *, edit: bool = False) -> Reply:
        lang = await self.language(user)
        record = await self.store.users.get(user.id)
        current = (
            self.kb.ui.get(record.language, "language_name")
            if record and record.language
            else self._ui(lang, "language_auto")
        )
        languages = (
            Button(self._ui(lang, "button_language_de"), Action(ActionKind.LANGUAGE, "de")),
            Button(self._ui(lang, "button_language_en"), Action(ActionKind.LANGUAGE, "en")),
            Button(self._ui(lang, "button_language_auto"), Action(ActionKind.LANGUAGE, "auto")),
        )
        blocks = (
            Block(self._ui(lang, "settings_title"), "title"),
            Block(self._ui(lang, "settings", language=current)),
            *self.preferences.settings_blocks(lang, record),
        )
        return Reply(
            blocks, (languages, *self.preferences.settings_buttons(lang, record)), edit=edit
        )

    async def set_language(self, user: UserRef, choice: str) -> Reply:
        language: Lang | None = "de" if choice == "de" else "en" if choice == "en" else None
        await self.store.users.touch(user.id, user.language_code, self.clock())
        await self.store.users.set_language(user.id, language)
        lang = await self.language(user)
        if language is None:
            return Reply((Block(self._ui(lang, "settings_saved_auto")),), edit=True)
        name = self._ui(lang, "language_name")
        return Reply((Block(self._ui(lang, "settings_saved", language=name)),), edit=True)

    async def stats(self, user: UserRef) -> Reply:
        lang = await self.language(user)
        if user.id not in self.admin_ids:
            return Reply((Block(self._ui(lang, "not_allowed")),))
        now = self.clock()
        local = now.astimezone(self.timezone)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        stats = await self.store.questions.stats(now, midnight)
        unanswered = "\n".join(f"{times}× {text[:80]}" for text, times in stats.unanswered)
        rate = stats.decline_rate_week
        text = self._ui(
            lang,
            "stats",
            users=stats.users,
            today=stats.questions_today,
            week=stats.questions_week,
            per_day="\n".join(
                self._ui(
                    lang,
                    "stats_day",
                    day=f"{d.day[8:10]}.{d.day[5:7]}.",
                    total=d.total,
                    answered=_share(d.answered, d.total),
                    clarified=_share(d.clarified, d.total),
                    declined=_share(d.declined, d.total),
                )
                for d in stats.per_day
            ),
            decline_rate="–" if rate is None else f"{100 * rate:.0f} %",
            wrong=stats.wrong_week,
            unanswered=unanswered or self._ui(lang, "stats_none"),
            set_aside=await self.store.inbox.set_aside_since(now - timedelta(days=7)),
        )
        return Reply((Block(text),))

    async def press(self, user: UserRef, action: Action | None) -> Reply:
        """A button press; None stands for data that is stale, forged or from an old version."""
        lang = await self.language(user)
        if action is None:
            return Reply((), notice=self._ui(lang, "stale_button"))
        kind = action.kind
        if kind is ActionKind.ENTRY:
            entry = self.kb.entry(action.arg)
            if entry is None:
                return Reply((), notice=self._ui(lang, "stale_button"))
            return self.answers.entries_reply(lang, [entry])
        if kind is ActionKind.OFFER:
            entry = self.kb.entry(action.arg)
            if entry is None:
                return Reply((), notice=self._ui(lang, "stale_button"))
            await self.store.questions.feedback(user.id, entry.id, self.clock() - FEEDBACK_WINDOW)
            return self.answers.entries_reply(lang, [entry])
        if kind is ActionKind.NONE:
            await self.store.questions.feedback(user.id, "none", self.clock() - FEEDBACK_WINDOW)
            return Reply((Block(self._ui(lang, "none_noted")),), self.answers.main_buttons(lang))
        if kind is ActionKind.WRONG:
            return await self._wrong(user, lang, action.arg)
        if kind in (ActionKind.MORE, ActionKind.MORE_ASKED):
            shown = [self.kb.entry(ref) for ref in action.arg.split(".")]
            if not shown or None in shown:
                return Reply((), notice=self._ui(lang, "stale_button"))
            entries = [e for e in shown if e]
            details = self.answers.entries_reply(lang, entries, full=True)
            if kind is ActionKind.MORE_ASKED:
                return self.answers.with_wrong_button(lang, details, entries)
            return details
        if kind is ActionKind.COMPARE:
            return self.compare_topic(lang, action.arg)
        if kind is ActionKind.COMPARE_MENU:
            return await self.compare(user)
        if kind is ActionKind.TOPICS:
            if action.arg == "menu":  # back from a group: the same message
                return await self.topics(user, edit=True)
            return await self.topics(user, action.arg)
        if kind is ActionKind.CHECKLIST:
            return await self.checklist(user)
        if kind is ActionKind.CHECK:
            return await self.toggle(user, action.arg)
        if kind is ActionKind.LANGUAGE:
            return await self.set_language(user, action.arg)
        now = self.clock()
        if kind is ActionKind.REQUEST:
            return await self.tracker.start_guided(user.id, lang, action.arg, now)
        if kind is ActionKind.PENDING:
            return await self.tracker.pending(user.id, lang, now, edit=True)
        if kind is ActionKind.FOLLOW_UP:
            return await self.tracker.open(user.id, lang, action.arg, now)
        if kind is ActionKind.DECIDE:
            return await self.tracker.decide(user.id, lang, action.arg, now)
        if kind is ActionKind.DELETE:
            return await self.tracker.delete(user.id, lang, action.arg)
        if kind is ActionKind.HISTORY:
            return await self.tracker.history(user.id, lang, now)
        if kind is ActionKind.CORRECT:
            return await self.tracker.start_correction(user.id, lang, action.arg, now)
        if kind is ActionKind.DRAFT:
            return await self.drafts.start_draft(user.id, lang, action.arg, now)
        if kind is ActionKind.STEP:
            return await self._step_button(user, lang, action.arg)
        if kind is ActionKind.PROGRESS:
            return await self.reports.progress(user.id, lang, now)
        if kind is ActionKind.FORGET:
            step = await self.tracker.step(user.id, now)
            asked = step is not None and step.kind == "confirm_delete"
            if asked and action.arg == f"yes-{step.data.get('code') if step else ''}":
                await self.forget(user)
                return Reply((Block(self._ui(lang, "forget_done")),), edit=True)
            if not asked:  # answered before, cancelled, or never asked of this user
                return Reply((), notice=self._ui(lang, "stale_button"))
            await self.store.users.clear_step(user.id)
            return Reply((Block(self._ui(lang, "forget_cancelled")),), edit=True)
        if kind is ActionKind.SETTING:
            if action.arg == "tz-menu":
                return self.preferences.timezone_menu(lang, await self.store.users.get(user.id))
            if action.arg == "tz-other":
                return await self.preferences.start_timezone_entry(user.id, lang, now)
            if action.arg == "back":
                return await self.settings(user, edit=True)
            if action.arg in ("after-menu", "repeat-menu"):
                record = await self.store.users.get(user.id)
                return self.preferences.delay_menu(lang, record, action.arg.removesuffix("-menu"))
            if not await self.preferences.change_setting(user.id, action.arg, now):
                return Reply((), notice=self._ui(lang, "stale_button"))
            reply = await self.settings(user, edit=True)
            return Reply(
                reply.blocks, reply.buttons, edit=True, notice=self._ui(lang, "settings_updated")
            )
        return await self.help(user)

    async def _step_button(self, user: UserRef, lang: Lang, arg: str) -> Reply:
        """Abbrechen, Ja or Nein under a guided step; stale once the step is over."""
        if arg == "cancel":
            return await self.tracker.cancel(user.id, lang, edit=True)
        step = await self.tracker.step(user.id, self.clock())
        if step is None or step.kind != "confirm_name" or arg not in ("yes", "no"):
            return Reply((), notice=self._ui(lang, "stale_button"))
        return await self.tracker.confirmed(user.id, lang, step, arg == "yes", self.clock())


_YES = frozenset({"ja", "j", "jo", "jep", "yes", "y", "klar", "genau", "richtig"})
_NO = frozenset({"nein", "n", "no", "nee", "falsch"})


def _share(part: int, total: int) -> str:
    return f"{100 * part / total:.0f} %" if total else "–"


def _label(text: CompareText) -> str:
    """A compare topic on a full-width button: its title if it fits, else its short name."""
    return text.title if len(text.title) <= BUTTON_MAX else text.button


def reply_text(reply: Reply) -> str:
    """Plain text of a reply, notice included (for the terminal and tests)."""
    text = to_plain(reply)
    return f"{reply.notice}\n{text}".strip() if reply.notice else text
