"""While the gateway listens on loopback, its own paths (/v1, /v1beta and Ollama's /api/chat, /api/tags,
/api/version) answer only requests addressed to this machine (DNS rebinding), and refuse browser-style
cross-site requests without a client key (a web page must not spend the user's subscriptions). The
refusals come in the client's dialect; the Ollama paths are not management paths (no login, no
management errors). An allow-list setting opens them to names the user chooses."""

from __future__ import annotations

import json

from core.gateway.management.guard import is_gateway_path, is_management_path
from core.services import CoreServices
from tests.gateway.test_management_auth import require_login

CHAT = {"model": "openai/gpt-4.1", "messages": [{"role": "user", "content": "hi"}]}
EVIL = "http://evil.example"


async def test_a_foreign_host_is_refused_before_any_upstream_is_called(services: CoreServices, client, upstream,
                                                                        openai_via_fake) -> None:
    await openai_via_fake(services, "sk-ok")
    response = await client.post("/v1/chat/completions", json=CHAT, headers={"Host": "evil.example"})
    assert response.status_code == 403
    assert response.json()["error"]["type"] == "permission_error" and "evil.example" in response.json()["error"]["message"]
    assert upstream.requests == []


async def test_a_text_plain_post_from_another_origin_is_refused(services: CoreServices, client, upstream,
                                                                 openai_via_fake) -> None:
    await openai_via_fake(services, "sk-ok")
    response = await client.post("/v1/chat/completions", content=json.dumps(CHAT),
                                 headers={"Origin": EVIL, "Content-Type": "text/plain"})
    assert response.status_code == 403 and "API key" in response.json()["error"]["message"]
    assert upstream.requests == []


async def test_sec_fetch_site_cross_site_is_refused_without_a_key(client) -> None:
    response = await client.get("/v1/models", headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 403


async def test_a_cross_site_request_with_a_valid_key_is_served(client) -> None:
    key = (await client.post("/api/keys", json={"name": "web tool"})).json()["key"]
    response = await client.get("/v1/models", headers={"Origin": EVIL, "Authorization": f"Bearer {key}"})
    assert response.status_code == 200
    wrong = await client.get("/v1/models", headers={"Origin": EVIL, "Authorization": "Bearer qg-not-a-key"})
    assert wrong.status_code == 403


async def test_the_gateways_own_origin_and_plain_clients_are_served(services: CoreServices, client) -> None:
    assert (await client.get("/v1/models")).status_code == 200  # curl, SDKs: no Origin
    own = f"http://127.0.0.1:{services.gateway_state.port}"
    assert (await client.get("/v1/models", headers={"Origin": own, "Sec-Fetch-Site": "same-origin"})).status_code == 200


async def test_gemini_and_ollama_paths_answer_in_their_own_shape(client) -> None:
    gemini = await client.get("/v1beta/models", headers={"Host": "evil.example"})
    assert gemini.status_code == 403 and gemini.json()["error"]["status"] == "PERMISSION_DENIED"
    for path in ("/api/tags", "/api/version"):
        ollama = await client.get(path, headers={"Host": "evil.example"})
        assert ollama.status_code == 403 and isinstance(ollama.json()["error"], str)
    chat = await client.post("/api/chat", json={"model": "x", "messages": []}, headers={"Origin": EVIL})
    assert chat.status_code == 403 and isinstance(chat.json()["error"], str)


async def test_ollama_paths_need_no_management_login(client) -> None:
    await require_login(client)
    assert (await client.get("/api/providers")).status_code == 401
    assert (await client.get("/api/tags")).status_code == 200
    assert (await client.get("/api/version")).status_code == 200


async def test_the_allow_list_opens_the_gateway_to_chosen_names(client) -> None:
    fronted = {"Host": "gateway.lan:8443", "Origin": "https://tool.example"}
    assert (await client.get("/v1/models", headers=fronted)).status_code == 403
    response = await client.put("/api/settings", json={"allowedHosts": ["gateway.lan", "https://tool.example"]})
    assert response.status_code == 200 and response.json()["allowedHosts"] == ["gateway.lan", "https://tool.example"]
    assert (await client.get("/v1/models", headers=fronted)).status_code == 200
    assert (await client.get("/v1/models", headers={"Host": "other.lan"})).status_code == 403


async def test_healthz_stays_open(client) -> None:
    assert (await client.get("/healthz", headers={"Host": "evil.example", "Origin": EVIL})).status_code == 200


def test_ollama_paths_are_gateway_paths_not_management_paths() -> None:
    assert is_gateway_path("/api/chat") and not is_management_path("/api/chat")
    assert is_management_path("/api/providers") and not is_gateway_path("/api/providers")
    assert is_gateway_path("/v1beta/models/x:generateContent") and is_gateway_path("/v1/api/chat")
