"""`/api/usage/budget`: the reference's budgets are the client keys' daily and monthly USD limits (one store:
`api_key.limits`), with spent, remaining and reset time per key; a key over its budget gets a 429 naming the
budget and when it resets, and is served again once it has."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from core import settings
from core.gateway import client_keys
from core.gateway.key_limits import KeyLimiter, day_start
from tests.reference_api.conftest import chat

# 18 tokens a request at $100,000 per 1M tokens: every fake answer costs $1.80.
EXPENSIVE = {"openai/gpt-4.1": {"input": 100000, "output": 100000, "cached_input": 100000}}


class Clock:
    def __init__(self) -> None:
        self.now = day_start(time.time()) + 12 * 3600  # noon today, local time

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def clock(services) -> Clock:
    """The key limiter on a clock the test moves, as the key-limits tests do."""
    clock = Clock()
    limiter = KeyLimiter(now=clock)
    limiter.use(services.runtime.config.key_limits, services.runtime.config.key_spend)
    services.runtime.limiter = limiter
    services.runtime.usage.spent = limiter.spend
    return clock


async def test_a_budget_set_here_is_the_keys_limit_in_the_api_keys_window(client, services) -> None:
    key = await services.configuration.create_key("Cursor", {"models": ["openai/*"], "rpm": 30})
    response = await client.post("/api/usage/budget", json={"keyId": key.id, "limit": 50, "period": "monthly"})
    assert response.status_code == 200, response.text
    budget = response.json()["budget"]
    assert budget["keyId"] == key.id and budget["name"] == "Cursor"
    assert budget["monthly"]["limit"] == 50 and budget["monthly"]["spent"] == 0
    assert budget["monthly"]["remaining"] == 50 and budget["daily"]["limit"] is None
    # One store: the key's own limits changed, the others kept.
    assert client_keys.list_keys()[0]["limits"] == {"models": ["openai/*"], "rpm": 30, "dailyUsd": None,
                                                    "monthlyUsd": 50.0}
    removed = await client.post("/api/usage/budget", json={"keyId": key.id, "limit": None, "period": "monthly"})
    assert removed.json()["budget"]["monthly"]["limit"] is None
    assert client_keys.list_keys()[0]["limits"]["monthlyUsd"] is None


@pytest.mark.parametrize("body, status, words", [
    ({"keyId": 1, "limit": 5, "period": "weekly"}, 400, "`period`"),
    ({"keyId": 1, "limit": -5, "period": "daily"}, 400, "`limit`"),
    ({"keyId": 1, "limit": "5", "period": "daily"}, 400, "`limit`"),
    ({"keyId": 99, "limit": 5, "period": "daily"}, 404, "No active API key with id 99"),
    ({"keyId": "first", "limit": 5, "period": "daily"}, 400, "`keyId`"),
    ({"keyId": 1, "limit": 5, "period": "daily", "currency": "EUR"}, 400, "currency"),
])
async def test_a_bad_budget_is_refused_in_words_and_nothing_changes(client, services, body, status, words) -> None:
    await services.configuration.create_key("Cursor")
    response = await client.post("/api/usage/budget", json=body)
    assert response.status_code == status and words in response.json()["error"]
    assert client_keys.list_keys()[0]["limits"]["dailyUsd"] is None


async def test_a_key_is_stopped_at_its_budget_and_served_again_when_it_resets(client, services, openai_via_fake,
                                                                              clock) -> None:
    await openai_via_fake(services, "sk-ok")
    await services.configuration.update_settings({settings.KEY_PRICE_OVERRIDES: EXPENSIVE})
    key = await services.configuration.create_key("Cursor")
    await client.post("/api/usage/budget", json={"keyId": key.id, "limit": 3, "period": "daily"})
    url = services.gateway_state.url
    assert (await chat(url, key.key)).status_code == 200  # $1.80 spent
    assert (await chat(url, key.key)).status_code == 200  # $3.60: over, but it was under when sent
    refused = await chat(url, key.key)
    assert refused.status_code == 429
    midnight = day_start(clock.now) + 86400
    message = refused.json()["error"]["message"]
    assert message == (f"This API key's daily budget of $3.00 is spent ($3.60); it resets at "
                       f"{dt.datetime.fromtimestamp(midnight).strftime('%Y-%m-%d %H:%M')}.")
    assert refused.headers["retry-after"] == str(12 * 3600)

    [status] = (await client.get("/api/usage/budget")).json()["budgets"]
    assert status["daily"] == {"limit": 3.0, "spent": 3.6, "remaining": 0.0, "exceeded": True,
                               "resetsAt": midnight}

    clock.now = midnight + 1  # a new day: the budget starts again
    assert (await chat(url, key.key)).status_code == 200
    [status] = (await client.get("/api/usage/budget")).json()["budgets"]
    assert status["daily"]["spent"] == 1.8 and status["daily"]["exceeded"] is False


async def test_other_keys_are_not_stopped_by_one_keys_budget(client, services, openai_via_fake, clock) -> None:
    await openai_via_fake(services, "sk-ok")
    await services.configuration.update_settings({settings.KEY_PRICE_OVERRIDES: EXPENSIVE})
    capped = await services.configuration.create_key("capped")
    free = await services.configuration.create_key("free")
    await client.post("/api/usage/budget", json={"keyId": capped.id, "limit": 1, "period": "monthly"})
    url = services.gateway_state.url
    assert (await chat(url, capped.key)).status_code == 200
    assert (await chat(url, capped.key)).status_code == 429
    assert (await chat(url, free.key)).status_code == 200
