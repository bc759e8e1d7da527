"""A bare python-telegram-bot echo bot, configured like ours, as the throughput yardstick.

With `--our-transport` it sends through bot/telegram/transport.py instead of PTB's default
HTTPXRequest: a reference that shows what our bot costs beyond the transport.
"""

from __future__ import annotations

import os
import sys

from telegram import Update
from telegram.ext import AIORateLimiter, Application, ContextTypes, MessageHandler, filters


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the text back."""
    assert update.effective_message is not None and update.effective_message.text is not None
    await update.effective_message.reply_text(update.effective_message.text)


def main() -> None:
    base = os.environ["BOT_API_BASE_URL"].rstrip("/") + "/bot"
    rate = float(os.environ.get("BOT_RATE_LIMIT", "30"))
    builder = (
        Application.builder()
        .token(os.environ["BOT_TOKEN"])
        .base_url(base)
        .rate_limiter(AIORateLimiter(overall_max_rate=rate, max_retries=3))
    )
    if "--our-transport" in sys.argv:
        from bot.telegram.transport import JsonRequest

        builder = builder.request(JsonRequest()).get_updates_request(JsonRequest(pool_size=1))
    app = builder.build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    app.run_polling(allowed_updates=Update.ALL_TYPES)


if __name__ == "__main__":
    main()
