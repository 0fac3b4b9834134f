"""Outbound proxies: global, per provider and per account; HTTP and SOCKS5 with auth; the environment's
HTTP(S)_PROXY when nothing is configured. Every proxy here is a real one on loopback."""

from __future__ import annotations

import pytest

from core import settings
from core.gateway.checks import check_proxy
from core.gateway.upstream import UpstreamClients
from core.services import CoreServices
from tests.fakes.proxies import HttpProxy, Socks5Proxy

CHAT = {"model": "openai/gpt-4.1", "messages": [{"role": "user", "content": "hi"}]}


async def configure(services: CoreServices, proxy: dict) -> None:
    services.store.set_setting(settings.KEY_PROXY, proxy)
    await services.reload_gateway_config()


async def test_a_global_http_proxy_carries_the_request(services, client, upstream, openai_via_fake) -> None:
    await openai_via_fake(services, "sk-ok")
    with HttpProxy() as proxy:
        await configure(services, {"global": proxy.url})
        response = await client.post("/v1/chat/completions", json=CHAT)
    assert response.status_code == 200
    assert proxy.seen == [f"POST {upstream.url}/v1/chat/completions"]


async def test_a_provider_socks5_proxy_with_auth_carries_the_request(services, client, upstream,
                                                                     openai_via_fake) -> None:
    await openai_via_fake(services, "sk-ok")
    with Socks5Proxy(credentials=("alice", "s3cret")) as proxy:
        await configure(services, {"providers": {"openai": proxy.url}})
        response = await client.post("/v1/chat/completions", json={**CHAT, "stream": True})
        assert response.status_code == 200 and response.text.rstrip().endswith("[DONE]")
    assert proxy.seen == [f"CONNECT 127.0.0.1:{upstream.url.rsplit(':', 1)[1]}"]


async def test_an_account_proxy_wins_over_the_provider_and_global_ones(services, client, upstream,
                                                                       openai_via_fake) -> None:
    with HttpProxy() as global_proxy, HttpProxy() as account_proxy:
        services.accounts.create_account("openai", "work", "sk-ok", options={"proxy": account_proxy.url})
        await configure(services, {"global": global_proxy.url})
        await openai_via_fake(services)  # host map only
        response = await client.post("/v1/chat/completions", json=CHAT)
    assert response.status_code == 200
    assert len(account_proxy.seen) == 1 and global_proxy.seen == []


async def test_wrong_proxy_credentials_are_a_clear_gateway_error(services, client, upstream, openai_via_fake) -> None:
    await openai_via_fake(services, "sk-ok")
    with HttpProxy(credentials=("alice", "s3cret")) as proxy:
        wrong = proxy.url.replace("s3cret", "wrong")
        await configure(services, {"global": wrong})
        response = await client.post("/v1/chat/completions", json=CHAT)
    assert response.status_code in (407, 502)
    assert "error" in response.json()
    assert "wrong" not in response.text  # the proxy password never comes back


async def chat_through_fresh_services(data_dir, openai_via_fake):
    """The environment is read when the services start, so these tests start their own."""
    import httpx

    services = CoreServices(data_dir, port=0)
    await services.start()
    try:
        await openai_via_fake(services, "sk-ok")
        async with httpx.AsyncClient(base_url=services.gateway_state.url, trust_env=False) as client:
            return await client.post("/v1/chat/completions", json=CHAT)
    finally:
        await services.stop()


async def test_the_environment_proxy_applies_when_nothing_is_configured(data_dir, upstream, openai_via_fake,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    with HttpProxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        response = await chat_through_fresh_services(data_dir, openai_via_fake)
    assert response.status_code == 200
    assert len(proxy.seen) == 1


async def test_no_proxy_in_the_environment_is_respected(data_dir, upstream, openai_via_fake,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    with HttpProxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        response = await chat_through_fresh_services(data_dir, openai_via_fake)
    assert response.status_code == 200
    assert proxy.seen == []


@pytest.mark.parametrize("kind", [HttpProxy, Socks5Proxy])
async def test_the_proxy_check_goes_through_a_real_proxy(kind, upstream, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUOTAGATE_HOST_MAP", f"api.openai.com={upstream.url}")
    clients = UpstreamClients()
    try:
        with kind(credentials=("bob", "pw")) as proxy:
            result = await check_proxy(proxy.url, clients)
    finally:
        await clients.aclose()
    assert result.ok, result.message
    assert len(proxy.seen) == 1
