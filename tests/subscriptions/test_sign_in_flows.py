"""Signing in end to end against the fake auth services: the browser's round trip through the one-shot
listener (PKCE verifier and state checked by the fake), the listener released afterwards — also on cancel and
timeout — and GitHub's device flow with authorization_pending and slow_down."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from core.subscriptions.service import Subscriptions
from core.subscriptions.signin import SignInError, SignInFlows
from tests.conftest import port_is_free
from tests.fakes.oauth_servers import FakeAuthServices


async def browse(url: str) -> httpx.Response:
    """What the user's browser does: open the authorize page, follow its redirect back to Quotagate."""
    async with httpx.AsyncClient(follow_redirects=True, timeout=10) as browser:
        return await browser.get(url)


def port_of(uri: str) -> int:
    port = urlsplit(uri).port
    assert port is not None
    return port


@pytest.mark.parametrize("provider, identity, plan", [
    ("claude", "claude.user@example.com", None),
    ("codex", "coder@example.com", "Plus"),
    ("gemini-cli", "person@gmail.com", None),
    ("antigravity", "person@gmail.com", None),
])
async def test_pkce_sign_in_end_to_end(subscriptions: Subscriptions, auth: FakeAuthServices, google_client,
                                       provider: str, identity: str, plan: str | None):
    started = await subscriptions.flows.authorize(provider)
    assert started["status"] == "waiting" and started["url"].startswith(auth.url)
    query = parse_qs(urlsplit(started["url"]).query)
    assert query["code_challenge_method"] == ["S256"] and query["redirect_uri"] == [started["redirectUri"]]
    port = port_of(started["redirectUri"])
    assert not port_is_free(port)  # the one-shot listener waits for the browser

    page = await browse(started["url"])
    assert page.status_code == 200 and "You can close this window" in page.text

    finished = await subscriptions.flows.wait(started["flowId"])
    assert finished["status"] == "done", finished["error"]
    connection = finished["connection"]
    assert (connection["provider"], connection["kind"], connection["identity"], connection["plan"]) == \
        (provider, "subscription", identity, plan)
    assert connection["state"] == "active" and connection["renewable"] is True
    assert port_is_free(port)  # released after its one callback
    stored = subscriptions.store.get(connection["id"])
    assert stored is not None and stored.tokens["access_token"].startswith("access-")


async def test_google_sign_in_keeps_the_client_and_finds_the_project(subscriptions: Subscriptions,
                                                                    auth: FakeAuthServices, google_client):
    started = await subscriptions.flows.authorize("gemini-cli")
    await browse(started["url"])
    connection = (await subscriptions.flows.wait(started["flowId"]))["connection"]
    tokens = subscriptions.store.get(connection["id"]).tokens
    assert tokens["client_id"] == "fake-client.apps.googleusercontent.com" and tokens["project_id"] == "proj-123"


async def test_google_sign_in_without_the_tools_client_says_what_to_install(subscriptions: Subscriptions):
    with pytest.raises(SignInError, match="did not find installed.*QUOTAGATE_GEMINI_CLIENT_ID"):
        await subscriptions.flows.authorize("gemini-cli")


async def test_a_pasted_code_with_the_wrong_state_is_refused(subscriptions: Subscriptions, auth: FakeAuthServices):
    started = await subscriptions.flows.authorize("claude")
    async with httpx.AsyncClient() as browser:
        redirect = (await browser.get(started["url"])).headers["location"]
    code = parse_qs(urlsplit(redirect).query)["code"][0]
    with pytest.raises(SignInError, match="state differs"):
        await subscriptions.flows.exchange(started["flowId"], code, "forged-state")
    assert auth.token_requests["/v1/oauth/token"] == 0
    finished = await subscriptions.flows.exchange(started["flowId"], code, parse_qs(urlsplit(redirect).query)["state"][0])
    assert finished["status"] == "done"
    assert port_is_free(port_of(started["redirectUri"]))


async def test_declining_at_the_provider_ends_the_flow_in_words(subscriptions: Subscriptions, auth: FakeAuthServices):
    auth.deny_authorization = True
    started = await subscriptions.flows.authorize("claude")
    page = await browse(started["url"])
    assert page.status_code == 400 and "access_denied" in page.text
    finished = await subscriptions.flows.wait(started["flowId"])
    assert finished["status"] == "failed" and "did not sign you in: access_denied" in finished["error"]
    assert port_is_free(port_of(started["redirectUri"]))


