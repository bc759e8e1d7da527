"""Command line: `python -m bot [run|chat|ask|eval|review|kb check|backup|health]`.

An installed package has the same as the console script `netzwerk-coach` (pyproject.toml).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TextIO

from bot.answering.service import Answer, AnswerService
from bot.config import ConfigError, Settings, load_settings
from bot.knowledge import KnowledgeBase, KnowledgeError, load
from bot.render import to_plain
from bot.storage.database import UnusableDatabase

SCRIPT = "netzwerk-coach"


def _prog() -> str:
    """The name to show in usage: the console script's when started as that."""
    # argparse's default would show `__main__.py` for `python -m bot`.
    return SCRIPT if Path(sys.argv[0]).name == SCRIPT else "python -m bot"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=_prog(),
        description="Netzwerk-Coach: networking on XING and LinkedIn. Without a command: the "
        "Telegram bot if BOT_TOKEN is set, otherwise the terminal chat.",
    )
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="run the Telegram bot (needs BOT_TOKEN)")
    sub.add_parser("chat", help="chat in the terminal (checklist progress in BOT_DB_PATH)")
    ask = sub.add_parser("ask", help="answer one question, or one per stdin line")
    ask.add_argument("question", nargs="*", help="the question; omitted: read stdin lines")
    ask.add_argument("--json", action="store_true", help="one JSON object per question")
    ask.add_argument("--lang", choices=["de", "en"], help="answer language (default: detect)")
    evaluate = sub.add_parser("eval", help="evaluate against a labelled JSONL file")
    evaluate.add_argument("file", type=Path)
    evaluate.add_argument("--json", action="store_true", help="print the report as JSON")
    kb = sub.add_parser("kb", help="knowledge base tools")
    kb.add_argument("action", choices=["check", "fingerprint"])
    kb.add_argument(
        "article", nargs="?", type=Path, help="fingerprint: the article file to fingerprint"
    )
    review = sub.add_parser("review", help="unanswered questions, grouped, from BOT_DB_PATH")
    review.add_argument("--days", type=int, default=30, help="how far back (default 30)")
    backup = sub.add_parser("backup", help="consistent copy of the database, also while running")
    backup.add_argument("path", type=Path)
    sub.add_parser("health", help="exit 0 if the running bot serves and its reminder sweep runs")
    return parser


def _answer_json(service: AnswerService, answer: Answer) -> str:
    return json.dumps(
        {
            "q": answer.question,
            "lang": answer.lang,
            "outcome": answer.outcome,
            "answer": to_plain(answer.reply),
            "match": (
                {"id": answer.match.entry.id, "score": answer.match.score} if answer.match else None
            ),
            "alternatives": [
                {"id": s.entry.id, "title": s.entry.text(answer.lang).title, "score": s.score}
                for s in answer.alternatives
            ],
            "offers": [
                {
                    "id": s.entry.id,
                    "title": s.entry.text(answer.lang).title,
                    "answer": to_plain(service.entries_reply(answer.lang, [s.entry])),
                }
                for s in answer.offers
            ],
        },
        ensure_ascii=False,
    )


def cmd_ask(
    service: AnswerService, questions: Iterable[str], as_json: bool, lang: str | None, out: TextIO
) -> int:
    for question in questions:
        question = question.rstrip("\r\n")
        if not question.strip():
            continue
        answer = service.ask(question, lang="en" if lang == "en" else "de" if lang else None)
        if as_json:
            out.write(_answer_json(service, answer) + "\n")
        else:
            out.write(to_plain(answer.reply) + "\n\n")
        out.flush()
    return 0


def cmd_eval(service: AnswerService, path: Path, as_json: bool, out: TextIO) -> int:
    from bot.answering.evaluation import evaluate, load_cases, policy_summary

    report = evaluate(service, load_cases(path))
    if as_json:
        out.write(report.to_json() + "\n")
    else:
        out.write(f"Policy: {policy_summary(service.policy)}\n")
        out.write(report.to_text() + "\n")
    return 0


def cmd_kb_check(kb: KnowledgeBase, service: AnswerService, out: TextIO) -> int:
    from bot.answering.kbcheck import (
        RUN,
        copied_runs,
        load_fingerprint,
        near_duplicates,
        shown_texts,
    )

    phrasings = sum(len(e.de.phrasings) + len(e.en.phrasings) for e in kb.entries)
    updates = sum(len(e.updates) for e in kb.entries)
    out.write(
        f"Knowledge base OK: {len(kb.entries)} entries, {phrasings} phrasings, "
        f"{updates} dated updates, {len(kb.compare)} compare topics, "
        f"{len(kb.checklist)} checklist items, {len(kb.ui.de)} UI texts per language, "
        f"{len(service.matcher.analyzer.vocab)} terms\n"
    )
    failed = False
    copied = copied_runs(shown_texts(kb), load_fingerprint())
    if copied:
        failed = True
        out.write(f"{len(copied)} text(s) copy {RUN} or more words in a row from the article:\n")
        for found in copied:
            where = f"{found.text.file}: {found.text.where}: {found.text.field}"
            out.write(f'  {where}: "{found.run}"\n')
    pairs = near_duplicates(kb, service.matcher)
    if pairs:
        failed = True
        out.write(
            f"{len(pairs)} near-duplicate phrasing pair(s) across entries "
            "(make the matcher flip):\n"
        )
        for pair in pairs:
            out.write(f"  {pair.score:5.1f}  {pair.left_id}: {pair.left!r}\n")
            out.write(f"         {pair.right_id}: {pair.right!r}\n")
    if not failed:
        out.write("No copied runs from the article, no near-duplicate phrasings.\n")
    return 1 if failed else 0


