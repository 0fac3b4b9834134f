"""`/api/oauth/{provider}/{action}` on the running gateway, the sign-in's place in `/api/providers`, and a refused
renewal shown in `/api/resilience` (kept across reloads and restarts, since it is stored)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from core.services import CoreServices
from core.subscriptions.bundle import Tokens
from core.subscriptions.credentials import SignInRequired
from core.subscriptions.store import SignIn
from tests.conftest import port_is_free
from tests.fakes.oauth_servers import FakeAuthServices
from tests.subscriptions.conftest import Target
from urllib.parse import urlsplit


pytestmark = pytest.mark.usefixtures("auth")  # the auth services' host map, before the services start


async def test_sign_in_through_the_api_lists_the_account(client: httpx.AsyncClient, auth: FakeAuthServices):
    started = await client.post("/api/oauth/claude/authorize")
    assert started.status_code == 200, started.text
    flow = started.json()
    async with httpx.AsyncClient(follow_redirects=True) as browser:
        assert (await browser.get(flow["url"])).status_code == 200
    status = (await client.get("/api/oauth/claude/status", params={"flowId": flow["flowId"]})).json()
    assert status["status"] == "done" and status["connection"]["identity"] == "claude.user@example.com"
    assert port_is_free(urlsplit(flow["redirectUri"]).port)
    listed = (await client.get("/api/providers")).json()["connections"]
    assert [(c["provider"], c["kind"], c["identity"], c["state"]) for c in listed] == \
        [("claude", "subscription", "claude.user@example.com", "active")]
    assert "access-" not in json.dumps(listed)  # no token in any answer


async def test_device_flow_through_the_api(client: httpx.AsyncClient, auth: FakeAuthServices):
    auth.device_script = ["authorization_pending", "ok"]
    flow = (await client.post("/api/oauth/github/device-code")).json()
    assert flow["userCode"] == "WDJB-MJHT"
    assert (await client.post("/api/oauth/github/poll", json={"flowId": flow["flowId"]})).json()["status"] == "waiting"
    done = (await client.post("/api/oauth/github/poll", json={"flowId": flow["flowId"]})).json()
    assert done["status"] == "done" and done["connection"]["identity"] == "@octocat"


async def test_import_through_the_api_with_the_shared_session_warning(client: httpx.AsyncClient,
                                                                      isolated_environment: Path):
    path = isolated_environment / ".gemini" / "oauth_creds.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"access_token": "ya29.a", "refresh_token": "1//r"}), encoding="utf-8")
    sources = (await client.get("/api/oauth/gemini-cli/import")).json()
    assert sources["sources"] == [{"source": "gemini-cli", "title": "Gemini CLI", "path": "~/.gemini/oauth_creds.json",
                                   "present": True}]
    assert "signs the other out" in sources["warning"]
    imported = await client.post("/api/oauth/gemini-cli/import", json={})
    assert imported.status_code == 200, imported.text
    [connection] = imported.json()["connections"]
    assert connection["source"] == "~/.gemini/oauth_creds.json" and connection["kind"] == "subscription"


async def test_a_broken_cli_file_is_a_400_naming_it(client: httpx.AsyncClient, isolated_environment: Path):
    path = isolated_environment / ".codex" / "auth.json"
    path.parent.mkdir(parents=True)
    path.write_text("[]", encoding="utf-8")
    answer = await client.post("/api/oauth/codex/import", json={"source": "codex-cli"})
    assert answer.status_code == 400
    assert answer.json()["error"] == "~/.codex/auth.json cannot be imported: it does not hold a JSON object."


@pytest.mark.parametrize("path, status", [("/api/oauth/myspace/authorize", 404), ("/api/oauth/claude/dance", 404),
                                          ("/api/oauth/claude/poll", 404)])
async def test_unknown_subscriptions_actions_and_flows_are_refused_in_words(client: httpx.AsyncClient, path: str,
                                                                            status: int):
    answer = await client.post(path, json={"flowId": "nope"})
    assert answer.status_code == status and answer.json()["error"]


async def test_a_refused_renewal_shows_in_resilience_and_survives_a_reload(services: CoreServices,
                                                                           client: httpx.AsyncClient,
                                                                           auth: FakeAuthServices):
    account = await services.subscriptions.save(SignIn("claude", Tokens("old", "refresh-claude", time.time() - 5),
                                                       "me@example.com"))
    auth.refresh_mode = "refuse"
    with pytest.raises(SignInRequired):
        await services.subscriptions.tokens.current(account.id)
    marks = (await client.get("/api/resilience")).json()["marks"]
    assert [(m["provider"], m["accountId"]) for m in marks] == [("claude", account.id)]
    assert "must be signed in again" in marks[0]["reason"] and "invalid_grant" in marks[0]["reason"]
    await services.reload_gateway_config()  # a configuration change lifts HTTP marks, not this one
    assert [m["accountId"] for m in (await client.get("/api/resilience")).json()["marks"]] == [account.id]
    shown = (await client.get(f"/api/providers/{account.id}")).json()["connection"]
    assert shown["state"] == "sign-in-again" and "invalid_grant" in shown["stateReason"]
    target = Target("claude", "claude-sonnet-4-5-20250929", account.id, account.name)
    kept, skipped = services.runtime.resilience.usable([target])  # combos and fallbacks skip it
    assert kept == [] and "must be signed in again" in skipped[0].reason and skipped[0].seconds is None

