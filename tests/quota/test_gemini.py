"""Gemini CLI: its saved sign-in, the project from loadCodeAssist, buckets grouped Pro / Flash / Flash-Lite."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from core.quota.providers.gemini import GeminiProvider
from tests.quota.conftest import fixture, make_jwt, query, query_one, write_json
from tests.quota.fakes import FakeServer

LOAD = "/v1internal:loadCodeAssist"
QUOTA = "/v1internal:retrieveUserQuota"


def _creds(home: Path, expires_in: float) -> None:
    write_json(home / ".gemini" / "oauth_creds.json", {
        "access_token": "ya29.saved-token", "refresh_token": "1//saved-refresh", "scope": "openid",
        "token_type": "Bearer", "id_token": make_jwt({"email": "dev@example.com"}),
        "expiry_date": int((time.time() + expires_in) * 1000)})


def _serve(fake: FakeServer) -> None:
    fake.reply("POST", LOAD, json=fixture("gemini_load_code_assist.json"))
    fake.reply("POST", QUOTA, json=fixture("gemini_user_quota.json"))


async def test_the_project_comes_from_load_code_assist_and_is_used_for_the_quota(home: Path, fake: FakeServer) -> None:
    _serve(fake)
    _creds(home, 3600)
    snapshot = await query_one(GeminiProvider())
    assert fake.received(LOAD)[0].json()["metadata"]["pluginType"] == "GEMINI"
    [request] = fake.received(QUOTA)
    assert request.json() == {"project": "helpful-river-12345"}
    assert request.headers["authorization"] == "Bearer ya29.saved-token"
    assert snapshot.account == "dev@example.com" and snapshot.plan == "Gemini Code Assist for individuals"


async def test_buckets_are_grouped_pro_flash_and_flash_lite_showing_the_lowest(home: Path, fake: FakeServer) -> None:
    _serve(fake)
    _creds(home, 3600)
    snapshot = await query_one(GeminiProvider())
    assert [(w.label, w.remaining_percent) for w in snapshot.windows] == [
        ("Gemini Pro", 50.0), ("Gemini Flash", 90.0), ("Gemini Flash-Lite", 99.0)]


async def test_a_configured_project_skips_the_lookup(home: Path, fake: FakeServer,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    _serve(fake)
    _creds(home, 3600)
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "my-project")
    await query(GeminiProvider())
    assert fake.received(LOAD) == [] and fake.received(QUOTA)[0].json() == {"project": "my-project"}


async def test_an_expired_token_says_to_run_gemini(home: Path, fake: FakeServer) -> None:
    _creds(home, -600)
    snapshot = await query_one(GeminiProvider())
    assert snapshot.error_kind == "expired" and "run `gemini`" in (snapshot.error or "")
    assert fake.requests == []


async def test_an_expired_token_is_refreshed_when_an_oauth_client_is_configured(
        home: Path, fake: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    _serve(fake)
    fake.reply("POST", "/token", json={"access_token": "ya29.refreshed", "expires_in": 3599})
    monkeypatch.setenv("QUOTAGATE_GEMINI_CLIENT_ID", "gemini-client")
    _creds(home, -600)
    snapshot = await query_one(GeminiProvider())
    assert snapshot.ok
    assert fake.received("/token")[0].form()["refresh_token"] == "1//saved-refresh"
    assert fake.received(QUOTA)[0].headers["authorization"] == "Bearer ya29.refreshed"


async def test_a_rejected_token_says_sign_in_again_with_the_gemini_cli(home: Path, fake: FakeServer) -> None:
    fake.reply("POST", LOAD, status=401, json={"error": {"code": 401, "status": "UNAUTHENTICATED"}})
    _creds(home, 3600)
    snapshot = await query_one(GeminiProvider())
    assert snapshot.error_kind == "auth" and "the Gemini CLI" in (snapshot.error or "")
