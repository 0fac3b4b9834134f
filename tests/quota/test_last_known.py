"""Never shown wrong across time: the last good data survives a restart (marked stale with its age), and
numbers from before a reset are not shown as current — the engine fetches new ones just after it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from core.quota import QuotaEngine, QuotaSnapshot, QuotaWindow
from core.quota.providers.openai import OpenAIProvider
from core.quota.runtime import QuotaRuntime
from core.store import Store
from core.store.models import QuotaSnapshotRow
from tests.quota.conftest import fixture, make_jwt, write_json
from tests.quota.fakes import FakeServer, Reply

USAGE = "/backend-api/wham/usage"
NOW = datetime(2026, 1, 23, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def codex(home: Path) -> Path:
    return write_json(home / ".codex" / "auth.json", {"tokens": {"access_token": make_jwt({"exp": 4102444800}),
                                                                 "account_id": "acc"}})


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path / "data")
    yield opened
    opened.close()


async def _run_once(store: Store) -> list[QuotaSnapshot]:
    """One program run: start the glance, refresh, stop; what it recorded is flushed to the store."""
    runtime = QuotaRuntime(lambda: store)
    try:
        return await runtime.refresh_now()
    finally:
        await runtime.stop()
        assert store.writer.flush()


async def test_after_a_restart_the_last_good_data_is_shown_stale_until_a_refresh_brings_new_numbers(
        fake: FakeServer, codex: Path, store: Store) -> None:
    fake.reply("GET", USAGE, Reply(json=fixture("openai_usage_plus.json")), Reply(503, json={}))
    [first] = await _run_once(store)
    assert first.ok and first.windows[0].remaining_percent == 85

    restarted = QuotaRuntime(lambda: store)
    try:
        [shown] = restarted.snapshots()  # before any request of the new run
        assert shown.key == first.key and shown.stale and shown.error is None
        assert _same_numbers(shown, first)
        [after_failure] = await restarted.refresh_now()
    finally:
        await restarted.stop()
    assert after_failure.stale and after_failure.error_kind == "server"
    assert _same_numbers(after_failure, first)


def _same_numbers(shown: QuotaSnapshot, fetched: QuotaSnapshot) -> bool:
    """The same data and fetch time, to the second the store keeps."""
    return (replace(shown, stale=False, error=None, error_kind=None).same_content(fetched)
            and abs(shown.fetched_at - fetched.fetched_at) < timedelta(seconds=1))


async def test_the_same_numbers_after_a_restart_are_not_recorded_twice(
        fake: FakeServer, codex: Path, store: Store) -> None:
    fake.reply("GET", USAGE, json=fixture("openai_usage_plus.json"))
    await _run_once(store)
    [again] = await _run_once(store)
    assert again.ok and not again.stale
    assert QuotaSnapshotRow.select().count() == 1


async def test_an_account_signed_out_since_the_last_run_is_dropped_at_the_first_refresh(
        fake: FakeServer, codex: Path, store: Store) -> None:
    fake.reply("GET", USAGE, json=fixture("openai_usage_plus.json"))
    await _run_once(store)
    codex.unlink()
    restarted = QuotaRuntime(lambda: store)
    try:
        assert len(restarted.snapshots()) == 1
        assert await restarted.refresh_now() == []
    finally:
        await restarted.stop()


async def test_unreadable_history_rows_are_skipped(fake: FakeServer, codex: Path, store: Store) -> None:
    fake.reply("GET", USAGE, json=fixture("openai_usage_plus.json"))
    await _run_once(store)
    QuotaSnapshotRow.create(ts=NOW.timestamp(), provider="claude", account="claude-code", payload="{not json")
    QuotaSnapshotRow.create(ts=NOW.timestamp(), provider="zai", account="k", payload=json.dumps(["a", "list"]))
    restarted = QuotaRuntime(lambda: store)
    try:
        assert [s.provider for s in restarted.snapshots()] == ["openai"]
    finally:
        await restarted.stop()


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


async def test_a_window_that_resets_before_the_next_interval_is_fetched_just_after_its_reset(
        fake: FakeServer, codex: Path) -> None:
    usage = fixture("openai_usage_plus.json")
    usage["rate_limit"]["primary_window"]["reset_after_seconds"] = 120
    fake.reply("GET", USAGE, json=usage)
    clock = Clock()
    async with QuotaEngine([OpenAIProvider()], timeout=3, clock=clock, interval=300) as engine:
        await engine.refresh_due()
        clock.now = NOW + timedelta(seconds=125)  # reset passed, but services take a moment to show it
        await engine.refresh_due()
        assert len(fake.received(USAGE)) == 1
        clock.now = NOW + timedelta(seconds=131)
        await engine.refresh_due()
        assert len(fake.received(USAGE)) == 2
        clock.now = NOW + timedelta(seconds=200)  # the service still answers with the old reset time: no loop
        await engine.refresh_due()
        assert len(fake.received(USAGE)) == 2


def test_after_its_reset_a_window_shows_no_numbers_from_before_it() -> None:
    window = QuotaWindow.from_used("primary", "Session", 80.0, resets_at=NOW, used=40, limit=50, remaining=10)
    later = QuotaSnapshot("openai", "acc", "me@example.com", windows=(window,), fetched_at=NOW - timedelta(hours=1))
    assert later.as_of(NOW - timedelta(seconds=1)) is later
    [after] = later.as_of(NOW).windows
    assert (after.used_percent, after.remaining_percent, after.used, after.remaining) == (None, None, None, None)
    assert after.limit == 50 and after.resets_at == NOW  # what is still true is kept
    read_after_the_reset = replace(later, fetched_at=NOW + timedelta(seconds=1))
    assert read_after_the_reset.as_of(NOW + timedelta(hours=1)) is read_after_the_reset  # fresh numbers stay


def test_the_tray_and_the_cli_say_a_window_has_reset_instead_of_showing_old_numbers() -> None:
    from core.quota.text import bar, most_constrained, window_status

    window = QuotaWindow.from_used("primary", "Session", 95.0, resets_at=NOW)
    snapshot = QuotaSnapshot("openai", "acc", "me@example.com", windows=(window,), fetched_at=NOW - timedelta(hours=1))
    before = snapshot.as_of(NOW - timedelta(minutes=1))
    assert window_status(before.windows[0], NOW - timedelta(minutes=1)).startswith("5 % left")
    after = snapshot.as_of(NOW + timedelta(seconds=5))
    assert window_status(after.windows[0], NOW + timedelta(seconds=5)) == "reset; waiting for the new numbers"
    assert bar(after.windows[0].remaining_percent) == "·" * 20
    assert most_constrained([after]) is None  # the tray icon no longer warns about a quota that came back
