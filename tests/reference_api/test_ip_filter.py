"""`/api/settings/ip-filter`: allow and block lists of addresses and CIDR ranges, enforced on `/v1` for clients on
other machines when the gateway listens on the network; this machine is never locked out."""

from __future__ import annotations

import httpx
import pytest

from core import settings
from tests.reference_api.conftest import chat


async def test_the_filter_starts_empty_and_says_loopback_is_always_allowed(client) -> None:
    answer = (await client.get("/api/settings/ip-filter")).json()
    assert answer["allow"] == [] and answer["block"] == [] and answer["active"] is False
    assert answer["enforced"] is False  # the test gateway listens on 127.0.0.1
    assert "always allowed" in answer["note"]


async def test_addresses_and_ranges_are_stored_canonically(client, services) -> None:
    response = await client.put("/api/settings/ip-filter",
                                json={"allow": ["192.168.1.0/24", "10.0.0.7", "2001:db8::/32", "10.0.0.7"],
                                      "block": ["192.168.1.66/32"]})
    assert response.status_code == 200, response.text
    assert response.json()["allow"] == ["192.168.1.0/24", "10.0.0.7", "2001:db8::/32"]
    assert response.json()["block"] == ["192.168.1.66"] and response.json()["active"] is True
    assert services.store.get_setting(settings.KEY_IP_FILTER) == {"allow": ["192.168.1.0/24", "10.0.0.7",
                                                                            "2001:db8::/32"],
                                                                  "block": ["192.168.1.66"]}


@pytest.mark.parametrize("body, words", [
    ({"allow": ["10.0.0.7/8"]}, "10.0.0.7/8"),  # host bits set: a typo, not silently widened
    ({"allow": ["not-an-address"]}, "not-an-address"),
    ({"block": "10.0.0.0/8"}, "list"),
    ({"deny": []}, "`allow` and `block`"),
])
async def test_bad_entries_are_refused_by_name_and_nothing_is_stored(client, services, body, words) -> None:
    response = await client.put("/api/settings/ip-filter", json=body)
    assert response.status_code == 400 and words in response.json()["error"]
    assert services.store.get_setting(settings.KEY_IP_FILTER) is None


async def test_a_blocked_range_refuses_clients_on_other_machines_but_never_this_one(network_gateway) -> None:
    services, address = network_gateway
    key = (await services.configuration.create_key("remote")).key
    base = f"http://127.0.0.1:{services.gateway_state.port}"
    async with httpx.AsyncClient(base_url=base, timeout=10) as local:
        # Every address blocked, both families: loopback still passes.
        assert (await local.put("/api/settings/ip-filter",
                                json={"block": ["0.0.0.0/0", "::/0"]})).status_code == 200
    remote = await chat(f"http://{address}:{services.gateway_state.port}", key)
    assert remote.status_code == 403
    assert remote.json()["error"]["message"] == f"The address {address} is blocked by this gateway's IP filter."
    assert remote.json()["error"]["code"] == "ip_blocked"
    local_answer = await chat(base, key)
    assert local_answer.status_code != 403  # no provider is connected: routing answers, not the filter
    assert "IP filter" not in local_answer.text


async def test_an_allow_list_admits_only_its_addresses(network_gateway) -> None:
    services, address = network_gateway
    key = (await services.configuration.create_key("remote")).key
    port = services.gateway_state.port
    await services.configuration.update_settings({settings.KEY_IP_FILTER: {"allow": ["10.9.0.0/16"]}})
    refused = await chat(f"http://{address}:{port}", key)
    assert refused.status_code == 403 and "not on this gateway's IP allow list" in refused.text
    assert "IP" not in (await chat(f"http://127.0.0.1:{port}", key)).text  # loopback needs no listing

    await services.configuration.update_settings({settings.KEY_IP_FILTER: {"allow": [f"{address}/32"]}})
    admitted = await chat(f"http://{address}:{port}", key)
    assert admitted.status_code != 403 and "IP" not in admitted.text


async def test_a_block_wins_over_an_allow(network_gateway) -> None:
    services, address = network_gateway
    key = (await services.configuration.create_key("remote")).key
    await services.configuration.update_settings(
        {settings.KEY_IP_FILTER: {"allow": ["0.0.0.0/0"], "block": [address]}})
    refused = await chat(f"http://{address}:{services.gateway_state.port}", key)
    assert refused.status_code == 403 and "blocked" in refused.text


async def test_the_filter_answers_in_the_clients_dialect(network_gateway) -> None:
    services, address = network_gateway
    await services.configuration.update_settings({settings.KEY_IP_FILTER: {"block": [address]}})
    async with httpx.AsyncClient(base_url=f"http://{address}:{services.gateway_state.port}", timeout=10) as http:
        anthropic = await http.post("/v1/messages", json={"model": "x", "max_tokens": 1, "messages": []})
    assert anthropic.status_code == 403
    assert anthropic.json()["type"] == "error" and "blocked" in anthropic.json()["error"]["message"]
