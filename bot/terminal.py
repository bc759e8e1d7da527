"""The terminal chat: the same Coach as Telegram, buttons shown as numbered choices."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TextIO

from bot.coach import Coach, UserRef, canonical_command, reply_text, split_command
from bot.followups.linkedin_export import MAX_FILE_BYTES
from bot.followups.policy import QuietHours
from bot.followups.sweeper import Delivery, NudgeSweeper
from bot.reply import Button, Reply

LOCAL_USER = UserRef(id=0, language_code=None)
_QUIT = {"/quit", "/exit", "/ende", "/beenden"}


async def _import(coach: Coach, user: UserRef, where: str) -> Reply:
    """`/import PATH`: the terminal's way of sending a file, read like a Telegram upload."""
    try:
        read = await asyncio.to_thread(_read_upload, Path(where))
    except OSError:
        return await coach.file_refused(user, "download")
    if read is None:
        return await coach.file_refused(user, "too_large")
    name, data = read
    return await coach.import_file(user, data, name)


def _read_upload(path: Path) -> tuple[str, bytes] | None:
    """The file's name and bytes; None if Telegram would not let a bot download it."""
    path = path.expanduser()
    if path.stat().st_size > MAX_FILE_BYTES:
        return None
    return path.name, path.read_bytes()


def _render(reply: Reply, out: TextIO, files: Path | None = None) -> list[Button]:
    text = reply_text(reply)
    if text:
        out.write(text + "\n")
    for document in reply.documents:
        if files is None:
            break
        files.mkdir(parents=True, exist_ok=True)
        path = files / document.filename
        path.write_bytes(document.content)
        out.write(f"→ {path}\n")
    buttons = [button for row in reply.buttons for button in row]
    for number, button in enumerate(buttons, start=1):
        out.write(f"  [{number}] {button.label}\n")
    out.write("\n")
    out.flush()
    return buttons


class TerminalSender:
    """Nudges for the local user are printed; their buttons become the current choices."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.buttons: list[Button] = []

    async def __call__(self, user_id: int, reply: Reply) -> Delivery:
        self.buttons = _render(reply, self.out)
        return "sent"


async def chat(
    coach: Coach,
    stdin: TextIO,
    out: TextIO,
    user: UserRef = LOCAL_USER,
    *,
    quiet: QuietHours | None = None,
    files: Path | None = None,
) -> None:
    """Read lines until end of input or /quit; answer each like the Telegram bot would.

    Due nudges are shown after each answer (a terminal cannot interrupt the prompt).
    """
    lang = await coach.language(user)
    out.write(coach.kb.ui.get(lang, "chat_hint") + "\n\n")
    out.flush()
    sender = TerminalSender(out)
    sweeper = NudgeSweeper(
        coach.tracker,
        sender,
        default_language=coach.default_language,
        quiet=quiet,
        clock=coach.clock,
    )
    await sweeper.recover()
    buttons: list[Button] = []
    # A prompt where a person types; piped input gets none, so its output stays clean.
    prompt = coach.kb.ui.get(lang, "chat_prompt") if stdin.isatty() else ""
    while True:
        if prompt:
            out.write(prompt)
            out.flush()
        raw = stdin.readline()
        if not raw:
            break
        line = raw.strip()
        if not line:
            continue
        if line.lower() in _QUIT:
            break
        if line.isdigit() and 1 <= int(line) <= len(buttons):
            reply = await coach.press(user, buttons[int(line) - 1].action)
        elif line.startswith("/"):
            name, args = split_command(line)
            command = canonical_command(name)
            if command == "import" and args:
                reply = await _import(coach, user, args)
            else:
                reply = await (
                    coach.command(user, command, args) if command else coach.unknown_command(user)
                )
        else:
            reply = await coach.question(user, line)
        buttons = _render(reply, out, files)
        sender.buttons = []
        if (await sweeper.sweep()).sent:
            buttons = sender.buttons
