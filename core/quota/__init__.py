"""The quota glance, headless: per-provider quota readers, the refresh engine, pace and notifications.

Typical use (tray, CLI):

    engine = QuotaEngine(account_source=stored_accounts)      # or only={"openai"} for --provider
    engine.snapshots_changed.connect(on_snapshots)           # list[QuotaSnapshot]
    engine.start()                                           # background refresh every 5 minutes
    await engine.refresh_now()                               # "Refresh now" / `quotagate status`
    await engine.stop()

History (`core.quota.history`) records changed snapshots in the store; `ThresholdNotifier` turns snapshots
into notifications; `pace` / `format_countdown` feed the menu lines.
"""

from core.quota.accounts import AccountSource, StoredAccount
from core.quota.alerts import DEFAULT_THRESHOLDS, QuotaAlert, ThresholdNotifier
from core.quota.engine import Backoff, QuotaEngine
from core.quota.model import ErrorKind, QuotaSnapshot, QuotaWindow, mask_identity, mask_secret, status_json
from core.quota.pace import Pace, format_countdown, format_duration, format_pace, pace
from core.quota.providers import PROVIDER_IDS, default_providers

__all__ = [
    "DEFAULT_THRESHOLDS", "PROVIDER_IDS", "AccountSource", "Backoff", "ErrorKind", "Pace", "QuotaAlert",
    "QuotaEngine", "QuotaSnapshot", "QuotaWindow", "StoredAccount", "ThresholdNotifier", "default_providers",
    "format_countdown", "format_duration", "format_pace", "mask_identity", "mask_secret", "pace", "status_json",
]
