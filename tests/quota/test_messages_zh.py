"""Quota errors reach a Chinese user in Chinese, still naming the service, the tool and what to run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core import i18n
from core.quota.providers.claude import ClaudeProvider
from core.quota.providers.zhipu import ZAI, ZhipuProvider
from tests.quota.conftest import query_one, write_json
from tests.quota.fakes import FakeServer, Reply


@pytest.fixture(autouse=True)
def chinese() -> Iterator[None]:
    i18n.set_language("zh")
    yield
    i18n.set_language("en")


def _claude_sign_in(home: Path) -> None:
    write_json(home / ".claude" / ".credentials.json", {"claudeAiOauth": {"accessToken": "sk-ant-oat01-x"}})


async def test_a_rejected_sign_in_says_which_tool_to_run_in_chinese(home: Path, fake: FakeServer) -> None:
    _claude_sign_in(home)
    fake.reply("GET", "/api/oauth/usage", status=401, json={"error": {"message": "invalid token"}})
    snapshot = await query_one(ClaudeProvider())
    assert snapshot.error == ("Claude 拒绝了 Claude Code 的登录（HTTP 401）。请重新登录：运行 `claude` 并使用 /login。")


async def test_a_timeout_is_reported_in_chinese(home: Path, fake: FakeServer) -> None:
    _claude_sign_in(home)
    fake.reply("GET", "/api/oauth/usage", Reply(json={}, delay=1.5))
    snapshot = await query_one(ClaudeProvider(), timeout=0.5)
    assert snapshot.error_kind == "timeout" and snapshot.error == "Claude 在 0.5 秒内没有响应；稍后重试。"


async def test_a_broken_credential_file_is_explained_in_chinese(home: Path, fake: FakeServer) -> None:
    write_json(home / ".local/share/opencode/auth.json", '{"zai-coding-plan": {"key": ')
    snapshot = await query_one(ZhipuProvider(ZAI))
    assert snapshot.error_kind == "credentials"
    assert snapshot.error is not None and snapshot.error.startswith("无法使用 ~/.local/share/opencode/auth.json：不是有效的 JSON")
    assert "运行 `opencode auth login`" in snapshot.error


async def test_a_zai_refusal_keeps_the_services_own_words(home: Path, fake: FakeServer) -> None:
    write_json(home / ".local/share/opencode/auth.json", {"zai-coding-plan": {"type": "api", "key": "zai-k-123456"}})
    fake.reply("GET", "/api/monitor/usage/quota/limit", json={"code": 500, "msg": "quota service busy",
                                                                "success": False})
    snapshot = await query_one(ZhipuProvider(ZAI))
    assert snapshot.error == "Z.ai 拒绝了额度查询：quota service busy"
