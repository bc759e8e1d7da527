"""The command line as a user runs it: real processes, stdin and stdout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

EVAL_FILE = ROOT.parent / "shared" / "eval" / "questions.jsonl"


def _run(
    *args: str, stdin: str = "", db: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
    if db is not None:
        environ["BOT_DB_PATH"] = str(db)
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environ,
        timeout=60,
        check=False,
    )


def test_ask_json_contract_for_an_answer() -> None:
    result = _run("ask", "--json", "Wie lang darf die LinkedIn-Notiz sein?")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"q", "lang", "outcome", "answer", "match", "alternatives", "offers"}
    assert data["offers"] == []
    assert data["q"] == "Wie lang darf die LinkedIn-Notiz sein?"
    assert (data["lang"], data["outcome"]) == ("de", "answer")
    assert data["match"]["id"] == "li-note" and 0 < data["match"]["score"] <= 100
    assert "300" in data["answer"] and "<" not in data["answer"]
    for alternative in data["alternatives"]:
        assert set(alternative) == {"id", "title", "score"}


def test_ask_reads_one_question_per_line_and_answers_one_line_each() -> None:
    stdin = "Wie wird man Influencer?\n\nHow do I find former colleagues?\nhallo\n"
    result = _run("ask", "--json", stdin=stdin)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["outcome"], r["lang"]) for r in rows] == [
        ("decline", "de"),
        ("answer", "en"),
        ("smalltalk", "de"),
    ]
    assert rows[0]["match"] is None


def test_ask_json_lists_what_a_clarify_offers() -> None:
    result = _run("ask", "--json", "linkedin")
    data = json.loads(result.stdout)
    assert data["outcome"] == "clarify" and data["offers"]
    for offer in data["offers"]:
        assert set(offer) == {"id", "title", "answer"}
        assert offer["answer"].startswith(offer["title"])


def test_ask_lang_option_forces_the_language() -> None:
    result = _run("ask", "--json", "--lang", "en", "Wie lang darf die LinkedIn-Notiz sein?")
    data = json.loads(result.stdout)
    assert data["lang"] == "en" and "300 characters" in data["answer"]
    assert data["alternatives"] and all(a["title"] for a in data["alternatives"])


def test_chat_over_stdin_answers_commands_and_keeps_checklist(tmp_path: Path) -> None:
    db = tmp_path / "chat.sqlite3"
    script = (
        "Wie lang darf die LinkedIn-Notiz sein?\n/hilfe\n/vergleich spam\n/checkliste\n1\n/quit\n"
    )
    result = _run("chat", stdin=script, db=db)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Terminal-Chat" in out
    assert "300 Zeichen" in out
    assert "/themen" in out
    assert "XING vs. LinkedIn: Schutz vor Spam und Fake-Profilen" in out and "Fazit:" in out
    assert "0/9 erledigt" in out and "1/9 erledigt" in out
    assert "[1] ⬜" in out and "[1] ✅" in out
    again = _run("chat", stdin="/checklist\n", db=db)
    assert "1/9 erledigt" in again.stdout, "progress survives a restart"


def test_chat_ends_cleanly_at_end_of_input(tmp_path: Path) -> None:
    result = _run("chat", stdin="danke\n", db=tmp_path / "x.sqlite3")
    assert result.returncode == 0 and "Gern geschehen" in result.stdout


def test_bare_command_without_token_opens_the_chat(tmp_path: Path) -> None:
    result = _run(stdin="Wie lang darf die LinkedIn-Notiz sein?\n", db=tmp_path / "y.sqlite3")
    assert result.returncode == 0, result.stderr
    assert "Kein BOT_TOKEN gesetzt" in result.stdout and "300" in result.stdout


def test_malformed_configuration_fails_fast_without_echoing_the_token() -> None:
    result = _run("run", env={"BOT_TOKEN": "not a token/secret-part"})
    assert result.returncode == 2
    assert "BOT_TOKEN" in result.stderr and "secret-part" not in result.stderr + result.stdout


def test_kb_check_passes_and_reports_counts() -> None:
    result = _run("kb", "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Knowledge base OK" in result.stdout
    assert "No copied runs from the article, no near-duplicate phrasings." in result.stdout


@pytest.mark.skipif(not EVAL_FILE.exists(), reason="shared eval set not present")
def test_eval_reports_accuracy_misses_and_sweep() -> None:
    result = _run("eval", str(EVAL_FILE), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["accuracy"] >= 0.95 and report["decline_rate"] >= 0.90
    assert [row["threshold"] for row in report["sweep"]] == list(range(30, 81, 5))
    text = _run("eval", str(EVAL_FILE)).stdout
    assert "On-topic accuracy" in text and "Threshold sweep" in text
