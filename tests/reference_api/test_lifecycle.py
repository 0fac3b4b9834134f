"""`/api/init` (first-run state), `/api/restart` and `/api/shutdown`: graceful, for programs on this machine only,
behind the login when it is on; `quotagate serve` restarts or quits itself cleanly."""

from __future__ import annotations

import asyncio
import subprocess
import time

import httpx
import pytest

from core import lifecycle
from tests.conftest import wait_for
from tests.integration.processes import RunningQuotagate


@pytest.fixture
def hooks():
    """What the desktop app or `quotagate serve` installs, recorded (each real one is tested below/in desktop)."""
    asked: list[str] = []
    lifecycle.install(lambda: asked.append("restart"), lambda: asked.append("shutdown"))
    yield asked
    lifecycle.uninstall()


async def test_init_describes_a_first_run(client) -> None:
    answer = (await client.get("/api/init")).json()
    assert answer["initialized"] is True and answer["store"]["ready"] is True
    assert answer["store"]["schemaVersion"] >= 8
    assert answer["firstRun"] is True and answer["accountsConfigured"] is False and answer["accounts"] == 0
    assert answer["login"] == {"requireLogin": False, "hasPassword": False}


async def test_init_sees_accounts_keys_and_the_login(client, services) -> None:
    services.accounts.create_account("openai", "Work", "sk-ok")
    await services.configuration.create_key("Cursor")
    assert (await client.put("/api/settings/require-login",
                             json={"requireLogin": True, "password": "correct horse battery"})).status_code == 200
    token = (await client.post("/api/auth/login", json={"password": "correct horse battery"})).json()["token"]
    answer = (await client.get("/api/init", headers={"authorization": f"Bearer {token}"})).json()
    assert answer["accountsConfigured"] is True and answer["accounts"] == 1 and answer["apiKeys"] == 1
    assert answer["firstRun"] is False and answer["login"] == {"requireLogin": True, "hasPassword": True}


async def test_restart_and_shutdown_answer_first_then_ask_the_program(client, hooks) -> None:
    async def asked(count: int) -> list[str]:
        for _ in range(100):  # asked right after the answer went out
            if len(hooks) == count:
                break
            await asyncio.sleep(0.01)
        return hooks

    restart = await client.post("/api/restart")
    assert restart.status_code == 202 and "Restarting" in restart.json()["message"]
    assert await asked(1) == ["restart"]
    shutdown = await client.post("/api/shutdown")
    assert shutdown.status_code == 202 and "Shutting down" in shutdown.json()["message"]
    assert await asked(2) == ["restart", "shutdown"]
    assert (await client.get("/api/restart")).status_code == 405


async def test_a_process_that_cannot_restart_itself_says_so(client) -> None:
    response = await client.post("/api/restart")
    assert response.status_code == 409 and "cannot restart itself" in response.json()["error"]


async def test_restart_and_shutdown_are_behind_the_login_when_it_is_on(client, hooks) -> None:
    await client.put("/api/settings/require-login", json={"requireLogin": True, "password": "correct horse battery"})
    client.cookies.clear()  # the session cookie that answer set: now a caller without a login
    assert (await client.post("/api/shutdown")).status_code == 401
    assert (await client.post("/api/restart")).status_code == 401
    assert hooks == []


async def test_restart_and_shutdown_refuse_other_machines(network_gateway, hooks) -> None:
    services, address = network_gateway
    async with httpx.AsyncClient(base_url=f"http://{address}:{services.gateway_state.port}", timeout=10) as remote:
        for path in ("/api/shutdown", "/api/restart"):
            response = await remote.post(path, headers={"Host": f"127.0.0.1:{services.gateway_state.port}"})
            assert response.status_code == 403 and "programs on this machine" in response.json()["error"]
    assert hooks == []


def test_serve_restarts_itself_and_keeps_serving(served: RunningQuotagate) -> None:
    before = httpx.get(f"{served.url}/api/monitoring/health").json()["uptime_seconds"]
    time.sleep(0.3)
    assert httpx.post(f"{served.url}/api/restart").status_code == 202

    def restarted() -> bool:
        try:
            return httpx.get(f"{served.url}/api/monitoring/health", timeout=1).json()["uptime_seconds"] < before + 0.3
        except (httpx.TransportError, ValueError):
            return False

    wait_for(restarted, 20)
    assert served.process.poll() is None
    assert httpx.post(f"{served.url}/api/shutdown").status_code == 202
    out, err = served.process.communicate(timeout=20)
    assert served.process.returncode == 0, err
    assert "Restarting…" in out and out.rstrip().endswith("Stopped.")


def test_serve_shuts_down_cleanly_on_request(served: RunningQuotagate) -> None:
    assert httpx.post(f"{served.url}/api/shutdown").status_code == 202
    try:
        served.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        pytest.fail("quotagate serve did not stop after POST /api/shutdown")
    assert served.process.returncode == 0
