"""The token manager renews before expiry and after a 401, once for concurrent requests, writes renewals back
to Quotagate's store only, marks refused sign-ins and never discards a Google refresh token on a passing error."""

from __future__ import annotations

import asyncio
import time

import pytest

from core.gateway.accounts import AccountStore
from core.secrets import SecretBox
from core.subscriptions.credentials import RenewalUnavailable, SignInRequired
from core.subscriptions.service import Subscriptions
from tests.fakes.oauth_servers import GOOGLE_CLIENT, GOOGLE_SECRET, FakeAuthServices, codex_id_token
from tests.subscriptions.conftest import signed_in

CLAUDE_TOKEN = "/v1/oauth/token"
GOOGLE_TOKEN = "/token"


def stored_tokens(service: Subscriptions, account_id: int) -> dict:
    account = service.store.get(account_id)
    assert account is not None and account.tokens is not None
    return account.tokens


async def test_a_token_far_from_expiry_is_handed_out_without_asking(subscriptions, auth: FakeAuthServices):
    account = await signed_in(subscriptions, "claude", access_token="old", refresh_token="refresh-claude",
                              expires_at=time.time() + 3600)
    credential = await subscriptions.tokens.current(account)
    assert credential.access_token == "old"
    assert auth.token_requests[CLAUDE_TOKEN] == 0


async def test_a_token_about_to_expire_is_renewed_first_and_written_back(subscriptions, auth: FakeAuthServices):
    account = await signed_in(subscriptions, "claude", access_token="old", refresh_token="refresh-claude",
                              expires_at=time.time() + 60)  # inside the five-minute margin
    credential = await subscriptions.tokens.current(account)
    assert credential.access_token.startswith("access-") and credential.expires_at > time.time() + 3000
    assert auth.refresh_requests[CLAUDE_TOKEN] == 1
    assert auth.last_token_body == {"grant_type": "refresh_token", "refresh_token": "refresh-claude",
                                    "client_id": "9d1c250a-e61b-44d9-88ed-5944d1962f5e"}
    saved = stored_tokens(subscriptions, account)
    assert saved["access_token"] == credential.access_token
    assert saved["refresh_token"].startswith("refresh-claude~")  # the rotated one is kept, not the used one
    again = await subscriptions.tokens.current(account)
    assert again.access_token == credential.access_token and auth.refresh_requests[CLAUDE_TOKEN] == 1


async def test_a_401_renews_once_and_a_stale_rejection_gets_the_new_token(subscriptions, auth: FakeAuthServices):
    account = await signed_in(subscriptions, "claude", access_token="old", refresh_token="refresh-claude",
                              expires_at=time.time() + 3600)
    renewed = await subscriptions.tokens.renew_after_unauthorized(account, "old")
    assert renewed.access_token != "old" and auth.refresh_requests[CLAUDE_TOKEN] == 1
    late = await subscriptions.tokens.renew_after_unauthorized(account, "old")  # a request that saw "old" too
    assert late.access_token == renewed.access_token and auth.refresh_requests[CLAUDE_TOKEN] == 1


async def test_concurrent_requests_cause_one_renewal(subscriptions, auth: FakeAuthServices):
    account = await signed_in(subscriptions, "claude", access_token="old", refresh_token="refresh-claude",
                              expires_at=time.time() - 10)
    auth.refresh_delay = 0.3
    credentials = await asyncio.gather(
        subscriptions.tokens.current(account), subscriptions.tokens.current(account),
        subscriptions.tokens.renew_after_unauthorized(account, "old"),
        subscriptions.tokens.renew_after_unauthorized(account, "old"))
    assert auth.refresh_requests[CLAUDE_TOKEN] == 1
    assert len({c.access_token for c in credentials}) == 1 and credentials[0].access_token != "old"


async def test_a_refused_renewal_marks_the_account_and_requires_signing_in(subscriptions, auth: FakeAuthServices):
    account = await signed_in(subscriptions, "claude", access_token="old", refresh_token="refresh-claude",
                              expires_at=time.time() - 10)
    auth.refresh_mode = "refuse"
    with pytest.raises(SignInRequired) as refused:
        await subscriptions.tokens.current(account)
    assert refused.value.account_id == account and "invalid_grant" in str(refused.value)
    shown = subscriptions.store.get(account).public()
    assert shown["state"] == "sign-in-again" and "invalid_grant" in shown["stateReason"]
    assert subscriptions.standing_marks()[("claude", account)][0].startswith("must be signed in again")
    with pytest.raises(SignInRequired):  # no second request to a service that already said no
        await subscriptions.tokens.current(account)
    assert auth.refresh_requests[CLAUDE_TOKEN] == 1


