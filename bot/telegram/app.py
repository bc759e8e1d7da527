"""The Telegram front door: thin python-telegram-bot handlers around the Coach."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import timedelta
from functools import lru_cache, partial
from typing import Any, Protocol, TypeVar, cast

from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputFile,
    InputTextMessageContent,
    Message,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import (
    BadRequest,
    Forbidden,
    NetworkError,
    TelegramError,
)
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationHandlerStop,
    CallbackContext,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ExtBot,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.answering.service import AnswerService
from bot.coach import (
    COMMANDS,
    PERSONAL_COMMANDS,
    Coach,
    UserRef,
    canonical_command,
    linked_command,
    split_command,
)
from bot.config import Settings
from bot.domain import LANGS, Clock, utc_now
from bot.followups.linkedin_export import MAX_FILE_BYTES
from bot.followups.sweeper import Delivery, NudgeSweeper
from bot.knowledge import KnowledgeBase
from bot.render import MAX_CAPTION, decode_action, encode_action, to_html
from bot.reply import Document, Reply, owned_by, text_reply
from bot.storage import Storage
from bot.storage.database import is_locked
from bot.telegram import outbox
from bot.telegram.fatal import fatal
from bot.telegram.heartbeat import Heartbeat
from bot.telegram.polling import Stop, heartbeat_of, until_done
from bot.telegram.throttle import FloodGuard
from bot.telegram.transport import JsonRequest, UpdatesRequest

log = logging.getLogger(__name__)
# Commands shown in Telegram's menu; /stats stays unlisted (admins know it).
# Inline queries hold at most 256 characters; answers are cached by Telegram per query.
MAX_INLINE_QUERY = 256
INLINE_CACHE_SECONDS = 300
# The command menu, in the order of /hilfe: every command it teaches (not the admin's /stats).
MENU = (
    "start", "help", "topics", "compare", "checklist", "request", "pending", "draft",
    "progress", "cancel", "settings", "privacy", "export", "delete",
)  # fmt: skip
NON_TEXT = (
    filters.Sticker.ALL
    | filters.PHOTO
    | filters.VOICE
    | filters.VIDEO
    | filters.VIDEO_NOTE
    | filters.AUDIO
    | filters.ANIMATION
    | filters.Document.ALL
    | filters.LOCATION
    | filters.CONTACT
    | filters.POLL
    | filters.Dice.ALL
)


class CoachContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """Handler context with the Coach at hand."""

    @property
    def coach(self) -> Coach:
        coach: Coach = self.application.bot_data["coach"]
        return coach


# Telegram's stand-ins for senders without an account of their own, the same in every group
# and channel: an anonymous group admin (GroupAnonymousBot), a message sent on behalf of a
# channel (Channel_Bot), a channel post forwarded into its discussion group (Telegram).
# Button presses always come from the person's own account.
SHARED_SENDERS = frozenset({1087968824, 136817688, 777000})


def _user(update: Update) -> UserRef:
    """The sender; one Telegram stands in for (see SHARED_SENDERS) is marked shared.

    The one place that decides it: the Coach stores nothing under a shared id and points
    personal commands to the person's own account (bot.coach.UserRef).
    """
    user = update.effective_user
    assert user is not None  # every handler below is for updates that have a sender
    message = update.message or update.edited_message
    shared = user.id in SHARED_SENDERS or (message is not None and message.sender_chat is not None)
    return UserRef(user.id, user.language_code, shared)


class SharedKeyboard(InlineKeyboardMarkup):
    """An inline keyboard that works out its Bot API form once.

    PTB turns reply_markup into a dict on every send; for an answer's four buttons that was
    the largest cost of sending it after the text. Keyboards are immutable and cached per
    reply (see `keyboard`), so the JSON is kept and every send gets a fresh copy of it.
    """

    __slots__ = ("_json",)

    def __init__(
        self,
        inline_keyboard: Sequence[Sequence[InlineKeyboardButton]],
        *,
        api_kwargs: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(inline_keyboard, api_kwargs=api_kwargs)
        self._json = json.dumps(super().to_dict())  # "_" attributes may be set when frozen

    def to_dict(self, recursive: bool = True) -> dict[str, Any]:
        if not recursive:
            return super().to_dict(recursive=False)
        form: dict[str, Any] = json.loads(self._json)
        return form


@lru_cache(maxsize=1024)
def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """The reply's buttons as Telegram markup (immutable, so shared like the reply itself)."""
    if not reply.buttons:
        return None
    return SharedKeyboard(
        [
            [
                InlineKeyboardButton(button.label, url=button.url)
                if button.url
                else InlineKeyboardButton(button.label, callback_data=encode_action(button.action))
                for button in row
            ]
            for row in reply.buttons
        ]
    )


