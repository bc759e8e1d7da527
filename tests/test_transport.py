"""The JSON request backend against the fake Bot API on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import traceback

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.constants import ParseMode
from telegram.error import NetworkError, TimedOut

from bot.telegram.transport import JsonRequest, UpdatesRequest, _certificates
from tests.fake_bot_api import FakeBotAPI
from tests.offline import TOKEN


def _bot(base_url: str, request: JsonRequest) -> Bot:
    return Bot(TOKEN, base_url=f"{base_url}/bot", request=request, get_updates_request=request)


async def test_messages_go_as_json_and_files_as_multipart(api: FakeBotAPI) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Themen", callback_data="v1|t|")]])
    async with _bot(api.base_url, JsonRequest()) as bot:
        message = await bot.send_message(
            7, "<b>Grüße</b> &amp; 👋", parse_mode=ParseMode.HTML, reply_markup=markup
        )
        await bot.send_document(7, InputFile(b'{"a": 1}', filename="export.json"))
    assert message.reply_markup == markup  # the answer is parsed as usual
    text, document = api.sent("sendMessage", "sendDocument")
    assert text.content_type == "application/json"
    assert text.params["text"] == "<b>Grüße</b> &amp; 👋"
    assert text.params["reply_markup"] == markup.to_dict()
    assert document.content_type.startswith("multipart/form-data")
    assert document.files["document"] == b'{"a": 1}'


async def test_a_slow_answer_is_a_timeout() -> None:
    slow = FakeBotAPI(TOKEN, latency=1.0)
    slow.start()
    request = JsonRequest(read_timeout=0.2)
    await request.initialize()
    try:
        with pytest.raises(TimedOut):
            await request.post(f"{slow.base_url}/bot{TOKEN}/getMe")
    finally:
        await request.shutdown()
        slow.stop()


async def test_waiting_for_a_busy_connection_times_out_without_naming_the_token() -> None:
    slow = FakeBotAPI(TOKEN, latency=1.0)
    slow.start()
    request = JsonRequest(pool_size=1, connect_timeout=0.1, pool_timeout=0.1)
    await request.initialize()
    url = f"{slow.base_url}/bot{TOKEN}/getMe"
    try:
        busy = asyncio.ensure_future(request.post(url))  # holds the only connection
        await asyncio.sleep(0.05)
        with pytest.raises(TimedOut) as raised:
            await request.post(url)
        await busy
    finally:
        await request.shutdown()
        slow.stop()
    # aiohttp's own message quotes the URL; what we raise (and what gets logged) must not.
    assert TOKEN not in "".join(traceback.format_exception(raised.value))


async def test_nobody_listening_is_a_network_error() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    request = JsonRequest()
    await request.initialize()
    with pytest.raises(NetworkError):
        await request.post(f"http://127.0.0.1:{port}/bot{TOKEN}/getMe")
    await request.shutdown()


async def test_it_can_be_started_again_after_shutdown(api: FakeBotAPI) -> None:
    request = JsonRequest()
    bot = _bot(api.base_url, request)
    async with bot:
        pass
    async with bot:  # PTB initialises the request again, e.g. on a restart of the app
        await bot.send_message(7, "wieder da")
    assert api.sent("sendMessage")[-1].params["text"] == "wieder da"


async def test_the_updates_connection_keeps_each_update_as_received(api: FakeBotAPI) -> None:
    api.say_together((7, "Grüße <b>&</b> 👋"), (8, "/start"))
    sent = [dict(update) for update in api.updates]
    request = UpdatesRequest()
    async with Bot(TOKEN, base_url=f"{api.base_url}/bot", get_updates_request=request) as bot:
        updates = await bot.get_updates(timeout=0)
        assert [json.loads(request.raw(u.update_id) or "") for u in updates] == sent
        assert request.raw(-1) is None
        await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
    assert request.raw(updates[0].update_id) is None  # only the last batch is kept


def test_tls_checks_certificates_and_host_names() -> None:
    context = _certificates()
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.cert_store_stats()["x509_ca"] > 100  # certifi's bundle, not an empty store
