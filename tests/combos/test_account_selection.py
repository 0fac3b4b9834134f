"""Several accounts of one provider behind one target take turns by the account selection (fill-first,
round-robin, least-used, headroom); a combo's quota threshold keeps accounts with little left in reserve; a
weighted combo spreads requests by its weights through the real gateway."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

import pytest

from core.gateway.strategies import RoutingStats, order_accounts
from tests.combos.test_combos_api import CHAT, add_accounts
from tests.combos.test_quota_routing import connect, zai  # noqa: F401  (fixture)


@dataclass(frozen=True)
class Account:
    account_name: str
    account_id: int
    quota_key: str | None
    provider: str = "zai"
    model: str = "glm-4.6"


DIRECT = {**CHAT, "model": "openai/gpt-4.1"}
ACCOUNTS = (Account("a", 1, "q/a"), Account("b", 2, "q/b"), Account("c", 3, None))


def names(attempts) -> list[str]:
    return [a.account_name for a in attempts]


def no_quota(key: str | None) -> None:
    return None


def test_fill_first_keeps_the_priority_order() -> None:
    stats = RoutingStats()
    assert [names(order_accounts("fill-first", ACCOUNTS, stats, no_quota)) for _ in range(3)] == [["a", "b", "c"]] * 3


def test_round_robin_starts_each_request_with_the_next_account() -> None:
    stats = RoutingStats()
    firsts = [names(order_accounts("round-robin", ACCOUNTS, stats, no_quota)) for _ in range(4)]
    assert firsts == [["a", "b", "c"], ["b", "c", "a"], ["c", "a", "b"], ["a", "b", "c"]]


def test_least_used_starts_with_the_account_that_served_fewest_requests() -> None:
    stats = RoutingStats()
    for _ in range(3):
        stats.record(ACCOUNTS[0], True, 10.0)
    stats.record(ACCOUNTS[2], True, 10.0)
    assert names(order_accounts("least-used", ACCOUNTS, stats, no_quota)) == ["b", "c", "a"]


def test_headroom_starts_with_most_quota_left_and_puts_unknown_last() -> None:
    left = {"q/a": (12.0, 3600.0), "q/b": (80.0, 600.0)}
    ordered = order_accounts("headroom", ACCOUNTS, RoutingStats(), lambda key: left.get(key))
    assert names(ordered) == ["b", "a", "c"]


def test_an_unknown_selection_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        order_accounts("loudest", ACCOUNTS, RoutingStats(), no_quota)


# --- through the gateway --------------------------------------------------------------------------------


async def test_direct_requests_take_turns_over_accounts_when_the_setting_says_round_robin(
        services, client, upstream, openai_via_fake) -> None:
    await add_accounts(services, "sk-ok-1", "sk-ok-2")
    response = await client.put("/api/settings", json={"accountSelection": "round-robin"})
    assert response.status_code == 200 and response.json()["accountSelection"] == "round-robin"
    served = [(await client.post("/v1/chat/completions", json=DIRECT)).headers["x-quotagate-account"]
              for _ in range(4)]
    assert served == ["account-0", "account-1", "account-0", "account-1"]


async def test_fill_first_is_the_default_and_stays_on_the_first_account(
        services, client, upstream, openai_via_fake) -> None:
    await add_accounts(services, "sk-ok-1", "sk-ok-2")
    assert (await client.get("/api/settings")).json()["accountSelection"] == "fill-first"
    served = {(await client.post("/v1/chat/completions", json=DIRECT)).headers["x-quotagate-account"]
              for _ in range(3)}
    assert served == {"account-0"}


async def test_a_combos_own_account_selection_wins_over_the_gateway_default(
        services, client, upstream, openai_via_fake) -> None:
    await add_accounts(services, "sk-ok-1", "sk-ok-2")
    created = await client.post("/api/combos", json={"name": "pool", "models": ["openai/gpt-4.1"],
                                                     "accountSelection": "round-robin"})
    assert created.status_code == 201, created.text
    assert created.json()["combo"]["accountSelection"] == "round-robin" and created.json()["combo"]["quotaThreshold"] == 0
    served = [(await client.post("/v1/chat/completions", json={**CHAT, "model": "pool"})).headers[
        "x-quotagate-account"] for _ in range(4)]
    assert served == ["account-0", "account-1", "account-0", "account-1"]
    direct = {(await client.post("/v1/chat/completions", json=DIRECT)).headers["x-quotagate-account"]
              for _ in range(2)}
    assert direct == {"account-0"}  # outside the combo the default (fill-first) still applies


@pytest.mark.parametrize(("body", "words"), [
    ({"accountSelection": "loudest"}, "accountSelection"),
    ({"quotaThreshold": 150}, "quotaThreshold"),
    ({"quotaThreshold": "half"}, "quotaThreshold"),
    ({"quotaThreshold": True}, "quotaThreshold"),
])
async def test_bad_combo_options_are_refused_saying_what_to_fix(services, client, body, words) -> None:
    response = await client.post("/api/combos", json={"name": "x", "models": ["openai/gpt-4.1"], **body})
    assert response.status_code == 400 and words in response.json()["error"]
    assert (await client.get("/api/combos")).json()["total"] == 0


async def test_a_bad_account_selection_setting_is_refused(services, client) -> None:
    response = await client.put("/api/settings", json={"accountSelection": "everyone"})
    assert response.status_code == 400
    assert (await client.get("/api/settings")).json()["accountSelection"] == "fill-first"


async def test_combo_options_survive_an_update_that_does_not_name_them(services, client) -> None:
    await client.post("/api/combos", json={"name": "pool", "models": ["openai/gpt-4.1"],
                                           "accountSelection": "headroom", "quotaThreshold": 25})
    await client.put("/api/combos/1", json={"strategy": "round-robin"})
    combo = (await client.get("/api/combos/1")).json()["combo"]
    assert (combo["strategy"], combo["accountSelection"], combo["quotaThreshold"]) == ("round-robin", "headroom", 25)


# --- a combo's quota threshold --------------------------------------------------------------------------


async def test_a_combo_threshold_skips_a_plan_below_it_until_its_reset(zai, services, client) -> None:
    zai.used = {"sk-ok-a": 75, "sk-ok": 20}  # plan-a has 25 % left, plan-b 80 %
    await connect(services)
    await client.post("/api/combos", json={"name": "careful", "models": ["glm/glm-4.6"], "quotaThreshold": 30})
    response = await client.post("/v1/chat/completions", json={**CHAT, "model": "careful"})
    assert response.status_code == 200 and response.headers["x-quotagate-account"] == "plan-b"
    assert [r.headers["authorization"] for r in zai.requests] == ["Bearer sk-ok"]
    # the same plan is used directly (no combo, no threshold)
    direct = await client.post("/v1/chat/completions", json={**CHAT, "model": "glm/glm-4.6"})
    assert direct.headers["x-quotagate-account"] == "plan-a"


async def test_every_plan_below_the_threshold_is_a_429_naming_the_reserve(zai, services, client) -> None:
    zai.used = {"sk-ok-a": 75, "sk-ok": 90}
    zai.resets_in = timedelta(minutes=20)
    await connect(services)
    await client.post("/api/combos", json={"name": "careful", "models": ["glm/glm-4.6"], "quotaThreshold": 30})
    response = await client.post("/v1/chat/completions", json={**CHAT, "model": "careful"})
    assert response.status_code == 429 and 1100 <= int(response.headers["retry-after"]) <= 1200
    message = response.json()["error"]["message"]
    assert "keeps 30% in reserve" in message and "25% of its quota" in message and zai.requests == []


# --- weighted distribution through the gateway ------------------------------------------------------------


async def test_a_weighted_combo_sends_requests_in_proportion_to_its_weights(
        services, client, upstream, openai_via_fake) -> None:
    await add_accounts(services, "sk-ok")
    await client.post("/api/combos", json={"name": "mix", "strategy": "weighted", "models": [
        {"kind": "model", "provider": "openai", "model": "gpt-4.1", "weight": 3},
        {"kind": "model", "provider": "openai", "model": "gpt-4.1-mini", "weight": 1}]})
    for _ in range(1000):
        assert (await client.post("/v1/chat/completions", json={**CHAT, "model": "mix"})).status_code == 200
    counts = Counter(r.body["model"] for r in upstream.requests)
    assert sum(counts.values()) == 1000  # every request answered by its first choice: no fallback needed
    assert 0.70 <= counts["gpt-4.1"] / 1000 <= 0.80  # 3:1 → 75 %; 1,000 draws put it within ±5 % (>6σ)
