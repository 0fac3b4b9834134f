"""The pass-through's byte-level model rewrite: only the top-level `model` value changes, and anything the
scan cannot be sure of falls back (None) to parse-and-dump."""

from __future__ import annotations

import json

import pytest

from core.gateway.model_bytes import replace_model
from tests.fakes.openai_upstream import STREAM_WORDS

CHAT = {"model": "openai/gpt-4.1", "messages": [{"role": "user", "content": "hi"}]}


@pytest.mark.parametrize("raw, expected", [
    (b'{"model":"a","x":1}', b'{"model":"NEW","x":1}'),
    (b' {\n  "model" : "a",\n  "x": 1\n}', b' {\n  "model" : "NEW",\n  "x": 1\n}'),  # spacing kept
    (b'{"x":{"model":"b"},"model":"a"}', b'{"x":{"model":"b"},"model":"NEW"}'),  # the nested key is left
    (b'{"x":[{"model":"b"}],"model":"a","y":{"model":"c"}}', b'{"x":[{"model":"b"}],"model":"NEW","y":{"model":"c"}}'),
    (b'{"x":"\\"model\\": \\"q\\"","model":"a"}', b'{"x":"\\"model\\": \\"q\\"","model":"NEW"}'),  # inside a string
    (b'{"x":"say \\"model","model":"a"}', b'{"x":"say \\"model","model":"NEW"}'),
    (b'{"role":"model","model":"a"}', b'{"role":"model","model":"NEW"}'),  # "model" as a value
    (b'{"a":"\\\\","model":"a\\"b"}', b'{"a":"\\\\","model":"NEW"}'),  # escapes in and before the value
    (b'{"m":"caf\\u00e9","model":"a"}', b'{"m":"caf\\u00e9","model":"NEW"}'),  # a non-ASCII escape stays as sent
    (b'{"a":"{[","b":"]}}","model":"a"}', b'{"a":"{[","b":"]}}","model":"NEW"}'),  # brackets inside strings
    (b'{"a":{"b":"}"},"model":"a"}', b'{"a":{"b":"}"},"model":"NEW"}'),
])
def test_only_the_top_level_model_value_changes(raw: bytes, expected: bytes) -> None:
    edited = replace_model(raw, "NEW")
    assert edited == expected
    assert json.loads(edited) == {**json.loads(raw), "model": "NEW"}


def test_the_new_name_is_written_as_a_json_string() -> None:
    edited = replace_model(b'{"model":"a"}', 'odd "name"\\ é')
    assert json.loads(edited) == {"model": 'odd "name"\\ é'}


@pytest.mark.parametrize("raw", [
    b'{"m":"x"}',  # no model
    b'{"x":{"model":"b"}}',  # only a nested one
    b'{"model":1}',  # not a string
    b'{"model":null}',
    b'{"model":"a","model":"b"}',  # a duplicate: readers take the last
    b'{"mod\\u0065l":"z","model":"a"}',  # a key spelled with escapes could be the real one
    b'[{"model":"a"}]',  # not an object
])
def test_anything_uncertain_falls_back(raw: bytes) -> None:
    assert replace_model(raw, "NEW") is None


async def test_the_provider_receives_the_clients_bytes_with_only_the_model_replaced(
        services, client, upstream, openai_via_fake) -> None:
    await openai_via_fake(services, "sk-ok")
    sent = (b'{ "messages": [{"role": "user", "content": "caf\\u00e9 \\"model\\": x"}],\n'
            b'  "model" : "openai/gpt-4.1", "temperature": 0.50, "metadata": {"model": "keep"} }')
    response = await client.post("/v1/chat/completions", content=sent,
                                 headers={"content-type": "application/json"})
    assert response.status_code == 200
    assert upstream.requests[-1].raw == sent.replace(b'"openai/gpt-4.1"', b'"gpt-4.1"')
    body = response.json()
    assert body["model"] == "openai/gpt-4.1"
    assert body["choices"][0]["message"]["content"] == "".join(STREAM_WORDS)


async def test_a_stream_without_usage_asked_still_gets_the_usage_option_added(
        services, client, upstream, openai_via_fake) -> None:
    await openai_via_fake(services, "sk-ok")
    async with client.stream("POST", "/v1/chat/completions", json={**CHAT, "stream": True}) as response:
        text = (await response.aread()).decode()
    received = upstream.requests[-1]
    assert received.body["model"] == "gpt-4.1"
    assert received.body["stream_options"] == {"include_usage": True}
    assert '"usage"' not in text  # the added usage chunk is taken out again


async def test_a_request_scoped_to_a_provider_is_re_encoded(services, client, upstream, openai_via_fake) -> None:
    await openai_via_fake(services, "sk-ok")
    response = await client.post("/v1/providers/openai/chat/completions",
                                 json={"model": "gpt-4.1", "messages": [{"role": "user", "content": "hi"}]})
    assert response.status_code == 200
    assert upstream.requests[-1].body["model"] == "gpt-4.1"
    assert response.json()["model"] == "openai/gpt-4.1"
