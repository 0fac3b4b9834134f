"""Claude: the Claude Code sign-in, session and weekly windows, model-scoped weekly windows."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from core.quota.accounts import CLAUDE_CODE, QuotaAccount
from core.quota.providers.claude import ClaudeCredential, ClaudeProvider, parse_usage
from tests.quota.conftest import fixture, query, query_one, write_json
from tests.quota.fakes import FakeServer

USAGE = "/api/oauth/usage"


def _credentials(home: Path, expires_ms: int, config_dir: Path | None = None) -> None:
    write_json((config_dir or home / ".claude") / ".credentials.json", {"claudeAiOauth": {
        "accessToken": "sk-ant-oat01-abcdef", "refreshToken": "sk-ant-ort01-xyz", "expiresAt": expires_ms,
        "scopes": ["user:inference", "user:profile"], "subscriptionType": "max",
        "rateLimitTier": "default_claude_max_20x"}})


async def test_usage_is_asked_with_the_bearer_token_and_the_oauth_beta_header(home: Path, fake: FakeServer) -> None:
    fake.reply("GET", USAGE, json=fixture("claude_usage.json"))
    _credentials(home, int(time.time() + 3600) * 1000)
    snapshot = await query_one(ClaudeProvider())
    [request] = fake.received(USAGE)
    assert request.headers["authorization"] == "Bearer sk-ant-oat01-abcdef"
    assert request.headers["anthropic-beta"] == "oauth-2025-04-20"
    assert snapshot.ok and snapshot.account == "Claude Code" and snapshot.plan == "Max"


async def test_claude_config_dir_moves_the_credentials(home: Path, fake: FakeServer,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    fake.reply("GET", USAGE, json=fixture("claude_usage.json"))
    _credentials(home, int(time.time() + 3600) * 1000, config_dir=home / "alt-claude")
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(home / "alt-claude"))
    assert (await query_one(ClaudeProvider())).ok


async def test_an_expired_claude_token_says_to_run_claude(home: Path, fake: FakeServer) -> None:
    _credentials(home, int(time.time() - 3600) * 1000)
    snapshot = await query_one(ClaudeProvider())
    assert snapshot.error_kind == "expired" and "run `claude`" in (snapshot.error or "")
    assert fake.requests == []


async def test_no_claude_credentials_means_no_snapshot(home: Path, fake: FakeServer) -> None:
    assert await query(ClaudeProvider()) == []


def _account() -> QuotaAccount[ClaudeCredential]:
    return QuotaAccount("claude", "claude-code", "Claude Code", "test", CLAUDE_CODE, ClaudeCredential("t", None, "pro"))


def test_five_hour_is_the_session_and_seven_day_the_weekly_window() -> None:
    snapshot = parse_usage(fixture("claude_usage.json"), _account(), datetime.now(timezone.utc))
    session, weekly = snapshot.windows[:2]
    assert (session.id, session.used_percent, session.remaining_percent) == ("session", 24.0, 76.0)
    assert session.resets_at == datetime(2026, 1, 2, 19, 59, 59, 600956, tzinfo=timezone.utc)
    assert session.window_seconds == 5 * 3600
    assert (weekly.id, weekly.remaining_percent, weekly.window_seconds) == ("weekly", 64.0, 7 * 86400)


def test_model_scoped_weekly_windows_appear_only_when_present() -> None:
    snapshot = parse_usage(fixture("claude_usage.json"), _account(), datetime.now(timezone.utc))
    assert [w.id for w in snapshot.windows] == ["session", "weekly", "weekly-sonnet"]
    sonnet = snapshot.window("weekly-sonnet")
    assert sonnet is not None and sonnet.label == "Weekly · Sonnet" and sonnet.remaining_percent == 99.0


def test_an_opus_window_is_shown_when_the_service_reports_one() -> None:
    body = {**fixture("claude_usage.json"), "seven_day_opus": {"utilization": 80.0, "resets_at": None}}
    opus = parse_usage(body, _account(), datetime.now(timezone.utc)).window("weekly-opus")
    assert opus is not None and opus.remaining_percent == 20.0 and opus.resets_at is None


def test_a_window_without_utilization_is_unknown_not_empty() -> None:
    body = {"five_hour": {"utilization": None, "resets_at": None}, "seven_day": None}
    [session] = parse_usage(body, _account(), datetime.now(timezone.utc)).windows
    assert session.remaining_percent is None
