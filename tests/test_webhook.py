"""Webhook mode offline: a post is saved before Telegram gets its 200, then handled."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from telegram.ext import Application

from bot.storage import Storage
from bot.telegram.polling import ChatQueues, chat_queues
from bot.telegram.webhook import SECRET_HEADER, webhook_server
from tests.offline import OfflineRequest, UpdateFactory

App = Application[Any, Any, Any, Any, Any, Any]
SECRET = "s3cret-Token_1"


@pytest.fixture
async def queues(app: App) -> AsyncIterator[ChatQueues]:
    live = chat_queues(app)
    yield live
    await live.close()


async def _client(app: App, queues: ChatQueues) -> TestClient[Any, Any]:
    client = TestClient(TestServer(webhook_server(app, queues, "telegram/hook", SECRET)))
    await client.start_server()
    return client


async def test_a_post_is_answered_once_and_only_with_the_secret(
    app: App, queues: ChatQueues, updates: UpdateFactory, request_fake: OfflineRequest
) -> None:
    client = await _client(app, queues)
    try:
        forged = updates.message("/start", user_id=61)
        for headers in ({}, {SECRET_HEADER: "wrong"}):
            response = await client.post("/telegram/hook", json=forged, headers=headers)
            assert response.status == 403
        response = await client.post(
            "/telegram/hook", data="{not json", headers={SECRET_HEADER: SECRET}
        )
        assert response.status == 400
        update = updates.message("/start", user_id=62)
        for _ in range(2):  # Telegram sends it again if our answer got lost
            response = await client.post(
                "/telegram/hook", json=update, headers={SECRET_HEADER: SECRET}
            )
            assert response.status == 200
        await asyncio.wait_for(queues.drained(), 5)
    finally:
        await client.close()
    (welcome,) = request_fake.sent()
    assert welcome.params["chat_id"] == 62 and "Willkommen" in str(welcome.params["text"])


async def test_the_update_is_saved_before_telegram_hears_200(
    app: App, updates: UpdateFactory, request_fake: OfflineRequest, store: Storage
) -> None:
    stopped = chat_queues(app)
    await stopped.close()  # the process dies right after answering: nothing gets handled
    client = await _client(app, stopped)
    update = updates.message("wieviele zeichen linkdin anfrage", user_id=63)
    try:
        response = await client.post("/telegram/hook", json=update, headers={SECRET_HEADER: SECRET})
        assert response.status == 200
    finally:
        await client.close()
    assert request_fake.sent() == []
    ((update_id, payload),) = await store.inbox.unhandled()  # handled at the next start
    assert update_id == update["update_id"] and json.loads(payload) == update


async def test_a_lone_surrogate_is_cleaned_at_the_edge_and_answered(
    app: App, queues: ChatQueues, updates: UpdateFactory, request_fake: OfflineRequest
) -> None:
    client = await _client(app, queues)
    try:
        update = updates.message("wie lang darf die notiz sein \ud800", user_id=63)
        body = json.dumps(update)  # ASCII: the surrogate travels as "\ud800", as from Telegram
        assert "\\ud800" in body
        response = await client.post("/telegram/hook", data=body, headers={SECRET_HEADER: SECRET})
        assert response.status == 200
        await asyncio.wait_for(queues.drained(), 5)
    finally:
        await client.close()
    (answer,) = request_fake.sent()
    assert answer.params["chat_id"] == 63 and "300 Zeichen" in str(answer.params["text"])


async def test_junk_gets_400_and_an_update_ptb_cannot_parse_200_once_set_aside(
    app: App,
    queues: ChatQueues,
    updates: UpdateFactory,
    request_fake: OfflineRequest,
    store: Storage,
) -> None:
    client = await _client(app, queues)
    broken = updates.message("ohne Datum", user_id=64)
    del broken["message"]["date"]
    try:
        for junk in ("[]", "null", '{"update_id": "5"}', '{"update_id": -1}', "[" * 50_000):
            response = await client.post(
                "/telegram/hook", data=junk, headers={SECRET_HEADER: SECRET}
            )
            assert response.status == 400, junk[:20]
        response = await client.post("/telegram/hook", json=broken, headers={SECRET_HEADER: SECRET})
        assert response.status == 200
        await asyncio.wait_for(queues.drained(), 5)
    finally:
        await client.close()
    (notice,) = request_fake.sent()
    assert notice.params["chat_id"] == 64 and "schiefgelaufen" in str(notice.params["text"])
    assert await store.inbox.set_aside_since(app.bot_data["coach"].clock()) == 1
