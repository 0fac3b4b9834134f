"""Limits per client key: allowed models, requests per minute, daily and monthly budgets."""

from __future__ import annotations

import time

import pytest

from core import settings
from core.gateway.errors import GatewayError
from core.gateway.key_limits import KeyLimiter, KeyLimits, day_start, parse_limits
from core.settings import ConfigError

CHAT = {"model": "openai/gpt-4.1", "messages": [{"role": "user", "content": "hi"}]}


class Clock:
    def __init__(self) -> None:
        self.now = day_start(time.time()) + 12 * 3600  # noon today, local time

    def __call__(self) -> float:
        return self.now


def limiter(**limits) -> tuple[KeyLimiter, Clock]:
    clock = Clock()
    checker = KeyLimiter(now=clock)
    checker.use({7: parse_limits(limits)})
    return checker, clock


def refused(checker: KeyLimiter, model: str = "openai/gpt-4.1") -> GatewayError:
    with pytest.raises(GatewayError) as raised:
        checker.check(7, model)
    return raised.value


def test_a_key_may_use_only_the_models_its_patterns_allow() -> None:
    checker, _ = limiter(models=["coding", "openai/*"])
    checker.check(7, "openai/gpt-4.1")
    checker.check(7, "coding")
    error = refused(checker, "anthropic/claude-x")
    assert error.status == 403 and "coding, openai/*" in error.message


def test_requests_per_minute_are_counted_over_the_last_minute() -> None:
    checker, clock = limiter(rpm=2)
    checker.check(7, "m")
    clock.now += 20
    checker.check(7, "m")
    error = refused(checker)
    assert error.status == 429 and error.headers == {"retry-after": "40"}
    clock.now += 41
    checker.check(7, "m")


def test_a_spent_daily_budget_refuses_until_midnight() -> None:
    checker, clock = limiter(dailyUsd=1.0)
    checker.spend(7, 0.6)
    checker.check(7, "m")
    checker.spend(7, 0.5)
    error = refused(checker)
    assert error.status == 429 and "daily budget of $1.00 is spent ($1.10)" in error.message
    assert error.headers == {"retry-after": str(12 * 3600)}
    clock.now += 12 * 3600 + 1  # a new day
    checker.check(7, "m")


def test_the_monthly_budget_counts_every_day_of_the_month() -> None:
    checker, clock = limiter(monthlyUsd=2.0)
    checker.spend(7, 1.5)
    clock.now += 1 if time.localtime(clock.now + 86400).tm_mday == 1 else 86400  # stay inside the month
    checker.spend(7, 0.6)
    assert "monthly budget" in refused(checker).message


def test_keys_without_limits_and_other_keys_are_never_checked() -> None:
    checker, _ = limiter(rpm=1)
    for _ in range(5):
        checker.check(None, "m")
        checker.check(8, "m")


@pytest.mark.parametrize("limits,field", [({"rpm": 0}, "rpm"), ({"dailyUsd": -1}, "dailyUsd"),
                                          ({"monthlyUsd": float("inf")}, "monthlyUsd"), ({"models": "all"}, "models"),
                                          ({"perHour": 3}, "limits")])
def test_bad_limits_are_refused_naming_the_field(limits, field) -> None:
    with pytest.raises(ConfigError, match=field):
        parse_limits(limits)


def test_no_limits_is_empty() -> None:
    assert parse_limits({}) == KeyLimits() and KeyLimits().empty


# --- through the gateway --------------------------------------------------------------------------------


async def key_with(client, limits) -> tuple[int, dict[str, str]]:
    created = (await client.post("/api/keys", json={"name": "team", "limits": limits})).json()
    return created["id"], {"Authorization": f"Bearer {created['key']}"}


async def test_the_api_sets_and_shows_a_keys_limits(services, client) -> None:
    key_id, _ = await key_with(client, {"rpm": 30})
    changed = await client.put(f"/api/keys/{key_id}", json={"limits": {"models": ["coding"], "dailyUsd": 5}})
    assert changed.json()["key"]["limits"] == {"models": ["coding"], "rpm": None, "dailyUsd": 5.0, "monthlyUsd": None}
    bad = await client.put(f"/api/keys/{key_id}", json={"limits": {"rpm": -3}})
    assert bad.status_code == 400 and "rpm" in bad.json()["error"]


async def test_a_key_over_its_rate_gets_429_before_any_provider_call(services, client, upstream,
                                                                     openai_via_fake) -> None:
    await openai_via_fake(services, "sk-ok")
    _, headers = await key_with(client, {"rpm": 2})
    statuses = [(await client.post("/v1/chat/completions", json=CHAT, headers=headers)).status_code
                for _ in range(3)]
    assert statuses == [200, 200, 429] and len(upstream.requests) == 2
    other = await client.post("/v1/chat/completions", json=CHAT)  # no key on loopback: not limited
    assert other.status_code == 200


async def test_a_key_limited_to_some_models_is_refused_others(services, client, upstream, openai_via_fake) -> None:
    await openai_via_fake(services, "sk-ok")
    _, headers = await key_with(client, {"models": ["openai/gpt-4.1-mini"]})
    response = await client.post("/v1/messages", json={**CHAT, "max_tokens": 10}, headers=headers)
    assert response.status_code == 403 and response.json()["error"]["type"] == "permission_error"


async def test_a_spent_budget_refuses_the_next_request(services, client, upstream, openai_via_fake) -> None:
    services.store.set_setting(settings.KEY_REQUIRE_API_KEY, True)
    await openai_via_fake(services, "sk-ok")
    _, headers = await key_with(client, {"dailyUsd": 0.00001})  # one small gpt-4.1 answer costs more
    assert (await client.post("/v1/chat/completions", json=CHAT, headers=headers)).status_code == 200
    response = await client.post("/v1/chat/completions", json=CHAT, headers=headers)
    assert response.status_code == 429 and response.json()["error"]["code"] == "budget_exceeded"
    assert int(response.headers["retry-after"]) > 0


async def test_spend_survives_a_reload_through_the_daily_rollups(services, client, upstream,
                                                                 openai_via_fake) -> None:
    await openai_via_fake(services, "sk-ok")
    _, headers = await key_with(client, {"dailyUsd": 0.00001})
    assert (await client.post("/v1/chat/completions", json=CHAT, headers=headers)).status_code == 200
    services.store.writer.flush()
    await services.reload_gateway_config()  # what a restart reads: the spend comes back from the rollups
    response = await client.post("/v1/chat/completions", json=CHAT, headers=headers)
    assert response.status_code == 429 and len(upstream.requests) == 1
