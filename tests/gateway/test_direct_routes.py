"""The model routes at fixed paths skip Starlette's router (core/gateway/app.py, `DirectModelRoutes`): what a
client sees must be what the router gave, for answers and for every kind of refusal."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/messages", "/v1/responses", "/api/chat"])
async def test_a_bad_body_is_refused_in_the_paths_own_shape(client, path) -> None:
    response = await client.post(path, content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 400
    body = response.json()
    text = str(body)
    assert "not valid JSON" in text and "Traceback" not in text


async def test_another_method_on_a_direct_path_still_gets_405_with_allow(client) -> None:
    response = await client.get("/v1/chat/completions")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["error"]["code"] == "method_not_allowed"


async def test_an_unknown_model_is_a_404_in_openai_shape(client) -> None:
    response = await client.post("/v1/chat/completions",
                                 json={"model": "nowhere/none", "messages": [{"role": "user", "content": "hi"}]})
    assert response.status_code in (400, 404)
    assert response.json()["error"]["message"]


async def test_a_path_with_a_parameter_still_goes_through_the_router(client) -> None:
    response = await client.post("/v1/providers/nowhere/chat/completions",
                                 json={"model": "x", "messages": [{"role": "user", "content": "hi"}]})
    assert response.status_code in (400, 404)
    assert "error" in response.json()
