"""Usage read back for the dashboard and /api/usage/*: buckets, totals, and the filtered log."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.gateway import usage_queries
from core.store import Store
from core.store.models import UsageRow

BASE = 1_699_920_000.0  # a UTC midnight (2023-11-14)


@pytest.fixture
def store(tmp_path: Path, utc: None):
    opened = Store.open(tmp_path)
    rows = [
        (BASE + 10, "openai", "gpt-4.1", 200, 100, 50, 0.01, 120.0),
        (BASE + 20, "openai", "gpt-4.1", 200, 10, 5, 0.001, 80.0),
        (BASE + 3600 + 5, "deepseek", "deepseek-chat", 502, 0, 0, 0.0, 3000.0),
        (BASE + 7200 + 5, "openai", "gpt-4.1-mini", 200, 40, 20, 0.002, 700.0),
    ]
    for ts, provider, model, status, tin, tout, cost, latency in rows:
        opened.writer.submit(UsageRow, {"ts": ts, "provider": provider, "model": model, "status": status,
                                        "tokens_in": tin, "tokens_out": tout, "cost": cost, "latency_ms": latency})
    assert opened.writer.flush()
    yield opened
    opened.close()


def test_history_buckets_requests_tokens_and_cost_by_hour(store) -> None:
    result = usage_queries.history(since=BASE, until=BASE + 3 * 3600, bucket="hour")
    assert [(p["start"], p["requests"], p["promptTokens"]) for p in result["series"]] == [
        (BASE, 2, 110), (BASE + 3600, 1, 0), (BASE + 7200, 1, 40)]
    assert result["totals"]["requests"] == 4 and result["totals"]["errors"] == 1
    assert result["totals"]["cost"] == pytest.approx(0.013)


def test_history_totals_per_provider_and_model(store) -> None:
    result = usage_queries.history(since=BASE, until=BASE + 3 * 3600)
    assert {p["provider"]: p["requests"] for p in result["byProvider"]} == {"openai": 3, "deepseek": 1}
    assert {(m["provider"], m["model"]): m["requests"] for m in result["byModel"]}[("openai", "gpt-4.1")] == 2


def test_history_by_day_sums_the_whole_day(store) -> None:
    result = usage_queries.history(since=BASE + 5000, until=BASE + 6000, bucket="day")
    assert result["since"] == BASE and result["until"] == BASE + 86400
    assert [(p["start"], p["requests"]) for p in result["series"]] == [(BASE, 4)]


def test_a_window_that_cuts_an_hour_is_widened_to_the_whole_hour(store) -> None:
    result = usage_queries.history(since=BASE + 15, until=BASE + 3600 + 1, bucket="hour")
    assert (result["since"], result["until"]) == (BASE, BASE + 7200)
    assert result["totals"]["requests"] == 3


def test_history_reports_latency_percentiles_from_the_histogram(store) -> None:
    totals = usage_queries.history(since=BASE, until=BASE + 3 * 3600)["totals"]
    assert totals["latencyAvgMs"] == pytest.approx((120 + 80 + 3000 + 700) / 4, abs=0.1)
    assert 100 <= totals["latencyP50Ms"] <= 250  # the 2nd of 4 latencies (120 ms) is in the 100-250 ms bin
    assert 2500 <= totals["latencyP95Ms"] <= 5000  # the 4th (3,000 ms) in the 2,500-5,000 ms bin


def test_an_unknown_bucket_is_refused(store) -> None:
    with pytest.raises(ValueError, match="bucket"):
        usage_queries.history(bucket="fortnight")


def test_logs_are_newest_first_and_paged(store) -> None:
    page = usage_queries.logs(limit=2)
    assert page["total"] == 4
    assert [item["model"] for item in page["items"]] == ["gpt-4.1-mini", "deepseek-chat"]
    assert [i["timestamp"] for i in usage_queries.logs(limit=2, offset=2)["items"]] == [BASE + 20, BASE + 10]


def test_logs_filter_by_status_provider_and_search(store) -> None:
    assert usage_queries.logs(status="error")["total"] == 1
    assert usage_queries.logs(status="200")["total"] == 3
    assert usage_queries.logs(provider="openai")["total"] == 3
    assert usage_queries.logs(search="mini")["total"] == 1


def test_logs_page_by_key_older_than_the_last_id_shown(store) -> None:
    first = usage_queries.logs(limit=3)
    second = usage_queries.logs(limit=3, before=first["nextBefore"])
    assert [i["timestamp"] for i in second["items"]] == [BASE + 10]
    assert second["nextBefore"] is None and second["total"] == 4
