"""Usage read back for the dashboard and /api/usage/*: buckets, totals, and the filtered log."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.gateway import usage_queries
from core.gateway.dialects.common import Usage
from core.gateway.usage import MAX_ATTEMPTS, UsageRecorder
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


def test_the_last_full_page_has_no_older_page_after_it(store) -> None:
    first = usage_queries.logs(limit=2)
    last = usage_queries.logs(limit=2, before=first["nextBefore"])
    assert len(last["items"]) == 2 and last["nextBefore"] is None


def test_logs_page_by_key_older_than_the_last_id_shown(store) -> None:
    first = usage_queries.logs(limit=3)
    second = usage_queries.logs(limit=3, before=first["nextBefore"])
    assert [i["timestamp"] for i in second["items"]] == [BASE + 10]
    assert second["nextBefore"] is None and second["total"] == 4


def test_a_requests_attempts_are_kept_on_its_one_row(store) -> None:
    recorder = UsageRecorder(store.writer, cost=lambda provider, model, tokens: 0.0)
    attempts = [{"provider": "openai", "model": "gpt-4.1", "account": 3, "status": 429, "ms": 41.5},
                {"provider": "deepseek", "model": "deepseek-chat", "account": None, "skipped": "cooling down"},
                {"provider": "zhipu", "model": "glm-4.6", "account": 7, "status": 200, "ms": 820.0}]
    recorder.record(path="/v1/chat/completions", status=200, provider="zhipu", model="glm-4.6", account_id=None,
                    api_key_id=None, tokens=Usage(prompt=12, completion=3), latency_ms=870.0, attempts=attempts)
    assert store.writer.flush()
    newest = usage_queries.logs(limit=1)["items"][0]
    assert newest["attempts"] == attempts and newest["model"] == "glm-4.6"
    assert UsageRow.select().count() == 5  # one row for the request, however many attempts it took


def test_attempts_are_bounded_in_number_and_length(store) -> None:
    recorder = UsageRecorder(store.writer, cost=lambda provider, model, tokens: 0.0)
    many = [{"provider": "p", "error": "e" * 5000, "ms": i} for i in range(100)]
    recorder.record(path="/v1/chat/completions", status=502, provider="p", model="m", account_id=None,
                    api_key_id=None, tokens=Usage(), latency_ms=1.0, error="all failed", attempts=many)
    recorder.record(path="/v1/models", status=200, provider=None, model=None, account_id=None, api_key_id=None,
                    tokens=Usage(), latency_ms=1.0)
    assert store.writer.flush()
    plain, failed = usage_queries.logs(limit=2)["items"]
    assert plain["attempts"] is None
    assert len(failed["attempts"]) == MAX_ATTEMPTS and failed["attempts"][-1]["ms"] == MAX_ATTEMPTS - 1
    assert all(len(a["error"]) < 500 for a in failed["attempts"])


def test_the_request_log_counts_up_to_a_limit_and_says_when_there_are_more(store) -> None:
    for i in range(usage_queries.COUNT_LIMIT + 5):
        store.writer.submit(UsageRow, {"ts": BASE + 9000 + i, "provider": "openai", "model": "m", "status": 200})
    assert store.writer.flush()
    page = usage_queries.logs(limit=10)
    assert page["total"] == usage_queries.COUNT_LIMIT and page["totalIsExact"] is False
    narrow = usage_queries.logs(status="error")
    assert narrow["total"] == 1 and narrow["totalIsExact"] is True


def test_telemetry_reads_percentiles_per_provider_from_the_hourly_rollups(store) -> None:
    summary = usage_queries.telemetry(now=BASE + 3 * 3600)
    assert set(summary["providers"]) == {"openai", "deepseek"}
    openai = summary["providers"]["openai"]
    assert openai["count"] == 3 and openai["p50"] <= openai["p95"] <= openai["p99"]
    assert usage_queries.telemetry(now=BASE + 30 * 3600)["providers"] == {}  # older than the last 24 hours
