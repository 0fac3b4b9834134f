"""The executors with the real token store behind them (no test double): a stored, unexpired sign-in's
token and facts (ChatGPT account, Code Assist project) reach the upstream as it requires them."""

from __future__ import annotations

import time

from core.subscriptions.bundle import Tokens
from tests.fakes.subscription_upstreams import CODEX_ACCOUNT, CODEX_TOKEN, GOOGLE_TOKEN, PROJECT

CHAT = {"messages": [{"role": "user", "content": "hi"}]}


async def store(services, provider: str, tokens: Tokens) -> None:
    services.accounts.create_account(provider, f"{provider}-signed-in", tokens.to_secret())
    await services.reload_gateway_config()


async def test_a_stored_codex_sign_in_is_used_with_its_chatgpt_account(subscriptions, client) -> None:
    services = subscriptions.services
    await store(services, "codex", Tokens(access_token=CODEX_TOKEN, refresh_token="rt-codex",
                                          expires_at=time.time() + 3600, account_id=CODEX_ACCOUNT))
    response = await client.post("/v1/chat/completions", json={**CHAT, "model": "cx/gpt-5"})
    assert response.status_code == 200, response.text
    seen = subscriptions.fakes["codex"].requests[-1]
    assert seen.headers["authorization"] == f"Bearer {CODEX_TOKEN}"
    assert seen.headers["chatgpt-account-id"] == CODEX_ACCOUNT


async def test_a_stored_gemini_cli_sign_in_sends_its_project(subscriptions, client) -> None:
    services = subscriptions.services
    await store(services, "gemini-cli", Tokens(access_token=GOOGLE_TOKEN, refresh_token="rt-google",
                                               expires_at=time.time() + 3600, project_id=PROJECT,
                                               client_id="cid", client_secret="csecret"))
    response = await client.post("/v1/messages", json={**CHAT, "model": "gemini-cli/gemini-2.5-pro",
                                                       "max_tokens": 20})
    assert response.status_code == 200, response.text
    assert response.json()["content"][0]["text"] == "Hello from gemini-cli"
    assert subscriptions.fakes["gemini-cli"].requests[-1].body["project"] == PROJECT
