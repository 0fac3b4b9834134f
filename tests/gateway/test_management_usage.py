"""`/api/usage/*` and `/api/telemetry/summary`: recorded usage read back with filters and paging."""

from __future__ import annotations

import asyncio
import time

from core.services import CoreServices
from core.store.models import UsageRow

CHAT = {"model": "openai/gpt-4.1", "messages": [{"role": "user", "content": "hi"}]}


async def traffic(services: CoreServices, client, openai_via_fake, count: int = 2) -> None:
    await openai_via_fake(services, "sk-ok")
    for _ in range(count):
        assert (await client.post("/v1/chat/completions", json=CHAT)).status_code == 200
    services.store.writer.flush()


async def test_history_totals_requests_tokens_and_cost(services: CoreServices, client, upstream,
                                                       openai_via_fake) -> None:
    await traffic(services, client, openai_via_fake)
    response = await client.get("/api/usage/history", params={"bucket": "day"})
    assert response.status_code == 200
    body = response.json()
    assert body["bucket"] == "day" and body["totals"]["requests"] == 2 and body["totals"]["promptTokens"] == 24
    assert body["byProvider"][0]["provider"] == "openai" and body["totals"]["cost"] > 0


async def test_history_accepts_iso_dates(services: CoreServices, client, upstream, openai_via_fake) -> None:
    await traffic(services, client, openai_via_fake, count=1)
    response = await client.get("/api/usage/history", params={"since": "2000-01-01T00:00:00+00:00"})
    assert response.status_code == 200 and response.json()["totals"]["requests"] == 1


async def test_a_bad_bucket_or_time_is_a_400(client) -> None:
    assert (await client.get("/api/usage/history", params={"bucket": "week"})).status_code == 400
    assert (await client.get("/api/usage/history", params={"since": "yesterday"})).status_code == 400
    response = await client.get("/api/usage/history", params={"since": "200", "until": "100"})
    assert response.status_code == 400 and "earlier" in response.json()["error"]


async def test_logs_are_filtered_and_paged(services: CoreServices, client, upstream, openai_via_fake) -> None:
    await traffic(services, client, openai_via_fake, count=3)
    page = (await client.get("/api/usage/logs", params={"provider": "openai", "status": "ok", "limit": 2})).json()
    assert page["total"] == 3 and len(page["items"]) == 2 and page["items"][0]["model"] == "gpt-4.1"
    assert (await client.get("/api/usage/logs", params={"status": "error"})).json()["total"] == 0
    later = (await client.get("/api/usage/logs", params={"since": time.time() + 60})).json()
    assert later["total"] == 0


async def test_bad_log_filters_are_a_400(client) -> None:
    for params in [{"status": "broken"}, {"limit": "0"}, {"limit": "many"}, {"offset": "-1"}]:
        response = await client.get("/api/usage/logs", params=params)
        assert response.status_code == 400, params
        assert f"`{next(iter(params))}`" in response.json()["error"]


async def test_the_telemetry_summary_has_percentiles_per_provider(services: CoreServices, client, upstream,
                                                                  openai_via_fake) -> None:
    await traffic(services, client, openai_via_fake)
    response = await client.get("/api/telemetry/summary")
    assert response.status_code == 200
    assert response.json()["providers"]["openai"]["count"] == 2


async def test_each_request_is_one_log_row_with_its_path(services: CoreServices, client, upstream,
                                                        openai_via_fake) -> None:
    await traffic(services, client, openai_via_fake, count=1)
    items = (await client.get("/api/usage/logs")).json()["items"]
    assert [(item["path"], item["status"]) for item in items] == [("/v1/chat/completions", 200)]


async def test_logs_page_older_than_an_id(services: CoreServices, client, upstream, openai_via_fake) -> None:
    await traffic(services, client, openai_via_fake, count=3)
    first = (await client.get("/api/usage/logs", params={"limit": 2})).json()
    rest = (await client.get("/api/usage/logs", params={"limit": 2, "before": first["nextBefore"]})).json()
    assert len(rest["items"]) == 1 and rest["items"][0]["id"] < first["items"][-1]["id"]
    assert (await client.get("/api/usage/logs", params={"before": "0"})).status_code == 400


async def test_a_time_bound_past_the_year_9999_is_a_400_not_a_crash(client) -> None:
    for query in ("until=99999999999999999999", "since=99999999999999999999", "until=1e300"):
        response = await client.get(f"/api/usage/history?{query}")
        assert response.status_code == 400 and "9999" in response.json()["error"]


async def test_the_storage_answer_says_what_each_part_of_the_store_takes(services: CoreServices, client, upstream,
                                                                        openai_via_fake) -> None:
    await traffic(services, client, openai_via_fake, count=3)
    body = (await client.get("/api/usage/storage")).json()
    assert body["requestLog"]["rows"] == 3 and body["requestLog"]["bytes"] > 0
    assert body["rollups"]["rows"] >= 4 and body["rollups"]["bytes"] > 0
    assert body["totalBytes"] >= body["requestLog"]["bytes"] + body["rollups"]["bytes"] + body["otherBytes"]
    assert (body["requestLogDays"], body["requestLogRows"]) == (30, 1_000_000)


async def test_request_log_limits_set_through_the_settings_api_prune_at_once(services: CoreServices,
                                                                            client) -> None:
    now = time.time()
    for age_days in (9, 5, 1):
        services.store.writer.submit(UsageRow, {"ts": now - age_days * 86400, "provider": "openai", "model": "m",
                                                "status": 200})
    services.store.writer.flush()
    response = await client.put("/api/settings", json={"requestLogDays": 3, "requestLogRows": 5000})
    assert response.status_code == 200 and response.json()["requestLogDays"] == 3
    deadline = time.monotonic() + 5
    while (await client.get("/api/usage/logs")).json()["total"] != 1 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert (await client.get("/api/usage/logs")).json()["total"] == 1
    history = (await client.get("/api/usage/history", params={"bucket": "day", "since": now - 10 * 86400})).json()
    assert history["totals"]["requests"] == 3  # the rollups keep what the log let go


async def test_request_log_limits_out_of_range_are_a_400(client) -> None:
    for field, value in [("requestLogDays", 0), ("requestLogRows", 10), ("requestLogRows", 1.5),
                         ("requestLogDays", "30")]:
        response = await client.put("/api/settings", json={field: value})
        assert response.status_code == 400 and f"`{field}`" in response.json()["error"], (field, value)
