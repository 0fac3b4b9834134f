"""Quota errors reach a Chinese user in Chinese, still naming the service, the tool and what to run."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from core.quota.http import _transport_reason
from core.quota.model import QuotaWindow
from core.quota.providers.antigravity import AntigravityProvider
from core.quota.providers.claude import ClaudeProvider
from core.quota.providers.openai import OpenAIProvider
from core.quota.providers.zhipu import ZAI, ZhipuProvider
from core.quota.text import window_label
from tests.conftest import free_port
from tests.quota.conftest import make_jwt, query_one, write_json
from tests.quota.fakes import FakeServer, Reply


pytestmark = pytest.mark.usefixtures("chinese_ui")


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


@pytest.fixture
def antigravity_signed_in(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUOTAGATE_ANTIGRAVITY_CLIENT_ID", "test-client.apps.googleusercontent.com")
    write_json(home / ".config/opencode/antigravity-accounts.json",
               {"version": 3, "accounts": [{"email": "a@example.com", "refreshToken": "1//a", "projectId": "p"}]})


async def test_a_revoked_google_sign_in_is_explained_in_chinese(antigravity_signed_in: None,
                                                                 fake: FakeServer) -> None:
    fake.reply("POST", "/token", status=400, json={"error": "invalid_grant"})
    snapshot = await query_one(AntigravityProvider())
    assert snapshot.error == ("Google 不再接受 OpenCode 的 Antigravity 插件 保存的登录（invalid_grant）。"
                              "请重新登录：运行 `opencode auth login` 并选择 Google。")


async def test_a_slow_google_sign_in_is_named_in_chinese(antigravity_signed_in: None, fake: FakeServer) -> None:
    fake.reply("POST", "/token", Reply(json={"access_token": "x", "expires_in": 3600}, delay=1.0))
    snapshot = await query_one(AntigravityProvider(), timeout=0.2)
    assert snapshot.error == "Google 登录服务 在 0.2 秒内没有响应；稍后重试。"


async def test_an_unreachable_service_is_reported_in_chinese(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_json(home / ".codex" / "auth.json", {"tokens": {"access_token": make_jwt({"exp": int(time.time()) + 3600})}})
    monkeypatch.setenv("QUOTAGATE_HOST_MAP", f"chatgpt.com=http://127.0.0.1:{free_port()}")
    snapshot = await query_one(OpenAIProvider())
    assert snapshot.error_kind == "network"
    assert snapshot.error == "无法连接 ChatGPT（连接失败）；请检查网络连接。稍后重试。"


async def test_an_expired_sign_in_says_which_tool_renews_it_in_chinese(home: Path, fake: FakeServer) -> None:
    write_json(home / ".claude" / ".credentials.json", {"claudeAiOauth": {
        "accessToken": "sk-ant-oat01-x", "expiresAt": 1_700_000_000_000}})
    snapshot = await query_one(ClaudeProvider())
    assert snapshot.error_kind == "expired"
    assert snapshot.error == "Claude Code 的 Claude 登录已于 2023-11-14 22:13 UTC 过期；运行一次 `claude`，它会续期令牌。"
    assert fake.requests == []


@pytest.mark.parametrize("exc,expected", [
    (httpx.ConnectError("refused"), "连接失败"),
    (httpx.RemoteProtocolError("closed"), "连接被意外关闭"),
    (httpx.ProxyError("502 from proxy"), "代理未能转发请求"),
    (httpx.ReadError("reset by peer"), "连接中断"),
])
def test_each_network_failure_has_chinese_words(exc: httpx.TransportError, expected: str) -> None:
    assert _transport_reason(exc) == expected


def test_a_code_review_window_label_reads_in_chinese() -> None:
    assert window_label(QuotaWindow("code-review-primary", "Code review · Weekly")) == "代码审查 · 每周"
