"""Shared fixtures: one knowledge base and answer engine per session, fresh storage per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from telegram.ext import Application

from bot.answering.service import AnswerService
from bot.coach import Coach
from bot.config import load_settings
from bot.knowledge import KnowledgeBase, load
from bot.storage import Storage
from bot.telegram.app import build_application, send_outgoing
from bot.telegram.throttle import FloodGuard
from tests.fake_bot_api import FakeBotAPI
from tests.no_internet import refuse_internet
from tests.offline import TOKEN, OfflineRequest, UpdateFactory

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reaches the internet (see tests/no_internet.py)."""
    refuse_internet(monkeypatch)


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return load()


@pytest.fixture(scope="session")
def service(kb: KnowledgeBase) -> AnswerService:
    return AnswerService(kb)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "bot.sqlite3"


@pytest.fixture
async def store(db_path: Path) -> AsyncIterator[Storage]:
    opened = await Storage.open(db_path)
    yield opened
    await opened.close()


@pytest.fixture
def coach(service: AnswerService, store: Storage, clock: FakeClock) -> Iterator[Coach]:
    yield Coach(service, store, admin_ids=frozenset({42}), clock=clock)


@pytest.fixture
def api() -> Iterator[FakeBotAPI]:
    """A fake Bot API on 127.0.0.1 for tests that run the bot as a process."""
    server = FakeBotAPI(TOKEN)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def request_fake() -> OfflineRequest:
    return OfflineRequest()


@pytest.fixture
async def app(
    service: AnswerService, store: Storage, clock: FakeClock, request_fake: OfflineRequest
) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    """The real application over the offline request, wired like post_init wires it."""
    settings = load_settings({"BOT_TOKEN": TOKEN, "BOT_ADMIN_IDS": "42"})
    application = build_application(settings, service, request=request_fake)
    application.bot_data["coach"] = Coach(service, store, admin_ids=frozenset({42}), clock=clock)
    application.bot_data["flood_guard"] = FloodGuard(clock=clock)
    application.bot_data["send_outgoing"] = partial(send_outgoing, application.bot, store)
    async with application:
        yield application


@pytest.fixture
def updates(clock: FakeClock) -> UpdateFactory:
    return UpdateFactory(clock)
