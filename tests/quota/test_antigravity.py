"""Google Antigravity: refreshed (and cached) access tokens, per-model quotas grouped into families."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from core.quota import QuotaEngine, QuotaWindow
from core.quota.accounts import ANTIGRAVITY_PLUGIN, QuotaAccount
from core.quota.providers.antigravity import AntigravityProvider, parse_available_models
from tests.quota.conftest import fixture, query, query_one, write_json
from tests.quota.fakes import FakeServer, Reply

TOKEN = "/token"
MODELS = "/v1internal:fetchAvailableModels"


@pytest.fixture
def oauth_client(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUOTAGATE_ANTIGRAVITY_CLIENT_ID", "test-client.apps.googleusercontent.com")
    monkeypatch.setenv("QUOTAGATE_ANTIGRAVITY_CLIENT_SECRET", "test-secret")


def _accounts(home: Path, *accounts: dict[str, object]) -> None:
    write_json(home / ".config/opencode/antigravity-accounts.json", {"version": 3, "accounts": list(accounts)})


def _serve(fake: FakeServer, expires_in: int = 3599) -> None:
    fake.reply("POST", TOKEN, json={"access_token": "ya29.fresh-token", "expires_in": expires_in,
                                    "token_type": "Bearer"})
    fake.reply("POST", MODELS, json=fixture("antigravity_models.json"))


async def test_the_refresh_token_is_traded_for_an_access_token_used_on_the_models_call(
        home: Path, fake: FakeServer, oauth_client: None) -> None:
    _serve(fake)
    _accounts(home, {"email": "dev@example.com", "refreshToken": "1//refresh-a", "projectId": "proj-a"})
    snapshot = await query_one(AntigravityProvider())
    [token_request] = fake.received(TOKEN)
    assert token_request.form() == {"client_id": "test-client.apps.googleusercontent.com",
                                    "client_secret": "test-secret", "refresh_token": "1//refresh-a",
                                    "grant_type": "refresh_token"}
    [models_request] = fake.received(MODELS)
    assert models_request.headers["authorization"] == "Bearer ya29.fresh-token"
    assert models_request.json() == {"project": "proj-a"}
    assert snapshot.ok and snapshot.account == "dev@example.com"


async def test_every_account_with_a_refresh_token_is_queried(home: Path, fake: FakeServer, oauth_client: None) -> None:
    _serve(fake)
    _accounts(home, {"email": "a@example.com", "refreshToken": "1//a", "projectId": "p"},
              {"email": "no-token@example.com"},
              {"email": "b@example.com", "refreshToken": "1//b", "managedProjectId": "q"})
    assert [s.account for s in await query(AntigravityProvider())] == ["a@example.com", "b@example.com"]


async def test_the_access_token_is_cached_until_it_expires(home: Path, fake: FakeServer, oauth_client: None) -> None:
    _serve(fake)
    _accounts(home, {"email": "a@example.com", "refreshToken": "1//a", "projectId": "p"})
    async with QuotaEngine([AntigravityProvider()], timeout=3) as engine:
        await engine.refresh_now()
        await engine.refresh_now()
    assert len(fake.received(TOKEN)) == 1 and len(fake.received(MODELS)) == 2


async def test_a_token_about_to_expire_is_refreshed_again(home: Path, fake: FakeServer, oauth_client: None) -> None:
    _serve(fake, expires_in=30)  # inside the one-minute safety margin
    _accounts(home, {"email": "a@example.com", "refreshToken": "1//a", "projectId": "p"})
    async with QuotaEngine([AntigravityProvider()], timeout=3) as engine:
        await engine.refresh_now()
        await engine.refresh_now()
    assert len(fake.received(TOKEN)) == 2


async def test_a_revoked_refresh_token_says_sign_in_again(home: Path, fake: FakeServer, oauth_client: None) -> None:
    fake.reply("POST", TOKEN, status=400, json={"error": "invalid_grant", "error_description": "Token has been "
                                                                                               "expired or revoked."})
    _accounts(home, {"email": "a@example.com", "refreshToken": "1//a", "projectId": "p"})
    snapshot = await query_one(AntigravityProvider())
    assert snapshot.error_kind == "auth" and "opencode auth login" in (snapshot.error or "")


async def test_without_a_project_the_project_is_looked_up_once(home: Path, fake: FakeServer,
                                                               oauth_client: None) -> None:
    _serve(fake)
    fake.reply("POST", "/v1internal:loadCodeAssist", json=fixture("gemini_load_code_assist.json"))
    _accounts(home, {"email": "a@example.com", "refreshToken": "1//a"})
    async with QuotaEngine([AntigravityProvider()], timeout=3) as engine:
        await engine.refresh_now()
        await engine.refresh_now()
    assert len(fake.received("/v1internal:loadCodeAssist")) == 1
    assert fake.received(MODELS)[0].json() == {"project": "helpful-river-12345"}


async def test_without_an_oauth_client_the_error_says_what_to_configure(home: Path, fake: FakeServer) -> None:
    _accounts(home, {"email": "a@example.com", "refreshToken": "1//a", "projectId": "p"})
    snapshot = await query_one(AntigravityProvider())
    assert snapshot.error_kind == "config" and "QUOTAGATE_ANTIGRAVITY_CLIENT_ID" in (snapshot.error or "")
    assert fake.requests == []


async def test_a_token_endpoint_slower_than_the_timeout_is_a_timeout(home: Path, fake: FakeServer,
                                                                     oauth_client: None) -> None:
    fake.reply("POST", TOKEN, Reply(json={"access_token": "x", "expires_in": 3600}, delay=1.0))
    _accounts(home, {"email": "a@example.com", "refreshToken": "1//a", "projectId": "p"})
    snapshot = await query_one(AntigravityProvider(), timeout=0.2)
    assert snapshot.error_kind == "timeout" and "Google sign-in" in (snapshot.error or "")


def _parse() -> dict[str, QuotaWindow]:
    account = QuotaAccount("antigravity", "a", "a@example.com", "test", ANTIGRAVITY_PLUGIN, None)
    snapshot = parse_available_models(fixture("antigravity_models.json"), account, datetime.now(timezone.utc))
    return {w.id: w for w in snapshot.windows}


def test_models_are_grouped_into_families_by_name_pattern() -> None:
    assert list(_parse()) == ["gemini-pro", "gemini-flash", "claude", "gpt"]


def test_each_family_shows_its_lowest_remaining_model_and_that_models_reset() -> None:
    pro = _parse()["gemini-pro"]
    assert pro.label == "Gemini Pro" and pro.remaining_percent == 35.0  # the Low variant, not High's 80
    assert pro.resets_at == datetime(2026, 1, 24, 3, 0, tzinfo=timezone.utc)


def test_a_missing_remaining_fraction_is_unknown_not_zero() -> None:
    windows = _parse()
    assert windows["claude"].remaining_percent == 60.0  # Opus is unknown, so Sonnet's 60 % is the lowest known
    assert windows["gpt"].remaining_percent is None and windows["gpt"].used_percent is None


def test_a_new_model_joins_its_family_without_code_changes() -> None:
    body = {"models": {"gemini-9-flash-ultra": {"quotaInfo": {"remainingFraction": 0.1}},
                       "gemini-3-flash": {"quotaInfo": {"remainingFraction": 0.9}}}}
    account = QuotaAccount("antigravity", "a", "a", "test", ANTIGRAVITY_PLUGIN, None)
    [flash] = parse_available_models(body, account, datetime.now(timezone.utc)).windows
    assert flash.id == "gemini-flash" and flash.remaining_percent == pytest.approx(10.0)
