"""The fake Telegram rules themselves: they must refuse what Telegram refuses."""

from tests.telegram_rules import check_outgoing, html_problem


def test_escaped_html_with_allowed_tags_parses() -> None:
    assert html_problem("<b>Tom &amp; Jerry</b> &lt;3 <i>ok</i>") is None


def test_unescaped_specials_and_unknown_tags_are_refused() -> None:
    assert html_problem("a < b") is not None
    assert html_problem("Tom & Jerry") is not None
    assert html_problem("<div>x</div>") is not None
    assert html_problem("<b>open") is not None


def test_length_counts_visible_utf16_units() -> None:
    assert html_problem("<b>" + "a" * 4096 + "</b>") is None
    assert html_problem("a" * 4097) is not None
    assert html_problem("😀" * 2049) is not None  # 2 units each


def test_callback_data_over_64_bytes_is_refused() -> None:
    markup = {"inline_keyboard": [[{"text": "x", "callback_data": "ä" * 33}]]}
    assert check_outgoing("sendMessage", {"text": "x", "reply_markup": markup}) is not None
    markup["inline_keyboard"][0][0]["callback_data"] = "ä" * 32
    assert check_outgoing("sendMessage", {"text": "x", "reply_markup": markup}) is None
