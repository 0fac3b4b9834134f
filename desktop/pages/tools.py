"""Tools: the coding tools on this computer (Claude Code, Codex CLI, OpenCode, Gemini CLI), whether each points
at the gateway, Connect / Disconnect in one click, and Try it; then copy-paste settings for the editors that
keep theirs in their own UI (Cursor, Cline, Continue, Zed).

Everything here goes through `core.cli_tools.service.ToolsService`, the same calls as `/api/cli-tools/*`: the
checks, the file handling and the locks are the core's; this page collects the choice and shows the answer."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from core.cli_tools import TOOLS, ToolFileError, snippets
from core.cli_tools.base import Choice
from core.cli_tools.service import ToolsService, for_services
from core.i18n import tr
from core.secrets import mask
from core.services import CoreServices
from core.settings import ConfigError
from desktop.widgets.feedback import (
    MUTED_COLOR,
    OK_COLOR,
    WARNING_COLOR,
    SecretField,
    StatusLabel,
    hint,
    monospace_font,
)
from desktop.widgets.long_action import LongAction
from desktop.widgets.tasks import RefreshOnShowPage

log = logging.getLogger(__name__)

TOOL_KEY_NAME = "Coding tools"  # the name of a key created from this page


def model_label(model: dict[str, Any]) -> str:
    if model["kind"] == "combo":
        return tr("{name} (combo)", name=model["id"])
    if model["kind"] == "alias":
        return tr("{name} (alias)", name=model["id"])
    return model["id"]


def fill_models(picker: QComboBox, models: list[dict[str, Any]], current: str | None) -> None:
    """The gateway's models, combos first (they are what users name for their tools); keeps what is typed."""
    typed = picker.currentText().strip()
    picker.blockSignals(True)
    picker.clear()
    for model in sorted(models, key=lambda m: (m["kind"] != "combo", m["kind"] != "alias", m["id"])):
        picker.addItem(model_label(model), model["id"])
    wanted = current or typed
    index = picker.findData(wanted) if wanted else (0 if models else -1)
    if index >= 0:
        picker.setCurrentIndex(index)
    else:
        picker.setEditText(wanted or "")
    picker.blockSignals(False)


def picked_model(picker: QComboBox) -> str | None:
    """The chosen model id (an item's id, or what the user typed)."""
    index = picker.currentIndex()
    if index >= 0 and picker.itemText(index) == picker.currentText():
        return picker.itemData(index)
    return picker.currentText().strip() or None


def model_picker() -> QComboBox:
    picker = QComboBox()
    picker.setEditable(True)
    picker.setMinimumWidth(260)
    picker.lineEdit().setPlaceholderText(tr("provider/model or a combo"))
    return picker


