"""Stored sign-ins in the quota glance and in quota-aware routing: one tray entry per account whether signed in
here or found in a CLI's file, read with a renewed token, and the gateway's quota key matching its snapshot."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from core import paths
from core.gateway.accounts import Account, AccountStore
from core.gateway.quota_gate import QuotaGate
from core.gateway.routing import RoutingTable
from core.quota.engine import QuotaEngine
from core.quota.providers.claude import ClaudeProvider
from core.quota.runtime import QuotaRuntime
from core.store import Store
from core.subscriptions.bundle import Tokens
from core.subscriptions.credentials import SignInRequired
from core.subscriptions.quota import quota_key, stored_subscription_accounts
from core.subscriptions.service import Subscriptions
from core.secrets import SecretBox
from core.subscriptions.store import SignIn, SubscriptionStore
from tests.integration.processes import quotagate_env, run_quotagate
from tests.fakes.oauth_servers import FakeAuthServices
from tests.quota.fakes import FakeServer, Reply
from tests.subscriptions.conftest import Target

USAGE = "/api/oauth/usage"


def usage(left_percent: float) -> dict:
    soon = (datetime.now(timezone.utc) + timedelta(hours=2)).isoformat()
    return {"five_hour": {"utilization": 100 - left_percent, "resets_at": soon},
            "seven_day": {"utilization": 10.0, "resets_at": soon}}


@pytest.fixture
def quota_service(auth: FakeAuthServices, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeServer]:
    """Claude's usage endpoint on its own fake, beside the auth services."""
    server = FakeServer().start()
    monkeypatch.setenv("QUOTAGATE_HOST_MAP", f"{auth.host_map()},api.anthropic.com={server.url}")
    yield server
    server.stop()



async def test_an_imported_copy_and_the_cli_file_are_one_tray_entry(subscriptions: Subscriptions,
                                                                    quota_service: FakeServer,
                                                                    isolated_environment: Path):
    path = isolated_environment / ".claude" / ".credentials.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"claudeAiOauth": {"accessToken": "cli-token", "refreshToken": "cli-refresh",
                                                  "expiresAt": int(time.time() * 1000) + 3_600_000}}))
    [account] = await subscriptions.import_from("claude", "claude-code")
    quota_service.reply("GET", USAGE, json=usage(60))
    stored = stored_subscription_accounts(subscriptions.store.subscriptions())
    async with QuotaEngine([ClaudeProvider()], account_source=lambda: stored) as engine:
        snapshots = await engine.refresh_now()
    assert [s.key for s in snapshots] == ["claude/claude-code"]
    assert quota_key(account) == snapshots[0].key
    assert len(quota_service.received(USAGE)) == 1


async def test_a_signed_in_account_is_read_with_a_renewed_token_and_routing_skips_it_when_used_up(
        subscriptions: Subscriptions, quota_service: FakeServer, auth: FakeAuthServices, store: Store):
    account = await subscriptions.save(SignIn("claude", Tokens("expired", "refresh-claude", time.time() - 10),
                                              "me@example.com", "Max", "signed-in", "account:me@example.com"))
    quota_service.reply("GET", USAGE, Reply(json=usage(0.2)))
    runtime = QuotaRuntime(lambda: store)
    runtime.use_accounts(subscriptions.store.subscriptions())
    runtime.use_credentials(subscriptions.tokens)
    try:
        snapshots = [s for s in await runtime.refresh_now() if s.provider == "claude"]
    finally:
        await runtime.stop()
    [request] = quota_service.received(USAGE)
    assert request.headers["authorization"].startswith("Bearer access-")  # renewed before the round
    assert auth.refresh_requests["/v1/oauth/token"] == 1
    assert [(s.key, s.account) for s in snapshots] == [("claude/account:me@example.com", "me@example.com")]

    gate = QuotaGate()
    gate.update(snapshots)
    routed = RoutingTable([subscriptions.store.get(account.id)]).resolve("claude/claude-sonnet-4-5-20250929")
    [upstream] = routed.upstreams
    assert upstream.quota_key == quota_key(account) == snapshots[0].key
    kept, skipped = gate.usable([Target("claude", "claude-sonnet-4-5-20250929", account.id, account.name,
                                        upstream.quota_key)])
    assert kept == [] and "quota is used up" in skipped[0].reason


