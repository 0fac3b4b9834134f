"""Bad input gets a 4xx in OpenAI's error shape, says what is wrong, and reaches no provider."""

from __future__ import annotations

import pytest

from core import settings

CHAT = {"model": "openai/gpt-4.1", "messages": [{"role": "user", "content": "hi"}]}


def assert_openai_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert set(error) >= {"message", "type", "code"}
    assert error["code"] == code
    assert "Traceback" not in response.text
    return error


@pytest.fixture
async def connected(services, upstream, openai_via_fake):
    await openai_via_fake(services, "sk-ok")
    return upstream


@pytest.mark.parametrize("body", [b"{not json", b'{"model": "openai/gpt-4.1", ', b"\xff\xfe garbage"])
async def test_malformed_json_is_a_400(client, connected, body: bytes) -> None:
    response = await client.post("/v1/chat/completions", content=body,
                                 headers={"content-type": "application/json"})
    error = assert_openai_error(response, 400, "invalid_json")
    assert "not valid JSON" in error["message"]
    assert connected.requests == []


async def test_an_empty_body_is_a_400(client, connected) -> None:
    assert_openai_error(await client.post("/v1/chat/completions", content=b""), 400, "invalid_json")


@pytest.mark.parametrize("body", [b"[1, 2]", b'"text"', b"42", b"null"])
async def test_a_body_that_is_not_an_object_is_a_400(client, connected, body: bytes) -> None:
    assert_openai_error(await client.post("/v1/chat/completions", content=body), 400, "invalid_request")


@pytest.mark.parametrize("field,value,code", [
    ("model", 123, "invalid_model"),
    ("model", "", "invalid_model"),
    ("model", None, "invalid_model"),
    ("messages", "hello", "invalid_request"),
    ("messages", [], "invalid_request"),
    ("messages", ["hello"], "invalid_request"),
    ("stream", "yes", "invalid_request"),
])
async def test_wrong_types_are_a_400_naming_the_field(client, connected, field, value, code) -> None:
    error = assert_openai_error(await client.post("/v1/chat/completions", json={**CHAT, field: value}), 400, code)
    assert f"`{field}" in error["message"]  # the field, or the exact item of it
    assert connected.requests == []


async def test_a_body_over_the_limit_is_a_413(services, client, connected) -> None:
    services.store.set_setting(settings.KEY_MAX_BODY_MB, 1)
    await services.reload_gateway_config()
    huge = {**CHAT, "messages": [{"role": "user", "content": "x" * (1024 * 1024 + 10)}]}
    error = assert_openai_error(await client.post("/v1/chat/completions", json=huge), 413, "request_too_large")
    assert "1 MiB" in error["message"]
    assert connected.requests == []


async def test_a_body_over_the_limit_without_content_length_is_a_413(services, client, connected) -> None:
    services.store.set_setting(settings.KEY_MAX_BODY_MB, 1)
    await services.reload_gateway_config()

    async def chunks():
        for _ in range(3):
            yield b"x" * (512 * 1024)

    response = await client.post("/v1/chat/completions", content=chunks())
    assert_openai_error(response, 413, "request_too_large")


async def test_an_unknown_provider_lists_what_is_connected(client, connected) -> None:
    error = assert_openai_error(await client.post("/v1/chat/completions", json={**CHAT, "model": "zz/m"}),
                                404, "provider_not_found")
    assert "Connected prefixes: openai" in error["message"]


async def test_a_bare_model_name_explains_the_prefix(client, connected) -> None:
    error = assert_openai_error(await client.post("/v1/chat/completions", json={**CHAT, "model": "gpt-4.1"}),
                                400, "model_not_found")
    assert "provider/model" in error["message"]


async def test_a_provider_without_an_account_says_how_to_add_one(client, connected) -> None:
    error = assert_openai_error(await client.post("/v1/chat/completions", json={**CHAT, "model": "ds/deepseek-chat"}),
                                400, "no_active_account")
    assert "Providers" in error["message"]


async def test_embeddings_refuse_a_missing_input(client, connected) -> None:
    assert_openai_error(await client.post("/v1/embeddings", json={"model": "openai/text-embedding-3-small"}),
                        400, "invalid_request")
