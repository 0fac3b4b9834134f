"""Combos: named models that route to an ordered or balanced set of targets. The list, a dialog to create and
edit one, and a Test that sends one real request through the running gateway and says which target answered.
The checks (names, references, cycles, weights) are the configuration service's; this page only collects the
input, calls it off the loop, and shows its answer."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from typing import Any, Callable

import httpx
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.configuration import Configuration
from core.gateway.accounts import Account, CustomEndpoint
from core.gateway.combos import STRATEGIES, Combo, ComboOptions, ComboRef, ModelTarget, load_combos
from core.i18n import said, tr
from core.providers import catalog
from core.services import CoreServices
from core.settings import ACCOUNT_SELECTIONS
from core.settings import ConfigError
from desktop.pages.aliases import AliasesSection
from desktop.widgets import format as fmt
from desktop.widgets.feedback import (
    ConfirmBox,
    StatusLabel,
    cell,
    empty_state,
    hint,
    read_only_table,
    select_row_with,
    selected_data,
    show_rows,
)
from desktop.widgets.layouts import button_row, table_section
from desktop.widgets.long_action import LongAction
from desktop.widgets.saving_dialog import SavingDialog
from desktop.widgets.tasks import RefreshOnShowPage, off_loop

log = logging.getLogger(__name__)

TEST_TIMEOUT = 120.0  # seconds; a combo may go through several slow targets before one answers
MODEL = "model"
COMBO = "combo-ref"


def strategy_label(strategy: str) -> str:
    labels = {"priority": tr("Priority"), "round-robin": tr("Round-robin"), "weighted": tr("Weighted"),
              "random": tr("Random"), "least-used": tr("Least used"), "cost-optimized": tr("Cheapest first"),
              "p2c": tr("Power of two choices"), "lkgp": tr("Last known good"), "headroom": tr("Most quota left"),
              "reset-aware": tr("Soonest reset first")}
    return labels.get(strategy, strategy)


def strategy_explanation(strategy: str) -> str:
    explanations = {
        "priority": tr("Tries the targets in the listed order; the next one takes over when one fails."),
        "round-robin": tr("Takes turns: each request starts at the next target in the list."),
        "weighted": tr("Shares requests by weight: a target of weight 3 gets three times as many as one of 1."),
        "random": tr("Starts each request at a target picked at random; the others remain fallbacks."),
        "least-used": tr("Starts with the target that has served the fewest requests lately."),
        "cost-optimized": tr("Starts with the cheapest target by the price table."),
        "p2c": tr("Picks two targets at random and starts with the one with lower latency and fewer errors."),
        "lkgp": tr("Starts with the target that answered last (last known good)."),
        "headroom": tr("Starts with the subscription or plan that has the most quota left in its tightest window."),
        "reset-aware": tr("Spends first the quota that resets soonest, while it still has some left."),
    }
    return explanations.get(strategy, "")


def account_selection_label(selection: str | None) -> str:
    labels = {None: tr("Gateway default"), "fill-first": tr("Fill first (by priority)"),
              "round-robin": tr("Take turns"), "least-used": tr("Least used"), "headroom": tr("Most quota left")}
    return labels.get(selection, selection or "")


def target_text(target: ModelTarget | ComboRef, accounts: dict[int, str] | None = None, weighted: bool = False) -> str:
    """How a target reads in the list: the model or combo, the one account it is pinned to, its weight."""
    if isinstance(target, ComboRef):
        text = tr("combo {name}", name=target.name)
    elif target.account_id is not None:
        account = (accounts or {}).get(target.account_id) or tr("account {id}", id=target.account_id)
        text = f"{target.model} ({account})"
    else:
        text = target.model
    return f"{text} ×{target.weight:g}" if weighted else text


@dataclass
class ProbeOutcome:
    """What one Test request through the gateway came back with."""

    ok: bool
    seconds: float
    status: int | None = None
    provider: str = ""
    model: str = ""
    account: str = ""
    fallbacks: int = 0
    message: str = ""


async def send_test_request(url: str, model: str, timeout: float = TEST_TIMEOUT) -> ProbeOutcome:
    """One real one-token chat request for `model` through the running gateway, as a client would send it."""
    body = {"model": model, "messages": [{"role": "user", "content": "Reply with OK."}], "max_tokens": 1,
            "stream": False}
    started = time.perf_counter()
    try:
        async with httpx.AsyncClient(timeout=timeout, trust_env=False) as client:
            response = await client.post(f"{url}/v1/chat/completions", json=body)
    except httpx.HTTPError as exc:
        return ProbeOutcome(False, time.perf_counter() - started, message=str(exc) or type(exc).__name__)
    seconds = time.perf_counter() - started
    headers = response.headers
    try:
        fallbacks = int(headers.get("x-quotagate-fallbacks", "0"))
    except ValueError:
        fallbacks = 0
    outcome = ProbeOutcome(response.is_success, seconds, response.status_code, headers.get("x-quotagate-provider", ""),
                          headers.get("x-quotagate-model", ""), headers.get("x-quotagate-account", ""), fallbacks)
    if not response.is_success:
        outcome.message = _error_message(response.content) or response.reason_phrase
    return outcome


def _error_message(content: bytes) -> str:
    try:
        payload = json.loads(content)
    except ValueError:
        return content.decode("utf-8", "replace")[:1000].strip()
    error = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(error, dict):
        return str(error.get("message") or "")
    return str(error or "")


def describe_outcome(name: str, outcome: ProbeOutcome) -> str:
    ms = f"{outcome.seconds * 1000:.0f}"
    if outcome.ok:
        target = f"{outcome.provider}/{outcome.model}" if outcome.provider else tr("an unnamed target")
        account = tr(" (account {account})", account=outcome.account) if outcome.account else ""
        text = tr("{name}: answered by {target}{account} in {ms} ms.", name=name, target=target, account=account,
                  ms=ms)
        if outcome.fallbacks == 1:
            text += tr(" One target failed before it.")
        elif outcome.fallbacks > 1:
            text += tr(" {count} targets failed before it.", count=outcome.fallbacks)
        return text
    lead = (tr("{name}: failed after {ms} ms (HTTP {status}).", name=name, ms=ms, status=outcome.status)
            if outcome.status is not None
            else tr("{name}: the gateway could not be reached ({ms} ms).", name=name, ms=ms))
    return f"{lead}\n{_reasons(outcome.message)}" if outcome.message else lead


def _reasons(message: str) -> str:
    """The gateway names each failed target after "failed: ", separated by "; ": one line each."""
    _, found, rest = message.partition(" failed: ")
    if not found or "; " not in rest and ": " not in rest:
        return message
    return "\n".join(f"  • {reason}" for reason in rest.rstrip(".").split("; "))


class CombosPage(RefreshOnShowPage):
    """Combos can also change through the management API: the page reads them again whenever it is shown."""

    def __init__(self, services: CoreServices) -> None:
        super().__init__("Combos page")
        self.services = services
        self.combos: list[Combo] = []
        self.accounts: list[Account] = []
        self.endpoints: list[CustomEndpoint] = []
        self.aliases: dict[str, str] = {}
        self.dialog: ComboDialog | None = None  # the open create/edit dialog (tests reach it here)
        self.confirm_box: ConfirmBox | None = None

        about = hint(tr("A combo is a model name of your own (e.g. coding) that clients ask for like any model. "
                        "The gateway sends each request to one of its targets in the order its strategy picks, "
                        "and falls back to the next when a target fails or runs out of quota."))

        self.table = read_only_table([tr("Name"), tr("Strategy"), tr("Targets")], stretch=2)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.itemDoubleClicked.connect(lambda _item: self.open_dialog(self._selected()))
        self.empty = empty_state(tr("No combos yet. Create one to give several models or accounts one name, "
                                    "with fallback between them."))
        self.add_button = QPushButton(tr("New combo…"))
        self.add_button.clicked.connect(lambda: self.open_dialog())
        self.edit_button = QPushButton(tr("Edit…"))
        self.edit_button.clicked.connect(lambda: self.open_dialog(self._selected()))
        self.delete_button = QPushButton(tr("Delete…"))
        self.delete_button.clicked.connect(self.confirm_delete)
        self.test_button = QPushButton(tr("Test"))
        self.test_button.setToolTip(tr("Send one short request for the selected combo through the gateway and "
                                       "show which target answered"))
        self.test_button.clicked.connect(self.test_selected)
        self.status = StatusLabel()  # the last action's outcome (a test, a save, a delete): one line, replaced
        self.test_action = LongAction(self.tasks, self.status, self, tr("Cancel test"))
        self.test_action.running_changed.connect(lambda _running: self._update_buttons())
        self.cancel_test_button = self.test_action.cancel_button
        buttons = button_row(self.add_button, self.edit_button, self.delete_button,
                             right=self.test_action.button_slot(self.test_button))
        box = table_section("", self.table, self.empty, buttons, self.status)
        usage = hint(tr("Clients use a combo by its name as the model, in every API format the gateway speaks."))

        # What the gateway remembers about failing targets, live: they are skipped until they come back.
        self.health_table = read_only_table([tr("Target"), tr("State"), tr("Why"), tr("Back in")], stretch=2)
        self.health_empty = empty_state(tr("Every target is available: none is cooling down, set aside or "
                                           "behind an open circuit."))
        self.reset_button = QPushButton(tr("Reset"))
        self.reset_button.setToolTip(tr("Forget cooldowns, set-aside accounts and open circuits: every target is "
                                        "tried again from the next request"))
        self.reset_button.clicked.connect(self.reset_health)
        health = table_section(tr("Target health"), self.health_table, self.health_empty,
                               button_row(right=self.reset_button))
        self.health_timer = QTimer(self)
        self.health_timer.setInterval(1000)
        self.health_timer.timeout.connect(self.show_health)

        layout = QVBoxLayout(self)
        layout.addWidget(about)
        layout.addWidget(box, 2)
        layout.addWidget(usage)
        layout.addWidget(health, 1)
        self.aliases_section = AliasesSection(self._configuration, self.tasks, self.refresh)
        layout.addWidget(self.aliases_section, 1)
        self._show()
        self.show_health()
        self.refresh_soon()

    # -- target health ---------------------------------------------------------------------------
    def showEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        super().showEvent(event)
        self.show_health()
        self.health_timer.start()

    def hideEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        self.health_timer.stop()
        super().hideEvent(event)

    def show_health(self) -> None:
        runtime = self.services.runtime
        state = runtime.resilience.state() if runtime is not None else {"cooldowns": [], "marks": [],
                                                                           "breakers": []}
        names = {a.id: a.name for a in self.accounts}
        rows = []
        for item in state["cooldowns"]:
            target = f"{item['provider']}/{item['model']} ({names.get(item['accountId'], item['accountId'])})"
            rows.append([cell(target), cell(tr("Cooling down")), cell(said(item["reason"])),
                         cell(tr("{seconds} s", seconds=f"{item['seconds']:.0f}"), align_right=True)])
        for item in state["marks"]:
            rows.append([cell(f"{item['provider']} ({item['account']})"), cell(tr("Set aside")),
                         cell(said(item["reason"])), cell(tr("when its key changes"), align_right=True)])
        for item in state["breakers"]:
            if item["state"] != "closed":
                back = tr("{seconds} s", seconds=f"{item['seconds']:.0f}") if item["state"] == "open" else "—"
                rows.append([cell(item["provider"]), cell(tr("Circuit open") if item["state"] == "open"
                                                          else tr("Being probed")),
                             cell(fmt.plural(item["failures"], tr("{count} failure in a row"),
                                              tr("{count} failures in a row"))),
                             cell(back, align_right=True)])
        show_rows(self.health_table, self.health_empty, rows, None)
        self.reset_button.setEnabled(bool(rows))

    def reset_health(self) -> None:
        if self.services.runtime is not None:
            self.services.runtime.resilience.reset()
        self.show_health()
        self.status.ok(tr("Every target will be tried again from the next request."))

    # -- data ------------------------------------------------------------------------------------
    def can_refresh(self) -> bool:
        return self.services.accounts is not None and self.services.store is not None

    async def refresh(self) -> None:
        store = self.services.accounts
        if store is None:
            return
        try:
            self.combos, self.accounts, self.endpoints, self.aliases = await off_loop(
                lambda: (load_combos(), store.accounts(), store.endpoints(), store.aliases()))
        except Exception as exc:
            log.exception("Reading combos failed")
            self.status.error(tr("Could not read the combos: {error}", error=exc))
            return
        self._show()

    def _show(self, select: int | None = None) -> None:
        selected = select if select is not None else selected_data(self.table)
        rows = []
        names = {a.id: a.name for a in self.accounts}
        for combo in self.combos:
            texts = [target_text(t, names, combo.strategy == "weighted") for t in combo.targets]
            rows.append([cell(combo.name, data=combo.id), cell(strategy_label(combo.strategy)),
                         cell(", ".join(texts), tooltip="\n".join(texts))])
        show_rows(self.table, self.empty, rows, selected)
        if rows and not self.table.selectionModel().selectedRows():
            self.table.selectRow(0)
        self._update_buttons()
        choices = TargetChoices.gather(self.accounts, self.endpoints, {}, [], None, self._endpoint_models)
        self.aliases_section.show_aliases(self.aliases, [c.value for c in choices.choices])

    def _selected(self) -> Combo | None:
        combo_id = selected_data(self.table)
        return next((c for c in self.combos if c.id == combo_id), None)

    def _update_buttons(self) -> None:
        has = self._selected() is not None
        self.edit_button.setEnabled(has)
        self.delete_button.setEnabled(has)
        self.test_button.setEnabled(has and not self.test_action.running())

    def _configuration(self) -> Configuration:
        if self.services.configuration is None:
            raise ConfigError(tr("Quotagate is not running its store right now; try again in a moment."))
        return self.services.configuration

    # -- create, edit, delete ----------------------------------------------------------------------
    def open_dialog(self, combo: Combo | None = None) -> ComboDialog:
        choices = TargetChoices.gather(self.accounts, self.endpoints, self.aliases, self.combos, combo,
                                       self._endpoint_models)
        dialog = ComboDialog(self, combo, choices, lambda values: self._save(combo, values))
        self.dialog = dialog
        dialog.open()
        return dialog

    def _endpoint_models(self, prefix: str) -> list[str]:
        runtime = self.services.runtime
        return (runtime.endpoint_models.ids(prefix) or []) if runtime is not None else []

    async def _save(self, combo: Combo | None, values: dict[str, Any]) -> None:
        """Raises ConfigError (shown in the dialog) when the configuration refuses the combo."""
        configuration = self._configuration()
        if combo is None:
            saved = await configuration.add_combo(values)
            done = tr("Created {name}. Clients can ask for the model “{name}” now.", name=saved.name)
        else:
            saved = await configuration.update_combo(combo.id, values)
            done = tr("Saved {name}.", name=saved.name)
        await self.refresh()
        select_row_with(self.table, saved.id)
        self.status.ok(done)

    def confirm_delete(self) -> ConfirmBox | None:
        combo = self._selected()
        if combo is None:
            return None
        self.confirm_box = ConfirmBox(self, tr("Delete combo"), tr("Delete the combo “{name}”?", name=combo.name),
                                      tr("Delete"), lambda: self.tasks.start(self._delete(combo)),
                                      tr("Clients asking for “{name}” will get an error afterwards.", name=combo.name))
        self.confirm_box.open()
        return self.confirm_box

    async def _delete(self, combo: Combo) -> None:
        try:
            await self._configuration().delete_combo(combo.id)
        except ConfigError as exc:
            self.status.error(tr("Could not delete {name}: {error}", name=combo.name, error=exc))
            return
        await self.refresh()
        self.status.ok(tr("Deleted {name}.", name=combo.name))

    # -- Test ------------------------------------------------------------------------------------
    def test_selected(self) -> asyncio.Task[None] | None:
        """One request for the selected combo through the gateway; its status line counts the seconds and
        Cancel stops it."""
        combo = self._selected()
        if combo is None:
            self.status.error(tr("Select a combo to test."))
            return None
        state = self.services.gateway_state
        if not state.running:
            self.status.error(tr("The gateway is stopped, so nothing can be tested now."))
            return None

        def done(outcome: ProbeOutcome, _seconds: float) -> None:
            text = describe_outcome(combo.name, outcome)
            if outcome.status == 401:
                text += "\n" + tr("The gateway asks clients for an API key (API keys page), so the Test cannot "
                                  "pass; try the combo from a client that sends a key.")
            (self.status.ok if outcome.ok else self.status.error)(text)

        return self.test_action.start(
            tr("Testing {name}…", name=combo.name), lambda: send_test_request(state.url, combo.name), done,
            lambda seconds: tr("{name}: test cancelled after {seconds} s.", name=combo.name, seconds=seconds),
            lambda exc: tr("{name}: the test could not run ({error}).", name=combo.name, error=exc))

    def cancel_test(self) -> None:
        self.test_action.cancel()


@dataclass
class Choice:
    label: str
    kind: str  # MODEL or COMBO
    value: str  # "provider/model" or a combo's name


@dataclass
class TargetChoices:
    """What the dialog offers to add, and the accounts a model target may be pinned to."""

    choices: list[Choice]
    accounts: list[Account]

    @classmethod
    def gather(cls, accounts: list[Account], endpoints: list[CustomEndpoint], aliases: dict[str, str],
               combos: list[Combo], editing: Combo | None, endpoint_models: Any) -> TargetChoices:
        choices: list[Choice] = []
        connected = {a.provider for a in accounts if a.active and not a.needs_key}
        for provider in catalog.providers():
            if provider.id in connected:
                choices += [Choice(f"{provider.prefix}/{m.id}", MODEL, f"{provider.prefix}/{m.id}")
                            for m in provider.models if m.kind == "chat"]
        for endpoint in endpoints:
            choices += [Choice(f"{endpoint.prefix}/{m}", MODEL, f"{endpoint.prefix}/{m}")
                        for m in endpoint_models(endpoint.prefix)]
        choices += [Choice(tr("{alias} (alias of {model})", alias=alias, model=model), MODEL, alias)
                    for alias, model in sorted(aliases.items())]
        choices += [Choice(tr("combo {name}", name=c.name), COMBO, c.name) for c in combos
                    if editing is None or c.id != editing.id]
        return cls(choices, accounts)

    def accounts_for(self, model: str) -> list[Account]:
        prefix, slash, _ = model.partition("/")
        provider = catalog.get_provider(prefix) if slash else None
        return [a for a in self.accounts if provider is not None and a.provider == provider.id]


class _ReorderableTable(QTableWidget):
    """Rows move by drag and drop. Qt's own InternalMove moves cells, not rows, and leaves the cell widgets
    (account, weight) behind, so a drop is turned into a whole-row move instead."""

    def __init__(self, rows: int, columns: int, move_row: Callable[[int, int], None]) -> None:
        super().__init__(rows, columns)
        self._move_row = move_row
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.setDropIndicatorShown(True)

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt's name)
        if event.source() is not self:  # only rows dragged from this table
            event.ignore()
            return
        event.setDropAction(Qt.DropAction.IgnoreAction)  # nothing for Qt to do: the rows are refilled
        event.accept()
        self.drop_selected_at(round(event.position().y()))

    def drop_selected_at(self, y: int) -> None:
        """The selected row goes where it was dropped (below the last row: to the end)."""
        rows = self.selectionModel().selectedRows()
        if rows:
            to = self.rowAt(y)
            self._move_row(rows[0].row(), self.rowCount() - 1 if to < 0 else to)


class TargetRows(QWidget):
    """The combo's targets in order: each a model (with an account picker) or a combo, and a weight."""

    COLUMNS = 3

    def __init__(self, choices: TargetChoices, targets: tuple[ModelTarget | ComboRef, ...]) -> None:
        super().__init__()
        self.choices = choices
        self.weights_enabled = True
        self.table = _ReorderableTable(0, self.COLUMNS, self.move_row)
        self.table.setHorizontalHeaderLabels([tr("Target"), tr("Account"), tr("Weight")])
        self.table.horizontalHeaderItem(2).setToolTip(tr("Used by the weighted strategy"))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(True)
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 16)
        self.table.setMinimumHeight(200)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemSelectionChanged.connect(self._update_buttons)

        self.picker = QComboBox()
        self.picker.setEditable(True)
        self.picker.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.picker.lineEdit().setPlaceholderText(tr("provider/model, or pick a model or combo"))
        for choice in choices.choices:
            self.picker.addItem(choice.label, choice)
        self.picker.setCurrentIndex(-1)
        self.picker.setMinimumContentsLength(28)
        self.add_button = QPushButton(tr("Add target"))
        self.add_button.clicked.connect(self.add_from_picker)
        self.picker.lineEdit().returnPressed.connect(self.add_from_picker)
        self.up_button = QPushButton(tr("Up"))
        self.up_button.setToolTip(tr("Move the selected target up (tried earlier)"))
        self.up_button.clicked.connect(lambda: self.move(-1))
        self.down_button = QPushButton(tr("Down"))
        self.down_button.setToolTip(tr("Move the selected target down (tried later)"))
        self.down_button.clicked.connect(lambda: self.move(1))
        self.remove_button = QPushButton(tr("Remove"))
        self.remove_button.clicked.connect(self.remove_selected)

        add_row = QHBoxLayout()
        add_row.addWidget(self.picker, 1)
        add_row.addWidget(self.add_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(add_row)
        layout.addWidget(self.table, 1)
        layout.addLayout(button_row(self.up_button, self.down_button, self.remove_button))
        for target in targets:
            if isinstance(target, ComboRef):
                self.add_row(COMBO, target.name, None, target.weight)
            else:
                self.add_row(MODEL, target.model, target.account_id, target.weight)
        self._update_buttons()

    # -- rows --------------------------------------------------------------------------------------
    def add_from_picker(self) -> None:
        text = self.picker.currentText().strip()
        index = self.picker.findText(text, Qt.MatchFlag.MatchExactly)
        choice = self.picker.itemData(index) if index >= 0 else None
        if isinstance(choice, Choice):
            self.add_row(choice.kind, choice.value)
        elif text:
            self.add_row(MODEL, text)
        else:
            return
        self.picker.setCurrentIndex(-1)
        self.picker.clearEditText()

    def add_row(self, kind: str, value: str, account_id: int | None = None, weight: float = 1.0) -> int:
        row = self.table.rowCount()
        self.table.insertRow(row)
        self._fill_row(row, kind, value, account_id, weight)
        self.table.selectRow(row)
        return row

    def _fill_row(self, row: int, kind: str, value: str, account_id: int | None, weight: float) -> None:
        label = tr("combo {name}", name=value) if kind == COMBO else value
        item = QTableWidgetItem(label)
        item.setData(Qt.ItemDataRole.UserRole, (kind, value))
        item.setToolTip(label)
        self.table.setItem(row, 0, item)
        account = QComboBox()
        if kind == COMBO:
            account.addItem(tr("its own targets"), None)
            account.setEnabled(False)
        else:
            account.addItem(tr("Any account"), None)
            for candidate in self.choices.accounts_for(value):
                account.addItem(candidate.name, candidate.id)
            if account_id is not None:
                index = account.findData(account_id)
                if index < 0:  # an account that is gone: keep it, the configuration says what is wrong
                    account.addItem(tr("account {id}", id=account_id), account_id)
                    index = account.count() - 1
                account.setCurrentIndex(index)
            account.setEnabled(account.count() > 1)
        self.table.setCellWidget(row, 1, account)
        spin = QDoubleSpinBox()
        spin.setRange(0, 1_000_000)
        spin.setDecimals(2)
        spin.setValue(weight)
        spin.setMinimumWidth(90)
        spin.setEnabled(self.weights_enabled)
        self.table.setCellWidget(row, 2, spin)

    def _row_values(self, row: int) -> tuple[str, str, int | None, float]:
        kind, value = self.table.item(row, 0).data(Qt.ItemDataRole.UserRole)
        account = self.table.cellWidget(row, 1)
        weight = self.table.cellWidget(row, 2)
        return kind, value, account.currentData(), weight.value()

    def selected_row(self) -> int:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].row() if rows else -1

    def move(self, step: int) -> None:
        row = self.selected_row()
        if row >= 0:
            self.move_row(row, row + step)

    def move_row(self, row: int, to: int) -> None:
        """Put the target at `row` at position `to` (the Up/Down buttons and drag and drop)."""
        if not 0 <= row < self.table.rowCount() or not 0 <= to < self.table.rowCount() or row == to:
            return
        values = [self._row_values(r) for r in range(self.table.rowCount())]
        values.insert(to, values.pop(row))
        for index, value in enumerate(values):
            self._fill_row(index, *value)
        self.table.selectRow(to)

    def remove_selected(self) -> None:
        row = self.selected_row()
        if row >= 0:
            self.table.removeRow(row)
            if self.table.rowCount():
                self.table.selectRow(min(row, self.table.rowCount() - 1))
        self._update_buttons()

    def _update_buttons(self) -> None:
        row = self.selected_row()
        self.up_button.setEnabled(row > 0)
        self.down_button.setEnabled(0 <= row < self.table.rowCount() - 1)
        self.remove_button.setEnabled(row >= 0)

    def set_weights_enabled(self, enabled: bool) -> None:
        """Weights only matter to the weighted strategy; they are kept, greyed out, for the others."""
        self.weights_enabled = enabled
        for row in range(self.table.rowCount()):
            self.table.cellWidget(row, 2).setEnabled(enabled)

    def labels(self) -> list[str]:
        return [self.table.item(r, 0).text() for r in range(self.table.rowCount())]

    def models(self) -> list[dict[str, Any]]:
        """The rows in the API's shape; the configuration service checks them."""
        models: list[dict[str, Any]] = []
        for row in range(self.table.rowCount()):
            kind, value, account_id, weight = self._row_values(row)
            if kind == COMBO:
                models.append({"kind": COMBO, "comboName": value, "weight": weight})
                continue
            provider, slash, model = value.partition("/")
            target: dict[str, Any] = ({"kind": MODEL, "provider": provider, "model": model} if slash
                                      else {"kind": MODEL, "model": value})
            target["weight"] = weight
            if account_id is not None:
                target["connectionId"] = account_id
            models.append(target)
        return models


