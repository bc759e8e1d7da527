"""The terminal chat: the same Coach as Telegram, buttons shown as numbered choices."""

from __future__ import annotations

from typing import TextIO

from bot.coach import Coach, UserRef, canonical_command, reply_text
from bot.reply import Button, Reply

LOCAL_USER = UserRef(id=0, language_code=None)
_QUIT = {"/quit", "/exit", "/ende", "/beenden"}


def _render(reply: Reply, out: TextIO) -> list[Button]:
    text = reply_text(reply)
    if text:
        out.write(text + "\n")
    buttons = [button for row in reply.buttons for button in row]
    for number, button in enumerate(buttons, start=1):
        out.write(f"  [{number}] {button.label}\n")
    out.write("\n")
    out.flush()
    return buttons


async def chat(coach: Coach, stdin: TextIO, out: TextIO, user: UserRef = LOCAL_USER) -> None:
    """Read lines until end of input or /quit; answer each like the Telegram bot would."""
    lang = await coach.language(user)
    out.write(coach.kb.ui.get(lang, "chat_hint") + "\n\n")
    out.flush()
    buttons: list[Button] = []
    for raw in stdin:
        line = raw.strip()
        if not line:
            continue
        if line.lower() in _QUIT:
            break
        if line.isdigit() and 1 <= int(line) <= len(buttons):
            reply = await coach.press(user, buttons[int(line) - 1].action)
        elif line.startswith("/"):
            name, _, args = line.partition(" ")
            command = canonical_command(name)
            reply = await (
                coach.command(user, command, args) if command else coach.unknown_command(user)
            )
        else:
            reply = await coach.question(user, line)
        buttons = _render(reply, out)