T = TypeVar("T")
RETRY_DELAYS = (0.5, 1.0, 2.0)


class Retrying(Protocol):
    """How a Bot API call is tried again: `with_retries` or `until_delivered`."""

    async def __call__(self, call: Callable[[], Awaitable[T]]) -> T: ...


async def with_retries(call: Callable[[], Awaitable[T]]) -> T:
    """Retry a Bot API call on 5xx answers and network errors (429 is the rate limiter's).

    A reply whose response was lost on the way back may, rarely, arrive twice; losing an
    answer or a nudge to a passing hiccup would be worse.
    """
    for delay in RETRY_DELAYS:
        try:
            return await call()
        except BadRequest:
            raise
        except NetworkError as error:
            log.warning("Bot API call failed (%s); retrying in %.1f s", error, delay)
            await asyncio.sleep(delay)
    return await call()


async def until_delivered(call: Callable[[], Awaitable[T]]) -> T:
    """Retry a Bot API call until it goes through or Telegram refuses it for good.

    5xx answers and network errors are tried again with growing pauses, a 429 (after the
    rate limiter's own retries) after as long as Telegram asks; any other error (400, 403,
    ...) is raised. Nothing stops it but success: a reply is kept until it is delivered
    (on SIGTERM the chat queues give it a grace period, then cancel it; it stays saved).
    """
    never = asyncio.Event()
    done = await until_done("sending a reply", call, never, Heartbeat(None), RETRY_DELAYS[0])
    return cast(T, done)


async def deliver(bot: Bot, chat_id: int, reply: Reply, retrying: Retrying = with_retries) -> None:
    """Send a reply as one or more HTML messages (buttons under the last), and its file.

    Each call is retried on its own, so a failure in the middle never sends the start again.
    """
    photo = next((document for document in reply.documents if document.photo), None)
    if photo is not None:
        await _deliver_photo(bot, chat_id, reply, photo, retrying)
        return
    chunks = to_html(reply)
    for number, chunk in enumerate(chunks, start=1):
        markup = keyboard(reply) if number == len(chunks) else None
        await retrying(
            partial(
                bot.send_message, chat_id, chunk, parse_mode=ParseMode.HTML, reply_markup=markup
            )
        )
    for document in reply.documents:
        file = InputFile(document.content, filename=document.filename)
        await retrying(partial(bot.send_document, chat_id, file))


async def _deliver_photo(
    bot: Bot, chat_id: int, reply: Reply, photo: Document, retrying: Retrying
) -> None:
    """A picture with the reply's text as its caption and the buttons under it."""
    file = InputFile(photo.content, filename=photo.filename)
    caption = to_html(reply, limit=MAX_CAPTION)[0] if reply.blocks else None
    await retrying(
        partial(
            bot.send_photo, chat_id, file, caption=caption, parse_mode=ParseMode.HTML,
            reply_markup=keyboard(reply),
        )
    )  # fmt: skip


@contextlib.asynccontextmanager
async def _outbox(context: CoachContext) -> AsyncIterator[outbox.Outbox]:
    """The outbox of the update being handled (see bot.telegram.polling).

    Without one (an update handed to the application directly, as some tests do) the
    handler gets a fresh outbox whose messages go out as soon as the handler is done.
    """
    box = outbox.CURRENT.get()
    if box is not None:
        yield box
        return
    box = outbox.Outbox()
    yield box
    await send_outgoing(context.bot, context.coach.store, box.items)


