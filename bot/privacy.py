"""What the bot stores about a user, as that user can read it: the /export summary.

Part of the core: it reads the rows `Storage.export_user` returns and the knowledge base's
texts, and writes plain text with local dates and German or English labels. The JSON file
beside it stays as it is, for machines.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain import Lang
from bot.knowledge import KnowledgeBase


def _when(epoch: object, zone: ZoneInfo, lang: Lang, *, time: bool = False) -> str:
    if not isinstance(epoch, int):
        return "–"
    moment = datetime.fromtimestamp(epoch, tz=zone)
    if lang == "de":
        return moment.strftime("%d.%m.%Y, %H:%M" if time else "%d.%m.%Y")
    return f"{moment.day} {moment:%b %Y}" + (f", {moment:%H:%M}" if time else "")


def _language(kb: KnowledgeBase, lang: Lang, chosen: object) -> str:
    if chosen in ("de", "en"):
        return kb.ui.get("de" if chosen == "de" else "en", "language_name")
    return kb.ui.get(lang, "language_auto")


def readable_export(
    data: Mapping[str, Any], kb: KnowledgeBase, lang: Lang, zone: ZoneInfo, now: datetime
) -> str:
    """The user's data as a text to read: account, checklist, requests, questions."""

    def ui(key: str, **values: object) -> str:
        return kb.ui.get(lang, key, **values)

    lines = [ui("export_heading", date=_when(int(now.timestamp()), zone, lang, time=True),
                zone=zone.key), ""]  # fmt: skip
    user = data.get("user") or {}
    lines += [
        ui("export_account"),
        "  " + ui("export_language", value=_language(kb, lang, user.get("language"))),
        "  " + ui("export_first_seen", date=_when(user.get("first_seen"), zone, lang)),
        "  " + ui("export_nudges", value=ui("on" if user.get("nudges", 1) else "off")),
        "  " + ui("export_digest", value=ui("on" if user.get("digest") else "off")),
        "  " + ui("export_timezone", value=user.get("timezone") or zone.key),
        "",
    ]
    done = {row["item_id"]: row["done_at"] for row in data.get("checklist_progress", [])}
    lines.append(ui("export_checklist", done=len(done), total=len(kb.checklist)))
    for item in kb.checklist:
        if item.id in done:
            lines.append(f"  ✅ {item.text(lang)} ({_when(done[item.id], zone, lang)})")
    lines.append("")
    lines += _requests(data, kb, lang, zone)
    questions: Sequence[Mapping[str, Any]] = data.get("question_log", [])
    lines.append(ui("export_questions", count=len(questions)))
    for question in questions:
        outcome = ui(f"export_outcome_{question['outcome']}")
        when = _when(question["asked_at"], zone, lang, time=True)
        lines.append(
            "  " + ui("export_question", when=when, text=question["text"], outcome=outcome)
        )
    return "\n".join(lines).rstrip() + "\n"


def _requests(data: Mapping[str, Any], kb: KnowledgeBase, lang: Lang, zone: ZoneInfo) -> list[str]:
    def ui(key: str, **values: object) -> str:
        return kb.ui.get(lang, key, **values)

    follow_ups: Sequence[Mapping[str, Any]] = data.get("follow_ups", [])
    events: dict[int, list[Mapping[str, Any]]] = {}
    for event in data.get("follow_up_events", []):
        events.setdefault(event["follow_up_id"], []).append(event)
    lines = [ui("export_requests", count=len(follow_ups))]
    for row in follow_ups:
        what = ui(f"what_{row['direction']}_{row['platform']}")
        state = ui(f"state_{row['state']}")
        lines.append(f"  {what} {row['name']} · {state} · {_when(row['created_at'], zone, lang)}")
        if row.get("note"):
            lines.append("    " + ui("follow_up_note", note=row["note"]))
        history = "; ".join(
            f"{_when(e['at'], zone, lang)} {ui('export_event_' + e['event'])}"
            for e in events.get(row["id"], [])
            if f"export_event_{e['event']}" in (kb.ui.de if lang == "de" else kb.ui.en)
        )
        if history:
            lines.append("    " + history)
    lines.append("")
    return lines
