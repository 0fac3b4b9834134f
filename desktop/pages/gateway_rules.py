"""Gateway rules: who may reach the gateway (IP filter), how fast all clients together may send (global rate
limit), where budgets live (the API keys' limits), and two read-only views — which targets can serve a model
now and why the others cannot, and the audit log of configuration changes.

Everything is read from and saved through the core (the configuration service checks the IP filter and the
rate limit with the same rules as the API); this page only shows and collects. The Access tab's fields are
committed with the page's Save / Revert bar, like every other page's settings."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from core import audit, settings
from core.gateway.availability import all_models, availability
from core.gateway.key_limits import MAX_RPM
from core.i18n import said, tr, translatable
from core.services import CoreServices
from core.settings import ConfigError
from desktop.widgets.commit import CommitBar, configuration_of
from desktop.widgets.feedback import (
    ERROR_COLOR,
    OK_COLOR,
    WARNING_COLOR,
    StatusLabel,
    cell,
    empty_state,
    hint,
    read_only_table,
    show_rows,
)
from desktop.widgets.field_error import FieldError, with_error
from desktop.widgets.format import date_time, timestamp
from desktop.widgets.layouts import button_row, table_section
from desktop.widgets.tasks import RefreshOnShowPage, off_loop

AUDIT_ROWS = 200

AccessState = tuple[tuple[str, ...], tuple[str, ...], int]  # allow entries, block entries, requests per minute


def source_name(source: str) -> str:
    """Where an audited change came from, in the user's words."""
    names = {"window": tr("window"), "api": tr("API"), "cli": tr("command line")}
    return names.get(source, source)


def lines(text: str) -> list[str]:
    """One entry per line; blank lines and surrounding spaces do not count."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def describe_details(details: Any) -> str:
    """An audit entry's details on one line (they are masked in the core already)."""
    return json.dumps(details, ensure_ascii=False, separators=(", ", ": "))[:500] if details else ""


