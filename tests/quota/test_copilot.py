"""GitHub Copilot: the internal user API (with the token-exchange fallback) and the public billing API."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from core.quota import QuotaEngine
from core.quota.accounts import OPENCODE, QuotaAccount
from core.quota.providers.copilot import (
    CopilotOAuth,
    CopilotProvider,
    parse_copilot_user,
)
from tests.quota.conftest import fixture, query, query_one, write_json
from tests.quota.fakes import FakeServer, Reply

USER = "/copilot_internal/user"
EXCHANGE = "/copilot_internal/v2/token"
BILLING = "/users/username/settings/billing/premium_request/usage"
OAUTH_TOKEN = "gho_16C7e42F292c6912E7710c838347Ae178B4a"


def _opencode_sign_in(home: Path) -> None:
    write_json(home / ".local/share/opencode/auth.json", {"github-copilot": {
        "type": "oauth", "refresh": OAUTH_TOKEN, "access": OAUTH_TOKEN, "expires": 0}})


async def test_the_user_api_is_asked_with_the_oauth_token(home: Path, fake: FakeServer) -> None:
    fake.reply("GET", USER, json=fixture("copilot_user_pro.json"))
    _opencode_sign_in(home)
    snapshot = await query_one(CopilotProvider())
    assert fake.received(USER)[0].headers["authorization"] == f"token {OAUTH_TOKEN}"
    assert snapshot.account == "@octocat" and snapshot.plan == "Individual"


async def test_premium_requests_are_counted_against_the_entitlement(home: Path, fake: FakeServer) -> None:
    fake.reply("GET", USER, json=fixture("copilot_user_pro.json"))
    _opencode_sign_in(home)
    premium = (await query_one(CopilotProvider())).window("premium")
    assert premium is not None
    assert (premium.remaining_percent, premium.used, premium.limit, premium.remaining) == (23.7, 229, 300, 71)
    assert premium.resets_at == datetime(2026, 2, 1, tzinfo=timezone.utc)


async def test_unlimited_quotas_are_unlimited_and_placeholders_are_left_out(home: Path, fake: FakeServer) -> None:
    fake.reply("GET", USER, json=fixture("copilot_user_pro.json"))
    _opencode_sign_in(home)
    snapshot = await query_one(CopilotProvider())
    assert [w.id for w in snapshot.windows] == ["premium", "chat"]  # completions is a zero-entitlement placeholder
    chat = snapshot.window("chat")
    assert chat is not None and chat.unlimited and chat.remaining_percent is None and chat.used_percent is None


async def test_an_all_unlimited_business_seat_shows_nothing_as_zero_percent(home: Path, fake: FakeServer) -> None:
    fake.reply("GET", USER, json=fixture("copilot_user_business.json"))
    _opencode_sign_in(home)
    snapshot = await query_one(CopilotProvider())
    assert [w.unlimited for w in snapshot.windows] == [True, True, True]
    assert all(w.remaining_percent is None for w in snapshot.windows)


async def test_a_refused_oauth_token_falls_back_to_the_session_token_exchange(home: Path, fake: FakeServer) -> None:
    fake.reply("GET", USER, Reply(401, json={"message": "Bad credentials"}),
               Reply(json=fixture("copilot_user_pro.json")))
    fake.reply("GET", EXCHANGE, json=fixture("copilot_token.json"))
    _opencode_sign_in(home)
    snapshot = await query_one(CopilotProvider())
    assert snapshot.ok and snapshot.window("premium") is not None
    first, second = fake.received(USER)
    assert first.headers["authorization"] == f"token {OAUTH_TOKEN}"
    assert fake.received(EXCHANGE)[0].headers["authorization"] == f"token {OAUTH_TOKEN}"
    assert second.headers["authorization"] == f"Bearer {fixture('copilot_token.json')['token']}"


async def test_once_the_exchange_is_needed_later_refreshes_reuse_the_cached_session_token(
        home: Path, fake: FakeServer) -> None:
    fake.reply("GET", USER, Reply(401, json={}), Reply(json=fixture("copilot_user_pro.json")))
    fake.reply("GET", EXCHANGE, json=fixture("copilot_token.json"))
    _opencode_sign_in(home)
    async with QuotaEngine([CopilotProvider()], timeout=3) as engine:
        await engine.refresh_now()
        await engine.refresh_now()
    assert len(fake.received(EXCHANGE)) == 1
    assert [r.headers["authorization"].split()[0] for r in fake.received(USER)] == ["token", "Bearer", "Bearer"]


async def test_a_failed_exchange_says_sign_in_again(home: Path, fake: FakeServer) -> None:
    fake.reply("GET", USER, status=401, json={})
    fake.reply("GET", EXCHANGE, status=401, json={"message": "Bad credentials"})
    _opencode_sign_in(home)
    snapshot = await query_one(CopilotProvider())
    assert snapshot.error_kind == "auth" and "opencode auth login" in (snapshot.error or "")


async def test_the_copilot_editor_plugin_sign_in_is_read(home: Path, fake: FakeServer) -> None:
    fake.reply("GET", USER, json=fixture("copilot_user_pro.json"))
    write_json(home / ".config/github-copilot/apps.json",
               {"github.com:Iv1.b507a08c87ecfe98": {"user": "octocat", "oauth_token": OAUTH_TOKEN}})
    snapshot = await query_one(CopilotProvider())
    assert snapshot.ok and snapshot.source == "~/.config/github-copilot/apps.json"


async def test_the_billing_path_sums_premium_gross_quantity_against_the_plan_allowance(
        home: Path, fake: FakeServer) -> None:
    fake.reply("GET", BILLING, json=fixture("copilot_billing_usage.json"))
    write_json(home / ".config/opencode/copilot-quota-token.json",
               {"token": "github_pat_11ABCDEFG0123456789", "username": "username", "tier": "pro"})
    snapshot = await query_one(CopilotProvider())
    [request] = fake.received(BILLING)
    assert request.headers["authorization"] == "Bearer github_pat_11ABCDEFG0123456789"
    assert request.headers["accept"] == "application/vnd.github+json"
    assert request.headers["x-github-api-version"] == "2022-11-28"
    [premium] = snapshot.windows
    assert (premium.used, premium.limit, premium.remaining) == (250, 300, 50)  # 229 + 21; Actions minutes ignored
    assert round(premium.remaining_percent or 0, 2) == 16.67
    assert premium.resets_at == datetime(2026, 2, 1, tzinfo=timezone.utc)
    assert snapshot.account == "@username" and snapshot.plan == "Pro"


async def test_both_paths_can_be_configured_at_once(home: Path, fake: FakeServer) -> None:
    fake.reply("GET", BILLING, json=fixture("copilot_billing_usage.json"))
    fake.reply("GET", USER, json=fixture("copilot_user_pro.json"))
    write_json(home / ".config/opencode/copilot-quota-token.json",
               {"token": "github_pat_x", "username": "username", "tier": "pro+"})
    _opencode_sign_in(home)
    assert [s.account for s in await query(CopilotProvider())] == ["@username", "@octocat"]


async def test_a_billing_config_with_an_unknown_plan_is_an_error_naming_the_file(home: Path, fake: FakeServer) -> None:
    write_json(home / ".config/opencode/copilot-quota-token.json",
               {"token": "github_pat_x", "username": "username", "tier": "platinum"})
    snapshot = await query_one(CopilotProvider())
    assert snapshot.error_kind == "credentials"
    assert "copilot-quota-token.json" in (snapshot.error or "") and "pro+" in (snapshot.error or "")


def test_the_free_plan_counts_limited_quotas_against_monthly_quotas() -> None:
    body = {"copilot_plan": "free", "limited_user_reset_date": "2026-02-14",
            "limited_user_quotas": {"chat": 40, "completions": 1500},
            "monthly_quotas": {"chat": 50, "completions": 2000}}
    account = QuotaAccount("copilot", "k", "GitHub Copilot", "test", OPENCODE, CopilotOAuth("t"))
    snapshot = parse_copilot_user(body, account, datetime.now(timezone.utc))
    assert [(w.id, w.remaining_percent, w.used) for w in snapshot.windows] == [("chat", 80.0, 10),
                                                                               ("completions", 75.0, 500)]
