"""`quotagate status`: the same quota the tray shows, as a table or as JSON, without the app running."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from core import i18n, settings
from core.i18n import tr
from core.quota import history
from core.quota.engine import QuotaEngine
from core.quota.model import QuotaSnapshot, status_json, utc_now
from core.quota.providers import PROVIDER_IDS
from core.quota.accounts import StoredAccount
from core.quota.runtime import last_known_snapshots, stored_quota_accounts
from core.subscriptions.quota import stored_subscription_accounts
from core.quota.text import account_title, bar, staleness, window_label, window_status
from core.store import Store

log = logging.getLogger(__name__)


def add_status_command(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    status = commands.add_parser("status", parents=[common], help="show quota left on every subscription",
                                 description="Query every subscription now and print what is left and when it "
                                             "resets. Works without the app running.")
    status.add_argument("--json", action="store_true", help="print JSON instead of a table")
    status.add_argument("--provider", action="append", choices=PROVIDER_IDS, metavar="ID",
                        help=f"only this provider (repeatable): {', '.join(PROVIDER_IDS)}")


@dataclass
class _StoreState:
    """What the status command takes from Quotagate's store; all of it optional."""

    accounts: list[StoredAccount] = field(default_factory=list)
    hide_personal: bool = False
    last_known: list[QuotaSnapshot] = field(default_factory=list)


def run_status(args: argparse.Namespace, folder: Path) -> int:
    store = _open_store(folder)
    try:
        state = _read_store(store, folder) if store is not None else _StoreState()
        snapshots = asyncio.run(_query(args.provider, state))
        if store is not None:
            _remember(store, folder, snapshots, state)
    finally:
        if store is not None:
            store.close()
    now = utc_now()
    snapshots = [snapshot.as_of(now) for snapshot in snapshots]  # no numbers from before a reset
    if args.json:
        print(json.dumps(status_json(snapshots, now=now, hide_personal=state.hide_personal), indent=2,
                         ensure_ascii=False))
    else:
        print(render_table(snapshots, now, state.hide_personal))
    return 0


async def _query(only: list[str] | None, state: _StoreState) -> list[QuotaSnapshot]:
    """Query everything now; an account whose query fails shows its last known data, marked stale."""
    engine = QuotaEngine(only=only, account_source=lambda: state.accounts)
    engine.restore(state.last_known)
    async with engine:
        return await engine.refresh_now()


def render_table(snapshots: list[QuotaSnapshot], now, hide_personal: bool = False) -> str:
    if not snapshots:
        return tr("No subscriptions found. Sign in with a supported tool (Codex, Claude Code, OpenCode, Gemini "
                  "CLI, …) or add a key in Quotagate's Providers window.")
    lines: list[str] = []
    working = [s for s in snapshots if s.windows]
    failed = [s for s in snapshots if not s.windows]
    for snapshot in working:
        title = account_title(snapshot, hide_personal)
        stale = staleness(snapshot, now)
        lines.append(title + (f"  ({stale})" if stale else ""))
        labels = [window_label(w) for w in snapshot.windows]
        width = max(_display_width(label) for label in labels)
        for label, window in zip(labels, snapshot.windows):
            padding = " " * (width - _display_width(label))
            lines.append(f"  {label}{padding}  {bar(window.remaining_percent)}  {window_status(window, now)}")
        if snapshot.error:
            lines.append(f"  ! {snapshot.error}")
    if failed:
        if lines:
            lines.append("")
        lines.append(tr("Errors"))
        for snapshot in failed:
            lines.append(f"  {account_title(snapshot, hide_personal)}: {snapshot.error}")
    return "\n".join(lines)


def _display_width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _open_store(folder: Path) -> Store | None:
    """The store, or None: a broken store must not hide the quota of the tools' own credential files."""
    try:
        return Store.open(folder)
    except Exception as exc:
        print(tr("quotagate: the store could not be read ({error}); showing credential files only.", error=exc),
              file=sys.stderr)
        return None


def _read_store(store: Store, folder: Path) -> _StoreState:
    """Keys kept in Quotagate, the privacy and language settings and the last known quota."""
    from core.gateway.accounts import AccountStore
    from core.secrets import SecretBox

    i18n.set_language(store.get_setting(settings.KEY_LANGUAGE))
    accounts = AccountStore(SecretBox.for_data_folder(folder)).accounts()
    # Sign-ins are read as stored, never renewed here: the running app may renew the same rotating token.
    return _StoreState(stored_quota_accounts(accounts) + stored_subscription_accounts(accounts), bool(store.get_setting(settings.KEY_HIDE_PERSONAL, False)),
                       last_known_snapshots())


def _remember(store: Store, folder: Path, snapshots: list[QuotaSnapshot], state: _StoreState) -> None:
    """Record new numbers in the history, so that the next run can show them if a service is down. While the
    app runs, it records them itself."""
    from core import running
    from core.store.models import QuotaSnapshotRow

    if running.current_owner(folder) is not None:
        return
    recorder = history.SnapshotRecorder(lambda row: store.writer.submit(QuotaSnapshotRow, row))
    recorder.already_recorded(state.last_known)
    if recorder.record(snapshots):
        store.writer.flush()
