"""`quotagate status` as a user runs it: a subprocess reading real credential files, talking to a fake
quota service on loopback through QUOTAGATE_HOST_MAP."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.conftest import QUOTA_HOSTS
from tests.integration.processes import quotagate_env, run_quotagate
from tests.quota.conftest import fixture, write_json
from tests.quota.fakes import FakeServer


@pytest.fixture
def fake():
    server = FakeServer().start()
    yield server
    server.stop()


def claude_usage_resetting_later() -> dict:
    """The documented answer with its reset times in the future, as the live service gives them."""
    usage = fixture("claude_usage.json")
    for number, name in enumerate(("five_hour", "seven_day", "seven_day_sonnet"), start=1):
        moment = datetime.now(timezone.utc) + timedelta(hours=2 * number)
        usage[name]["resets_at"] = moment.isoformat()
    return usage


@pytest.fixture
def env(data_dir: Path, isolated_environment: Path, fake: FakeServer) -> dict[str, str]:
    write_json(isolated_environment / ".claude" / ".credentials.json", {"claudeAiOauth": {
        "accessToken": "sk-ant-oat01-abcdef", "expiresAt": int(time.time() + 3600) * 1000,
        "subscriptionType": "max"}})
    write_json(isolated_environment / ".local" / "share" / "opencode" / "auth.json",
               {"zai-coding-plan": {"type": "api", "key": "zai-key-0123456789abcdef"}})
    fake.reply("GET", "/api/oauth/usage", json=claude_usage_resetting_later())
    fake.reply("GET", "/api/monitor/usage/quota/limit", status=401, json={"code": 401, "msg": "token expired"})
    return quotagate_env(data_dir, QUOTAGATE_HOST_MAP=",".join(f"{h}={fake.url}" for h in QUOTA_HOSTS),
                         LANG="en_US.UTF-8")


def test_status_prints_bars_percentages_and_errors_last(env: dict[str, str]) -> None:
    result = run_quotagate(["status"], env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Claude · Claude Code · Max")
    session = next(line for line in lines if "Session" in line)
    assert "76 % left" in session and "█" in session
    errors = lines[lines.index("Errors") + 1:]
    assert lines.index("Errors") > lines.index(session)
    [zai] = [line for line in errors if line.startswith("  Z.ai")]
    assert "(HTTP 401). Sign in again: run `opencode auth login`." in zai


def test_status_json_has_the_documented_shape(env: dict[str, str]) -> None:
    result = run_quotagate(["status", "--json"], env)
    document = json.loads(result.stdout)
    claude = next(a for a in document["accounts"] if a["provider"] == "claude")
    assert claude["plan"] == "Max" and claude["error"] is None
    session = claude["windows"][0]
    assert session["remaining_percent"] == 76.0
    assert session["resets_at"].endswith("Z")
    zai = next(a for a in document["accounts"] if a["provider"] == "zai")
    assert zai["error"] and zai["windows"] == []
    assert "zai-key-0123456789abcdef" not in result.stdout  # keys are masked


def test_status_provider_filter(env: dict[str, str]) -> None:
    document = json.loads(run_quotagate(["status", "--json", "--provider", "claude"], env).stdout)
    assert {a["provider"] for a in document["accounts"]} == {"claude"}


def test_status_speaks_chinese_in_a_chinese_locale(env: dict[str, str]) -> None:
    result = run_quotagate(["status"], {**env, "LANG": "zh_CN.UTF-8"})
    assert "剩余 76%" in result.stdout and "错误" in result.stdout


def test_status_with_nothing_configured_says_how_to_start(data_dir: Path) -> None:
    result = run_quotagate(["status"], quotagate_env(data_dir))
    assert result.returncode == 0 and "No subscriptions found" in result.stdout


def test_status_shows_the_last_known_quota_when_a_service_is_down(env: dict[str, str], fake: FakeServer) -> None:
    assert run_quotagate(["status"], env).returncode == 0  # a good answer, recorded in the store
    fake.reply("GET", "/api/oauth/usage", status=503, json={})
    result = run_quotagate(["status"], env)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Claude · Claude Code · Max") and "stale" in lines[0]
    assert "76 % left" in next(line for line in lines if "Session" in line)
    assert any("server error (HTTP 503)" in line for line in lines[:lines.index("Errors")])
    document = json.loads(run_quotagate(["status", "--json"], env).stdout)
    claude = next(a for a in document["accounts"] if a["provider"] == "claude")
    assert claude["stale"] and claude["error_kind"] == "server" and claude["windows"][0]["remaining_percent"] == 76.0