class ComboDialog(SavingDialog):
    def __init__(self, parent: QWidget, combo: Combo | None, choices: TargetChoices, save: Any) -> None:
        super().__init__(parent, tr("Edit combo") if combo else tr("New combo"), save)
        self.combo = combo
        self.setMinimumWidth(640)
        self.resize(680, 560)
        self.name_field = QLineEdit(combo.name if combo else "")
        self.name_field.setPlaceholderText(tr("e.g. coding"))
        self.strategy_field = QComboBox()
        for strategy in STRATEGIES:
            self.strategy_field.addItem(strategy_label(strategy), strategy)
            self.strategy_field.setItemData(self.strategy_field.count() - 1, strategy_explanation(strategy),
                                            Qt.ItemDataRole.ToolTipRole)
        if combo is not None:
            self.strategy_field.setCurrentIndex(max(0, self.strategy_field.findData(combo.strategy)))
        self.strategy_hint = hint("")
        self.strategy_field.currentIndexChanged.connect(self._explain_strategy)
        self._explain_strategy()
        self.targets = TargetRows(choices, combo.targets if combo else ())
        self._explain_strategy()
        options = combo.options if combo else ComboOptions()
        self.selection_field = QComboBox()
        for selection in (None, *ACCOUNT_SELECTIONS):
            self.selection_field.addItem(account_selection_label(selection), selection)
        self.selection_field.setCurrentIndex(max(0, self.selection_field.findData(options.account_selection)))
        self.threshold_field = QSpinBox()
        self.threshold_field.setRange(0, 100)
        self.threshold_field.setSuffix(" %")
        self.threshold_field.setSpecialValueText(tr("Off"))
        self.threshold_field.setValue(round(options.quota_threshold))
        if not choices.choices:
            note = hint(tr("No provider is connected yet: add an account on the Providers page, or type "
                           "provider/model."))
        else:
            note = hint(tr("With Priority, targets are tried from the top. Pick an account to use only that one."))

        form = QFormLayout()
        form.addRow(tr("Name:"), self.name_field)
        form.addRow("", hint(tr("Clients ask for this name as the model.")))
        form.addRow(tr("Strategy:"), self.strategy_field)
        form.addRow("", self.strategy_hint)
        form.addRow(tr("Accounts of one provider:"), self.selection_field)
        form.addRow("", hint(tr("How several accounts behind one target share the requests.")))
        form.addRow(tr("Quota reserve:"), self.threshold_field)
        form.addRow("", hint(tr("Skip a subscription or coding plan with less quota left than this until its "
                                "window resets (used up is always skipped).")))
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        targets_label = QLabel(tr("Targets:"))
        layout.addWidget(targets_label)
        layout.addWidget(self.targets, 1)
        layout.addWidget(note)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.name_field.setFocus()

    def _explain_strategy(self) -> None:
        strategy = self.strategy_field.currentData() or ""
        self.strategy_hint.setText(strategy_explanation(strategy))
        if hasattr(self, "targets"):
            self.targets.set_weights_enabled(strategy == "weighted")

    def set_strategy(self, strategy: str) -> None:
        self.strategy_field.setCurrentIndex(self.strategy_field.findData(strategy))

    def values(self) -> dict[str, Any]:
        return {"name": self.name_field.text(), "strategy": self.strategy_field.currentData(),
                "models": self.targets.models(), "accountSelection": self.selection_field.currentData(),
                "quotaThreshold": self.threshold_field.value()}

