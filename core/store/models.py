"""Peewee models over the schema built by `migrations.py` (which is the authority on the tables).

Models are bound to `database_proxy`, so a restore can point them at another database without re-importing.
Times are epoch seconds (REAL): sortable, zone-free and cheap to compare in range queries.
"""

from __future__ import annotations

import json
from typing import Any

from peewee import (
    AutoField,
    BlobField,
    BooleanField,
    DatabaseProxy,
    FloatField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

database_proxy = DatabaseProxy()


class JsonField(TextField):
    """JSON text. Encoded when the row is written (on the batch writer's thread, not the request path); a value
    that is not JSON reads as None rather than failing the whole page."""

    def db_value(self, value: Any) -> Any:
        return None if value is None else json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)

    def python_value(self, value: Any) -> Any:
        if value is None:
            return None
        try:
            return json.loads(value)
        except (TypeError, ValueError):
            return None


class BaseModel(Model):
    class Meta:
        database = database_proxy
        legacy_table_names = False


class Setting(BaseModel):
    key = TextField(primary_key=True)
    value = TextField()  # JSON


class ProviderAccount(BaseModel):
    id = AutoField()
    provider = TextField()
    name = TextField()
    secret = BlobField(null=True)  # encrypted at rest
    priority = IntegerField(default=0)
    active = BooleanField(default=True)
    default_model = TextField(null=True)
    options = TextField(default="{}")  # JSON: proxy, extra headers, ...
    created_at = FloatField()
    updated_at = FloatField()


class ProviderNode(BaseModel):
    id = AutoField()
    prefix = TextField(unique=True)
    name = TextField()
    base_url = TextField()
    api_format = TextField()
    headers = TextField(default="{}")
    secret = BlobField(null=True)
    created_at = FloatField()
    updated_at = FloatField()


class Combo(BaseModel):
    id = AutoField()
    name = TextField(unique=True)
    strategy = TextField(default="fallback")
    targets = TextField(default="[]")
    options = TextField(default="{}")  # JSON: accountSelection, quotaThreshold
    created_at = FloatField()
    updated_at = FloatField()


class ApiKey(BaseModel):
    id = AutoField()
    name = TextField()
    key_prefix = TextField()
    key_hash = TextField(unique=True)
    created_at = FloatField()
    last_used_at = FloatField(null=True)
    revoked_at = FloatField(null=True)
    limits = TextField(default="{}")  # JSON of core.gateway.key_limits.KeyLimits.public()


class ModelAlias(BaseModel):
    alias = TextField(primary_key=True)
    target = TextField()


class UsageRow(BaseModel):
    id = AutoField()
    ts = FloatField()
    api_key = ForeignKeyField(ApiKey, null=True, on_delete="SET NULL", column_name="api_key_id")
    provider = TextField(null=True)
    account = ForeignKeyField(ProviderAccount, null=True, on_delete="SET NULL", column_name="account_id")
    model = TextField(null=True)
    tokens_in = IntegerField(default=0)
    tokens_out = IntegerField(default=0)
    tokens_cached = IntegerField(default=0)
    tokens_reasoning = IntegerField(default=0)
    latency_ms = FloatField(null=True)
    ttft_ms = FloatField(null=True)
    status = IntegerField()
    cost = FloatField(default=0)
    path = TextField(null=True)  # the client's request path
    error = TextField(null=True)
    attempts = JsonField(null=True)  # list: each upstream attempt's provider, model, account, outcome, ms


class _RollupSums(BaseModel):
    """Sums of usage rows per time bucket, provider and model (see `core.store.rollups`); written only by the
    batch writer. The dashboard's history reads these; `_UsageRollup` adds the rest of the key."""

    id = AutoField()
    bucket_start = IntegerField()
    provider = TextField(default="")  # '' = unknown
    model = TextField(default="")
    requests = IntegerField(default=0)
    errors = IntegerField(default=0)
    tokens_in = IntegerField(default=0)
    tokens_out = IntegerField(default=0)
    tokens_cached = IntegerField(default=0)
    tokens_reasoning = IntegerField(default=0)
    cost = FloatField(default=0)
    latency_count = IntegerField(default=0)
    latency_ms_sum = FloatField(default=0)
    latency_bin_0 = IntegerField(default=0)
    latency_bin_1 = IntegerField(default=0)
    latency_bin_2 = IntegerField(default=0)
    latency_bin_3 = IntegerField(default=0)
    latency_bin_4 = IntegerField(default=0)
    latency_bin_5 = IntegerField(default=0)
    latency_bin_6 = IntegerField(default=0)
    latency_bin_7 = IntegerField(default=0)
    latency_bin_8 = IntegerField(default=0)
    latency_bin_9 = IntegerField(default=0)
    latency_bin_10 = IntegerField(default=0)
    latency_bin_11 = IntegerField(default=0)


class _UsageRollup(_RollupSums):
    """The same sums per account, client key and status as well."""

    account_id = IntegerField(default=0)  # 0 = none; kept after the account is deleted
    api_key_id = IntegerField(default=0)
    status = IntegerField()


class UsageHour(_UsageRollup):
    class Meta:
        table_name = "usage_hour"


class UsageDay(_UsageRollup):
    class Meta:
        table_name = "usage_day"


class UsageHourModel(_RollupSums):
    class Meta:
        table_name = "usage_hour_model"


class UsageDayModel(_RollupSums):
    class Meta:
        table_name = "usage_day_model"


class QuotaSnapshotRow(BaseModel):
    """One stored reading of a quota account (the in-memory reading is `core.quota.model.QuotaSnapshot`)."""

    class Meta:
        table_name = "quota_snapshot"

    id = AutoField()
    ts = FloatField()
    provider = TextField()
    account = TextField()
    payload = TextField()  # JSON of the normalized snapshot


class AuditEntry(BaseModel):
    """One configuration change (see `core.audit`): when, from where, what — secrets already masked."""

    class Meta:
        table_name = "audit_entry"

    id = AutoField()
    ts = FloatField()
    source = TextField()  # window, api or cli
    action = TextField()
    details = TextField(default="{}")  # JSON


class EvalSuiteRow(BaseModel):
    """A saved evaluation suite (see `core.evals`): its cases as JSON."""

    class Meta:
        table_name = "eval_suite"

    id = AutoField()
    name = TextField(unique=True)
    cases = TextField()  # JSON list of {prompt, system, contains, regex, notContains}
    created_at = FloatField()
    updated_at = FloatField()


class EvalRunRow(BaseModel):
    """One evaluation run: per target its pass rate, latency, tokens, cost and each case's outcome (JSON)."""

    class Meta:
        table_name = "eval_run"

    id = AutoField()
    suite = TextField()
    started_at = FloatField()
    finished_at = FloatField()
    results = TextField()


ALL_MODELS = (Setting, ProviderAccount, ProviderNode, Combo, ApiKey, ModelAlias, UsageRow,
              QuotaSnapshotRow, UsageHour, UsageDay, UsageHourModel, UsageDayModel, AuditEntry, EvalSuiteRow,
              EvalRunRow)