async def _respond(update: Update, context: CoachContext, reply: Reply) -> None:
    """Reply in the update's chat; in a group, its buttons are the sender's alone."""
    message = update.effective_message
    if message is not None:
        if message.chat.type != ChatType.PRIVATE and update.effective_user is not None:
            reply = owned_by(reply, update.effective_user.id)
        async with _outbox(context) as box:
            box.send(message.chat_id, reply)


async def _edit_or_send(
    bot: Bot, chat_id: int, message_id: int | None, reply: Reply, retrying: Retrying
) -> None:
    """Replace the pressed message if the reply asks for it and fits; else send it."""
    chunks = to_html(reply)
    if reply.edit and len(chunks) == 1 and message_id is not None:
        try:
            await retrying(
                partial(
                    bot.edit_message_text,
                    chunks[0],
                    chat_id=chat_id,
                    message_id=message_id,
                    parse_mode=ParseMode.HTML,
                    reply_markup=keyboard(reply),
                )
            )
            return
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return
            log.warning("edit failed, sending instead: %s", exc)
    await deliver(bot, chat_id, reply, retrying)


async def send_outgoing(bot: Bot, store: Storage, items: Sequence[outbox.Outgoing]) -> None:
    """Send what handling an update produced, in order, each until it is delivered.

    Only a refusal for good ends a message: a user who blocked the bot (403) is marked
    inactive (nudges pause until they write again) and gets nothing more; any other refusal
    (400) is logged and the message dropped, as is one that cannot even be rendered. The
    answer to a button press is tried once: Telegram forgets the press within seconds.
    """
    for item in items:
        try:
            if item.kind == "answer":
                assert item.query_id is not None
                await bot.answer_callback_query(item.query_id, item.notice)
            elif item.kind == "edit":
                assert item.reply is not None
                await _edit_or_send(bot, item.chat_id, item.message_id, item.reply, until_delivered)
            else:
                assert item.reply is not None
                await deliver(bot, item.chat_id, item.reply, until_delivered)
        except Forbidden:
            log.info("chat %s blocked the bot; marking inactive", item.chat_id)
            await store.users.set_active(item.chat_id, False)
            return  # the rest would be refused as well
        except TelegramError as error:
            log.error("%s to chat %s refused, dropped: %s", item.kind, item.chat_id, error)
        except Exception:  # retrying could never help; the chat's later replies still go
            log.exception("%s to chat %s cannot be sent, dropped", item.kind, item.chat_id)


# -- handlers: parse, call the coach, render. Kept thin on purpose. --------------------------


async def on_command(update: Update, context: CoachContext) -> None:
    """A known command or alias, with its arguments."""
    message = update.effective_message
    assert message is not None and message.text is not None
    command, args = split_command(message.text)
    canonical = canonical_command(command) or "help"
    coach = context.coach
    runs = linked_command(canonical, args)  # "/start export" in a group is /export too
    if message.chat.type != ChatType.PRIVATE and runs in PERSONAL_COMMANDS:
        # A member's requests, data or settings never go into a group, nor act from one
        # (anonymous admins and channels included): a link to the private chat instead.
        link = f"https://t.me/{context.bot.username}?start={runs}"
        await _respond(update, context, await coach.private_only(_user(update), link))
        return
    await _respond(update, context, await coach.command(_user(update), canonical, args))


async def on_unknown_command(update: Update, context: CoachContext) -> None:
    """A command we do not have."""
    await _respond(update, context, await context.coach.unknown_command(_user(update)))


async def on_text(update: Update, context: CoachContext) -> None:
    """Free text: a question for the answer engine."""
    message = update.effective_message
    assert message is not None and message.text is not None
    text: str | None = message.text
    if message.chat.type != ChatType.PRIVATE:
        text = _addressed_text(message, context.bot.username)
    if text is not None:
        await _respond(update, context, await context.coach.question(_user(update), text))


def _addressed_text(message: Message, username: str | None) -> str | None:
    """In groups: the text without the mention if the bot is mentioned or replied to."""
    text = message.text or ""
    mention = f"@{username}" if username else None
    if mention and mention.lower() in text.lower():
        start = text.lower().index(mention.lower())
        return (text[:start] + text[start + len(mention) :]).strip()
    replied = message.reply_to_message
    if replied and replied.from_user and replied.from_user.username == username:
        return text
    return None


