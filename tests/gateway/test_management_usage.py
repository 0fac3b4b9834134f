"""`/api/usage/*` and `/api/telemetry/summary`: recorded usage read back with filters and paging."""

from __future__ import annotations

import time

from core.services import CoreServices

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
