"""The management login's limit on wrong passwords: every attempt is counted before its password is
checked (parallel guesses cannot slip past it), per client address, and it locks out whoever guesses —
another address, and every session already issued, keep working."""

from __future__ import annotations

import asyncio

from core.gateway.management.auth import FAILURE_WINDOW_SECONDS, MAX_FAILURES, LoginThrottle
from tests.gateway.test_management_auth import PASSWORD, bearer, require_login


async def test_parallel_wrong_guesses_get_no_more_than_the_limit_checked(client) -> None:
    await require_login(client)
    guesses = await asyncio.gather(*(client.post("/api/auth/login", json={"password": f"guess-{i}"})
                                     for i in range(60)))
    statuses = [r.status_code for r in guesses]
    assert statuses.count(401) == MAX_FAILURES  # only these reached the password check
    assert statuses.count(429) == 60 - MAX_FAILURES
    assert all(r.headers.get("retry-after") for r in guesses if r.status_code == 429)


async def test_a_locked_out_guesser_does_not_end_the_users_session(client) -> None:
    token = await require_login(client)
    for i in range(MAX_FAILURES + 3):
        await client.post("/api/auth/login", json={"password": f"guess-{i}"})
    assert (await client.get("/api/providers", headers=bearer(token))).status_code == 200


def test_the_lockout_is_per_address() -> None:
    throttle = LoginThrottle()
    for _ in range(MAX_FAILURES):
        assert throttle.attempt("203.0.113.9") is None
    assert throttle.attempt("203.0.113.9") is not None  # the guesser waits
    assert throttle.attempt("192.0.2.1") is None  # the user elsewhere does not


def test_a_right_password_does_not_count_as_a_failure() -> None:
    throttle = LoginThrottle()
    for _ in range(MAX_FAILURES * 2):
        assert throttle.attempt("192.0.2.1") is None
        throttle.succeeded("192.0.2.1")


def test_the_wait_is_at_most_the_window() -> None:
    throttle = LoginThrottle()
    for _ in range(MAX_FAILURES):
        throttle.attempt("203.0.113.9")
    assert 1 <= throttle.attempt("203.0.113.9") <= FAILURE_WINDOW_SECONDS


def test_a_flood_of_addresses_cannot_grow_the_memory_without_bound() -> None:
    throttle = LoginThrottle(max_addresses=100)
    for i in range(1000):
        throttle.attempt(f"10.0.{i // 256}.{i % 256}")
    assert len(throttle._failures) <= 100


async def test_the_right_password_still_logs_in_after_wrong_ones(client) -> None:
    await require_login(client)
    for i in range(MAX_FAILURES - 1):
        assert (await client.post("/api/auth/login", json={"password": f"guess-{i}"})).status_code == 401
    assert (await client.post("/api/auth/login", json={"password": PASSWORD})).status_code == 200
