"""Netzwerk-Coach: one engine, two front doors. Imports point down these layers only:

1. Front doors: `bot.telegram` (package), `bot.terminal`, and `bot.__main__` (the command
   line, which starts either). They may import everything below; not each other.
2. Core: `bot.coach` (commands, questions and button presses in, a `Reply` out),
   `bot.config` (settings from the environment) and `bot.privacy` (the readable export).
   They may import the subsystems and the bottom.
3. Subsystems: `bot.answering` and `bot.followups` (packages). Each may import the bottom
   only; neither imports the other.
4. Shared bottom: `bot.domain` (shared types, imports nothing of ours), `bot.text`,
   `bot.reply`, `bot.render`, `bot.knowledge` and `bot.storage` (the only SQL).

`tests/test_layout.py` fails on an import against this direction.
"""
