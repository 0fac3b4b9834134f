"""Optional login for the management API: a password kept only as a salted scrypt hash, and session
tokens kept only in memory (a restart logs everyone out, and nothing on disk can be replayed).

`POST /api/auth/login` answers with the token in the body and as an HttpOnly, SameSite=Strict
`auth_token` cookie; callers send either the cookie or `Authorization: Bearer <token>`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core import settings
from core.gateway.management.common import ManagementError, boolean, configuration, off_loop, read_object, resource

if TYPE_CHECKING:
    from core.gateway.context import GatewayContext
    from core.store import Store

log = logging.getLogger(__name__)

KEY_REQUIRE_LOGIN = settings.KEY_REQUIRE_LOGIN
KEY_PASSWORD = settings.KEY_MANAGEMENT_PASSWORD  # {"scheme": "scrypt", "n", "r", "p", "salt", "hash"}, hex strings
COOKIE_NAME = "auth_token"
SESSION_SECONDS = 12 * 3600
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024
MAX_FAILURES = 5  # wrong passwords per window before logins pause
FAILURE_WINDOW_SECONDS = 60.0
_SCRYPT_COST = {"n": 2**14, "r": 8, "p": 1}
_MAX_SESSIONS = 64

# Reachable without a session even when login is required: how to get one, and whether one is needed.
PUBLIC = frozenset({("POST", "/api/auth/login"), ("POST", "/api/auth/logout"),
                    ("GET", "/api/settings/require-login"), ("HEAD", "/api/settings/require-login")})


# --- passwords -----------------------------------------------------------------------------------


def hash_password(password: str) -> dict[str, Any]:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, dklen=32, **_SCRYPT_COST)
    return {"scheme": "scrypt", **_SCRYPT_COST, "salt": salt.hex(), "hash": digest.hex()}


def verify_password(password: str, record: Any) -> bool:
    if not is_password_record(record):
        return False
    try:
        digest = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(record["salt"]), dklen=32,
                                n=record["n"], r=record["r"], p=record["p"])
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest.hex(), record["hash"])


def is_password_record(record: Any) -> bool:
    return isinstance(record, dict) and record.get("scheme") == "scrypt" and \
        all(isinstance(record.get(k), int) for k in ("n", "r", "p")) and \
        all(isinstance(record.get(k), str) and record[k] for k in ("salt", "hash"))


# --- sessions and throttling ---------------------------------------------------------------------


class Sessions:
    """Tokens by their SHA-256, with a monotonic expiry."""

    def __init__(self, lifetime: float = SESSION_SECONDS) -> None:
        self.lifetime = lifetime
        self._expiry: dict[str, float] = {}

    def issue(self) -> str:
        now = time.monotonic()
        self._expiry = {h: t for h, t in self._expiry.items() if t > now}
        while len(self._expiry) >= _MAX_SESSIONS:
            self._expiry.pop(min(self._expiry, key=self._expiry.__getitem__))
        token = secrets.token_urlsafe(32)
        self._expiry[_digest(token)] = now + self.lifetime
        return token

    def valid(self, token: str | None) -> bool:
        if not token:
            return False
        expiry = self._expiry.get(_digest(token))
        if expiry is None:
            return False
        if expiry <= time.monotonic():
            self._expiry.pop(_digest(token), None)
            return False
        return True

    def revoke(self, token: str | None) -> None:
        if token:
            self._expiry.pop(_digest(token), None)

    def revoke_all(self) -> None:
        self._expiry.clear()


class LoginThrottle:
    """Wrong passwords per client address: after MAX_FAILURES within the window, that address waits until
    the oldest ages out. An attempt is counted before the password is checked (so parallel guesses are
    all counted) and forgiven when it was right; other addresses — the user's — are never locked out.
    Sessions already issued are not affected at all."""

    def __init__(self, max_addresses: int = 4096) -> None:
        self._failures: dict[str, deque[float]] = {}
        self._max_addresses = max_addresses

    def attempt(self, address: str) -> int | None:
        """Count an attempt from `address` now; the seconds to wait instead when it is locked out."""
        now = time.monotonic()
        failures = self._failures.get(address)
        if failures is None:
            if len(self._failures) >= self._max_addresses:  # a flood of addresses: forget the quietest
                self._forget_stale(now)
            failures = self._failures[address] = deque()
        while failures and failures[0] <= now - FAILURE_WINDOW_SECONDS:
            failures.popleft()
        if len(failures) >= MAX_FAILURES:
            return max(1, int(failures[0] + FAILURE_WINDOW_SECONDS - now + 0.999))
        failures.append(now)
        return None

    def succeeded(self, address: str) -> None:
        """The attempt from `address` was right (or not a guess): it does not count."""
        failures = self._failures.get(address)
        if failures:
            failures.pop()

    def clear(self) -> None:
        self._failures.clear()

    def _forget_stale(self, now: float) -> None:
        for address in [a for a, f in self._failures.items() if not f or f[-1] <= now - FAILURE_WINDOW_SECONDS]:
            del self._failures[address]
        while len(self._failures) >= self._max_addresses:
            self._failures.pop(next(iter(self._failures)))


def client_address(request: Request) -> str:
    """Who is guessing: the peer's address, with all of 127.0.0.0/8 as one (else one process could rotate
    through sixteen million loopback addresses to multiply its guesses)."""
    host = request.client.host if request.client else "unknown"
    return "127.0.0.1" if host.startswith("127.") or host.startswith("::ffff:127.") else host


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class LoginState:
    required: bool
    has_password: bool

    def public(self) -> dict[str, bool]:
        return {"requireLogin": self.required, "hasPassword": self.has_password}


def read_login_state(store: "Store") -> LoginState:
    has_password = is_password_record(store.get_setting(KEY_PASSWORD))
    return LoginState(bool(store.get_setting(KEY_REQUIRE_LOGIN, False)) and has_password, has_password)


class ManagementAuth:
    """The login state the guard consults on every `/api/*` request: read from the store once (off the
    loop), then kept in memory and updated by the route that changes it."""

    def __init__(self) -> None:
        self.sessions = Sessions()
        self.throttle = LoginThrottle()
        self._state: LoginState | None = None
        self._read_from: "Store | None" = None

    async def state(self, store: "Store") -> LoginState:
        """The cached state; read again when the store was replaced (a restored backup)."""
        if self._state is None or self._read_from is not store:
            self._state = await off_loop(read_login_state, store)
            self._read_from = store
        return self._state

    def remember(self, state: LoginState, store: "Store") -> None:
        self._state, self._read_from = state, store

    def authorized(self, request: Request) -> bool:
        return self.sessions.valid(presented_token(request))


def presented_token(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get(COOKIE_NAME) or None


def login_required_message() -> str:
    return ("Login required: POST /api/auth/login with {\"password\": …}, then send the token as "
            "`Authorization: Bearer <token>` or the auth_token cookie.")


# --- routes --------------------------------------------------------------------------------------


def auth_routes(context: "GatewayContext") -> list[Route]:
    auth = context.auth

    async def login(request: Request) -> Response:
        body = await read_object(request)
        password = body.get("password")
        if not isinstance(password, str) or not password:
            raise ManagementError(400, "`password` must be a non-empty string.")
        address = client_address(request)
        # Counted here, before any await: every parallel guess is counted before any is checked.
        wait = auth.throttle.attempt(address)
        if wait is not None:
            log.warning("Management login from %s refused: too many wrong passwords", address)
            raise ManagementError(429, f"Too many wrong passwords; try again in {wait} s.",
                                  headers={"Retry-After": str(wait)})
        record = await off_loop(context.store.get_setting, KEY_PASSWORD)
        if not is_password_record(record):
            auth.throttle.succeeded(address)
            raise ManagementError(400, "No login password is set. Require login with "
                                       "PUT /api/settings/require-login {\"requireLogin\": true, \"password\": …}.")
        if len(password) > MAX_PASSWORD_LENGTH or not await off_loop(verify_password, password, record):
            log.warning("Management login from %s refused: wrong password", address)
            raise ManagementError(401, "Wrong password.")
        auth.throttle.succeeded(address)
        log.info("Management login")
        return _session_answer({"success": True}, auth.sessions.issue())

    async def logout(request: Request) -> Response:
        auth.sessions.revoke(presented_token(request))
        response = JSONResponse({"success": True})
        response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="strict")
        return response

    async def get_require_login(request: Request) -> Response:
        return JSONResponse((await auth.state(context.store)).public())

    async def put_require_login(request: Request) -> Response:
        body = await read_object(request)
        require = boolean(body.get("requireLogin"), "requireLogin")
        password = body.get("password")
        if password is not None and require:
            if not isinstance(password, str) or not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
                raise ManagementError(400, f"`password` must be a string of {MIN_PASSWORD_LENGTH} to "
                                           f"{MAX_PASSWORD_LENGTH} characters.")
        record = await off_loop(hash_password, password) if require and password else None
        await configuration(context).set_login(
            require, record, is_password_record,
            f"Set a `password` ({MIN_PASSWORD_LENGTH} characters or more) to require login.")
        state = await off_loop(read_login_state, context.store)
        auth.remember(state, context.store)
        if record is not None:  # a new password: every old session ends, the caller gets a fresh one
            auth.sessions.revoke_all()
            log.info("Management login required (password set)")
            return _session_answer(state.public(), auth.sessions.issue())
        response = JSONResponse(state.public())
        if not require:
            auth.sessions.revoke_all()
            log.info("Management login no longer required")
            response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="strict")
        return response

    return [
        resource("/api/auth/login", POST=login),
        resource("/api/auth/logout", POST=logout),
        resource("/api/settings/require-login", GET=get_require_login, PUT=put_require_login,
                 POST=put_require_login),
    ]


def _session_answer(body: dict[str, Any], token: str) -> JSONResponse:
    """An answer carrying a new session token in its body and as the HttpOnly, SameSite=Strict cookie."""
    response = JSONResponse({**body, "token": token, "expiresIn": SESSION_SECONDS})
    response.set_cookie(COOKIE_NAME, token, max_age=SESSION_SECONDS, path="/", httponly=True, samesite="strict")
    return response