def test_copilot_is_read_with_the_github_token_under_its_own_key():
    fine = Account(2, "github", "Copilot", None, options={"quota_account": "oauth:x", "identity": "@me"},
                   tokens={"refresh_token": "gho_x", "access_token": "tid=1"})
    [stored] = stored_subscription_accounts([fine])
    assert (stored.provider, stored.secret, stored.label, stored.options["key"]) == ("copilot", "gho_x", "@me",
                                                                                      "oauth:x")


async def test_an_account_to_sign_in_again_shows_what_to_do_in_the_tray_and_is_not_queried(
        subscriptions: Subscriptions, quota_service: FakeServer, auth: FakeAuthServices):
    account = await subscriptions.save(SignIn("claude", Tokens("expired", "refresh-claude", time.time() - 10),
                                              "me@example.com", None, "signed-in", "account:me@example.com"))
    auth.refresh_mode = "refuse"
    with pytest.raises(SignInRequired):
        await subscriptions.tokens.current(account.id)
    stored = stored_subscription_accounts(subscriptions.store.subscriptions())
    async with QuotaEngine([ClaudeProvider()], account_source=lambda: stored) as engine:
        [snapshot] = await engine.refresh_now()
    assert snapshot.key == quota_key(account) and snapshot.account == "me@example.com"
    assert snapshot.error_kind == "auth" and "again in Quotagate's Providers window" in snapshot.error
    assert "invalid_grant" in snapshot.error
    assert quota_service.received(USAGE) == []


async def test_a_renewal_refused_before_a_round_turns_the_entry_into_what_to_do(
        subscriptions: Subscriptions, quota_service: FakeServer, auth: FakeAuthServices, store: Store):
    await subscriptions.save(SignIn("codex", Tokens("expired", "refresh-codex", time.time() - 10, account_id="a-1"),
                                    "coder@example.com", None, "signed-in", "a-1"))
    auth.refresh_mode = "refuse"
    runtime = QuotaRuntime(lambda: store)
    runtime.use_accounts(subscriptions.store.subscriptions())  # read before the refusal: not yet marked
    runtime.use_credentials(subscriptions.tokens)
    try:
        [snapshot] = [s for s in await runtime.refresh_now() if s.provider == "openai"]
    finally:
        await runtime.stop()
    assert (snapshot.key, snapshot.error_kind) == ("openai/a-1", "auth")
    assert "ChatGPT (Codex) refused the sign-in (invalid_grant)" in snapshot.error


def test_quotagate_status_lists_a_stored_sign_in(data_dir: Path, quota_service: FakeServer):
    folder = paths.ensure_private_dir(data_dir)
    store = Store.open(folder)
    try:
        box = SecretBox.for_data_folder(folder)
        SubscriptionStore(AccountStore(box), lambda: store).save(SignIn(
            "claude", Tokens("sk-ant-oat01-stored", "refresh-claude", time.time() + 3600), "me@example.com", "Max",
            "signed-in", "account:me@example.com"))
    finally:
        store.close()
    quota_service.reply("GET", USAGE, json=usage(40))
    env = quotagate_env(data_dir, QUOTAGATE_HOST_MAP=f"api.anthropic.com={quota_service.url}", LANG="en_US.UTF-8")
    result = run_quotagate(["status", "--json", "--provider", "claude"], env)
    assert result.returncode == 0, result.stderr
    [account] = json.loads(result.stdout)["accounts"]
    assert (account["account"], account["error"]) == ("me@example.com", None)
    [request] = quota_service.received(USAGE)
    assert request.headers["authorization"] == "Bearer sk-ant-oat01-stored"
