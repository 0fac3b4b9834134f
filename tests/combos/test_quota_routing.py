"""Quota-aware routing: a key whose quota window is used up is skipped until the window resets."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from core.gateway.quota_gate import QuotaGate, quota_key
from core.quota.model import QuotaSnapshot, QuotaWindow, secret_fingerprint
from tests.fakes.openai_upstream import FakeUpstream
from tests.fakes.server import ThreadedServer

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)
CHAT = {"model": "glm/glm-4.6", "messages": [{"role": "user", "content": "hi"}]}


def snapshot(key: str, left: float, resets_in: timedelta, stale: bool = False) -> QuotaSnapshot:
    window = QuotaWindow.from_remaining("tokens-5-hour", "Tokens · 5-hour", left, resets_at=NOW + resets_in)
    return QuotaSnapshot("zai", secret_fingerprint(key), "Z.ai", windows=(window,), fetched_at=NOW, stale=stale)


class Target:
    def __init__(self, key: str) -> None:
        self.provider, self.model, self.account_id, self.account_name = "zai", "glm-4.6", 1, key
        self.quota_key = quota_key("zai", key)


def test_a_used_up_window_skips_its_key_until_the_reset() -> None:
    gate = QuotaGate(now=lambda: NOW)
    gate.update([snapshot("key-a", 0.0, timedelta(hours=2)), snapshot("key-b", 40.0, timedelta(hours=2))])
    kept, skipped = gate.usable([Target("key-a"), Target("key-b")])
    assert [t.account_name for t in kept] == ["key-b"]
    assert skipped[0].seconds == 7200 and skipped[0].rate_limited and "5-hour quota is used up" in skipped[0].reason


def test_stale_numbers_never_keep_traffic_away() -> None:
    gate = QuotaGate(now=lambda: NOW)
    gate.update([snapshot("key-a", 0.0, timedelta(hours=2), stale=True)])
    assert len(gate.usable([Target("key-a")])[0]) == 1


def test_a_window_past_its_reset_no_longer_blocks() -> None:
    clock = [NOW]
    gate = QuotaGate(now=lambda: clock[0])
    gate.update([snapshot("key-a", 0.0, timedelta(minutes=5))])
    clock[0] = NOW + timedelta(minutes=6)
    assert len(gate.usable([Target("key-a")])[0]) == 1


class CodingPlan(FakeUpstream):
    """Z.ai as both of its APIs: chat, and the coding plan's quota of each key (used up for `sk-ok-a`)."""

    resets_in = timedelta(minutes=10)
    used = {"sk-ok-a": 100}  # % used per key; 30 for any other

    async def quota(self, request: Request) -> JSONResponse:
        key = request.headers.get("authorization", "").removeprefix("Bearer ")
        resets = int((datetime.now(timezone.utc) + self.resets_in).timestamp() * 1000)
        used = self.used.get(key, 30)
        return JSONResponse({"code": 200, "msg": "Operation successful", "success": True, "data": {"limits": [
            {"type": "TOKENS_LIMIT", "unit": 3, "number": 5, "percentage": used, "nextResetTime": resets}]}})


@pytest.fixture
def zai(monkeypatch: pytest.MonkeyPatch):
    fake = CodingPlan()
    app = Starlette(routes=[Route("/api/paas/v4/chat/completions", fake.chat, methods=["POST"]),
                            Route("/api/monitor/usage/quota/limit", fake.quota, methods=["GET"])])
    with ThreadedServer(app) as server:
        monkeypatch.setenv("QUOTAGATE_HOST_MAP", f"api.z.ai={server.url}")
        yield fake


# In the tests below `zai` comes before `services`: the quota engine maps hosts when the services start.


async def connect(services) -> None:
    services.accounts.create_account("zai", "plan-a", "sk-ok-a", priority=0)
    services.accounts.create_account("zai", "plan-b", "sk-ok", priority=1)
    await services.reload_gateway_config()
    await services.quota.refresh_now()  # the glance reads each key's quota; the gateway routes by it


async def test_the_gateway_skips_a_coding_plan_key_whose_quota_is_used_up(zai, services, client) -> None:
    await connect(services)
    response = await client.post("/v1/chat/completions", json=CHAT)
    assert response.status_code == 200 and response.headers["x-quotagate-account"] == "plan-b"
    assert [r.headers["authorization"] for r in zai.requests] == ["Bearer sk-ok"]


async def test_every_key_used_up_is_a_429_until_the_first_reset(zai, services, client) -> None:
    await connect(services)
    services.accounts.delete_account(services.accounts.accounts()[1].id)
    await services.reload_gateway_config()
    response = await client.post("/v1/chat/completions", json=CHAT)
    assert response.status_code == 429 and 500 <= int(response.headers["retry-after"]) <= 600
    assert "quota is used up" in response.json()["error"]["message"] and zai.requests == []


async def test_a_headroom_combo_starts_with_the_plan_that_has_most_quota_left(zai, services, client) -> None:
    zai.used = {"sk-ok-a": 70, "sk-ok": 20}
    await connect(services)
    await client.post("/api/combos", json={"name": "plans", "strategy": "headroom",
                                           "models": ["glm/glm-4.6"]})
    response = await client.post("/v1/chat/completions", json={**CHAT, "model": "plans"})
    assert response.headers["x-quotagate-account"] == "plan-a"  # one target, accounts in priority order
    accounts = services.accounts.accounts()
    await client.put("/api/combos/1", json={"models": [
        {"kind": "model", "provider": "glm", "model": "glm-4.6", "connectionId": accounts[0].id},
        {"kind": "model", "provider": "glm", "model": "glm-4.6", "connectionId": accounts[1].id}]})
    response = await client.post("/v1/chat/completions", json={**CHAT, "model": "plans"})
    assert response.headers["x-quotagate-account"] == "plan-b"  # 80 % left beats 30 % left

