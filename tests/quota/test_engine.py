"""The engine: concurrent and isolated providers, last good data kept as stale, backoff, change events."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from core.quota import Backoff, QuotaEngine, QuotaSnapshot, StoredAccount
from core.quota.accounts import QUOTAGATE, QuotaAccount, Discovery
from core.quota.locations import Locations
from core.quota.providers import FetchContext, QuotaProvider
from core.quota.providers.openai import OpenAIProvider
from core.quota.providers.zhipu import ZAI, ZhipuProvider
from tests.quota.conftest import fixture, make_jwt, write_json
from tests.quota.fakes import FakeServer, Reply

USAGE = "/backend-api/wham/usage"
ZAI_QUOTA = "/api/monitor/usage/quota/limit"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 23, 12, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def signed_in(home: Path) -> None:
    """A Codex sign-in (expiring far after the fake clock) and a Z.ai key."""
    write_json(home / ".codex" / "auth.json", {"tokens": {"access_token": make_jwt({"exp": 4102444800}),
                                                          "account_id": "acc"}})
    write_json(home / ".local/share/opencode/auth.json", {"zai-coding-plan": {"type": "api", "key": "zai-key-123456"}})


async def test_one_slow_provider_does_not_delay_the_others(fake: FakeServer, signed_in: None) -> None:
    fake.reply("GET", USAGE, Reply(json=fixture("openai_usage_plus.json"), delay=1.0))
    fake.reply("GET", ZAI_QUOTA, json=fixture("zai_quota_limit.json"))
    engine = QuotaEngine([OpenAIProvider(), ZhipuProvider(ZAI)], timeout=3)
    published: dict[str, float] = {}
    started = time.monotonic()
    engine.snapshots_changed.connect(
        lambda snapshots: published.update({s.provider: time.monotonic() - started for s in snapshots
                                            if s.provider not in published}))
    async with engine:
        snapshots = await engine.refresh_now()
    assert published["zai"] < 0.5 <= 1.0 <= published["openai"]
    assert [s.provider for s in snapshots] == ["openai", "zai"] and all(s.ok for s in snapshots)


async def test_a_failed_refresh_keeps_the_last_good_data_marked_stale_with_its_age(
        fake: FakeServer, signed_in: None) -> None:
    clock = Clock()
    fake.reply("GET", USAGE, Reply(json=fixture("openai_usage_plus.json")), Reply(503, json={}))
    async with QuotaEngine([OpenAIProvider()], timeout=3, clock=clock) as engine:
        [good] = await engine.refresh_now()
        clock.advance(minutes=7)
        [shown] = await engine.refresh_now()
    assert shown.stale and shown.error_kind == "server" and "will retry" in (shown.error or "")
    assert shown.windows == good.windows and shown.fetched_at == good.fetched_at
    assert shown.age(clock.now) == timedelta(minutes=7)
    assert shown.to_json(now=clock.now)["age_seconds"] == 420


async def test_a_later_success_replaces_stale_data(fake: FakeServer, signed_in: None) -> None:
    fake.reply("GET", USAGE, Reply(json=fixture("openai_usage_plus.json")), Reply(503, json={}),
               Reply(json=fixture("openai_usage_plus.json")))
    async with QuotaEngine([OpenAIProvider()], timeout=3) as engine:
        for _ in range(3):
            [shown] = await engine.refresh_now()
    assert shown.ok and not shown.stale


async def test_a_failing_account_waits_out_its_backoff_before_the_next_try(fake: FakeServer, signed_in: None) -> None:
    clock = Clock()
    fake.reply("GET", USAGE, status=503, json={})
    async with QuotaEngine([OpenAIProvider()], timeout=3, clock=clock, interval=300,
                           backoff=Backoff(base=60, factor=2, cap=1800)) as engine:
        await engine.refresh_due()                 # failure 1 → wait 60 s
        clock.advance(seconds=30)
        await engine.refresh_due()
        assert len(fake.received(USAGE)) == 1
        clock.advance(seconds=31)
        await engine.refresh_due()                 # failure 2 → wait 120 s
        assert len(fake.received(USAGE)) == 2
        clock.advance(seconds=100)
        await engine.refresh_due()
        assert len(fake.received(USAGE)) == 2
        await engine.refresh_now()                 # "Refresh now" ignores the backoff
        assert len(fake.received(USAGE)) == 3


def test_backoff_grows_exponentially_up_to_its_cap() -> None:
    backoff = Backoff(base=60, factor=2, cap=600)
    assert [backoff.delay(n) for n in range(0, 7)] == [0, 60, 120, 240, 480, 600, 600]


async def test_a_healthy_account_is_refreshed_once_per_interval(fake: FakeServer, signed_in: None) -> None:
    clock = Clock()
    fake.reply("GET", USAGE, json=fixture("openai_usage_plus.json"))
    async with QuotaEngine([OpenAIProvider()], timeout=3, clock=clock, interval=300) as engine:
        await engine.refresh_due()
        clock.advance(seconds=200)
        await engine.refresh_due()
        assert len(fake.received(USAGE)) == 1
        clock.advance(seconds=100)
        await engine.refresh_due()
        assert len(fake.received(USAGE)) == 2
        engine.set_interval(60)                    # menu opened: refresh faster
        clock.advance(seconds=60)
        await engine.refresh_due()
        assert len(fake.received(USAGE)) == 3


async def test_listeners_hear_about_changes_only(fake: FakeServer, signed_in: None) -> None:
    fake.reply("GET", USAGE, json=fixture("openai_usage_plus.json"))
    heard: list[list[QuotaSnapshot]] = []
    async with QuotaEngine([OpenAIProvider()], timeout=3) as engine:
        engine.snapshots_changed.connect(heard.append)
        await engine.refresh_now()
        await engine.refresh_now()
    assert len(heard) == 1 and heard[0][0].provider == "openai"


async def test_an_account_whose_credentials_disappear_is_dropped(home: Path, fake: FakeServer,
                                                                 signed_in: None) -> None:
    fake.reply("GET", USAGE, json=fixture("openai_usage_plus.json"))
    async with QuotaEngine([OpenAIProvider()], timeout=3) as engine:
        assert len(await engine.refresh_now()) == 1
        (home / ".codex" / "auth.json").unlink()
        assert await engine.refresh_now() == []


async def test_concurrent_refresh_requests_share_one_round(fake: FakeServer, signed_in: None) -> None:
    fake.reply("GET", USAGE, Reply(json=fixture("openai_usage_plus.json"), delay=0.2))
    async with QuotaEngine([OpenAIProvider()], timeout=3) as engine:
        first, second = await asyncio.gather(engine.refresh_now(), engine.refresh_now())
    assert first == second and len(fake.received(USAGE)) == 1


async def test_refresh_now_during_a_scheduled_round_still_queries_every_account(
        fake: FakeServer, signed_in: None) -> None:
    clock = Clock()
    fake.reply("GET", USAGE, Reply(json=fixture("openai_usage_plus.json"), delay=0.2))
    async with QuotaEngine([OpenAIProvider()], timeout=3, clock=clock) as engine:
        await engine.refresh_due()
        clock.advance(seconds=300)
        scheduled = asyncio.ensure_future(engine.refresh_due())
        await asyncio.sleep(0.05)
        await engine.refresh_now()
        await scheduled
    assert len(fake.received(USAGE)) == 3


async def test_the_background_loop_refreshes_at_start_and_stops_cleanly(fake: FakeServer, signed_in: None) -> None:
    fake.reply("GET", USAGE, json=fixture("openai_usage_plus.json"))
    engine = QuotaEngine([OpenAIProvider()], timeout=3)
    done = asyncio.Event()
    engine.refresh_finished.connect(lambda snapshots: done.set())
    engine.start()
    await asyncio.wait_for(done.wait(), 5)
    await engine.stop()
    assert [s.ok for s in engine.snapshots()] == [True]


async def test_only_limits_the_engine_to_the_given_providers(fake: FakeServer, signed_in: None) -> None:
    fake.reply("GET", ZAI_QUOTA, json=fixture("zai_quota_limit.json"))
    async with QuotaEngine(only={"zai"}, timeout=3) as engine:
        assert [s.provider for s in await engine.refresh_now()] == ["zai"]
    assert fake.received(USAGE) == []


async def test_stored_accounts_come_from_the_account_source_on_every_refresh(fake: FakeServer, home: Path) -> None:
    fake.reply("GET", ZAI_QUOTA, json=fixture("zai_quota_limit.json"))
    stored: list[StoredAccount] = []
    async with QuotaEngine([ZhipuProvider(ZAI)], timeout=3, account_source=lambda: stored) as engine:
        assert await engine.refresh_now() == []
        stored.append(StoredAccount("zai", "stored-key-abcdefghijkl", "Team"))
        assert [s.account for s in await engine.refresh_now()] == ["Team (stor…ijkl)"]


async def test_a_broken_account_source_does_not_stop_the_credential_files(fake: FakeServer, signed_in: None) -> None:
    fake.reply("GET", USAGE, json=fixture("openai_usage_plus.json"))

    def broken() -> Sequence[StoredAccount]:
        raise RuntimeError("store closed")

    async with QuotaEngine([OpenAIProvider()], timeout=3, account_source=broken) as engine:
        assert [s.ok for s in await engine.refresh_now()] == [True]


class _Hanging(QuotaProvider[None]):
    """A provider whose fetch never returns: the engine's own deadline must still end it."""

    id, name, service = "hanging", "Hanging", "Hanging service"

    def discover(self, locations: Locations, stored: Sequence[StoredAccount]) -> Discovery[None]:
        return Discovery([QuotaAccount(self.id, "one", "One", "test", QUOTAGATE, None)])

    async def fetch(self, account: QuotaAccount[None], ctx: FetchContext) -> QuotaSnapshot:
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")


async def test_a_fetch_that_never_returns_ends_at_the_engines_deadline(home: Path) -> None:
    async with QuotaEngine([_Hanging()], timeout=0.1) as engine:
        [snapshot] = await engine.refresh_now()
    assert snapshot.error_kind == "timeout" and "Hanging service did not answer" in (snapshot.error or "")