async def on_document(update: Update, context: CoachContext) -> None:
    """A file in a private chat: LinkedIn's data export, read in memory and never stored."""
    message = update.effective_message
    assert message is not None and message.document is not None
    document = message.document
    coach, user = context.coach, _user(update)
    if (document.file_size or 0) > MAX_FILE_BYTES:  # Telegram would refuse the download
        await _respond(update, context, await coach.file_refused(user, "too_large"))
        return
    try:
        file = await document.get_file()
        data = bytes(await file.download_as_bytearray())
    except TelegramError as error:
        log.warning("download of a document failed: %s", error)
        await _respond(update, context, await coach.file_refused(user, "download"))
        return
    await _respond(update, context, await coach.import_file(user, data, document.file_name or ""))


async def on_non_text(update: Update, context: CoachContext) -> None:
    """Stickers, photos, voice and the like: say what the bot understands."""
    await _respond(update, context, await context.coach.non_text(_user(update)))


async def on_inline_query(update: Update, context: CoachContext) -> None:
    """`@bot question` in any chat: matching answers, each with a button that opens the bot."""
    query = update.inline_query
    assert query is not None
    user = UserRef(query.from_user.id, query.from_user.language_code)
    found = await context.coach.inline(user, query.query[:MAX_INLINE_QUERY])
    link = f"https://t.me/{context.bot.username}?start=inline"
    results = [
        InlineQueryResultArticle(
            id=result.id,
            title=result.title,
            description=result.description,
            input_message_content=InputTextMessageContent(
                to_html(result.reply)[0], parse_mode=ParseMode.HTML
            ),
            reply_markup=InlineKeyboardMarkup(
                [[InlineKeyboardButton(result.open_label, url=link)]]
            ),
        )
        for result in found
    ]
    # Telegram keeps the results per query text for this long; the answers change rarely.
    await query.answer(results, cache_time=INLINE_CACHE_SECONDS, is_personal=False)


async def on_button(update: Update, context: CoachContext) -> None:
    """An inline button; stale, foreign or forged data gets a short notice."""
    query = update.callback_query
    assert query is not None
    action = decode_action(query.data)
    message = query.message
    chat_id = message.chat.id if message is not None else query.from_user.id
    group = message is not None and message.chat.type != ChatType.PRIVATE
    if group and (action is None or action.owner != query.from_user.id):
        # Someone else's buttons (or a message from before owners were marked): no effect.
        lang = await context.coach.language(_user(update), touch=False)
        async with _outbox(context) as box:
            box.answer(chat_id, query.id, context.coach.kb.ui.get(lang, "foreign_button"))
        return
    if action is not None:
        action = replace(action, owner=None)
    reply = await context.coach.press(_user(update), action)
    if group:
        reply = owned_by(reply, query.from_user.id)
    async with _outbox(context) as box:
        box.answer(chat_id, query.id, reply.notice)
        if not reply.blocks:
            return
        if isinstance(message, Message):
            box.edit(chat_id, message.message_id, reply)
        else:
            box.send(chat_id, reply)


async def on_error(update: object, context: CoachContext) -> None:
    """A handler raised: the durable loop counts the try (bot.telegram.quarantine).

    Without the loop (an update handed to the application directly, or a job): an error
    that must end the process ends it; any other is logged, then the user, if there is one,
    is told. A user who blocked the bot never gets here: sends happen in `send_outgoing`.
    """
    box = outbox.CURRENT.get()
    if box is not None and isinstance(context.error, Exception):
        box.failure = context.error
        return
    if context.error is not None and ends_the_bot(context.application, context.error):
        return  # logged once, when the process ends
    log.error("error while handling an update", exc_info=context.error)
    if isinstance(update, Update) and update.effective_message and update.effective_user:
        async with _outbox(context) as fresh:
            fresh.send(update.effective_message.chat_id, await context.coach.failure(_user(update)))


