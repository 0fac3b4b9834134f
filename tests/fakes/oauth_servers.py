"""Fake auth services of the subscriptions on loopback: authorize pages, token endpoints, GitHub's device flow,
Copilot's token exchange, Google's userinfo and Cloud Code's loadCodeAssist — strict about what the real ones
check (PKCE verifier against the S256 challenge, state, redirect URI, client id, grant type) and counting every
token request so tests can tell how many renewals happened.

One server plays every host (`HOSTS`, mapped through QUOTAGATE_HOST_MAP); the paths of the services differ, and
the two `/oauth/authorize` pages are told apart by their client id.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
import threading
import time
from collections import Counter
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.fakes.server import ThreadedServer

CLAUDE_CLIENT = "9d1c250a-e61b-44d9-88ed-5944d1962f5e"
CODEX_CLIENT = "app_EMoamEEZ73f0CkXaXp7hrann"
GITHUB_CLIENT = "Iv1.b507a08c87ecfe98"
GOOGLE_CLIENT = "fake-client.apps.googleusercontent.com"
GOOGLE_SECRET = "fake-google-secret"
HOSTS = ("claude.ai", "console.anthropic.com", "auth.openai.com", "github.com", "api.github.com",
         "accounts.google.com", "oauth2.googleapis.com", "www.googleapis.com", "cloudcode-pa.googleapis.com")


def make_jwt(claims: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


def codex_id_token(email: str = "coder@example.com", account_id: str = "acct-123", plan: str = "plus") -> str:
    return make_jwt({"email": email, "exp": int(time.time()) + 3600,
                     "https://api.openai.com/auth": {"chatgpt_account_id": account_id, "chatgpt_plan_type": plan}})


class FakeAuthServices:
    def __init__(self) -> None:
        self.url = ""
        self.lock = threading.Lock()
        self.codes: dict[str, dict[str, str]] = {}
        self.token_requests: Counter[str] = Counter()   # path -> how many token requests arrived
        self.refresh_requests: Counter[str] = Counter()  # path -> how many of them were refresh grants
        self.valid_refresh: set[str] = {"refresh-claude", "refresh-codex", "refresh-google"}
        self.refresh_mode = "ok"          # ok | refuse (400 invalid_grant) | unavailable (503)
        self.refresh_delay = 0.0          # seconds a refresh takes (to overlap concurrent requests)
        self.expires_in = 3600
        self.issued = 0
        self.deny_authorization = False
        self.device_script: list[str] = ["authorization_pending", "slow_down", "ok"]
        self.device_polls: list[dict[str, str]] = []
        self.device_interval = 5
        self.github_tokens: set[str] = {"gho_device_token", "gho_imported"}
        self.copilot_mode = "ok"          # ok | revoked (401) | no-subscription (404) | unavailable (503)
        self.exchanges = 0
        self.google_email = "person@gmail.com"
        self.project = "proj-123"
        self.last_token_body: dict[str, Any] = {}

    # -- helpers for tests -----------------------------------------------------------------------------
    def host_map(self) -> str:
        return ",".join(f"{host}={self.url}" for host in HOSTS)

    def __enter__(self) -> "FakeAuthServices":
        self._server = ThreadedServer(self.app()).__enter__()
        self.url = self._server.url
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.__exit__(*exc)

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/oauth/authorize", self.authorize), Route("/o/oauth2/v2/auth", self.authorize),
            Route("/v1/oauth/token", self.token, methods=["POST"]), Route("/oauth/token", self.token, methods=["POST"]),
            Route("/token", self.token, methods=["POST"]),
            Route("/login/device/code", self.device_code, methods=["POST"]),
            Route("/login/oauth/access_token", self.device_token, methods=["POST"]),
            Route("/user", self.github_user), Route("/copilot_internal/v2/token", self.copilot_token),
            Route("/oauth2/v2/userinfo", self.userinfo),
            Route("/v1internal:loadCodeAssist", self.load_code_assist, methods=["POST"]),
        ])

    # -- authorization code with PKCE ------------------------------------------------------------------
    async def authorize(self, request: Request) -> Response:
        q = request.query_params
        provider = {CLAUDE_CLIENT: "claude", CODEX_CLIENT: "codex", GOOGLE_CLIENT: "google"}.get(q.get("client_id", ""))
        problems = [name for name, ok in (
            ("client_id", provider is not None), ("response_type", q.get("response_type") == "code"),
            ("code_challenge_method", q.get("code_challenge_method") == "S256"),
            ("code_challenge", len(q.get("code_challenge", "")) == 43), ("state", bool(q.get("state"))),
            ("redirect_uri", q.get("redirect_uri", "").startswith("http://localhost:")),
            ("scope", bool(q.get("scope")))) if not ok]
        if provider == "google" and q.get("access_type") != "offline":
            problems.append("access_type")
        if problems:
            return JSONResponse({"error": "invalid_request", "fields": problems}, status_code=400)
        if self.deny_authorization:
            return RedirectResponse(f"{q['redirect_uri']}?{urlencode({'error': 'access_denied', 'state': q['state']})}")
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"challenge": q["code_challenge"], "redirect_uri": q["redirect_uri"],
                            "client_id": q["client_id"], "state": q["state"], "provider": provider or ""}
        return RedirectResponse(f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q['state']})}")

    async def token(self, request: Request) -> Response:
        path = request.url.path
        raw = await request.body()
        if request.headers.get("content-type", "").startswith("application/json"):
            body = json.loads(raw)
        else:
            body = dict((await request.form()).items())
        self.token_requests[path] += 1
        self.last_token_body = body
        if body.get("grant_type") == "authorization_code":
            return self._code_grant(path, body)
        if body.get("grant_type") == "refresh_token":
            self.refresh_requests[path] += 1
            if self.refresh_delay:
                await asyncio.sleep(self.refresh_delay)
            return self._refresh_grant(path, body)
        return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)

    def _code_grant(self, path: str, body: dict[str, Any]) -> Response:
        issued = self.codes.pop(str(body.get("code")), None)
        if issued is None:
            return JSONResponse({"error": "invalid_grant", "error_description": "unknown code"}, status_code=400)
        verifier = str(body.get("code_verifier", ""))
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
        if challenge != issued["challenge"]:
            return JSONResponse({"error": "invalid_grant", "error_description": "PKCE verifier mismatch"},
                                status_code=400)
        if body.get("redirect_uri") != issued["redirect_uri"] or body.get("client_id") != issued["client_id"]:
            return JSONResponse({"error": "invalid_grant", "error_description": "redirect or client"}, status_code=400)
        if issued["provider"] == "claude" and body.get("state") != issued["state"]:
            return JSONResponse({"error": "invalid_grant", "error_description": "state"}, status_code=400)
        if issued["provider"] == "google" and body.get("client_secret") != GOOGLE_SECRET:
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        refresh = f"refresh-{issued['provider']}-{secrets.token_hex(4)}"
        self.valid_refresh.add(refresh)
        answer: dict[str, Any] = {"access_token": self._access(), "refresh_token": refresh,
                                  "expires_in": self.expires_in, "token_type": "Bearer"}
        if issued["provider"] == "claude":
            answer["account"] = {"uuid": "u-1", "email_address": "claude.user@example.com"}
        if issued["provider"] == "codex":
            answer["id_token"] = codex_id_token()
        return JSONResponse(answer)

    def _refresh_grant(self, path: str, body: dict[str, Any]) -> Response:
        if self.refresh_mode == "unavailable":
            return JSONResponse({"error": "temporarily_unavailable"}, status_code=503)
        refresh = str(body.get("refresh_token"))
        expected_client = {"/v1/oauth/token": CLAUDE_CLIENT, "/oauth/token": CODEX_CLIENT, "/token": GOOGLE_CLIENT}
        if body.get("client_id") != expected_client[path]:
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        if self.refresh_mode == "refuse" or refresh not in self.valid_refresh:
            return JSONResponse({"error": "invalid_grant", "error_description": "Token has been revoked."},
                                status_code=400)
        answer: dict[str, Any] = {"access_token": self._access(), "expires_in": self.expires_in}
        if path != "/token":  # Claude and OpenAI rotate refresh tokens; Google keeps its own
            self.valid_refresh.discard(refresh)
            rotated = f"{refresh.split('~')[0]}~{self.issued}"
            self.valid_refresh.add(rotated)
            answer["refresh_token"] = rotated
        if path == "/oauth/token":
            answer["id_token"] = codex_id_token()
        return JSONResponse(answer)

    def _access(self) -> str:
        with self.lock:
            self.issued += 1
            return f"access-{self.issued}"

    # -- GitHub -----------------------------------------------------------------------------------------
    async def device_code(self, request: Request) -> Response:
        form = await request.form()
        if form.get("client_id") != GITHUB_CLIENT or request.headers.get("accept") != "application/json":
            return JSONResponse({"error": "invalid_client"}, status_code=400)
        return JSONResponse({"device_code": "dev-code-1", "user_code": "WDJB-MJHT",
                             "verification_uri": "https://github.com/login/device", "expires_in": 900,
                             "interval": self.device_interval})

    async def device_token(self, request: Request) -> Response:
        form = dict((await request.form()).items())
        self.device_polls.append(form)
        if form.get("device_code") != "dev-code-1" or \
                form.get("grant_type") != "urn:ietf:params:oauth:grant-type:device_code":
            return JSONResponse({"error": "incorrect_device_code"})
        step = self.device_script.pop(0) if self.device_script else "ok"
        if step == "ok":
            return JSONResponse({"access_token": "gho_device_token", "token_type": "bearer", "scope": "read:user"})
        if step == "slow_down":
            self.device_interval += 5
            return JSONResponse({"error": "slow_down", "interval": self.device_interval})
        return JSONResponse({"error": step})  # GitHub answers these with 200

    async def github_user(self, request: Request) -> Response:
        if request.headers.get("authorization", "").removeprefix("token ") not in self.github_tokens:
            return JSONResponse({"message": "Bad credentials"}, status_code=401)
        return JSONResponse({"login": "octocat", "id": 1})

    async def copilot_token(self, request: Request) -> Response:
        self.exchanges += 1
        token = request.headers.get("authorization", "").removeprefix("token ")
        if self.copilot_mode == "unavailable":
            return JSONResponse({"message": "unavailable"}, status_code=503)
        if self.copilot_mode == "revoked" or token not in self.github_tokens:
            return JSONResponse({"message": "Bad credentials"}, status_code=401)
        if self.copilot_mode == "no-subscription":
            return JSONResponse({"message": "Not Found"}, status_code=404)
        return JSONResponse({"token": f"tid=copilot;exp={self._access()}", "expires_at": int(time.time()) + 1800,
                             "refresh_in": 1500, "endpoints": {"api": f"{self.url}/copilot-api"}})

    # -- Google -----------------------------------------------------------------------------------------
    async def userinfo(self, request: Request) -> Response:
        if not request.headers.get("authorization", "").startswith("Bearer access-"):
            return JSONResponse({"error": "invalid_token"}, status_code=401)
        return JSONResponse({"email": self.google_email, "verified_email": True})

    async def load_code_assist(self, request: Request) -> Response:
        return JSONResponse({"cloudaicompanionProject": self.project, "currentTier": {"id": "free-tier",
                                                                                       "name": "Gemini Code Assist"}})
