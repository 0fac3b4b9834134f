"""The token manager under the gateway's executors, end to end: a client's request to a stored Claude sign-in
whose token the upstream rejects is renewed once at the (fake) token endpoint and retried; concurrent requests
share one renewal; a refused renewal marks the account and the client gets an error in words."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest

from core.services import CoreServices
from core.subscriptions.bundle import Tokens
from core.subscriptions.store import SignIn
from tests.fakes.oauth_servers import FakeAuthServices
from tests.fakes.server import ThreadedServer
from tests.fakes.subscription_upstreams import ClaudeOAuthUpstream

MODEL = "cc/claude-sonnet-4-5-20250929"
TOKEN_PATH = "/v1/oauth/token"


@pytest.fixture
def claude(auth: FakeAuthServices, monkeypatch: pytest.MonkeyPatch) -> Iterator[ClaudeOAuthUpstream]:
    fake = ClaudeOAuthUpstream()
    with ThreadedServer(fake.app()) as server:
        fake.url = server.url
        monkeypatch.setenv("QUOTAGATE_HOST_MAP", f"{auth.host_map()},api.anthropic.com={server.url}")
        yield fake


@pytest.fixture
async def gateway(claude: ClaudeOAuthUpstream, services: CoreServices) -> CoreServices:
    return services  # started after the host map names both fakes


async def sign_in(services: CoreServices, access: str, expires_in: float = 3600) -> int:
    account = await services.subscriptions.save(SignIn("claude", Tokens(access, "refresh-claude",
                                                                        time.time() + expires_in), "me@example.com"))
    return account.id


async def ask(client: httpx.AsyncClient) -> httpx.Response:
    return await client.post("/v1/chat/completions", json={"model": MODEL, "messages": [
        {"role": "user", "content": "hi"}]})


async def test_a_rejected_token_is_renewed_once_and_the_request_retried(gateway: CoreServices, client,
                                                                        claude: ClaudeOAuthUpstream,
                                                                        auth: FakeAuthServices):
    account = await sign_in(gateway, "revoked-early")
    claude.tokens = {f"access-{auth.issued + 1}"}  # the token the renewal will bring
    answer = await ask(client)
    assert answer.status_code == 200, answer.text
    assert (claude.unauthorized, auth.refresh_requests[TOKEN_PATH]) == (1, 1)
    stored = gateway.subscriptions.store.get(account)
    assert stored.tokens["access_token"] in claude.tokens  # written back for the next request
    assert (await ask(client)).status_code == 200 and auth.refresh_requests[TOKEN_PATH] == 1


async def test_concurrent_requests_with_a_stale_token_share_one_renewal(gateway: CoreServices, client,
                                                                        claude: ClaudeOAuthUpstream,
                                                                        auth: FakeAuthServices):
    await sign_in(gateway, "about-to-expire", expires_in=30)  # inside the renewal margin
    claude.tokens = {f"access-{auth.issued + 1}"}
    auth.refresh_delay = 0.3
    answers = await asyncio.gather(*(ask(client) for _ in range(4)))
    assert [a.status_code for a in answers] == [200] * 4
    assert auth.refresh_requests[TOKEN_PATH] == 1 and claude.unauthorized == 0


async def test_a_refused_renewal_is_an_answer_in_words_and_marks_the_account(gateway: CoreServices, client,
                                                                           claude: ClaudeOAuthUpstream,
                                                                           auth: FakeAuthServices):
    account = await sign_in(gateway, "revoked")
    auth.refresh_mode = "refuse"
    answer = await ask(client)
    assert 400 <= answer.status_code < 600 and "Traceback" not in answer.text
    assert "sign" in answer.json()["error"]["message"].lower()
    marks = (await client.get("/api/resilience")).json()["marks"]
    assert [(m["provider"], m["accountId"]) for m in marks] == [("claude", account)]
    again = await ask(client)  # skipped without asking anyone
    assert again.status_code >= 400 and auth.refresh_requests[TOKEN_PATH] == 1 and claude.unauthorized == 1