class GatewayRulesPage(RefreshOnShowPage):
    def __init__(self, services: CoreServices) -> None:
        super().__init__("Gateway rules page")
        self.services = services
        self.check_task: asyncio.Task[None] | None = None

        tabs = QTabWidget()
        tabs.addTab(self._access_tab(), tr("Access"))
        tabs.addTab(self._availability_tab(), tr("Availability"))
        tabs.addTab(self._audit_tab(), tr("Audit log"))
        self.tabs = tabs

        self.commit = CommitBar(self.tasks, self.access_state, self.show_access, self._save)
        self.commit.add_field(settings.KEY_IP_FILTER, self.allow_edit, self.ip_error,
                              self.allow_edit.textChanged, self.block_edit.textChanged)
        self.commit.add_field(settings.KEY_RATE_LIMIT, self.rate_spin, self.rate_error, self.rate_spin.valueChanged)
        self.feedback = self.commit.status
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(tabs, 1)
        layout.addWidget(self.commit)

    # -- building ---------------------------------------------------------------------------------------
    def _access_tab(self) -> QWidget:
        self.allow_edit = QPlainTextEdit()
        self.allow_edit.setPlaceholderText(tr("Empty: every address may connect\ne.g. 192.168.1.0/24"))
        self.block_edit = QPlainTextEdit()
        self.block_edit.setPlaceholderText(tr("e.g. 203.0.113.7"))
        lists = QHBoxLayout()
        for title, edit in ((tr("Allow (one address or CIDR range per line)"), self.allow_edit),
                            (tr("Block"), self.block_edit)):
            column = QVBoxLayout()
            column.addWidget(QLabel(title))
            column.addWidget(edit)
            lists.addLayout(column)
        self.enforced_label = hint("")
        ip_box = QGroupBox(tr("IP filter"))
        ip_layout = QVBoxLayout(ip_box)
        ip_layout.addWidget(hint(tr("For /v1 and /api when the gateway listens on the network. This computer "
                                    "(127.0.0.1, ::1) is always allowed, so you cannot lock yourself out.")))
        ip_layout.addLayout(lists)
        self.ip_error = FieldError()
        ip_layout.addWidget(self.ip_error)
        ip_layout.addWidget(self.enforced_label)

        self.rate_spin = QSpinBox()
        self.rate_spin.setRange(0, MAX_RPM)
        self.rate_spin.setSpecialValueText(tr("No limit"))
        self.rate_spin.setSuffix(tr(" requests per minute"))
        self.rate_spin.setMaximumWidth(260)
        rate_box = QGroupBox(tr("Global rate limit"))
        rate_form = QFormLayout(rate_box)
        self.rate_error = FieldError()
        rate_form.addRow(tr("All clients together:"), with_error(self.rate_spin, self.rate_error))
        rate_form.addRow(hint(tr("Past it, requests get HTTP 429 with Retry-After. Each API key can also have "
                                 "its own limit.")))

        budgets_box = QGroupBox(tr("Budgets"))
        budgets_layout = QVBoxLayout(budgets_box)
        budgets_layout.addWidget(hint(tr("Daily and monthly budgets in USD are set per API key: API keys › Limits. "
                                         "A key over its budget gets HTTP 429 until the budget resets.")))

        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.addWidget(ip_box, 1)
        layout.addWidget(rate_box)
        layout.addWidget(budgets_box)
        return tab

    def _availability_tab(self) -> QWidget:
        self.model_box = QComboBox()
        self.model_box.setEditable(True)
        self.model_box.setMinimumWidth(320)
        self.model_box.lineEdit().setPlaceholderText(tr("A model (provider/model), alias or combo"))
        self.check_button = QPushButton(tr("Check"))
        self.check_button.clicked.connect(self.check)
        self.availability_status = StatusLabel()
        self.targets_table = read_only_table([tr("Account"), tr("Target"), tr("State"), tr("Why"), tr("Until")],
                                             stretch=3)
        self.targets_empty = empty_state(tr("Choose a model or combo and press Check to see which accounts can "
                                            "serve it now, and why the others cannot."))
        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.addLayout(button_row(self.model_box, self.check_button))
        layout.addWidget(self.availability_status)
        layout.addWidget(self.targets_table, 1)
        layout.addWidget(self.targets_empty, 1)
        self.targets_table.hide()
        return tab

    def _audit_tab(self) -> QWidget:
        self.audit_table = read_only_table([tr("When"), tr("From"), tr("Change"), tr("Details")], stretch=3)
        self.audit_empty = empty_state(tr("Configuration changes are listed here: from this window, the "
                                          "management API or the command line, with secrets masked."))
        refresh = QPushButton(tr("Refresh"))
        refresh.clicked.connect(self.refresh_soon)
        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.addWidget(table_section(tr("Latest changes"), self.audit_table, self.audit_empty,
                                       button_row(refresh)))
        return tab

    # -- reading ----------------------------------------------------------------------------------------
    def can_refresh(self) -> bool:
        return self.services.store is not None and self.services.runtime is not None

    async def refresh(self) -> None:
        store, runtime = self.services.store, self.services.runtime
        if store is None or runtime is None:
            return
        ip_filter = await off_loop(store.get_setting, settings.KEY_IP_FILTER) or {}
        rate = await off_loop(store.get_setting, settings.KEY_RATE_LIMIT) or {}
        entries = await off_loop(audit.recent, AUDIT_ROWS)
        if not self.commit.dirty and not self.commit.saving():  # the user's edits win over what was read
            self.show_access((tuple(ip_filter.get("allow", [])), tuple(ip_filter.get("block", [])),
                              rate.get("requestsPerMinute") or 0))
            self.commit.reset()
        self.enforced_label.setText(
            tr("The gateway listens on this computer only, so the lists apply once it listens on the network.")
            if settings.is_loopback_host(self.services.host) else
            tr("The gateway listens on {host}: the lists apply now.", host=self.services.host))
        self._show_audit(entries)
        current = self.model_box.currentText()
        self.model_box.clear()
        self.model_box.addItems(all_models(runtime.config.table))
        self.model_box.setEditText(current)

    def _show_audit(self, entries: list[dict[str, Any]]) -> None:
        rows = [[cell(timestamp(e["timestamp"])), cell(source_name(e["source"])),
                 cell(tr(e["action"])), cell(describe_details(e["details"]), tooltip=describe_details(e["details"]))]
                for e in entries]
        show_rows(self.audit_table, self.audit_empty, rows)

    # -- the Access tab's form ---------------------------------------------------------------------------
    def access_state(self) -> AccessState:
        """What the Access tab says; blank lines and surrounding spaces are no change."""
        return (tuple(lines(self.allow_edit.toPlainText())), tuple(lines(self.block_edit.toPlainText())),
                self.rate_spin.value())

    def show_access(self, state: AccessState) -> None:
        allow, block, rpm = state
        self.allow_edit.setPlainText("\n".join(allow))
        self.block_edit.setPlainText("\n".join(block))
        self.rate_spin.setValue(rpm)

    # -- saving -----------------------------------------------------------------------------------------
    def save(self) -> asyncio.Task[bool]:
        return self.commit.start_save()

    async def _save(self) -> str:
        configuration = configuration_of(self.services)
        allow, block, rpm = self.access_state()
        ip_filter = {"allow": list(allow), "block": list(block)} if allow or block else None
        # the same rules as the API: a refusal names the entry and lands under the lists
        try:
            await configuration.update_settings(
                {settings.KEY_IP_FILTER: ip_filter,
                 settings.KEY_RATE_LIMIT: {"requestsPerMinute": rpm} if rpm else None},
                {settings.KEY_IP_FILTER: tr("IP filter"), settings.KEY_RATE_LIMIT: tr("Global rate limit")},
                reason=translatable("changing the gateway rules"))
        except ConfigError as exc:
            if exc.key == settings.KEY_IP_FILTER:  # the focus goes to the list that holds the refused entry
                in_block = any(repr(entry[:60]) in str(exc) for entry in block if entry not in allow)
                self.commit.add_field(settings.KEY_IP_FILTER, self.block_edit if in_block else self.allow_edit,
                                      self.ip_error)
            raise
        self.show_access((allow, block, rpm))  # tidied: one entry per line, no blank lines
        await self.refresh()  # the audit tab lists the change (the form is left as it is while saving)
        return tr("Saved. The gateway uses the new rules now.")

    # -- availability -----------------------------------------------------------------------------------
    def check(self) -> asyncio.Task[None] | None:
        model = self.model_box.currentText().strip()
        if not model:
            self.availability_status.error(tr("Choose a model or combo first."))
            return None
        self.check_task = self.tasks.start(self._check(model))
        return self.check_task

    async def _check(self, model: str) -> None:
        runtime, accounts_store = self.services.runtime, self.services.accounts
        if runtime is None or accounts_store is None:
            self.availability_status.error(tr("Quotagate is not running its gateway right now."))
            return
        accounts = await off_loop(accounts_store.accounts)
        answer = availability(runtime, model, accounts)
        ready = sum(1 for t in answer["targets"] if t["available"])
        if ready:
            self.availability_status.ok(tr("{model}: {count} of {total} targets can serve it now.", model=model,
                                           count=ready, total=len(answer["targets"])))
        else:
            self.availability_status.error(tr("{model}: no target can serve it now.", model=model))
        rows = []
        for target in answer["targets"]:
            where = "/".join(part for part in (target["provider"], target["model"]) if part)
            state, color = ((tr("ready"), OK_COLOR) if target["available"] else
                            (tr("waiting"), WARNING_COLOR) if target["until"] else (tr("unavailable"), ERROR_COLOR))
            why = said(target.get("note") or target["reason"] or "")  # the API says it in English
            rows.append([cell(target["account"] or "—"), cell(where), cell(state, color=color),
                         cell(why, tooltip=why), cell(date_time(target["until"]) if target["until"] else "—")])
        show_rows(self.targets_table, self.targets_empty, rows)
