"""Zhipu and Z.ai: every limit of `data.limits`, window lengths from unit/number, errors with their msg."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from core.quota import StoredAccount
from core.quota.accounts import OPENCODE, QuotaAccount
from core.quota.providers.zhipu import ZAI, ZHIPU, ZhipuProvider, parse_quota_limit
from tests.quota.conftest import fixture, query, query_one, write_json
from tests.quota.fakes import FakeServer

QUOTA = "/api/monitor/usage/quota/limit"
ZAI_KEY = "zai-key-0123456789abcdef"


def _opencode_keys(home: Path, **entries: str) -> None:
    write_json(home / ".local/share/opencode/auth.json",
               {name: {"type": "api", "key": key} for name, key in entries.items()})


async def test_zai_reads_the_key_from_opencode_and_sends_it_as_authorization(home: Path, fake: FakeServer) -> None:
    fake.reply("GET", QUOTA, host="api.z.ai", json=fixture("zai_quota_limit.json"))
    _opencode_keys(home, **{"zai-coding-plan": ZAI_KEY})
    snapshot = await query_one(ZhipuProvider(ZAI))
    [request] = fake.received(QUOTA, host="api.z.ai")
    assert request.headers["authorization"] == ZAI_KEY
    assert snapshot.provider == "zai" and snapshot.account == "zai-…cdef" and snapshot.plan == "Pro"


async def test_zai_weekly_monthly_and_credit_limits_all_become_windows(home: Path, fake: FakeServer) -> None:
    fake.reply("GET", QUOTA, host="api.z.ai", json=fixture("zai_quota_limit.json"))
    _opencode_keys(home, **{"zai-coding-plan": ZAI_KEY})
    snapshot = await query_one(ZhipuProvider(ZAI))
    assert [(w.id, w.label) for w in snapshot.windows] == [
        ("tokens-5-hour", "Tokens · 5-hour"), ("tokens-weekly", "Tokens · Weekly"),
        ("tool-calls-monthly", "Tool calls · Monthly"), ("credits", "Credits")]
    five_hour, weekly, monthly, credits = snapshot.windows
    assert five_hour.window_seconds == 5 * 3600 and five_hour.remaining_percent == 88.0
    assert weekly.window_seconds == 7 * 86400 and weekly.remaining_percent == 59.0
    assert (monthly.used, monthly.limit, monthly.remaining, monthly.unit) == (280, 1000, 720, "calls")
    assert monthly.remaining_percent == 72.0
    assert (credits.used, credits.limit, credits.remaining_percent) == (50, 200, 75.0)


async def test_next_reset_time_is_read_as_epoch_milliseconds(home: Path, fake: FakeServer) -> None:
    fake.reply("GET", QUOTA, host="bigmodel.cn", json=fixture("zhipu_quota_limit.json"))
    _opencode_keys(home, **{"zhipuai-coding-plan": "zhipu-key-abcdefghijkl"})
    [window] = (await query_one(ZhipuProvider(ZHIPU))).windows
    assert window.resets_at == datetime.fromtimestamp(1706200000, timezone.utc)
    assert (window.used, window.limit, window.remaining_percent) == (500000, 10000000, 95.0)


async def test_zhipu_and_zai_ask_their_own_hosts(home: Path, fake: FakeServer) -> None:
    fake.reply("GET", QUOTA, json=fixture("zhipu_quota_limit.json"))
    _opencode_keys(home, **{"zhipuai-coding-plan": "zhipu-key-abcdefghijkl", "zai-coding-plan": ZAI_KEY})
    await query(ZhipuProvider(ZHIPU))
    await query(ZhipuProvider(ZAI))
    assert [r.host for r in fake.received(QUOTA)] == ["bigmodel.cn", "api.z.ai"]


async def test_success_false_is_an_error_carrying_the_msg(home: Path, fake: FakeServer) -> None:
    fake.reply("GET", QUOTA, json=fixture("zhipu_failure.json"))
    _opencode_keys(home, **{"zhipuai-coding-plan": "zhipu-key-abcdefghijkl"})
    snapshot = await query_one(ZhipuProvider(ZHIPU))
    assert snapshot.error_kind == "api"
    assert snapshot.error == "Zhipu refused the quota request: Quota service is temporarily unavailable"


async def test_success_false_with_an_auth_code_says_sign_in_again(home: Path, fake: FakeServer) -> None:
    fake.reply("GET", QUOTA, json={"code": 401, "msg": "token expired or incorrect", "success": False})
    _opencode_keys(home, **{"zai-coding-plan": ZAI_KEY})
    snapshot = await query_one(ZhipuProvider(ZAI))
    assert snapshot.error_kind == "auth" and "opencode auth login" in (snapshot.error or "")


async def test_keys_come_from_the_environment_too(home: Path, fake: FakeServer,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    fake.reply("GET", QUOTA, json=fixture("zhipu_quota_limit.json"))
    monkeypatch.setenv("Z_AI_API_KEY", "env-key-abcdefghijklmnop")
    snapshot = await query_one(ZhipuProvider(ZAI))
    assert snapshot.source == "$Z_AI_API_KEY"
    assert fake.received(QUOTA)[0].headers["authorization"] == "env-key-abcdefghijklmnop"


async def test_keys_stored_in_quotagate_are_queried_with_their_label(home: Path, fake: FakeServer) -> None:
    fake.reply("GET", QUOTA, json=fixture("zhipu_quota_limit.json"))
    stored = [StoredAccount("zai", "stored-key-abcdefghijklmnop", "Work"),
              StoredAccount("zhipu", "other-provider-key-0000000")]
    snapshot = await query_one(ZhipuProvider(ZAI), stored=stored)
    assert snapshot.account == "Work (stor…mnop)" and snapshot.source == "Quotagate"


async def test_the_same_key_from_two_sources_is_one_account(home: Path, fake: FakeServer,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    fake.reply("GET", QUOTA, json=fixture("zhipu_quota_limit.json"))
    _opencode_keys(home, **{"zai-coding-plan": ZAI_KEY})
    monkeypatch.setenv("Z_AI_API_KEY", ZAI_KEY)
    assert len(await query(ZhipuProvider(ZAI))) == 1


def test_token_window_units_are_day_hour_minute_week() -> None:
    account = QuotaAccount("zai", "k", "k", "test", OPENCODE, "key")
    body = {"success": True, "data": {"limits": [
        {"type": "TOKENS_LIMIT", "unit": unit, "number": count, "percentage": 1}
        for unit, count in ((1, 1), (3, 5), (5, 30), (6, 1))]}}
    windows = parse_quota_limit(body, account, datetime.now(timezone.utc), "Z.ai").windows
    assert [w.window_seconds for w in windows] == [86400, 5 * 3600, 30 * 60, 7 * 86400]
    assert [w.label for w in windows] == ["Tokens · Daily", "Tokens · 5-hour", "Tokens · 30-minute",
                                          "Tokens · Weekly"]
