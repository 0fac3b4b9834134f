"""Signing in to a subscription from Quotagate: authorization code with PKCE, or GitHub's device flow.

PKCE: `authorize` makes a verifier and its S256 challenge, a random state and a one-shot callback listener on
127.0.0.1, and answers the URL to open. The browser comes back to the listener (or the code is handed to
`exchange`); the state is checked, the code and verifier are traded for tokens, and the listener is released —
also on cancel and on timeout.

Device flow (GitHub Copilot): `device_code` answers the code the user types at GitHub; `poll` asks once whether
they did (`authorization_pending`; `slow_down` adds 5 s to the interval; `expired_token`; `access_denied`).

Either way the tokens are described (who, which plan) and handed to `save`, which stores the account.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx

from core.gateway.accounts import Account
from core.i18n import tr
from core.net.host_map import HostMap
from core.quota.credentials import text_field
from core.quota.google import OAuthClient
from core.quota.locations import Locations
from core.subscriptions import bundle, endpoints
from core.subscriptions.bundle import Tokens
from core.subscriptions.credentials import RenewalUnavailable
from core.subscriptions.endpoints import RenewalRefused
from core.subscriptions.callback import CallbackListener
from core.subscriptions.providers import GITHUB_ACCESS_TOKEN_URL, GITHUB_DEVICE_CODE_URL, PROVIDERS, SubscriptionProvider
from core.subscriptions.quota import quota_account_for
from core.subscriptions.store import SignIn

log = logging.getLogger(__name__)

FLOW_TIMEOUT_S = 600.0      # a sign-in left open this long is abandoned and its listener released
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
SLOW_DOWN_S = 5             # RFC 8628: each slow_down adds 5 s to the polling interval
MAX_FLOWS = 20

Save = Callable[[SignIn], Awaitable[Account]]


class SignInError(Exception):
    """A sign-in step cannot go on; the message says why in words. `status` is the API's answer status."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Flow:
    id: str
    provider: SubscriptionProvider
    started: float
    state: str = ""
    verifier: str = ""
    redirect_uri: str = ""
    oauth: OAuthClient | None = None
    listener: CallbackListener | None = None
    device_code: str = ""
    interval: int = 5
    expires_at: float = 0.0
    status: str = "waiting"     # waiting, done, failed, cancelled, expired
    error: str | None = None
    account: Account | None = None
    timer: asyncio.Task[None] | None = None
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    busy: asyncio.Lock = field(default_factory=asyncio.Lock)

    def public(self) -> dict[str, Any]:
        return {"flowId": self.id, "provider": self.provider.id, "status": self.status, "error": self.error,
                "elapsed": round(time.monotonic() - self.started, 1),
                "connection": self.account.public() if self.account is not None else None}


