"""Cooldowns, account marks and breakers: a failing target is remembered and skipped, and the client is told
when to come back."""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import formatdate

from core.gateway.resilience import BREAKER_OPEN_S, BREAKER_THRESHOLD, Resilience

CHAT = {"model": "openai/gpt-4.1", "messages": [{"role": "user", "content": "hi"}]}


@dataclass(frozen=True)
class Target:
    provider: str = "openai"
    model: str = "gpt-4.1"
    account_id: int | None = 1
    account_name: str = "work"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def resilience() -> tuple[Resilience, Clock]:
    clock = Clock()
    return Resilience(now=clock, wall=lambda: 1_700_000_000.0), clock


def test_a_429_cools_that_model_of_that_account_for_its_retry_after() -> None:
    state, clock = resilience()
    assert state.failed(Target(), 429, "7") == 7
    kept, skipped = state.usable([Target(), Target(model="gpt-4.1-mini")])
    assert kept == [Target(model="gpt-4.1-mini")]
    assert skipped[0].rate_limited and skipped[0].seconds == 7
    clock.now += 7.1
    assert state.usable([Target()])[0] == [Target()]


def test_retry_after_may_be_an_http_date() -> None:
    state, _ = resilience()
    assert state.failed(Target(), 429, formatdate(1_700_000_000 + 42, usegmt=True)) == 42


def test_without_a_hint_repeated_failures_back_off_exponentially_until_one_succeeds() -> None:
    state, clock = resilience()
    waits = []
    for _ in range(4):
        waits.append(state.failed(Target(), 503))
        clock.now += 1000
    assert waits == [5, 10, 20, 40]
    state.succeeded(Target())
    assert state.failed(Target(), 503) == 5


def test_a_rejected_key_marks_the_whole_account_until_the_configuration_changes() -> None:
    state, clock = resilience()
    state.failed(Target(), 401)
    clock.now += 10_000
    kept, skipped = state.usable([Target(), Target(model="other"), Target(account_id=2)])
    assert kept == [Target(account_id=2)] and skipped[0].seconds is None and "401" in skipped[0].reason
    state.forget_marks()
    assert len(state.usable([Target()])[0]) == 1


def test_a_breaker_opens_after_repeated_server_errors_and_lets_one_probe_through_later() -> None:
    state, clock = resilience()
    for account in range(BREAKER_THRESHOLD):  # different accounts: the provider, not one key, is failing
        state.failed(Target(account_id=account), 500)
    fresh = Target(account_id=99)
    kept, skipped = state.usable([fresh])
    assert kept == [] and "circuit open" in skipped[0].reason
    clock.now += BREAKER_OPEN_S + 0.1
    assert state.usable([fresh, Target(account_id=98)])[0] == [fresh]  # one probe at a time
    state.succeeded(fresh)
    assert len(state.usable([Target(account_id=98), Target(account_id=97)])[0]) == 2


def test_a_failed_probe_opens_the_breaker_again_for_longer() -> None:
    state, clock = resilience()
    for account in range(BREAKER_THRESHOLD):
        state.failed(Target(account_id=account), 502)
    clock.now += BREAKER_OPEN_S + 0.1
    probe = Target(account_id=50)
    assert state.usable([probe])[0] == [probe]
    state.failed(probe, 502)
    clock.now += BREAKER_OPEN_S + 0.1
    assert state.usable([Target(account_id=51)])[0] == []  # doubled: still open
    assert state.state()["breakers"][0]["state"] == "open"


# --- through the gateway --------------------------------------------------------------------------------


async def add_accounts(services, *keys: str) -> None:
    for priority, key in enumerate(keys):
        services.accounts.create_account("openai", f"account-{priority}", key, priority=priority)
    await services.reload_gateway_config()


async def test_a_cooled_account_is_skipped_without_a_request(services, client, upstream, openai_via_fake) -> None:
    await add_accounts(services, "sk-status-429", "sk-ok")
    for _ in range(3):
        assert (await client.post("/v1/chat/completions", json=CHAT)).status_code == 200
    keys = [r.headers["authorization"] for r in upstream.requests]
    assert keys == ["Bearer sk-status-429", "Bearer sk-ok", "Bearer sk-ok", "Bearer sk-ok"]


