"""The renderer: escaping, splitting and callback data, all in one place."""

from __future__ import annotations

import pytest

from bot.render import MAX_MESSAGE, decode_action, encode_action, to_html, to_plain
from bot.reply import Action, ActionKind, Block, Button, Reply
from tests.telegram_rules import html_problem


def test_every_string_is_escaped_once() -> None:
    reply = Reply((Block("<b>Tom & Jerry</b>", "title"), Block("a < b > c & d")))
    (html,) = to_html(reply)
    assert html == "<b>&lt;b&gt;Tom &amp; Jerry&lt;/b&gt;</b>\na &lt; b &gt; c &amp; d"
    assert html_problem(html) is None


def test_long_replies_split_at_block_boundaries_within_the_limit() -> None:
    paragraph = "Absatz mit Text. " * 60  # about 1000 characters
    reply = Reply(tuple(Block(f"{n}: {paragraph}") for n in range(12)))
    chunks = to_html(reply)
    assert len(chunks) > 1
    for chunk in chunks:
        assert html_problem(chunk) is None
        assert chunk.startswith(tuple(f"{n}: " for n in range(12))), "split between blocks"


@pytest.mark.parametrize("unit", ["x", "&", "😀", "<", "ä"])
def test_a_single_huge_block_is_split_into_valid_messages(unit: str) -> None:
    reply = Reply((Block(unit * 9000, "note"),))
    chunks = to_html(reply)
    assert all(html_problem(chunk) is None for chunk in chunks)
    visible = "".join(chunk.removeprefix("<i>").removesuffix("</i>") for chunk in chunks)
    assert visible.count(unit if unit not in "&<" else {"&": "&amp;", "<": "&lt;"}[unit]) == 9000


def test_plain_text_has_no_markup_and_spaces_titles() -> None:
    reply = Reply(
        (Block("Eins", "title"), Block("a & b"), Block("Zwei", "title"), Block("x", "item"))
    )
    assert to_plain(reply) == "Eins\na & b\n\nZwei\n• x"


def test_callback_data_round_trips_and_stays_within_64_bytes() -> None:
    action = Action(ActionKind.CHECK, "linkedin-decide")
    data = encode_action(action)
    assert len(data.encode()) <= 64
    assert decode_action(data) == action


def test_unencodable_actions_are_refused_at_the_source() -> None:
    with pytest.raises(ValueError):
        encode_action(Action(ActionKind.ENTRY, "x" * 70))
    with pytest.raises(ValueError):
        encode_action(Action(ActionKind.ENTRY, "Ümlaut"))


@pytest.mark.parametrize("data", [None, "", "v1|e", "v2|e|x", "v1|nope|x", "v1|e|a|b", "x" * 80])
def test_foreign_or_malformed_data_decodes_to_nothing(data: str | None) -> None:
    assert decode_action(data) is None


def test_max_message_is_telegrams_limit() -> None:
    assert MAX_MESSAGE == 4096


def test_shared_keyboards_serialise_like_plain_ones_and_hand_out_copies() -> None:
    from telegram import InlineKeyboardMarkup

    from bot.telegram.app import SharedKeyboard, keyboard

    reply = Reply(
        (Block("x"),),
        (
            (Button("Thémen & mehr", Action(ActionKind.TOPICS)),),
            (Button("Hilfe", Action(ActionKind.HELP)),),
        ),
    )
    shared = keyboard(reply)
    assert isinstance(shared, SharedKeyboard)
    assert keyboard(reply) is shared  # built once per reply
    plain = InlineKeyboardMarkup(shared.inline_keyboard)
    assert shared.to_dict() == plain.to_dict()
    assert shared.to_dict(recursive=False).keys() == plain.to_dict(recursive=False).keys()
    shared.to_dict()["inline_keyboard"].clear()  # a caller spoiling its copy ...
    assert shared.to_dict() == plain.to_dict()  # ... spoils nothing for the next send