class SignInFlows:
    def __init__(self, save: Save, client: httpx.AsyncClient, locations: Locations | None = None,
                 callback_ports: Mapping[str, int] | None = None, timeout: float = FLOW_TIMEOUT_S) -> None:
        """`callback_ports` overrides the port a provider's listener takes (tests use 0: any free port)."""
        self._save = save
        self._client = client
        self._locations = locations or Locations()
        self._ports = dict(callback_ports or {})
        self._timeout = timeout
        self._flows: dict[str, Flow] = {}

    # -- authorization code with PKCE -----------------------------------------------------------------------
    async def authorize(self, provider_id: str) -> dict[str, Any]:
        provider = _provider(provider_id)
        if provider.flow != "pkce":
            raise SignInError(tr("{service} signs in with a code you type at the provider: use device-code.",
                                 service=provider.name))
        oauth = await self._google_client(provider) if provider.google else None
        flow = self._new_flow(provider)
        flow.state, flow.verifier, flow.oauth = secrets.token_urlsafe(32), secrets.token_urlsafe(48), oauth
        flow.listener = CallbackListener(provider.callback_path, lambda params: self._on_callback(flow, params))
        port = self._ports.get(provider.id, provider.callback_port)
        try:
            port = await flow.listener.start(port)
        except OSError:
            self._flows.pop(flow.id, None)
            raise SignInError(tr("Port {port} on 127.0.0.1 is in use, and {service} only returns to that port. "
                                 "Close the program using it (another sign-in, e.g. `{tool}`), then try again.",
                                 port=port, service=provider.name, tool=provider.tool.name), 409) from None
        flow.redirect_uri = f"http://localhost:{port}{provider.callback_path}"
        flow.timer = asyncio.get_running_loop().create_task(self._expire(flow))
        query = {"response_type": "code", "client_id": oauth.client_id if oauth else provider.client_id,
                 "redirect_uri": flow.redirect_uri, "scope": " ".join(provider.scopes),
                 "code_challenge": _challenge(flow.verifier), "code_challenge_method": "S256", "state": flow.state,
                 **dict(provider.extra_authorize)}
        url = HostMap.from_environment().rewrite(f"{provider.authorize_url}?{urlencode(query)}")
        log.info("Sign-in to %s started (flow %s, callback port %d)", provider.name, flow.id, port)
        return {**flow.public(), "url": url, "redirectUri": flow.redirect_uri, "expiresIn": int(self._timeout)}

    async def exchange(self, flow_id: str | None, code: Any, state: Any) -> dict[str, Any]:
        """The code the provider sent back (by the listener, or pasted by the user), for this flow's state."""
        if not isinstance(code, str) or not code.strip() or not isinstance(state, str) or not state:
            raise SignInError(tr("Send the `code` and `state` the provider returned."))
        code, _, pasted_state = code.strip().partition("#")  # Claude shows "code#state" to paste
        flow = self._flows.get(flow_id or "") if flow_id else self._by_state(state)
        if flow is None or not flow.state:
            raise SignInError(tr("This sign-in is unknown or over; start it again."), 404)
        if not hmac.compare_digest(flow.state, state) or (pasted_state and pasted_state != state):
            raise SignInError(tr("The answer does not belong to this sign-in (its state differs); start it again."))
        async with flow.busy:
            if flow.status != "waiting":
                raise SignInError(self._over(flow), 409)
            try:
                tokens, answer = await endpoints.exchange_code(self._client, flow.provider, code, flow.verifier,
                                                               flow.redirect_uri, flow.state, flow.oauth)
                await self._finish(flow, tokens, answer)
            except (RenewalRefused, RenewalUnavailable, SignInError) as exc:
                await self._end(flow, "failed", str(exc))
                raise SignInError(str(exc), 502 if isinstance(exc, RenewalUnavailable) else 400) from None
        return flow.public()

    async def _on_callback(self, flow: Flow, params: dict[str, str]) -> tuple[bool, str]:
        if params.get("error"):
            reason = params.get("error_description") or params["error"]
            if hmac.compare_digest(params.get("state", ""), flow.state):
                await self._end(flow, "failed", tr("The provider did not sign you in: {reason}.", reason=reason[:200]))
            return False, tr("The provider did not sign you in: {reason}.", reason=reason[:200])
        try:
            await self.exchange(flow.id, params.get("code"), params.get("state"))
        except SignInError as exc:
            await self._end(flow, "failed", str(exc))  # the listener takes one callback: the flow is over too
            return False, str(exc)
        return True, tr("Signed in to {service}. You can close this window and go back to Quotagate.",
                        service=flow.provider.name)

    # -- device flow ---------------------------------------------------------------------------------------
    async def device_code(self, provider_id: str) -> dict[str, Any]:
        provider = _provider(provider_id)
        if provider.flow != "device":
            raise SignInError(tr("{service} signs in through the browser: use authorize.", service=provider.name))
        answer = await self._github(GITHUB_DEVICE_CODE_URL, {"client_id": provider.client_id,
                                                             "scope": " ".join(provider.scopes)})
        device_code, user_code = text_field(answer, "device_code"), text_field(answer, "user_code")
        if not device_code or not user_code:
            raise SignInError(tr("GitHub answered without a device code; try again."), 502)
        flow = self._new_flow(provider)
        flow.device_code = device_code
        flow.interval = _whole(answer.get("interval"), 5)
        lifetime = _whole(answer.get("expires_in"), 900)
        flow.expires_at = time.monotonic() + lifetime
        flow.timer = asyncio.get_running_loop().create_task(self._expire(flow, min(lifetime, self._timeout)))
        return {**flow.public(), "userCode": user_code, "interval": flow.interval, "expiresIn": lifetime,
                "verificationUri": text_field(answer, "verification_uri") or "https://github.com/login/device"}

    async def poll(self, flow_id: Any) -> dict[str, Any]:
        """Ask GitHub once whether the user entered the code; the answer's `interval` is when to ask again."""
        flow = self._flows.get(flow_id) if isinstance(flow_id, str) else None
        if flow is None or not flow.device_code:
            raise SignInError(tr("This sign-in is unknown or over; start it again."), 404)
        async with flow.busy:
            if flow.status != "waiting":
                return {**flow.public(), "interval": flow.interval}
            answer = await self._github(GITHUB_ACCESS_TOKEN_URL, {
                "client_id": flow.provider.client_id, "device_code": flow.device_code, "grant_type": DEVICE_GRANT})
            error = text_field(answer, "error")
            token = text_field(answer, "access_token")
            if token:
                try:
                    await self._finish(flow, Tokens(refresh_token=token), answer)
                except (RenewalRefused, RenewalUnavailable, SignInError) as exc:
                    await self._end(flow, "failed", str(exc))
            elif error == "slow_down":
                flow.interval = max(flow.interval + SLOW_DOWN_S, _whole(answer.get("interval"), 0))
            elif error == "expired_token":
                await self._end(flow, "expired", tr("The code expired before it was entered; start again."))
            elif error == "access_denied":
                await self._end(flow, "failed", tr("The sign-in was declined at GitHub."))
            elif error != "authorization_pending":
                await self._end(flow, "failed", tr("GitHub refused the sign-in ({error}).", error=error or "?"))
            return {**flow.public(), "interval": flow.interval}

    async def wait_for_device(self, flow_id: str) -> dict[str, Any]:
        """Poll at GitHub's pace until the sign-in ends (what a window does while it shows the code)."""
        while True:
            flow = self._flows.get(flow_id)
            if flow is None:
                raise SignInError(tr("This sign-in is unknown or over; start it again."), 404)
            try:
                await asyncio.wait_for(flow.finished.wait(), flow.interval)
            except TimeoutError:
                pass
            answer = await self.poll(flow_id)
            if answer["status"] != "waiting":
                return answer

    # -- any flow ------------------------------------------------------------------------------------------
    def status(self, flow_id: Any) -> dict[str, Any]:
        flow = self._flows.get(flow_id) if isinstance(flow_id, str) else None
        if flow is None:
            raise SignInError(tr("This sign-in is unknown or over; start it again."), 404)
        return flow.public()

    async def wait(self, flow_id: str) -> dict[str, Any]:
        """Until the flow ends (signed in, failed, cancelled or expired)."""
        flow = self._flows.get(flow_id)
        if flow is None:
            raise SignInError(tr("This sign-in is unknown or over; start it again."), 404)
        await flow.finished.wait()
        return flow.public()

    async def cancel(self, flow_id: Any) -> dict[str, Any]:
        flow = self._flows.get(flow_id) if isinstance(flow_id, str) else None
        if flow is None:
            raise SignInError(tr("This sign-in is unknown or over; start it again."), 404)
        if flow.status == "waiting":
            await self._end(flow, "cancelled", tr("The sign-in was cancelled."))
        return flow.public()

    async def aclose(self) -> None:
        for flow in list(self._flows.values()):
            if flow.status == "waiting":
                await self._end(flow, "cancelled", tr("The sign-in was cancelled."))

    # -- inside --------------------------------------------------------------------------------------------
    def _new_flow(self, provider: SubscriptionProvider) -> Flow:
        ended = [f for f in self._flows.values() if f.status != "waiting"]
        for old in ended[:max(0, len(self._flows) - MAX_FLOWS + 1)]:  # keep a few finished ones to report
            self._flows.pop(old.id, None)
        if len(self._flows) >= MAX_FLOWS:
            raise SignInError(tr("Too many sign-ins are open at once; finish or cancel one first."), 429)
        flow = Flow(secrets.token_urlsafe(12), provider, time.monotonic())
        self._flows[flow.id] = flow
        return flow

    def _by_state(self, state: str) -> Flow | None:
        return next((f for f in self._flows.values() if f.state and hmac.compare_digest(f.state, state)), None)

    async def _google_client(self, provider: SubscriptionProvider) -> OAuthClient:
        try:
            return await endpoints.google_client(provider, self._locations)
        except RenewalUnavailable as exc:
            raise SignInError(str(exc), 409) from None

    async def _finish(self, flow: Flow, tokens: Tokens, answer: dict[str, Any]) -> None:
        sign_in = await self._describe(flow.provider, tokens, answer)
        flow.account = await self._save(sign_in)
        log.info("Signed in to %s as account %d", flow.provider.name, flow.account.id)
        await self._end(flow, "done", None)

    async def _describe(self, provider: SubscriptionProvider, tokens: Tokens, answer: dict[str, Any]) -> SignIn:
        """Who signed in and with which plan, and what the executors need besides the token."""
        identity: str | None = None
        plan: str | None = None
        if provider.id == "claude":
            account = answer.get("account")
            identity = text_field(account, "email_address", "email") if isinstance(account, dict) else None
        elif provider.id == "codex":
            tokens, identity, plan = endpoints.codex_facts(tokens)
        elif provider.id == "github":
            tokens = tokens.merged(await endpoints.copilot_token(self._client, provider, tokens.refresh_token or ""))
            identity = await endpoints.github_login(self._client, provider, tokens.refresh_token or "")
        elif provider.google:
            identity = await endpoints.google_email(self._client, provider, tokens)
            try:
                project = await endpoints.cloud_code_project(self._client, provider, tokens.access_token or "",
                                                             self._locations)
            except RenewalUnavailable:
                project = None  # found on first use instead
            tokens = tokens.merged(Tokens(project_id=project))
        return SignIn(provider.id, tokens, identity, plan, bundle.SIGNED_IN,
                      quota_account_for(provider.id, tokens, identity, bundle.SIGNED_IN))

    async def _github(self, url: str, form: dict[str, str]) -> dict[str, Any]:
        try:
            response = await self._client.post(url, data=form, headers={"Accept": "application/json"})
        except httpx.HTTPError:
            raise SignInError(tr("Could not reach GitHub; check the connection and try again."), 502) from None
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict) or (response.status_code >= 400 and "error" not in answer):
            raise SignInError(tr("GitHub answered HTTP {status}; try again.", status=response.status_code), 502)
        return answer

    async def _expire(self, flow: Flow, after: float | None = None) -> None:
        await asyncio.sleep(self._timeout if after is None else after)
        if flow.status == "waiting":
            await self._end(flow, "expired", tr("The sign-in timed out; start it again."))

    async def _end(self, flow: Flow, status: str, error: str | None) -> None:
        if flow.status == "waiting":
            flow.status, flow.error = status, error
        if flow.listener is not None:
            await flow.listener.close()
        timer = flow.timer
        if timer is not None and timer is not asyncio.current_task():
            timer.cancel()
        flow.finished.set()

    @staticmethod
    def _over(flow: Flow) -> str:
        return flow.error or tr("This sign-in is already over; start it again.")


def _provider(provider_id: str) -> SubscriptionProvider:
    provider = PROVIDERS.get(provider_id)
    if provider is None:
        raise SignInError(tr("Unknown subscription {provider}. Valid: {valid}.", provider=repr(provider_id)[:60],
                             valid=", ".join(PROVIDERS)), 404)
    return provider


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def _whole(value: Any, default: int) -> int:
    return int(value) if isinstance(value, (int, float)) and 0 < value < 86400 else default