class ToolCard(QGroupBox):
    """One tool: where it is, where it points, and its actions. Its status line says what the last action did."""

    def __init__(self, page: ToolsPage, tool_id: str) -> None:
        super().__init__(TOOLS[tool_id].name)
        self.page, self.tool_id, self.name = page, tool_id, TOOLS[tool_id].name
        self.state: dict[str, Any] | None = None
        self.action: asyncio.Task[None] | None = None

        self.install_label = QLabel()
        self.install_label.setWordWrap(True)
        self.config_label = QLabel()
        self.config_label.setWordWrap(True)
        self.config_label.setStyleSheet(f"color: {MUTED_COLOR};")
        self.connection_label = QLabel()
        self.connection_label.setWordWrap(True)
        self.problem = StatusLabel()  # what is wrong with the tool's settings file, while it is wrong
        self.model_picker = model_picker()
        self.connect_button = QPushButton(tr("Connect"))
        self.connect_button.clicked.connect(lambda: self.page.connect_tool(self.tool_id))
        self.disconnect_button = QPushButton(tr("Disconnect"))
        self.disconnect_button.setToolTip(tr("Give the settings file back as it was before Quotagate changed it"))
        self.disconnect_button.clicked.connect(lambda: self.page.disconnect_tool(self.tool_id))
        self.try_button = QPushButton(tr("Try it"))
        self.try_button.setToolTip(tr("Send one short request through the gateway as {name} would",
                                      name=self.name))
        self.try_button.clicked.connect(lambda: self.page.try_tool(self.tool_id))
        self.status = StatusLabel()  # what the last action did: one line, replaced by the next
        self.trial = LongAction(page.tasks, self.status, self)
        self.trial.running_changed.connect(lambda _running: self.update_buttons())
        self.cancel_button = self.trial.cancel_button

        row = QHBoxLayout()
        row.addWidget(QLabel(tr("Model:")))
        row.addWidget(self.model_picker, 1)
        for button in (self.connect_button, self.disconnect_button, self.trial.button_slot(self.try_button)):
            row.addWidget(button)
        layout = QVBoxLayout(self)
        for widget in (self.install_label, self.config_label, self.connection_label, self.problem):
            layout.addWidget(widget)
        layout.addLayout(row)
        layout.addWidget(self.status)
        self.update_buttons()

    def show_state(self, state: dict[str, Any], models: list[dict[str, Any]]) -> None:
        self.state = state
        if state["runnable"]:
            self.install_label.setText(tr("Installed: {path}", path=state["commandPath"]))
            self.install_label.setStyleSheet("")
        else:
            lead = tr("Settings found, not runnable here.") if state["installed"] else tr("Not found.")
            self.install_label.setText(f"{lead} {state['reason'] or ''}".strip())
            self.install_label.setStyleSheet(f"color: {WARNING_COLOR if state['installed'] else MUTED_COLOR};")
        self.config_label.setText(tr("Settings file: {path}", path=state["configPath"]))
        if state["connected"]:
            text = (tr("Connected to {url} · model {model}", url=state["baseUrl"], model=state["model"])
                    if state["model"] else
                    tr("Connected to {url} · no model set (the tool uses its own default)", url=state["baseUrl"]))
            self.connection_label.setText(text)
            self.connection_label.setStyleSheet(f"color: {OK_COLOR};")
        else:
            self.connection_label.setText(tr("Not connected; it points at {url}.", url=state["baseUrl"])
                                          if state["baseUrl"] else tr("Not connected."))
            self.connection_label.setStyleSheet(f"color: {MUTED_COLOR};")
        if state["error"]:
            self.problem.error(state["error"])
        else:
            self.problem.clear()
        fill_models(self.model_picker, models, state["model"] if state["connected"] else None)
        self.update_buttons()

    def busy(self) -> bool:
        return self.trial.running() or self.action is not None and not self.action.done()

    def update_buttons(self) -> None:
        state, busy = self.state or {}, self.busy()
        self.connect_button.setEnabled(not busy and self.state is not None)
        self.connect_button.setText(tr("Reconnect") if state.get("connected") else tr("Connect"))
        self.disconnect_button.setEnabled(not busy and bool(state.get("managed") or state.get("connected")))
        self.try_button.setEnabled(not busy and bool(state.get("connected")))
        self.model_picker.setEnabled(not busy)

    def cancel_trial(self) -> None:
        self.trial.cancel()


