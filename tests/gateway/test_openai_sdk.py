"""The official `openai` Python SDK, pointed at the gateway, works as it does against OpenAI."""

from __future__ import annotations

import openai
import pytest

from tests.fakes.openai_upstream import STREAM_WORDS


@pytest.fixture
async def sdk(services, upstream, openai_via_fake):
    await openai_via_fake(services, "sk-ok")
    async with openai.AsyncOpenAI(base_url=f"{services.gateway_state.url}/v1", api_key="unused-on-loopback",
                                  max_retries=0) as client:
        yield client


async def test_sdk_chat_completion(sdk) -> None:
    completion = await sdk.chat.completions.create(model="openai/gpt-4.1",
                                                   messages=[{"role": "user", "content": "hi"}])
    assert completion.model == "openai/gpt-4.1"
    assert completion.choices[0].message.content == "".join(STREAM_WORDS)
    assert completion.usage.prompt_tokens == 12


async def test_sdk_streaming(sdk) -> None:
    stream = await sdk.chat.completions.create(model="openai/gpt-4.1", stream=True,
                                               messages=[{"role": "user", "content": "hi"}])
    parts = [chunk.choices[0].delta.content async for chunk in stream if chunk.choices]
    assert "".join(parts) == "".join(STREAM_WORDS)


async def test_sdk_embeddings(sdk) -> None:
    result = await sdk.embeddings.create(model="openai/text-embedding-3-small", input="hello")
    assert result.data[0].embedding == [0.1, 0.2, 0.3]


async def test_sdk_lists_models(sdk) -> None:
    ids = [model.id async for model in sdk.models.list()]
    assert "openai/gpt-4.1" in ids


async def test_sdk_sees_an_unknown_provider_as_not_found(sdk) -> None:
    with pytest.raises(openai.NotFoundError) as raised:
        await sdk.chat.completions.create(model="nope/x", messages=[{"role": "user", "content": "hi"}])
    assert "Unknown provider prefix 'nope'" in raised.value.message


async def test_sdk_raises_on_a_stream_broken_midway(services, upstream) -> None:
    services.accounts.create_endpoint("flaky", "Flaky", f"{upstream.url}/v1", api_key="sk-break")
    await services.reload_gateway_config()
    async with openai.AsyncOpenAI(base_url=f"{services.gateway_state.url}/v1", api_key="x", max_retries=0) as client:
        stream = await client.chat.completions.create(model="flaky/m", stream=True,
                                                      messages=[{"role": "user", "content": "hi"}])
        with pytest.raises(openai.APIError, match="stream broke"):
            async for _ in stream:
                pass
