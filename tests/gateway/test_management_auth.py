"""Optional login: a password stored as a salted scrypt hash; session tokens in memory, presented as a
Bearer token or the HttpOnly, SameSite=Strict `auth_token` cookie. `/healthz` and `/v1` are untouched."""

from __future__ import annotations

import json
import time

import httpx

from core.gateway.management.auth import KEY_PASSWORD, MAX_FAILURES, Sessions
from core.services import CoreServices

PASSWORD = "correct horse battery"


async def require_login(client: httpx.AsyncClient, password: str = PASSWORD) -> str:
    response = await client.put("/api/settings/require-login", json={"requireLogin": True, "password": password})
    assert response.status_code == 200, response.text
    client.cookies.clear()  # each test decides explicitly how it authenticates
    return response.json()["token"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_login_is_off_by_default(client) -> None:
    state = await client.get("/api/settings/require-login")
    assert state.json() == {"requireLogin": False, "hasPassword": False}
    assert (await client.get("/api/providers")).status_code == 200


async def test_requiring_login_needs_a_password(client) -> None:
    response = await client.put("/api/settings/require-login", json={"requireLogin": True})
    assert response.status_code == 400 and "password" in response.json()["error"]
    assert (await client.get("/api/settings/require-login")).json()["requireLogin"] is False


async def test_a_short_password_is_refused(client) -> None:
    response = await client.put("/api/settings/require-login", json={"requireLogin": True, "password": "short"})
    assert response.status_code == 400 and "8" in response.json()["error"]


async def test_require_login_must_be_a_boolean(client) -> None:
    response = await client.put("/api/settings/require-login", json={"requireLogin": "yes", "password": PASSWORD})
    assert response.status_code == 400 and "requireLogin" in response.json()["error"]


async def test_once_login_is_required_a_call_without_a_token_is_401(client) -> None:
    await require_login(client)
    response = await client.get("/api/providers")
    assert response.status_code == 401
    assert "POST /api/auth/login" in response.json()["error"]


async def test_requiring_login_hands_the_caller_a_working_session(client) -> None:
    token = await require_login(client)
    assert (await client.get("/api/providers", headers=bearer(token))).status_code == 200


async def test_the_password_is_stored_as_a_salted_scrypt_hash(services: CoreServices, client) -> None:
    token = await require_login(client)
    first = services.store.get_setting(KEY_PASSWORD)
    again = await client.put("/api/settings/require-login", json={"requireLogin": True, "password": PASSWORD},
                             headers=bearer(token))  # the same password again
    assert again.status_code == 200
    second = services.store.get_setting(KEY_PASSWORD)
    assert first["scheme"] == "scrypt" and first["salt"] != second["salt"] and first["hash"] != second["hash"]
    assert PASSWORD not in json.dumps(second)


async def test_a_wrong_password_is_401(client) -> None:
    await require_login(client)
    response = await client.post("/api/auth/login", json={"password": "not the password"})
    assert response.status_code == 401 and response.json() == {"error": "Wrong password."}


async def test_the_login_token_works_as_a_bearer_token(client) -> None:
    await require_login(client)
    login = await client.post("/api/auth/login", json={"password": PASSWORD})
    assert login.status_code == 200
    assert (await client.get("/api/keys", headers=bearer(login.json()["token"]))).status_code == 200


async def test_the_login_cookie_is_http_only_same_site_strict_and_works(client) -> None:
    await require_login(client)
    login = await client.post("/api/auth/login", json={"password": PASSWORD})
    client.cookies.clear()
    cookie = login.headers["set-cookie"]
    assert cookie.startswith(f"auth_token={login.json()['token']};")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    response = await client.get("/api/keys", headers={"Cookie": f"auth_token={login.json()['token']}"})
    assert response.status_code == 200


async def test_a_made_up_token_is_401(client) -> None:
    await require_login(client)
    assert (await client.get("/api/keys", headers=bearer("made-up-token"))).status_code == 401


async def test_logout_ends_the_session(client) -> None:
    token = await require_login(client)
    assert (await client.post("/api/auth/logout", headers=bearer(token))).status_code == 200
    assert (await client.get("/api/keys", headers=bearer(token))).status_code == 401


async def test_the_login_state_is_readable_without_a_session(client) -> None:
    await require_login(client)
    response = await client.get("/api/settings/require-login")
    assert response.status_code == 200 and response.json() == {"requireLogin": True, "hasPassword": True}


async def test_too_many_wrong_passwords_pause_logins(client) -> None:
    await require_login(client)
    for _ in range(MAX_FAILURES):
        assert (await client.post("/api/auth/login", json={"password": "wrong"})).status_code == 401
    paused = await client.post("/api/auth/login", json={"password": PASSWORD})
    assert paused.status_code == 429 and int(paused.headers["retry-after"]) > 0


async def test_turning_login_off_needs_a_session_and_opens_the_api_again(client) -> None:
    token = await require_login(client)
    refused = await client.put("/api/settings/require-login", json={"requireLogin": False})
    assert refused.status_code == 401
    response = await client.put("/api/settings/require-login", json={"requireLogin": False}, headers=bearer(token))
    assert response.json() == {"requireLogin": False, "hasPassword": False}
    assert (await client.get("/api/keys")).status_code == 200


async def test_a_new_password_ends_every_other_session(client) -> None:
    old = await require_login(client)
    new = (await client.put("/api/settings/require-login", json={"requireLogin": True, "password": "another pass"},
                            headers=bearer(old))).json()["token"]
    assert (await client.get("/api/keys", headers=bearer(old))).status_code == 401
    assert (await client.get("/api/keys", headers=bearer(new))).status_code == 200
    assert (await client.post("/api/auth/login", json={"password": "another pass"})).status_code == 200


async def test_login_guards_every_management_path(client) -> None:
    await require_login(client)
    for method, path in [("GET", "/api/settings"), ("POST", "/api/keys"), ("GET", "/api/monitoring/health"),
                         ("GET", "/api/usage/logs"), ("DELETE", "/api/settings/proxy")]:
        assert (await client.request(method, path)).status_code == 401, path


async def test_login_does_not_affect_healthz_or_the_openai_routes(client) -> None:
    await require_login(client)
    assert (await client.get("/healthz")).status_code == 200
    assert (await client.get("/v1/models")).status_code == 200


async def test_login_survives_a_port_change(services: CoreServices, client) -> None:
    token = await require_login(client)
    state = await services.change_port(0)
    async with httpx.AsyncClient(base_url=state.url) as moved:
        assert (await moved.get("/api/keys")).status_code == 401
        assert (await moved.get("/api/keys", headers=bearer(token))).status_code == 200


def test_a_session_expires() -> None:
    sessions = Sessions(lifetime=0.05)
    token = sessions.issue()
    assert sessions.valid(token)
    time.sleep(0.1)
    assert not sessions.valid(token)
