"""The real gateway with stored subscription accounts, the strict subscription fakes on loopback, and a small
in-memory CredentialSource (a dependency of the executors, scripted per test) in place of the token store."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from core.services import CoreServices
from core.subscriptions.bundle import Tokens
from core.subscriptions.credentials import Credential, SignInRequired
from tests.fakes.server import ThreadedServer
from tests.fakes.subscription_upstreams import (
    CLAUDE_TOKEN,
    CODEX_ACCOUNT,
    CODEX_TOKEN,
    COPILOT_TOKEN,
    GOOGLE_TOKEN,
    PROJECT,
    ClaudeOAuthUpstream,
    CloudCodeUpstream,
    CodexUpstream,
    CopilotUpstream,
)
from tests.gateway.conftest import client, services  # noqa: F401  (fixtures)

COPILOT_API = "https://api.individual.githubcopilot.com"  # what Copilot's token exchange hands out
STORED_SECRET = "stored-bundle-refresh-never-sent"  # the sealed bundle's refresh token: never on the wire
HOSTS = {"claude": "api.anthropic.com", "codex": "chatgpt.com", "github": "api.individual.githubcopilot.com",
         "antigravity": "daily-cloudcode-pa.sandbox.googleapis.com", "gemini-cli": "cloudcode-pa.googleapis.com"}
EXTRA: dict[str, dict[str, Any]] = {"codex": {"chatgpt_account_id": CODEX_ACCOUNT}, "github": {"api_base": COPILOT_API},
                                    "antigravity": {"project_id": PROJECT}, "gemini-cli": {"project_id": PROJECT}}
FIRST_TOKEN = {"claude": CLAUDE_TOKEN, "codex": CODEX_TOKEN, "github": COPILOT_TOKEN, "antigravity": GOOGLE_TOKEN,
               "gemini-cli": GOOGLE_TOKEN}


class ScriptedCredentials:
    """Tokens per account, handed out in order: `current` gives the present one, a renewal after a 401 the
    next one. An account whose script is exhausted, or listed in `signed_out`, needs signing in again."""

    def __init__(self) -> None:
        self.scripts: dict[int, list[str]] = {}
        self.extra: dict[int, dict[str, Any]] = {}
        self.signed_out: dict[int, str] = {}
        self.renewals: list[tuple[int, str]] = []  # (account, rejected token)

    def give(self, account_id: int, tokens: list[str], extra: dict[str, Any] | None = None) -> None:
        self.scripts[account_id] = list(tokens)
        self.extra[account_id] = dict(extra or {})

    async def current(self, account_id: int) -> Credential:
        if account_id in self.signed_out:
            raise SignInRequired(account_id, self.signed_out[account_id])
        script = self.scripts.get(account_id)
        if not script:
            raise SignInRequired(account_id, "the refresh token was revoked")
        return Credential(account_id, script[0], identity=f"user{account_id}@example.com",
                          extra=self.extra.get(account_id, {}))

    async def renew_after_unauthorized(self, account_id: int, rejected_token: str) -> Credential:
        self.renewals.append((account_id, rejected_token))
        script = self.scripts.get(account_id) or []
        if script and script[0] == rejected_token:
            script.pop(0)
        return await self.current(account_id)


@pytest.fixture
def credentials() -> ScriptedCredentials:
    return ScriptedCredentials()


def _serve(fake: Any) -> Iterator[Any]:
    with ThreadedServer(fake.app()) as server:
        fake.url = server.url
        yield fake


@pytest.fixture
def claude_fake() -> Iterator[ClaudeOAuthUpstream]:
    yield from _serve(ClaudeOAuthUpstream())


@pytest.fixture
def codex_fake() -> Iterator[CodexUpstream]:
    yield from _serve(CodexUpstream())


@pytest.fixture
def copilot_fake() -> Iterator[CopilotUpstream]:
    yield from _serve(CopilotUpstream())


@pytest.fixture
def antigravity_fake() -> Iterator[CloudCodeUpstream]:
    yield from _serve(CloudCodeUpstream(antigravity=True))


@pytest.fixture
def gemini_cli_fake() -> Iterator[CloudCodeUpstream]:
    yield from _serve(CloudCodeUpstream())


class Subscriptions:
    """Stores subscription accounts in the real store and gives their tokens to the gateway's executors."""

    def __init__(self, running: CoreServices, credentials: ScriptedCredentials, fakes: dict[str, Any]) -> None:
        self.services, self.credentials, self.fakes = running, credentials, fakes

    async def add(self, provider: str, name: str | None = None, tokens: list[str] | None = None,
                  priority: int = 0, extra: dict[str, Any] | None = None) -> int:
        assert self.services.accounts is not None
        secret = Tokens(access_token="stale-stored-access", refresh_token=STORED_SECRET).to_secret()
        account = self.services.accounts.create_account(provider, name or f"{provider}-account", secret,
                                                        priority=priority)
        self.credentials.give(account.id, tokens or [FIRST_TOKEN[provider]],
                              EXTRA.get(provider, {}) if extra is None else extra)
        await self.services.reload_gateway_config()
        self.services._context.credentials = self.credentials  # the token store's place in the gateway
        return account.id


@pytest.fixture
def subscriptions(request: pytest.FixtureRequest, credentials, claude_fake, codex_fake, copilot_fake,
                  antigravity_fake, gemini_cli_fake, monkeypatch: pytest.MonkeyPatch) -> Subscriptions:
    fakes = {"claude": claude_fake, "codex": codex_fake, "github": copilot_fake, "antigravity": antigravity_fake,
             "gemini-cli": gemini_cli_fake}
    mapped = {HOSTS[provider]: fake.url for provider, fake in fakes.items()}
    kept = [entry for entry in os.environ.get("QUOTAGATE_HOST_MAP", "").split(",")
            if entry and entry.split("=", 1)[0] not in mapped]
    monkeypatch.setenv("QUOTAGATE_HOST_MAP", ",".join(kept + [f"{host}={url}" for host, url in mapped.items()]))
    return Subscriptions(request.getfixturevalue("services"), credentials, fakes)
