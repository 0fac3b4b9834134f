"""`/v1/images/generations` (and per provider), `GET` lists of image and embedding models, `/v1/models`:
image requests reach OpenAI, xAI, Together and Fireworks in their own shape through the routing, fallback
and usage recording chat uses."""

from __future__ import annotations

import pytest

from core.store.models import UsageRow
from tests.fakes.images_upstream import IMAGES_BUSY_KEY, IMAGES_KEY, PNG_BASE64, ImagesUpstream
from tests.fakes.server import ThreadedServer

HOSTS = ("api.openai.com", "api.x.ai", "api.together.xyz", "api.fireworks.ai")


@pytest.fixture
def images(monkeypatch: pytest.MonkeyPatch):
    fake = ImagesUpstream()
    with ThreadedServer(fake.app()) as server:
        monkeypatch.setenv("QUOTAGATE_HOST_MAP", ",".join(f"{host}={server.url}" for host in HOSTS))
        yield fake


async def connect(services, *providers: str, keys: tuple[str, ...] = (IMAGES_KEY,)) -> None:
    for provider in providers:
        for priority, key in enumerate(keys):
            services.accounts.create_account(provider, f"{provider}-{priority}", key, priority=priority)
    await services.reload_gateway_config()


@pytest.mark.parametrize(("model", "path", "upstream_model"), [
    ("openai/dall-e-3", "/v1/images/generations", "dall-e-3"),
    ("xai/grok-2-image-1212", "/v1/images/generations", "grok-2-image-1212"),
    ("together/black-forest-labs/FLUX.1-schnell", "/v1/images/generations", "black-forest-labs/FLUX.1-schnell"),
    ("fireworks/accounts/fireworks/models/flux-1-schnell-fp8", "/inference/v1/images/generations",
     "accounts/fireworks/models/flux-1-schnell-fp8"),
])
async def test_an_image_request_reaches_its_provider_in_openais_shape(services, client, images, model, path,
                                                                      upstream_model) -> None:
    await connect(services, model.split("/")[0])
    response = await client.post("/v1/images/generations", json={
        "model": model, "prompt": "A beautiful sunset over mountains", "size": "1024x1024", "n": 2})
    assert response.status_code == 200, response.text
    body = response.json()
    assert isinstance(body["created"], int) and len(body["data"]) == 2
    assert body["data"][0]["url"].startswith("https://images.example/")
    sent = images.calls[-1]
    assert sent.path == path and sent.headers["authorization"] == f"Bearer {IMAGES_KEY}"
    assert sent.body == {"model": upstream_model, "prompt": "A beautiful sunset over mountains",
                         "size": "1024x1024", "n": 2}
    assert response.headers["x-quotagate-provider"] == model.split("/")[0]


async def test_the_provider_route_adds_the_prefix(services, client, images) -> None:
    await connect(services, "together")
    response = await client.post("/v1/providers/together/images/generations", json={
        "model": "black-forest-labs/FLUX.1.1-pro", "prompt": "a fox", "response_format": "b64_json"})
    assert response.status_code == 200, response.text
    assert response.json()["data"][0]["b64_json"] == PNG_BASE64
    assert images.calls[-1].body["model"] == "black-forest-labs/FLUX.1.1-pro"


async def test_a_busy_account_falls_back_to_the_next_and_usage_is_recorded(services, client, images) -> None:
    await connect(services, "openai", keys=(IMAGES_BUSY_KEY, IMAGES_KEY))
    response = await client.post("/v1/images/generations", json={"model": "openai/gpt-image-1", "prompt": "a fox"})
    assert response.status_code == 200, response.text
    assert response.headers["x-quotagate-fallbacks"] == "1"
    assert response.headers["x-quotagate-account"] == "openai-1"
    assert [call.headers["authorization"] for call in images.calls] == [f"Bearer {IMAGES_BUSY_KEY}",
                                                                          f"Bearer {IMAGES_KEY}"]
    assert services.store.writer.flush(10)
    row = UsageRow.select().order_by(UsageRow.id.desc()).get()
    assert (row.path, row.provider, row.model, row.status) == ("/v1/images/generations", "openai", "gpt-image-1", 200)
    assert (row.tokens_in, row.tokens_out) == (12, 4160)
    assert row.cost == pytest.approx((12 * 5.0 + 4160 * 40.0) / 1_000_000)


async def test_every_account_busy_answers_429_with_retry_after(services, client, images) -> None:
    await connect(services, "xai", keys=(IMAGES_BUSY_KEY,))
    response = await client.post("/v1/images/generations", json={"model": "xai/grok-2-image-1212", "prompt": "x"})
    assert response.status_code == 429
    assert response.headers["retry-after"] == "3"
    assert "Rate limit" in response.json()["error"]["message"]


@pytest.mark.parametrize(("body", "words"), [
    ({"model": "openai/dall-e-3"}, "`prompt` must be a non-empty string"),
    ({"model": "openai/dall-e-3", "prompt": "x", "n": 0}, "`n` must be a whole number from 1 to 10"),
    ({"model": "openai/dall-e-3", "prompt": "x", "stream": True}, "cannot be streamed"),
])
async def test_a_bad_image_request_is_refused_before_any_provider_sees_it(services, client, images, body,
                                                                          words) -> None:
    await connect(services, "openai")
    response = await client.post("/v1/images/generations", json=body)
    assert response.status_code == 400
    assert words in response.json()["error"]["message"]
    assert images.calls == []


async def test_an_image_request_to_a_provider_that_does_not_speak_openai_is_refused(services, client) -> None:
    services.accounts.create_account("anthropic", "a", "sk-ant-1")
    await services.reload_gateway_config()
    response = await client.post("/v1/images/generations",
                                 json={"model": "anthropic/claude-sonnet-4-5-20250929", "prompt": "x"})
    assert response.status_code == 400
    assert "no OpenAI-format images/generations endpoint" in response.json()["error"]["message"]


async def test_model_lists_show_image_and_embedding_models_of_connected_providers(services, client) -> None:
    services.accounts.create_account("openai", "o", "sk-1")
    services.accounts.create_account("together", "t", "tk-1")
    await services.reload_gateway_config()
    await client.post("/api/combos", json={"name": "draw", "strategy": "priority",
                                           "models": ["openai/dall-e-3", "together/black-forest-labs/FLUX.1-schnell"]})
    images = (await client.get("/v1/images/generations")).json()
    ids = {m["id"] for m in images["data"]}
    assert {"openai/dall-e-3", "openai/gpt-image-1", "together/black-forest-labs/FLUX.1-schnell"} <= ids
    assert not any(i.startswith(("xai/", "fireworks/")) for i in ids)  # not connected
    assert {m["type"] for m in images["data"]} == {"image"} and images["object"] == "list"
    embeddings = {m["id"] for m in (await client.get("/v1/embeddings")).json()["data"]}
    assert {"openai/text-embedding-3-small", "together/BAAI/bge-large-en-v1.5"} <= embeddings
    assert "openai/gpt-4.1" not in embeddings
    everything = {m["id"] for m in (await client.get("/v1/models")).json()["data"]}
    assert {"openai/gpt-4.1", "openai/text-embedding-3-small", "openai/dall-e-3", "draw"} <= everything
    gemini = {m["name"] for m in (await client.get("/v1beta/models")).json()["models"]}
    assert "models/openai/dall-e-3" not in gemini and "models/openai/gpt-4.1" in gemini
