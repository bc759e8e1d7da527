"""Configuration: validated at start, clear about what is wrong, silent about secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import TELEGRAM_API, ConfigError, load_settings


def test_defaults_without_environment() -> None:
    settings = load_settings({})
    assert settings.token is None
    assert settings.db_path == Path("data/bot.sqlite3")
    assert settings.default_language == "de" and settings.timezone == "Europe/Berlin"
    assert settings.bot_base_url == TELEGRAM_API + "/bot"


def test_values_are_parsed() -> None:
    settings = load_settings(
        {
            "BOT_TOKEN": "123:abc",
            "BOT_API_BASE_URL": "http://127.0.0.1:8081/",
            "BOT_ADMIN_IDS": "1, 2;3",
            "BOT_DEFAULT_LANGUAGE": "EN",
            "BOT_LOG_LEVEL": "debug",
        }
    )
    assert settings.token is not None and settings.token.get_secret_value() == "123:abc"
    assert settings.bot_base_url == "http://127.0.0.1:8081/bot"
    assert settings.admin_ids == frozenset({1, 2, 3})
    assert (settings.default_language, settings.log_level) == ("en", "DEBUG")
    assert "123:abc" not in repr(settings)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"BOT_TOKEN": "no-colon-secret"}, "BOT_TOKEN"),
        ({"BOT_API_BASE_URL": "bot-api.example"}, "BOT_API_BASE_URL"),
        ({"BOT_ADMIN_IDS": "alice"}, "BOT_ADMIN_IDS"),
        ({"BOT_DEFAULT_LANGUAGE": "fr"}, "BOT_DEFAULT_LANGUAGE"),
        ({"BOT_TIMEZONE": "Mars/Olympus"}, "BOT_TIMEZONE"),
        ({"BOT_LOG_LEVEL": "LOUD"}, "BOT_LOG_LEVEL"),
    ],
)
def test_malformed_values_fail_naming_the_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named) as error:
        load_settings(env)
    assert "secret" not in str(error.value)
