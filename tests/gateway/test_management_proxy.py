"""`/api/settings/proxy`: global and per-provider proxies, passwords masked in answers, live at once; and
the proxy Test button, through real proxies on loopback."""

from __future__ import annotations

from core import settings
from core.services import CoreServices
from tests.fakes.proxies import HttpProxy, Socks5Proxy

CHAT = {"model": "openai/gpt-4.1", "messages": [{"role": "user", "content": "hi"}]}


async def test_no_proxy_is_configured_by_default(client) -> None:
    assert (await client.get("/api/settings/proxy")).json() == {"global": None, "providers": {}}


async def test_a_proxy_password_is_stored_but_masked_in_answers(services: CoreServices, client) -> None:
    body = {"global": "http://alice:s3cret@127.0.0.1:3128",
            "providers": {"ds": "socks5h://bob:hunter22@127.0.0.1:1080"}}
    response = await client.put("/api/settings/proxy", json=body)
    assert response.status_code == 200
    expected = {"global": "http://•••@127.0.0.1:3128",
                "providers": {"deepseek": "socks5h://•••@127.0.0.1:1080"}}
    assert response.json() == expected
    assert (await client.get("/api/settings/proxy")).json() == expected
    assert services.store.get_setting(settings.KEY_PROXY) == {
        "global": "http://alice:s3cret@127.0.0.1:3128",
        "providers": {"deepseek": "socks5h://bob:hunter22@127.0.0.1:1080"},
    }


async def test_sending_masked_urls_back_keeps_the_stored_ones(services: CoreServices, client) -> None:
    await client.put("/api/settings/proxy", json={"global": "http://alice:s3cret@127.0.0.1:3128"})
    shown = (await client.get("/api/settings/proxy")).json()
    await client.put("/api/settings/proxy", json={**shown, "providers": {"openai": "https://127.0.0.1:8443"}})
    assert services.store.get_setting(settings.KEY_PROXY) == {
        "global": "http://alice:s3cret@127.0.0.1:3128", "providers": {"openai": "https://127.0.0.1:8443"}}


async def test_a_field_left_out_keeps_its_value(services: CoreServices, client) -> None:
    await client.put("/api/settings/proxy", json={"global": "http://127.0.0.1:3128"})
    await client.put("/api/settings/proxy", json={"providers": {"groq": "http://127.0.0.1:3129"}})
    assert (await client.get("/api/settings/proxy")).json() == {
        "global": "http://127.0.0.1:3128", "providers": {"groq": "http://127.0.0.1:3129"}}


async def test_an_unsupported_scheme_is_a_400_without_echoing_the_url(client) -> None:
    response = await client.put("/api/settings/proxy", json={"global": "ftp://carol:pa55word@127.0.0.1:21"})
    assert response.status_code == 400
    assert "`global`" in response.json()["error"] and "socks5" in response.json()["error"]
    assert "pa55word" not in response.text


async def test_malformed_proxy_urls_are_a_400(client) -> None:
    for url in ["http://", "http://127.0.0.1:99999", "http://127.0.0.1:3128/path", 42]:
        response = await client.put("/api/settings/proxy", json={"global": url})
        assert response.status_code == 400, url


async def test_an_unknown_provider_is_a_400_listing_the_valid_ones(client) -> None:
    response = await client.put("/api/settings/proxy", json={"providers": {"nope": "http://127.0.0.1:3128"}})
    assert response.status_code == 400 and "nope" in response.json()["error"] and "openai" in response.json()["error"]


async def test_a_custom_endpoint_prefix_can_have_a_proxy(client) -> None:
    await client.post("/api/provider-nodes", json={"prefix": "mine", "baseUrl": "http://127.0.0.1:9/v1"})
    response = await client.put("/api/settings/proxy", json={"providers": {"mine": "http://127.0.0.1:3128"}})
    assert response.status_code == 200 and response.json()["providers"] == {"mine": "http://127.0.0.1:3128"}


async def test_deleting_clears_every_proxy(services: CoreServices, client) -> None:
    await client.put("/api/settings/proxy", json={"global": "http://127.0.0.1:3128",
                                                  "providers": {"openai": "http://127.0.0.1:3129"}})
    response = await client.delete("/api/settings/proxy")
    assert response.status_code == 200 and response.json() == {"global": None, "providers": {}}
    assert (await client.get("/api/settings/proxy")).json() == {"global": None, "providers": {}}


async def test_a_global_proxy_carries_chat_at_once(services: CoreServices, client, upstream, openai_via_fake) -> None:
    await openai_via_fake(services, "sk-ok")
    with HttpProxy(credentials=("alice", "s3cret")) as proxy:
        assert (await client.put("/api/settings/proxy", json={"global": proxy.url})).status_code == 200
        response = await client.post("/v1/chat/completions", json=CHAT)
    assert response.status_code == 200
    assert proxy.seen == [f"POST {upstream.url}/v1/chat/completions"]


async def test_the_proxy_test_reports_a_working_socks5_proxy(client, upstream, openai_via_fake) -> None:
    with Socks5Proxy(credentials=("alice", "s3cret")) as proxy:
        response = await client.post("/api/settings/proxy/test", json={"proxy": proxy.url})
    result = response.json()
    assert response.status_code == 200 and result["valid"] is True and result["latencyMs"] > 0
    assert "s3cret" not in response.text and result["proxy"] == f"socks5://•••@127.0.0.1:{proxy.port}"


async def test_the_proxy_test_can_use_a_stored_masked_proxy(client, upstream, openai_via_fake) -> None:
    with HttpProxy(credentials=("alice", "s3cret")) as proxy:
        await client.put("/api/settings/proxy", json={"global": proxy.url})
        shown = (await client.get("/api/settings/proxy")).json()["global"]
        response = await client.post("/api/settings/proxy/test", json={"proxy": shown})
    assert response.json()["valid"] is True and len(proxy.seen) == 1


async def test_the_proxy_test_explains_a_dead_proxy(client) -> None:
    response = await client.post("/api/settings/proxy/test", json={"proxy": "http://dave:topsecret@127.0.0.1:9"})
    result = response.json()
    assert response.status_code == 200 and result["valid"] is False and "proxy" in result["error"]
    assert "topsecret" not in response.text


async def test_the_proxy_test_needs_a_proxy_url(client) -> None:
    response = await client.post("/api/settings/proxy/test", json={})
    assert response.status_code == 400 and "`proxy`" in response.json()["error"]