class TelegramSender:
    """Delivers a nudge or digest to a user's private chat; reports, never raises."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def __call__(self, user_id: int, reply: Reply) -> Delivery:
        try:
            await deliver(self.bot, user_id, reply)
        except Forbidden:
            return "blocked"
        except BadRequest as error:
            if "chat not found" in str(error).lower() or "deactivated" in str(error).lower():
                return "blocked"
            log.error("nudge to user %s refused: %s", user_id, error)
            return "failed"
        except TelegramError as error:  # 429 after the rate limiter's retries, 5xx, network
            log.warning("nudge to user %s not delivered, will retry: %s", user_id, error)
            return "retry"
        return "sent"


async def sweep_job(context: CoachContext) -> None:
    """The repeating trigger; the work and its records live in NudgeSweeper and SQLite.

    A database locked by another process waits for the next sweep (nudges are rows, none is
    lost); a failure that must end the process ends it, instead of repeating every minute.
    """
    sweeper: NudgeSweeper = context.application.bot_data["sweeper"]
    heartbeat = heartbeat_of(context.application)
    try:
        result = await sweeper.sweep()
    except Exception as error:
        if is_locked(error):
            heartbeat.trouble("the reminder sweep", error)
        elif not ends_the_bot(context.application, error):
            raise
        return
    heartbeat.fine("the reminder sweep")
    if result.sent or result.retried or result.blocked:
        log.info("nudge sweep: %s", result)
    heartbeat.swept()


async def retention_job(context: CoachContext) -> None:
    """Daily: delete logged questions older than BOT_LOG_RETENTION_DAYS."""
    deleted = await context.coach.purge_old_questions()
    await context.coach.store.inbox.prune_processed(context.coach.clock() - timedelta(days=1))
    if deleted:
        log.info("question log retention: %d old question(s) deleted", deleted)


async def on_any_update(update: Update, context: CoachContext) -> None:
    """Before everything else: pause users who flood the bot (one notice, then silence)."""
    user = update.effective_user
    guard: FloodGuard | None = context.application.bot_data.get("flood_guard")
    if user is None or guard is None:
        return
    sender = _user(update)
    # A shared id is counted per chat: anonymous admins of different groups are not one user.
    chat = update.effective_chat
    who = chat.id if sender.shared and chat is not None else sender.id
    sent = update.message or update.edited_message  # when the user sent it, by Telegram's clock
    verdict = guard.check(who, (sent.edit_date or sent.date) if sent is not None else None)
    if verdict == "ok":
        return
    if verdict == "notice" and update.effective_chat is not None:
        lang = await context.coach.language(sender, touch=False)
        async with _outbox(context) as box:
            box.send(
                update.effective_chat.id, text_reply(context.coach.kb.ui.get(lang, "slow_down"))
            )
    log.info("user %s is flooding; update dropped", user.id)
    raise ApplicationHandlerStop


def register_handlers(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """All routing in one place. Order matters: the first matching handler in a group wins."""
    private = filters.ChatType.PRIVATE
    # 0. Group -1 sees every update first: the flood guard can stop it here.
    app.add_handler(TypeHandler(Update, on_any_update), group=-1)
    # 1. Known commands and their German aliases (in groups too; PTB drops /cmd@otherbot).
    names = [alias for name, aliases in COMMANDS.items() for alias in (name, *aliases)]
    app.add_handler(CommandHandler(names, on_command, filters=filters.UpdateType.MESSAGE))
    # 2. Button presses, whatever their data: decoding decides what is stale.
    app.add_handler(CallbackQueryHandler(on_button))
    app.add_handler(InlineQueryHandler(on_inline_query))
    # 3. Any other command in private: a friendly pointer. In groups other bots' commands
    #    are none of our business.
    app.add_handler(
        MessageHandler(filters.COMMAND & filters.UpdateType.MESSAGE & private, on_unknown_command)
    )
    # 4. Free text: questions (in groups only when the bot is mentioned or replied to).
    app.add_handler(MessageHandler(filters.TEXT & filters.UpdateType.MESSAGE, on_text))
    # 5. Media and everything else a person sends in private.
    # A file in a private chat is an import; before the non-text handler, which it would match.
    app.add_handler(
        MessageHandler(filters.Document.ALL & private & filters.UpdateType.MESSAGE, on_document)
    )
    app.add_handler(MessageHandler(NON_TEXT & private & filters.UpdateType.MESSAGE, on_non_text))
    app.add_error_handler(on_error)


async def publish_commands(
    app: Application[Any, Any, Any, Any, Any, Any], kb: KnowledgeBase
) -> None:
    """The command menu: German names for German clients, English ones for everyone else."""
    for lang in LANGS:
        commands = [
            BotCommand(menu_name(name, lang), kb.ui.get(lang, f"cmd_{name}")) for name in MENU
        ]
        await app.bot.set_my_commands(commands, language_code=lang)
    default = [BotCommand(name, kb.ui.get("en", f"cmd_{name}")) for name in MENU]
    await app.bot.set_my_commands(default)


def menu_name(name: str, lang: str) -> str:
    """The command as the menu shows it: its German alias for German ("/hilfe")."""
    aliases = COMMANDS[name]
    return aliases[0] if lang == "de" and aliases else name


def build_application(
    settings: Settings,
    service: AnswerService,
    *,
    request: BaseRequest | None = None,
    clock: Clock = utc_now,
) -> Application[Any, Any, Any, Any, Any, Any]:
    """The Application; the Coach is attached in post_init (or by tests via bot_data)."""
    assert settings.token is not None

    async def post_init(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        store = await Storage.open(settings.db_path)
        await store.check_writable()  # a read-only database fails now, not at the first message
        coach = app.bot_data["coach"] = Coach.from_settings(service, store, settings, clock)
        app.bot_data["flood_guard"] = FloodGuard(clock=clock)
        app.bot_data["send_outgoing"] = partial(send_outgoing, app.bot, store)
        sweeper = app.bot_data["sweeper"] = NudgeSweeper(
            coach.tracker,
            TelegramSender(app.bot),
            default_language=coach.default_language,
            quiet=settings.quiet,
            clock=clock,
        )
        recovered = await sweeper.recover()
        if recovered:
            log.warning("settled %d nudge(s) interrupted by a crash", recovered)
        assert app.job_queue is not None
        app.job_queue.run_repeating(
            sweep_job, interval=settings.sweep_seconds, first=1.0, name="nudge-sweep"
        )
        app.job_queue.run_repeating(
            retention_job, interval=timedelta(days=1), first=30.0, name="log-retention"
        )
        # The menu is not worth failing for: a 5xx here is retried like any other.
        stop: Stop = app.bot_data["stop"]
        await until_done(
            "setMyCommands", partial(publish_commands, app, service.kb), stop, heartbeat_of(app)
        )
        me = app.bot.username
        log.info("bot @%s ready, %d knowledge entries", me, len(service.kb.entries))

    async def post_shutdown(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        coach: Coach | None = app.bot_data.get("coach")
        if coach is not None:
            await coach.store.close()

    builder = (
        Application.builder()
        .token(settings.token.get_secret_value())
        .base_url(settings.bot_base_url)
        .base_file_url(settings.bot_base_url.removesuffix("/bot") + "/file/bot")
        .rate_limiter(AIORateLimiter(overall_max_rate=settings.rate_limit, max_retries=3))
        .context_types(ContextTypes(context=CoachContext))
        .post_init(post_init)
        .post_shutdown(post_shutdown)
    )
    updates: UpdatesRequest | None = None
    if request is None:
        # Our transport (see bot.telegram.transport); its getUpdates side keeps updates as received.
        updates = UpdatesRequest()
        builder = builder.request(JsonRequest()).get_updates_request(updates)
    else:
        builder = builder.request(request).get_updates_request(request)
    app = builder.build()
    if updates is not None:
        app.bot_data["raw_update"] = updates.raw  # polling saves them so (bot.telegram.polling)
        app.bot_data["reread"] = partial(updates.reread, app.bot)
    register_handlers(app)
    return app


def ends_the_bot(app: Application[Any, Any, Any, Any, Any, Any], error: BaseException) -> bool:
    """Whether `error` must end the process; if so, the running bot stops with it (a job's or
    a handler's error would otherwise only be logged, every time it comes again)."""
    stop: Stop | None = app.bot_data.get("stop")
    if stop is None or fatal(error) is None:
        return False
    stop.fail(error)
    return True
