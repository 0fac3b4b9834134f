"""A rejected token is renewed once and the request retried once; a sign-in that cannot be renewed marks the
account (combos skip it) and the next target answers. Counted at the fakes and at the credential source."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from core.quota.model import QuotaSnapshot, QuotaWindow
from core.subscriptions.bundle import QUOTA_ACCOUNT
from tests.executors.conftest import FIRST_TOKEN

CHAT = {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 32}
MODELS = {"claude": "cc/claude-sonnet-4-5-20250929", "codex": "cx/gpt-5.1-codex", "github": "gh/gpt-4.1",
          "antigravity": "agy/gemini-2.5-flash", "gemini-cli": "gemini-cli/gemini-2.5-pro"}


def marks(subscriptions) -> dict[int, str]:
    return {mark["accountId"]: mark["reason"] for mark in subscriptions.services.runtime.resilience.state()["marks"]}


@pytest.mark.parametrize("provider", list(MODELS))
async def test_a_401_renews_the_token_once_and_retries_once(subscriptions, client, provider: str) -> None:
    account = await subscriptions.add(provider, tokens=["expired-token", FIRST_TOKEN[provider]])
    response = await client.post("/v1/chat/completions", json={**CHAT, "model": MODELS[provider]})
    assert response.status_code == 200, response.text
    fake = subscriptions.fakes[provider]
    assert fake.unauthorized == 1 and len(fake.requests) == 2
    assert [r.headers["authorization"] for r in fake.requests] == ["Bearer expired-token",
                                                                   f"Bearer {FIRST_TOKEN[provider]}"]
    assert subscriptions.credentials.renewals == [(account, "expired-token")]
    assert response.headers["x-quotagate-fallbacks"] == "0" and marks(subscriptions) == {}


async def test_a_streamed_request_is_retried_after_its_renewal_too(subscriptions, client) -> None:
    await subscriptions.add("codex", tokens=["expired-token", FIRST_TOKEN["codex"]])
    async with client.stream("POST", "/v1/messages", json={**CHAT, "model": MODELS["codex"], "stream": True}) as stream:
        body = (await stream.aread()).decode()
    assert stream.status_code == 200 and "message_stop" in body and "Hello" in body
    assert subscriptions.fakes["codex"].unauthorized == 1 and len(subscriptions.credentials.renewals) == 1


async def test_a_second_401_marks_the_account_and_the_combo_moves_on(subscriptions, client) -> None:
    claude = await subscriptions.add("claude", tokens=["expired-1", "expired-2"])
    await subscriptions.add("codex")
    await client.post("/api/combos", json={"name": "plans", "strategy": "priority",
                                           "models": [MODELS["claude"], MODELS["codex"]]})
    response = await client.post("/v1/chat/completions", json={**CHAT, "model": "plans"})
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"] == "Hello from codex"
    assert response.headers["x-quotagate-fallbacks"] == "1"
    assert "claude-account): HTTP 401" in response.headers["x-quotagate-failures"]
    claude_fake = subscriptions.fakes["claude"]
    assert claude_fake.unauthorized == 2 and len(subscriptions.credentials.renewals) == 1  # one renewal, one retry
    assert claude in marks(subscriptions)
    again = await client.post("/v1/chat/completions", json={**CHAT, "model": "plans"})
    assert again.status_code == 200 and len(claude_fake.requests) == 2  # skipped: nothing more reached Claude


async def test_sign_in_required_marks_the_account_and_the_next_combo_target_answers(subscriptions, client) -> None:
    claude = await subscriptions.add("claude")
    await subscriptions.add("github")
    subscriptions.credentials.signed_out[claude] = "the refresh token was revoked (invalid_grant)"
    await client.post("/api/combos", json={"name": "plans", "strategy": "priority",
                                           "models": [MODELS["claude"], MODELS["github"]]})
    response = await client.post("/v1/messages", json={**CHAT, "model": "plans"})
    assert response.status_code == 200, response.text
    assert response.json()["content"][0]["text"] == "Hello from copilot"
    failures = response.headers["x-quotagate-failures"]
    assert "claude-account): sign in again" in failures and "refresh token was revoked" in failures
    assert subscriptions.fakes["claude"].requests == []  # nothing was sent without a token
    assert marks(subscriptions)[claude] == "needs to be signed in again"
    resilience = await client.get("/api/resilience")
    assert any(mark["accountId"] == claude for mark in resilience.json()["marks"])


async def test_a_renewal_that_fails_for_good_marks_the_account_and_moves_on(subscriptions, client) -> None:
    gemini = await subscriptions.add("gemini-cli", tokens=["expired-token"])  # nothing to renew to
    await subscriptions.add("antigravity")
    await client.post("/api/combos", json={"name": "google", "strategy": "priority",
                                           "models": [MODELS["gemini-cli"], MODELS["antigravity"]]})
    response = await client.post("/v1/chat/completions", json={**CHAT, "model": "google"})
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"] == "Hello from antigravity"
    assert subscriptions.fakes["gemini-cli"].unauthorized == 1
    failures = response.headers["x-quotagate-failures"]  # (headers are ASCII: the dash shows as "?")
    assert "(gemini-cli-account): sign in again" in failures and "the refresh token was revoked" in failures
    assert gemini in marks(subscriptions)


async def test_a_lone_account_that_must_sign_in_again_says_so_then_is_skipped(subscriptions, client) -> None:
    account = await subscriptions.add("codex")
    subscriptions.credentials.signed_out[account] = "ChatGPT ended the session"
    response = await client.post("/v1/chat/completions", json={**CHAT, "model": MODELS["codex"]})
    assert response.status_code == 502
    assert "codex-account: sign in again — ChatGPT ended the session" in response.json()["error"]["message"]
    again = await client.post("/v1/chat/completions", json={**CHAT, "model": MODELS["codex"]})
    assert again.status_code == 503
    assert "needs to be signed in again" in again.json()["error"]["message"]
    assert subscriptions.fakes["codex"].requests == []


async def test_signing_in_again_reloads_the_gateway_and_lifts_the_mark(subscriptions, client) -> None:
    account = await subscriptions.add("claude")
    subscriptions.credentials.signed_out[account] = "revoked"
    assert (await client.post("/v1/messages", json={**CHAT, "model": MODELS["claude"]})).status_code == 502
    del subscriptions.credentials.signed_out[account]
    await subscriptions.services.reload_gateway_config()  # what saving a new sign-in does
    response = await client.post("/v1/messages", json={**CHAT, "model": MODELS["claude"]})
    assert response.status_code == 200 and response.json()["content"][0]["text"] == "Hello from claude"


async def test_a_subscription_whose_quota_window_is_used_up_is_skipped_for_the_next(subscriptions, client) -> None:
    claude = await subscriptions.add("claude", name="max-plan")
    await subscriptions.add("claude", name="pro-plan", priority=1)
    services = subscriptions.services
    services.accounts.update_account(claude, options={QUOTA_ACCOUNT: "account:me@example.com"})
    await services.reload_gateway_config()
    resets = datetime.now(timezone.utc) + timedelta(hours=2)
    window = QuotaWindow.from_remaining("session", "Session · 5-hour", 0.0, resets_at=resets)
    services.runtime.quota_gate.update([QuotaSnapshot("claude", "account:me@example.com", "Claude",
                                                      windows=(window,))])
    response = await client.post("/v1/messages", json={**CHAT, "model": MODELS["claude"]})
    assert response.status_code == 200 and response.headers["x-quotagate-account"] == "pro-plan"
    assert len(subscriptions.fakes["claude"].requests) == 1
