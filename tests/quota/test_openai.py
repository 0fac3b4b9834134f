"""ChatGPT / Codex: credentials from the Codex CLI and OpenCode, the workspace header, windows and credits."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from core.quota.accounts import CODEX_CLI, QuotaAccount
from core.quota.providers.openai import OpenAICredential, OpenAIProvider, parse_usage
from tests.quota.conftest import fixture, make_jwt, query, query_one, write_json
from tests.quota.fakes import FakeServer

USAGE = "/backend-api/wham/usage"
AN_HOUR_AHEAD = int(time.time()) + 3600


def _access_token(**claims: object) -> str:
    return make_jwt({"exp": AN_HOUR_AHEAD, **claims})


def _codex_auth(home: Path, tokens: dict[str, object]) -> Path:
    return write_json(home / ".codex" / "auth.json", {"OPENAI_API_KEY": None, "tokens": tokens,
                                                       "last_refresh": "2026-01-20T10:00:00Z"})


async def test_a_team_account_id_from_the_codex_file_is_sent_as_chatgpt_account_id(
        home: Path, fake: FakeServer) -> None:
    fake.reply("GET", USAGE, json=fixture("openai_usage_plus.json"))
    _codex_auth(home, {"access_token": _access_token(), "account_id": "team-1234", "refresh_token": "rt"})
    snapshot = await query_one(OpenAIProvider())
    [request] = fake.received(USAGE)
    assert request.headers["chatgpt-account-id"] == "team-1234"
    assert request.headers["authorization"].startswith("Bearer ey")
    assert snapshot.ok and snapshot.account_key == "team-1234"


async def test_without_an_account_id_the_jwt_claim_is_sent(home: Path, fake: FakeServer) -> None:
    fake.reply("GET", USAGE, json=fixture("openai_usage_plus.json"))
    token = _access_token(**{"https://api.openai.com/auth": {"chatgpt_account_id": "claim-5678"},
                             "https://api.openai.com/profile": {"email": "jane@example.com"}})
    _codex_auth(home, {"access_token": token})
    snapshot = await query_one(OpenAIProvider())
    assert fake.received(USAGE)[0].headers["chatgpt-account-id"] == "claim-5678"
    assert snapshot.account == "jane@example.com"


async def test_codex_home_moves_the_codex_credentials(home: Path, fake: FakeServer,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    fake.reply("GET", USAGE, json=fixture("openai_usage_plus.json"))
    elsewhere = home / "work" / "codex"
    write_json(elsewhere / "auth.json", {"tokens": {"access_token": _access_token(), "account_id": "moved"}})
    monkeypatch.setenv("CODEX_HOME", str(elsewhere))
    snapshot = await query_one(OpenAIProvider())
    assert snapshot.account_key == "moved" and snapshot.source == "~/work/codex/auth.json"


async def test_the_opencode_sign_in_is_read_from_xdg_data_home(home: Path, fake: FakeServer) -> None:
    fake.reply("GET", USAGE, json=fixture("openai_usage_plus.json"))
    write_json(home / ".local/share/opencode/auth.json", {"openai": {
        "type": "oauth", "access": _access_token(), "refresh": "rt", "expires": (AN_HOUR_AHEAD * 1000)}})
    snapshot = await query_one(OpenAIProvider())
    assert snapshot.ok and snapshot.source == "~/.local/share/opencode/auth.json"


async def test_the_same_account_in_codex_and_opencode_is_shown_once(home: Path, fake: FakeServer) -> None:
    fake.reply("GET", USAGE, json=fixture("openai_usage_plus.json"))
    _codex_auth(home, {"access_token": _access_token(), "account_id": "same"})
    write_json(home / ".local/share/opencode/auth.json", {"openai": {"type": "oauth", "access": _access_token(),
                                                                     "accountId": "same"}})
    assert len(await query(OpenAIProvider())) == 1


async def test_no_credentials_means_not_configured_and_no_snapshot(home: Path, fake: FakeServer) -> None:
    assert await query(OpenAIProvider()) == []
    assert fake.requests == []


async def test_a_codex_login_with_an_api_key_only_has_no_subscription_quota(home: Path, fake: FakeServer) -> None:
    write_json(home / ".codex" / "auth.json", {"OPENAI_API_KEY": "sk-test-123456"})
    assert await query(OpenAIProvider()) == []


async def test_an_expired_codex_token_says_so_and_names_the_codex_cli(home: Path, fake: FakeServer) -> None:
    _codex_auth(home, {"access_token": make_jwt({"exp": int(time.time()) - 600}), "account_id": "a"})
    snapshot = await query_one(OpenAIProvider())
    assert snapshot.error_kind == "expired"
    assert "expired" in (snapshot.error or "") and "`codex`" in (snapshot.error or "")
    assert fake.requests == []


async def test_an_expired_opencode_token_names_opencode(home: Path, fake: FakeServer) -> None:
    write_json(home / ".local/share/opencode/auth.json", {"openai": {
        "type": "oauth", "access": "opaque-token", "expires": int(time.time() - 60) * 1000}})
    snapshot = await query_one(OpenAIProvider())
    assert snapshot.error_kind == "expired" and "OpenCode" in (snapshot.error or "")


def _account() -> QuotaAccount[OpenAICredential]:
    return QuotaAccount("openai", "k", "jane@example.com", "test", CODEX_CLI, OpenAICredential("t", None, None))


def test_relative_resets_count_from_the_fetch_time_and_windows_are_named_by_length() -> None:
    now = datetime(2026, 1, 23, 12, 0, tzinfo=timezone.utc)
    snapshot = parse_usage(fixture("openai_usage_plus.json"), _account(), now)
    primary, secondary = snapshot.windows
    assert snapshot.plan == "Plus"
    assert (primary.label, primary.used_percent, primary.remaining_percent) == ("3-hour", 15.0, 85.0)
    assert primary.resets_at == now + timedelta(seconds=9180) and primary.window_seconds == 10800
    assert (secondary.label, secondary.remaining_percent) == ("Daily", 95.0)


def test_absolute_reset_at_wins_over_the_relative_value() -> None:
    now = datetime(2026, 1, 2, tzinfo=timezone.utc)
    primary = parse_usage(fixture("openai_usage_pro.json"), _account(), now).windows[0]
    assert primary.resets_at == datetime.fromtimestamp(1767385852, timezone.utc)


def test_code_review_additional_limits_and_credits_become_windows() -> None:
    snapshot = parse_usage(fixture("openai_usage_pro.json"), _account(), datetime.now(timezone.utc))
    ids = [w.id for w in snapshot.windows]
    assert ids == ["primary", "secondary", "code-review-primary", "gpt-5-codex-spark-primary",
                   "gpt-5-codex-spark-secondary", "credits"]
    spark = snapshot.window("gpt-5-codex-spark-primary")
    assert spark is not None and spark.label == "GPT-5-Codex-Spark · 5-hour" and spark.remaining_percent == 60.0
    credits = snapshot.window("credits")
    assert credits is not None and credits.remaining == 125.5 and credits.remaining_percent is None
    assert snapshot.plan == "Pro"