async def test_cancel_releases_the_listener(subscriptions: Subscriptions, auth: FakeAuthServices):
    started = await subscriptions.flows.authorize("claude")
    port = port_of(started["redirectUri"])
    cancelled = await subscriptions.flows.cancel(started["flowId"])
    assert cancelled["status"] == "cancelled" and port_is_free(port)
    with pytest.raises(SignInError):
        await subscriptions.flows.exchange(started["flowId"], "code", "state")


async def test_an_abandoned_sign_in_times_out_and_releases_the_listener(subscriptions: Subscriptions,
                                                                       auth: FakeAuthServices):
    async with httpx.AsyncClient() as client:
        flows = SignInFlows(subscriptions.save, client, timeout=0.2)
        started = await flows.authorize("claude")
        finished = await flows.wait(started["flowId"])
    assert finished["status"] == "expired" and "timed out" in finished["error"]
    assert port_is_free(port_of(started["redirectUri"]))


async def test_the_listener_ignores_other_paths_until_its_callback(subscriptions: Subscriptions,
                                                                  auth: FakeAuthServices):
    started = await subscriptions.flows.authorize("claude")
    port = port_of(started["redirectUri"])
    async with httpx.AsyncClient() as browser:
        assert (await browser.get(f"http://127.0.0.1:{port}/favicon.ico")).status_code == 404
    assert subscriptions.flows.status(started["flowId"])["status"] == "waiting" and not port_is_free(port)
    await subscriptions.flows.cancel(started["flowId"])


async def test_github_device_flow_with_pending_and_slow_down(subscriptions: Subscriptions, auth: FakeAuthServices):
    started = await subscriptions.flows.device_code("github")
    assert (started["userCode"], started["interval"]) == ("WDJB-MJHT", 5)
    assert started["verificationUri"] == "https://github.com/login/device"
    first = await subscriptions.flows.poll(started["flowId"])
    assert (first["status"], first["interval"]) == ("waiting", 5)       # authorization_pending
    second = await subscriptions.flows.poll(started["flowId"])
    assert (second["status"], second["interval"]) == ("waiting", 10)    # slow_down: 5 s more
    third = await subscriptions.flows.poll(started["flowId"])
    assert third["status"] == "done", third["error"]
    connection = third["connection"]
    assert (connection["provider"], connection["identity"]) == ("github", "@octocat")
    assert auth.exchanges == 1  # the Copilot subscription was checked at sign-in
    assert {p["grant_type"] for p in auth.device_polls} == {"urn:ietf:params:oauth:grant-type:device_code"}
    assert subscriptions.store.get(connection["id"]).tokens["refresh_token"] == "gho_device_token"


@pytest.mark.parametrize("answer, status, words", [
    ("expired_token", "expired", "code expired"),
    ("access_denied", "failed", "declined"),
])
async def test_github_device_flow_endings(subscriptions: Subscriptions, auth: FakeAuthServices, answer: str,
                                          status: str, words: str):
    auth.device_script = ["authorization_pending", answer]
    started = await subscriptions.flows.device_code("github")
    await subscriptions.flows.poll(started["flowId"])
    ended = await subscriptions.flows.poll(started["flowId"])
    assert ended["status"] == status and words in ended["error"]
    assert subscriptions.store.subscriptions() == []


async def test_github_sign_in_without_copilot_says_so(subscriptions: Subscriptions, auth: FakeAuthServices):
    auth.device_script = ["ok"]
    auth.copilot_mode = "no-subscription"
    started = await subscriptions.flows.device_code("github")
    ended = await subscriptions.flows.poll(started["flowId"])
    assert ended["status"] == "failed" and "no GitHub Copilot subscription" in ended["error"]


async def test_the_wrong_flow_for_a_provider_is_explained(subscriptions: Subscriptions):
    with pytest.raises(SignInError, match="use device-code"):
        await subscriptions.flows.authorize("github")
    with pytest.raises(SignInError, match="use authorize"):
        await subscriptions.flows.device_code("claude")


async def test_a_callback_with_a_foreign_state_ends_the_flow_and_frees_the_port(subscriptions: Subscriptions,
                                                                              auth: FakeAuthServices):
    started = await subscriptions.flows.authorize("claude")
    port = port_of(started["redirectUri"])
    async with httpx.AsyncClient() as browser:
        page = await browser.get(f"http://127.0.0.1:{port}/callback", params={"code": "x", "state": "forged"})
    assert page.status_code == 400 and "state differs" in page.text
    finished = await subscriptions.flows.wait(started["flowId"])
    assert finished["status"] == "failed" and port_is_free(port)
    assert auth.token_requests["/v1/oauth/token"] == 0
