"""The bot as a process: logging without secrets, start and serve, and how it ends.

`run` waits for the Bot API, serves (long polling or the webhook) until SIGINT/SIGTERM or a
fatal error, and returns the exit code a supervisor can tell apart (bot.config.ExitCode),
with one log line naming the variable or file. The heartbeat beside the database says
meanwhile whether the bot serves (bot.telegram.heartbeat, `python -m bot health`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Sequence

from telegram import Bot

from bot.answering.service import AnswerService
from bot.config import ExitCode, Settings
from bot.telegram.app import build_application
from bot.telegram.fatal import fatal
from bot.telegram.heartbeat import Heartbeat, heartbeat_path
from bot.telegram.polling import Stopped, run_polling, until_done
from bot.telegram.transport import JsonRequest, without_token
from bot.telegram.webhook import run_webhook

log = logging.getLogger(__name__)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message (and the exception).

    Every secret is cut out of the finished line, wherever it came from: a message, its
    arguments, an exception's text (python-telegram-bot quotes a proxy's page, which may quote
    the request URL and so the token) or a library's DEBUG output (the Bot API URL, the
    webhook's parameters).
    """

    def __init__(self, secrets: Sequence[str] = ()) -> None:
        super().__init__()
        self.secrets = [secret for secret in secrets if secret]

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        line = without_token(json.dumps(entry, ensure_ascii=False))
        for secret in self.secrets:
            line = line.replace(secret, "<secret>")
        return line


def _without_batch_dump(record: logging.LogRecord) -> bool:
    """Drop PTB's record of a getUpdates batch it cannot parse.

    It logs the batch whole as CRITICAL, every user's messages with it; polling reads such a
    batch again update by update and logs what it sets aside (bot.telegram.quarantine).
    """
    return not str(record.msg).startswith("Error while parsing updates")


def configure_logging(level: str, secrets: Sequence[str] = ()) -> None:
    """JSON lines on stderr at `level`, with `secrets` (token, webhook secret) cut out."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter(secrets))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    # httpx (PTB's default transport, unused here) logs every request URL, and Bot API URLs
    # contain the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("telegram.ext.ExtBot").addFilter(_without_batch_dump)
    # The scheduler announces every job run at INFO; that is noise every minute.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


async def wait_for_api(settings: Settings, heartbeat: Heartbeat) -> None:
    """Call getMe until the Bot API answers, backing off; InvalidToken for a rejected token.

    A request of its own, closed whatever happens: PTB leaves a bot whose getMe failed
    uninitialised, and would not close its connections (logged as an error at exit).
    """
    assert settings.token is not None
    request = JsonRequest(pool_size=1)
    bot = Bot(
        settings.token.get_secret_value(),
        base_url=settings.bot_base_url,
        request=request,
        get_updates_request=request,
    )
    await request.initialize()
    try:
        # Never stopped: SIGINT/SIGTERM end the process while it has nothing to finish.
        await until_done("getMe", bot.get_me, asyncio.Event(), heartbeat)
    finally:
        await request.shutdown()


async def serve(settings: Settings, service: AnswerService, heartbeat: Heartbeat) -> None:
    """Wait for the Bot API, then long polling or the webhook until stopped."""
    await wait_for_api(settings, heartbeat)
    app = build_application(settings, service)
    app.bot_data["heartbeat"] = heartbeat
    if settings.webhook_url:
        await run_webhook(app, settings)
    else:
        await run_polling(app)


def secrets_of(settings: Settings) -> list[str]:
    """What no log line may show: the token, its secret part alone (however a URL encodes the
    colon before it), the webhook's secret."""
    secrets = []
    if settings.token is not None:
        token = settings.token.get_secret_value()
        secrets += [token, token.partition(":")[2]]
    if settings.webhook_secret is not None:
        secrets.append(settings.webhook_secret.get_secret_value())
    return secrets


def run(settings: Settings, service: AnswerService) -> int:
    """Long polling (or a webhook, if BOT_WEBHOOK_URL is set) until SIGINT/SIGTERM, or a fatal
    error: then one log line and its exit code (bot.config.ExitCode)."""
    configure_logging(settings.log_level, secrets_of(settings))
    if settings.token is None:
        log.error("BOT_TOKEN is not set")
        return ExitCode.CONFIG
    heartbeat = Heartbeat(heartbeat_path(settings))
    heartbeat.write()  # not serving yet: a sign left by the previous run no longer counts
    code, reason = ExitCode.STOPPED, "stopped by a signal"
    try:
        asyncio.run(serve(settings, service, heartbeat))
    except Stopped:
        pass
    except Exception as error:
        found = fatal(error, settings.db_path)
        if found is None:
            log.exception("the bot stopped on an unexpected error")
            code, reason = ExitCode.BUG, f"unexpected error {type(error).__name__}"
        else:
            code, reason = found
            log.critical(reason)
    heartbeat.stop(f"exit code {code}: {reason}")
    return end(code)


# After the event loop, threads still running keep the process alive; they get this long.
LINGER = 3.0


def end(code: int) -> int:
    """`code`, or exit with it at once if a thread outlives the event loop.

    aiosqlite's worker thread is not a daemon: a connection left open on some failure path
    would keep the process alive forever, and systemd or Docker would never restart it.
    """
    deadline = time.monotonic() + LINGER
    others = [t for t in threading.enumerate() if t is not threading.main_thread()]
    for thread in (t for t in others if not t.daemon):
        thread.join(max(0.0, deadline - time.monotonic()))
    stuck = [t.name for t in others if t.is_alive() and not t.daemon]
    if stuck:
        log.warning("threads %s outlived the bot; exiting anyway", stuck)
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code