async def test_when_every_account_is_rate_limited_the_client_gets_429_and_when_to_retry(
        services, client, upstream, openai_via_fake) -> None:
    await add_accounts(services, "sk-status-429", "sk-status-429")
    first = await client.post("/v1/chat/completions", json=CHAT)
    assert first.status_code == 429 and int(first.headers["retry-after"]) >= 1
    assert "account-0: HTTP 429" in first.json()["error"]["message"]
    second = await client.post("/v1/messages", json={**CHAT, "max_tokens": 10})
    assert second.status_code == 429 and second.json()["error"]["type"] == "rate_limit_error"
    assert "rate-limited" in second.json()["error"]["message"] and len(upstream.requests) == 2


async def test_the_resilience_state_is_shown_and_can_be_reset(services, client, upstream, openai_via_fake) -> None:
    await add_accounts(services, "sk-status-503")
    await client.post("/v1/chat/completions", json=CHAT)
    state = (await client.get("/api/resilience")).json()
    assert state["cooldowns"][0]["model"] == "gpt-4.1" and "503" in state["cooldowns"][0]["reason"]
    skipped = await client.post("/v1/chat/completions", json=CHAT)
    assert skipped.status_code == 503 and len(upstream.requests) == 1
    assert (await client.post("/api/resilience/reset")).json()["cooldowns"] == []
    await client.post("/v1/chat/completions", json=CHAT)
    assert len(upstream.requests) == 2


async def test_a_rejected_key_is_not_tried_again_until_it_changes(services, client, upstream,
                                                                   openai_via_fake) -> None:
    await add_accounts(services, "sk-status-401", "sk-ok")
    for _ in range(2):
        assert (await client.post("/v1/chat/completions", json=CHAT)).status_code == 200
    assert [r.headers["authorization"] for r in upstream.requests] == [
        "Bearer sk-status-401", "Bearer sk-ok", "Bearer sk-ok"]
    marks = (await client.get("/api/resilience")).json()["marks"]
    assert marks[0]["account"] == "account-0" and "401" in marks[0]["reason"]


# --- every attempt in the request log ---------------------------------------------------------------------


async def logged(services, client) -> list[dict]:
    services.store.writer.flush()
    return (await client.get("/api/usage/logs")).json()["items"]


async def test_the_request_log_row_lists_each_attempt_with_its_reason(services, client, upstream,
                                                                        openai_via_fake) -> None:
    await add_accounts(services, "sk-status-503", "sk-ok")
    limited, ok = (account.id for account in services.accounts.accounts())
    await client.post("/api/combos", json={"name": "coding", "models": [
        {"kind": "model", "provider": "openai", "model": "gpt-4.1", "connectionId": limited},
        {"kind": "model", "provider": "openai", "model": "gpt-4.1-mini", "connectionId": ok}]})
    assert (await client.post("/v1/chat/completions", json={**CHAT, "model": "coding"})).status_code == 200
    [row] = await logged(services, client)
    assert (row["status"], row["model"]) == (200, "gpt-4.1-mini")
    failed, answered = row["attempts"]
    assert (failed["model"], failed["account"], failed["status"], failed["error"]) == (
        "gpt-4.1", "account-0", 503, "HTTP 503") and failed["ms"] >= 0
    assert (answered["model"], answered["account"], answered["status"]) == ("gpt-4.1-mini", "account-1", 200)
    # the next request skips the cooling target without a request; the log says so
    assert (await client.post("/v1/chat/completions", json={**CHAT, "model": "coding"})).status_code == 200
    newest = (await logged(services, client))[0]
    skipped, answered = newest["attempts"]
    assert skipped["model"] == "gpt-4.1" and "503" in skipped["skipped"] and skipped["seconds"] > 0
    assert answered["status"] == 200 and len(upstream.requests) == 3


async def test_a_request_answered_by_its_only_attempt_logs_no_attempt_list(services, client, upstream,
                                                                            openai_via_fake) -> None:
    await add_accounts(services, "sk-ok")
    assert (await client.post("/v1/chat/completions", json={**CHAT, "model": "openai/gpt-4.1"})).status_code == 200
    [row] = await logged(services, client)
    assert row["attempts"] is None and row["provider"] == "openai" and row["status"] == 200


async def test_when_every_attempt_fails_the_row_lists_each_failure_once(services, client, upstream,
                                                                         openai_via_fake) -> None:
    await add_accounts(services, "sk-status-500", "sk-status-502")
    response = await client.post("/v1/chat/completions", json={**CHAT, "model": "openai/gpt-4.1"})
    assert response.status_code == 502
    [row] = await logged(services, client)
    assert [(a["account"], a["status"]) for a in row["attempts"]] == [("account-0", 500), ("account-1", 502)]
