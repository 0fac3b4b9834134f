"""Each strategy orders a combo's candidates as its name promises (pure functions over candidates)."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass

import pytest

from core.gateway.strategies import ORDERS, Candidate, RoutingStats, order


@dataclass(frozen=True)
class Attempt:
    provider: str
    model: str
    account_id: int | None = 1


def candidates(*names: str, weights: tuple[float, ...] = (), prices: tuple[float | None, ...] = ()) -> list[Candidate]:
    return [Candidate(i, weights[i] if weights else 1.0, (Attempt("p", name),), prices[i] if prices else None)
            for i, name in enumerate(names)]


def first_names(listed: list[Candidate]) -> list[str]:
    return [c.attempts[0].model for c in listed]


def test_priority_keeps_the_listed_order() -> None:
    assert first_names(order("priority", "c", candidates("a", "b", "c"), RoutingStats(), random.Random(1))) == \
        ["a", "b", "c"]


def test_round_robin_starts_one_further_each_request() -> None:
    stats, rng = RoutingStats(), random.Random(1)
    firsts = [first_names(order("round-robin", "c", candidates("a", "b", "c"), stats, rng))[0] for _ in range(6)]
    assert firsts == ["a", "b", "c", "a", "b", "c"]


def test_round_robin_counts_each_combo_separately() -> None:
    stats, rng = RoutingStats(), random.Random(1)
    order("round-robin", "one", candidates("a", "b"), stats, rng)
    assert first_names(order("round-robin", "two", candidates("a", "b"), stats, rng))[0] == "a"


def test_weighted_puts_targets_first_in_proportion_to_their_weights() -> None:
    stats, rng = RoutingStats(), random.Random(7)
    firsts = Counter(first_names(order("weighted", "c", candidates("a", "b", "c", weights=(6, 3, 1)), stats, rng))[0]
                     for _ in range(1000))
    assert 540 <= firsts["a"] <= 660 and 240 <= firsts["b"] <= 360 and 60 <= firsts["c"] <= 140


def test_weighted_keeps_every_target_as_a_fallback() -> None:
    listed = order("weighted", "c", candidates("a", "b", "c", weights=(5, 1, 1)), RoutingStats(), random.Random(3))
    assert sorted(first_names(listed)) == ["a", "b", "c"]


def test_random_spreads_the_first_place_evenly() -> None:
    stats, rng = RoutingStats(), random.Random(11)
    firsts = Counter(first_names(order("random", "c", candidates("a", "b"), stats, rng))[0] for _ in range(1000))
    assert 430 <= firsts["a"] <= 570


def test_least_used_tries_the_target_with_fewest_requests_first() -> None:
    stats = RoutingStats()
    for _ in range(3):
        stats.record(Attempt("p", "a"), True, 10)
    stats.record(Attempt("p", "b"), True, 10)
    assert first_names(order("least-used", "c", candidates("a", "b", "c"), stats, random.Random(1))) == \
        ["c", "b", "a"]


def test_cost_optimized_goes_cheapest_first_and_unknown_prices_last() -> None:
    listed = order("cost-optimized", "c", candidates("dear", "unknown", "cheap", prices=(20.0, None, 0.5)),
                   RoutingStats(), random.Random(1))
    assert first_names(listed) == ["cheap", "dear", "unknown"]


def test_p2c_prefers_the_faster_of_two_targets() -> None:
    stats = RoutingStats()
    stats.record(Attempt("p", "slow"), True, 900)
    stats.record(Attempt("p", "fast"), True, 20)
    listed = order("p2c", "c", candidates("slow", "fast"), stats, random.Random(5))
    assert first_names(listed) == ["fast", "slow"]


def test_p2c_counts_recent_errors_against_a_fast_target() -> None:
    stats = RoutingStats()
    stats.record(Attempt("p", "flaky"), True, 20)
    for _ in range(5):
        stats.record(Attempt("p", "flaky"), False, 20)
    stats.record(Attempt("p", "steady"), True, 100)
    assert first_names(order("p2c", "c", candidates("flaky", "steady"), stats, random.Random(5)))[0] == "steady"


def test_last_known_good_goes_first_until_another_answers() -> None:
    stats, rng = RoutingStats(), random.Random(1)
    assert first_names(order("lkgp", "c", candidates("a", "b"), stats, rng)) == ["a", "b"]
    stats.record(Attempt("p", "b"), True, 30, combo="c")
    assert first_names(order("lkgp", "c", candidates("a", "b"), stats, rng)) == ["b", "a"]


@pytest.mark.parametrize("strategy", sorted(ORDERS))
def test_every_strategy_keeps_every_target_exactly_once(strategy: str) -> None:
    listed = order(strategy, "c", candidates("a", "b", "c", "d"), RoutingStats(), random.Random(2))
    assert sorted(first_names(listed)) == ["a", "b", "c", "d"]


def with_quota(name: str, position: int, left: float | None, resets_in: float | None) -> Candidate:
    return Candidate(position, 1.0, (Attempt("p", name),), None, left, resets_in)


def test_headroom_spends_the_fullest_quota_first_and_unknown_quota_last() -> None:
    listed = [with_quota("payg", 0, None, None), with_quota("low", 1, 12.0, 3600), with_quota("full", 2, 90.0, 60)]
    assert first_names(order("headroom", "c", listed, RoutingStats(), random.Random(1))) == ["full", "low", "payg"]


def test_reset_aware_spends_the_window_that_resets_soonest_while_it_has_quota() -> None:
    listed = [with_quota("payg", 0, None, None), with_quota("later", 1, 80.0, 7200),
              with_quota("soon", 2, 30.0, 600), with_quota("soon-but-empty", 3, 1.0, 60)]
    assert first_names(order("reset-aware", "c", listed, RoutingStats(), random.Random(1))) == \
        ["soon", "later", "payg", "soon-but-empty"]