class SnippetView(QWidget):
    """One editor's settings to paste: where they go, the text (the key masked), and Copy (the real text)."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.full_text = ""
        self.where = hint("")
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setFont(monospace_font())
        self.text.setFixedHeight(self.text.fontMetrics().lineSpacing() * 7 + 12)
        self.copy_button = QPushButton(tr("Copy"))
        self.copy_button.clicked.connect(self.copy)
        self.copied = StatusLabel()
        heading = QHBoxLayout()
        heading.addWidget(QLabel(f"<b>{name}</b>"))
        heading.addWidget(self.where, 1)
        heading.addWidget(self.copy_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(heading)
        layout.addWidget(self.text)
        layout.addWidget(self.copied)

    def show_snippet(self, snippet: dict[str, Any], secret: str | None) -> None:
        self.full_text = snippet["snippet"]
        self.where.setText(snippet["where"])
        self.text.setPlainText(self.full_text.replace(secret, mask(secret)) if secret else self.full_text)
        self.copied.clear()

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.full_text)
        self.copied.ok(tr("Copied the {name} settings to the clipboard.", name=self.name))


class ToolsPage(RefreshOnShowPage):
    """Tool files change outside Quotagate (the user, the tools themselves): read again whenever shown."""

    def __init__(self, services: CoreServices) -> None:
        super().__init__("Tools page")
        self.services = services
        self.tools: ToolsService = for_services(services)
        self.models: list[dict[str, Any]] = []
        self.requires_key = False

        about = hint(tr("Point the coding tools on this computer at the gateway in one click. Quotagate changes "
                        "only its own settings in each tool's file, keeps a copy of the file as it was, and "
                        "Disconnect gives that copy back byte for byte."))
        self.key_field = SecretField(tr("Paste a client key (qg-…)"))
        self.create_key_button = QPushButton(tr("Create a key for tools"))
        self.create_key_button.clicked.connect(self.create_key)
        self.key_status = StatusLabel()
        key_row = QHBoxLayout()
        key_row.addWidget(self.key_field, 1)
        key_row.addWidget(self.create_key_button)
        key_layout = QVBoxLayout()
        key_layout.addWidget(hint(tr("The gateway requires a client key, so each tool needs one in its settings. "
                                     "Paste a key from the API keys page (a key is shown only once, when it is "
                                     "created), or create one here.")))
        key_layout.addLayout(key_row)
        key_layout.addWidget(self.key_status)
        self.key_box = QGroupBox(tr("Client key"))
        self.key_box.setLayout(key_layout)
        self.key_box.hide()

        self.cards = {tool_id: ToolCard(self, tool_id) for tool_id in TOOLS}

        self.snippet_model = model_picker()
        self.snippet_model.currentTextChanged.connect(lambda _text: self.show_snippets())
        self.key_field.edit.textChanged.connect(lambda _text: self.show_snippets())
        self.snippet_views = {name: SnippetView(label) for name, label in
                              (("cursor", "Cursor"), ("cline", "Cline"), ("continue", "Continue"), ("zed", "Zed"))}
        snippet_row = QHBoxLayout()
        snippet_row.addWidget(QLabel(tr("Model:")))
        snippet_row.addWidget(self.snippet_model, 1)
        snippet_layout = QVBoxLayout()
        snippet_layout.addWidget(hint(tr("These editors keep their model settings in their own UI: paste these "
                                         "there.")))
        snippet_layout.addLayout(snippet_row)
        for view in self.snippet_views.values():
            snippet_layout.addWidget(view)
        snippet_box = QGroupBox(tr("Other editors"))
        snippet_box.setLayout(snippet_layout)

        self.page_status = StatusLabel()
        content = QWidget()
        content_layout = QVBoxLayout(content)
        content_layout.setContentsMargins(0, 0, 8, 0)
        content_layout.addWidget(self.key_box)
        for card in self.cards.values():
            content_layout.addWidget(card)
        content_layout.addWidget(snippet_box)
        content_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(content)

        layout = QVBoxLayout(self)
        layout.addWidget(about)
        layout.addWidget(self.page_status)
        layout.addWidget(scroll, 1)
        self.refresh_soon()

    # -- data ------------------------------------------------------------------------------------
    def can_refresh(self) -> bool:
        return self.services.runtime is not None

    async def refresh(self) -> None:
        if not self.can_refresh():
            return
        try:
            self.requires_key = self.tools.gateway().requires_key
            self.models = self.tools.models()
            states = await self.tools.states()
        except ToolFileError as exc:
            self.page_status.error(exc.message)
            return
        except Exception as exc:
            log.exception("Reading the tools' settings failed")
            self.page_status.error(tr("Could not read the tools' settings: {error}", error=exc))
            return
        self.page_status.clear()
        self.key_box.setVisible(self.requires_key)
        for state in states:
            self.cards[state["tool"]].show_state(state, self.models)
        fill_models(self.snippet_model, self.models, None)
        self.show_snippets()

    def choice(self, card: ToolCard) -> Choice:
        return Choice(model=picked_model(card.model_picker), api_key=self._key())

    def _key(self) -> str | None:
        return (self.key_field.text() or None) if self.requires_key else None

    # -- Connect / Disconnect --------------------------------------------------------------------
    def connect_tool(self, tool_id: str) -> asyncio.Task[None]:
        card = self.cards[tool_id]
        return self._act(card, self.tools.connect(tool_id, self.choice(card)),
                         tr("Connecting {name}…", name=card.name), self._connected_text)

    def disconnect_tool(self, tool_id: str) -> asyncio.Task[None]:
        card = self.cards[tool_id]
        return self._act(card, self.tools.disconnect(tool_id), tr("Disconnecting {name}…", name=card.name),
                         lambda state: tr("Disconnected {name}: {path} is as it was before.", name=card.name,
                                          path=state["configPath"]))

    def _connected_text(self, state: dict[str, Any]) -> str:
        return tr("Connected {name}: {path} now points at {url}.", name=state["name"], path=state["configPath"],
                  url=state["baseUrl"])

    def _act(self, card: ToolCard, work: Any, busy_text: str, done_text: Any) -> asyncio.Task[None]:
        async def run() -> None:
            try:
                state = await work
            except ToolFileError as exc:
                card.status.error(exc.message)
                await self._reread(card)
                return
            except Exception as exc:  # an unexpected failure still ends the busy state with words
                log.exception("Changing %s's settings failed", card.name)
                card.status.error(tr("{name}: this did not work ({error}).", name=card.name, error=exc))
                return
            finally:
                card.action = None
                card.update_buttons()
            card.show_state(state, self.models)
            card.status.ok(done_text(state))

        card.status.busy(busy_text)  # at once: the click shows before the work starts
        card.action = self.tasks.start(run())
        card.update_buttons()
        return card.action

    async def _reread(self, card: ToolCard) -> None:
        """After a refusal: show the file's state as it is now (a broken file's line, say)."""
        try:
            card.show_state(await self.tools.state(card.tool_id), self.models)
        except ToolFileError:
            pass

    # -- Try it ----------------------------------------------------------------------------------
    def try_tool(self, tool_id: str) -> asyncio.Task[None] | None:
        """One request through the gateway as the tool would send it; the card counts the seconds and
        Cancel stops it."""
        card = self.cards[tool_id]
        if not self.services.gateway_state.running:
            card.status.error(tr("The gateway is stopped, so nothing can be tried now."))
            return None

        def done(result: Any, _seconds: float) -> None:
            ms = f"{result.seconds * 1000:.0f}"
            if result.ok:
                card.status.ok(tr("{name} ({model}) answered in {ms} ms: “{answer}”", name=card.name,
                                  model=result.model, ms=ms, answer=result.answer))
            else:
                status = tr(" (HTTP {status})", status=result.status) if result.status else ""
                card.status.error(tr("{name} ({model}) failed after {ms} ms{status}: {error}", name=card.name,
                                     model=result.model, ms=ms, status=status, error=result.error))

        def failed(exc: Exception) -> str:
            if isinstance(exc, ToolFileError):
                return exc.message
            return tr("{name}: the try could not run ({error}).", name=card.name, error=exc)

        return card.trial.start(tr("Trying {name}…", name=card.name), lambda: self.tools.try_it(tool_id), done,
                                lambda seconds: tr("{name}: cancelled after {seconds} s.", name=card.name,
                                                   seconds=seconds), failed)

    # -- client key and snippets -------------------------------------------------------------------
    def create_key(self) -> asyncio.Task[None]:
        async def run() -> None:
            configuration = self.services.configuration
            if configuration is None:
                self.key_status.error(tr("Quotagate is not running its store right now; try again in a moment."))
                return
            self.create_key_button.setEnabled(False)
            self.key_status.busy(tr("Creating…"))
            try:
                created = await configuration.create_key(TOOL_KEY_NAME)
            except ConfigError as exc:
                self.key_status.error(tr("Not created: {error}", error=exc))
                return
            finally:
                self.create_key_button.setEnabled(True)
            self.key_field.setText(created.key)
            self.key_status.ok(tr("Created the key “{name}” and filled it in: Connect writes it into each tool's "
                                  "settings. It is shown only now.", name=created.name))
        return self.tasks.start(run())

    def show_snippets(self) -> None:
        if not self.can_refresh():
            return
        try:
            gateway = self.tools.gateway()
        except ToolFileError:
            return
        key = self._key()
        for snippet in snippets(gateway, Choice(model=picked_model(self.snippet_model), api_key=key)):
            self.snippet_views[snippet["tool"]].show_snippet(snippet, key)
