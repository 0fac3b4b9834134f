"""Errors are answers: every failure becomes a snapshot whose message says what happened and what to do."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from core.quota.providers.claude import ClaudeProvider
from core.quota.providers.openai import OpenAIProvider
from core.quota.providers.zhipu import ZAI, ZhipuProvider
from tests.conftest import free_port
from tests.quota.conftest import fixture, make_jwt, query, query_one, write_json
from tests.quota.fakes import FakeServer, Reply

USAGE = "/backend-api/wham/usage"
CLAUDE_USAGE = "/api/oauth/usage"


@pytest.fixture
def codex_signed_in(home: Path) -> None:
    write_json(home / ".codex" / "auth.json", {"tokens": {"access_token": make_jwt({"exp": int(time.time()) + 3600}),
                                                          "account_id": "acc"}})


@pytest.fixture
def claude_signed_in(home: Path) -> None:
    write_json(home / ".claude" / ".credentials.json", {"claudeAiOauth": {
        "accessToken": "sk-ant-oat01-abcdef", "refreshToken": "sk-ant-ort01-xyz",
        "expiresAt": int(time.time() + 3600) * 1000, "subscriptionType": "max"}})


@pytest.mark.parametrize("status", [401, 403])
async def test_a_rejected_sign_in_says_sign_in_again_and_with_which_tool(
        fake: FakeServer, codex_signed_in: None, status: int) -> None:
    fake.reply("GET", USAGE, status=status, json={"detail": "Unauthorized"})
    snapshot = await query_one(OpenAIProvider())
    assert snapshot.error_kind == "auth"
    assert "Sign in again" in (snapshot.error or "") and "`codex login`" in (snapshot.error or "")


async def test_a_rejected_claude_sign_in_names_claude_code(fake: FakeServer, claude_signed_in: None) -> None:
    fake.reply("GET", CLAUDE_USAGE, status=401, json={"type": "error", "error": {"type": "authentication_error"}})
    snapshot = await query_one(ClaudeProvider())
    assert snapshot.error_kind == "auth" and "Claude Code" in (snapshot.error or "")


async def test_a_service_slower_than_the_timeout_is_a_timeout_error(fake: FakeServer, codex_signed_in: None) -> None:
    fake.reply("GET", USAGE, Reply(json=fixture("openai_usage_plus.json"), delay=1.0))
    started = time.monotonic()
    snapshot = await query_one(OpenAIProvider(), timeout=0.2)
    assert time.monotonic() - started < 0.9
    assert snapshot.error_kind == "timeout"
    assert snapshot.error == "ChatGPT did not answer within 0.2 s; will retry."


async def test_an_answer_that_is_not_json_is_a_format_error(fake: FakeServer, codex_signed_in: None) -> None:
    fake.reply("GET", USAGE, body=b"<html>Just a moment...</html>")
    snapshot = await query_one(OpenAIProvider())
    assert snapshot.error_kind == "format" and "not JSON" in (snapshot.error or "")


async def test_json_of_the_wrong_shape_is_a_format_error(fake: FakeServer, codex_signed_in: None) -> None:
    fake.reply("GET", USAGE, json=["not", "an", "object"])
    assert (await query_one(OpenAIProvider())).error_kind == "format"


async def test_a_server_error_says_it_will_retry(fake: FakeServer, codex_signed_in: None) -> None:
    fake.reply("GET", USAGE, status=502, json={"error": "bad gateway"})
    snapshot = await query_one(OpenAIProvider())
    assert snapshot.error_kind == "server" and "will retry" in (snapshot.error or "")


async def test_an_unreachable_service_is_a_network_error(codex_signed_in: None,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUOTAGATE_HOST_MAP", f"chatgpt.com=http://127.0.0.1:{free_port()}")
    snapshot = await query_one(OpenAIProvider())
    assert snapshot.error_kind == "network" and "Could not reach ChatGPT" in (snapshot.error or "")


async def test_a_broken_credential_file_is_an_error_naming_the_file(home: Path, fake: FakeServer) -> None:
    write_json(home / ".codex" / "auth.json", '{"tokens": {"access_token": ')
    snapshot = await query_one(OpenAIProvider())
    assert snapshot.error_kind == "credentials"
    assert snapshot.error is not None and snapshot.error.startswith("~/.codex/auth.json cannot be used: it is not "
                                                                     "valid JSON")
    assert fake.requests == []


async def test_an_empty_credential_file_is_an_error_naming_the_file(home: Path, fake: FakeServer) -> None:
    write_json(home / ".claude" / ".credentials.json", "")
    snapshot = await query_one(ClaudeProvider())
    assert snapshot.error_kind == "credentials" and "~/.claude/.credentials.json" in (snapshot.error or "")


async def test_a_credential_entry_of_the_wrong_type_is_an_error_naming_file_and_entry(home: Path,
                                                                                      fake: FakeServer) -> None:
    write_json(home / ".local/share/opencode/auth.json", {"zai-coding-plan": "not-an-object"})
    snapshot = await query_one(ZhipuProvider(ZAI))
    assert snapshot.error_kind == "credentials"
    assert '"zai-coding-plan"' in (snapshot.error or "") and "opencode/auth.json" in (snapshot.error or "")


async def test_credential_files_are_never_written(home: Path, fake: FakeServer, codex_signed_in: None) -> None:
    fake.reply("GET", USAGE, status=401, json={})
    path = home / ".codex" / "auth.json"
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    await query(OpenAIProvider())
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before


async def test_error_details_from_the_service_are_shown_without_secrets(fake: FakeServer,
                                                                        codex_signed_in: None) -> None:
    fake.reply("GET", USAGE, status=400, json={"error": {"message": "bad header Bearer abcdefghijklmnop"}})
    snapshot = await query_one(OpenAIProvider())
    assert snapshot.error_kind == "api"
    assert "abcdefghijklmnop" not in (snapshot.error or "") and "HTTP 400" in (snapshot.error or "")