async def test_a_passing_google_error_keeps_the_refresh_token(subscriptions, auth: FakeAuthServices):
    account = await signed_in(subscriptions, "gemini-cli", access_token="expired", refresh_token="refresh-google",
                              expires_at=time.time() - 10, client_id=GOOGLE_CLIENT, client_secret=GOOGLE_SECRET,
                              project_id="proj-9")
    auth.refresh_mode = "unavailable"
    with pytest.raises(RenewalUnavailable):
        await subscriptions.tokens.current(account)
    assert stored_tokens(subscriptions, account)["refresh_token"] == "refresh-google"
    assert subscriptions.store.get(account).public()["state"] == "active"
    auth.refresh_mode = "ok"
    credential = await subscriptions.tokens.current(account)
    assert credential.access_token.startswith("access-") and credential.extra["project_id"] == "proj-9"
    assert stored_tokens(subscriptions, account)["refresh_token"] == "refresh-google"  # Google sent none: kept
    assert auth.refresh_requests[GOOGLE_TOKEN] == 2


async def test_a_passing_error_before_expiry_hands_out_the_still_valid_token(subscriptions, auth: FakeAuthServices):
    account = await signed_in(subscriptions, "claude", access_token="still-good", refresh_token="refresh-claude",
                              expires_at=time.time() + 120)
    auth.refresh_mode = "unavailable"
    assert (await subscriptions.tokens.current(account)).access_token == "still-good"


async def test_cloud_code_project_is_discovered_once_and_kept(subscriptions, auth: FakeAuthServices):
    account = await signed_in(subscriptions, "antigravity", access_token="live", refresh_token="refresh-google",
                              expires_at=time.time() + 3600, client_id=GOOGLE_CLIENT)
    credential = await subscriptions.tokens.current(account)
    assert credential.extra["project_id"] == "proj-123"
    assert stored_tokens(subscriptions, account)["project_id"] == "proj-123"


async def test_codex_credential_names_the_chatgpt_account(subscriptions, auth: FakeAuthServices):
    account = await signed_in(subscriptions, "codex", access_token="live", refresh_token="refresh-codex",
                              expires_at=time.time() + 3600, id_token=codex_id_token(account_id="acct-777"))
    credential = await subscriptions.tokens.current(account)
    assert credential.extra["chatgpt_account_id"] == "acct-777"


async def test_codex_renewal_sends_the_refresh_scope(subscriptions, auth: FakeAuthServices):
    account = await signed_in(subscriptions, "codex", access_token="old", refresh_token="refresh-codex",
                              expires_at=time.time() - 1)
    await subscriptions.tokens.current(account)
    assert auth.last_token_body["scope"] == "openid profile email"
    assert auth.last_token_body["client_id"] == "app_EMoamEEZ73f0CkXaXp7hrann"


async def test_copilot_hands_out_the_exchanged_token_and_its_endpoint(subscriptions, auth: FakeAuthServices):
    account = await signed_in(subscriptions, "github", "@octocat", refresh_token="gho_imported")
    credential = await subscriptions.tokens.current(account)
    assert credential.access_token.startswith("tid=copilot;")
    assert credential.extra["api_base"] == f"{auth.url}/copilot-api"
    assert credential.expires_at > time.time() + 1000
    await subscriptions.tokens.current(account)
    assert auth.exchanges == 1  # cached until near its expiry


async def test_a_revoked_github_token_requires_signing_in(subscriptions, auth: FakeAuthServices):
    account = await signed_in(subscriptions, "github", "@octocat", refresh_token="gho_imported")
    auth.copilot_mode = "revoked"
    with pytest.raises(SignInRequired):
        await subscriptions.tokens.current(account)
    assert subscriptions.store.get(account).public()["state"] == "sign-in-again"


async def test_signing_in_again_clears_the_mark(subscriptions, auth: FakeAuthServices):
    account = await signed_in(subscriptions, "claude", access_token="old", refresh_token="refresh-claude",
                              expires_at=time.time() - 10)
    auth.refresh_mode = "refuse"
    with pytest.raises(SignInRequired):
        await subscriptions.tokens.current(account)
    again = await signed_in(subscriptions, "claude", access_token="new", refresh_token="refresh-claude",
                            expires_at=time.time() + 3600)
    assert again == account  # the same person: the same account, renewed
    assert (await subscriptions.tokens.current(account)).access_token == "new"
    assert subscriptions.store.get(account).public()["state"] == "active"
    assert ("claude", account) not in subscriptions.standing_marks()


async def test_an_unreachable_google_keeps_the_refresh_token(store, auth: FakeAuthServices,
                                                            monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("QUOTAGATE_HOST_MAP", "oauth2.googleapis.com=http://127.0.0.1:9")  # nothing listens there
    service = Subscriptions(AccountStore(SecretBox.for_data_folder(store.path.parent)), lambda: store)
    try:
        account = await signed_in(service, "antigravity", access_token="expired", refresh_token="refresh-google",
                                  expires_at=time.time() - 10, client_id=GOOGLE_CLIENT, project_id="p")
        with pytest.raises(RenewalUnavailable, match="Could not reach Google sign-in"):
            await service.tokens.current(account)
        assert stored_tokens(service, account)["refresh_token"] == "refresh-google"
        assert service.store.get(account).public()["state"] == "active"
    finally:
        await service.aclose()
