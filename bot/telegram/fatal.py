"""Which errors end the process, with their exit code and one log line (bot.config.ExitCode).

Passing failures (the network, 5xx, a database locked while the bot runs) are retried where
they arise; what is here needs the operator: a rejected token, a second instance, a database
that cannot be used or written. Any other error is a bug.
"""

from __future__ import annotations

from pathlib import Path

from telegram.error import Conflict, InvalidToken

from bot.config import ExitCode
from bot.storage.database import DiskFull, is_locked, unusable


def fatal(error: BaseException, db_path: Path | None = None) -> tuple[ExitCode, str] | None:
    """The exit code and the one line for an error that must end the process; None for any
    other (passing ones are retried where they arise; the rest are bugs)."""
    if isinstance(error, InvalidToken):
        return ExitCode.TOKEN_REJECTED, f"the Bot API rejected BOT_TOKEN ({error}): set a valid one"
    if isinstance(error, Conflict):
        return ExitCode.CONFLICT, (
            f"the Bot API refused getUpdates with 409 Conflict ({error}): another instance "
            "polls with this BOT_TOKEN, or a webhook is set; run one instance only"
        )
    where = db_path or "the database"
    if is_locked(error):  # where it is not waited for: at start-up
        return ExitCode.DATABASE, (
            f"the database is locked by another process (BOT_DB_PATH {where}); a second bot?"
        )
    reason = unusable(error, where)
    if reason is None:
        return None
    if isinstance(reason, DiskFull):
        return ExitCode.DISK_FULL, f"cannot write the database (BOT_DB_PATH): {reason}"
    return ExitCode.DATABASE, f"the database cannot be used (BOT_DB_PATH): {reason}"