def cmd_kb_fingerprint(article: Path, out: TextIO) -> int:
    from bot.answering.kbcheck import FINGERPRINT, article_fingerprint

    hashes = article_fingerprint(article.read_text(encoding="utf-8"))
    header = (
        "# blake2b-64 of every run of six folded words of the article (bot/answering/kbcheck.py)\n"
    )
    FINGERPRINT.write_text(header + "\n".join(hashes) + "\n", encoding="utf-8")
    out.write(f"{FINGERPRINT}: {len(hashes)} runs\n")
    return 0


async def cmd_review(settings: Settings, service: AnswerService, days: int, out: TextIO) -> int:
    from datetime import UTC, datetime, timedelta

    from bot.answering.review import format_groups, group_questions
    from bot.storage import Storage

    store = await Storage.open(settings.db_path)
    try:
        since = datetime.now(UTC) - timedelta(days=days)
        questions = await store.questions.unanswered(since)
    finally:
        await store.close()
    out.write(format_groups(group_questions(service, questions)) + "\n")
    return 0


async def _chat(settings: Settings, service: AnswerService) -> int:
    from bot.coach import Coach
    from bot.storage import Storage
    from bot.terminal import chat

    store = await Storage.open(settings.db_path)
    try:
        coach = Coach.from_settings(service, store, settings)
        await chat(
            coach,
            sys.stdin,
            sys.stdout,
            quiet=settings.quiet,
            files=settings.db_path.parent,
        )
    finally:
        await store.close()
    return 0


def cmd_backup(settings: Settings, target: Path) -> int:
    """Copy the live database with SQLite's backup API (consistent while the bot writes)."""
    if not settings.db_path.exists():
        print(f"error: no database at {settings.db_path}", file=sys.stderr)
        return 2
    try:
        asyncio.run(_copy(settings.db_path, target))
    except FileExistsError:  # a symbolic link too, even one pointing nowhere
        print(f"error: {target} exists; choose a new file", file=sys.stderr)
        return 2
    print(f"backup written to {target}")
    return 0


async def _copy(source: Path, target: Path) -> None:
    from bot.storage import Storage

    store = await Storage.open(source)
    try:
        await store.backup(target)
    finally:
        await store.close()


def _health(settings: Settings) -> int:
    """Healthy while the bot serves (takes updates) and its reminder sweep runs; else one line
    why (the heartbeat it writes next to the database, bot/telegram/heartbeat.py)."""
    from bot.telegram.heartbeat import heartbeat_path, problems

    sweep_limit = max(3 * settings.sweep_seconds, 30.0)
    found = problems(heartbeat_path(settings), sweep_limit=sweep_limit, now=time.time())
    print("unhealthy: " + "; ".join(found) if found else "healthy: serving, reminder sweep running")
    _print_set_aside(settings)  # after the verdict, which stays the first line
    return 1 if found else 0


def _print_set_aside(settings: Settings) -> None:
    """How many updates the bot set aside in the last day (an operator should look at them)."""
    from datetime import UTC, datetime, timedelta

    from bot.storage.inbox import set_aside_since

    since = datetime.now(UTC) - timedelta(days=1)
    count = set_aside_since(settings.db_path, since)
    if count is not None:
        print(f"updates set aside in the last day: {count}")


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _command(_parser().parse_args(argv))
    except UnusableDatabase as exc:  # found on opening it: no command can go on
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _command(args: argparse.Namespace) -> int:
    try:
        settings = load_settings()
        kb = load()
    except (ConfigError, KnowledgeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    command = args.command
    if command is None:
        command = "run" if settings.token else "chat"
    if command == "backup":
        return cmd_backup(settings, args.path)
    if command == "health":
        return _health(settings)
    service = AnswerService(kb)
    if command == "ask":
        questions = [" ".join(args.question)] if args.question else sys.stdin
        return cmd_ask(service, questions, args.json, args.lang, sys.stdout)
    if command == "eval":
        try:
            return cmd_eval(service, args.file, args.json, sys.stdout)
        except (OSError, KnowledgeError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    if command == "kb":
        if args.action == "fingerprint":
            if args.article is None:
                print("error: kb fingerprint needs the article's path", file=sys.stderr)
                return 2
            return cmd_kb_fingerprint(args.article, sys.stdout)
        return cmd_kb_check(kb, service, sys.stdout)
    if command == "chat":
        return asyncio.run(_chat(settings, service))
    if command == "review":
        return asyncio.run(cmd_review(settings, service, args.days, sys.stdout))
    if settings.token is None:
        print("error: BOT_TOKEN is required for `run` (or use `chat`)", file=sys.stderr)
        return 2
    from bot.telegram.process import run

    return run(settings, service)


if __name__ == "__main__":
    sys.exit(main())
