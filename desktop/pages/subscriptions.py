"""Subscriptions in the Providers window (Claude, Codex, Copilot, Antigravity, Gemini CLI): the "Sign in…"
dialog, the "Import from <tool>" actions with their shared-session warning, and a sign-in's table row.

Browser sign-ins open the provider's page and wait for it to come back to Quotagate; GitHub's device flow
shows the code to type, with a Copy button, and waits likewise. While it waits, the dialog counts the seconds
and Cancel stops waiting and releases the sign-in's listener (one long action, as everywhere in the windows).
The flows themselves are the core's (`core.subscriptions.signin`); this dialog starts one, shows its progress
and its outcome in words, and cancels it when closed.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any, Callable

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices, QFont, QGuiApplication
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QMenu, QPushButton, QVBoxLayout, QWidget

from core.i18n import tr
from core.subscriptions.providers import PROVIDERS
from core.subscriptions.service import SHARED_SESSION_WARNING, Subscriptions
from core.subscriptions.signin import SignInError
from desktop.widgets.feedback import ERROR_COLOR, MUTED_COLOR, ConfirmBox, StatusLabel, cell, hint
from desktop.widgets.long_action import LongAction
from desktop.widgets.tasks import PageTasks

log = logging.getLogger(__name__)


class SignInDialog(QDialog):
    """`on_done(connection)` runs after a successful sign-in with the stored account's public shape."""

    def __init__(self, parent: Any, subscriptions: Subscriptions, provider_id: str,
                 on_done: Callable[[dict[str, Any]], Any]) -> None:
        super().__init__(parent)
        self.subscriptions = subscriptions
        self.provider = PROVIDERS[provider_id]
        self.on_done = on_done
        self.tasks = PageTasks("Sign-in dialog")
        self.flow_id: str | None = None
        self.url: str | None = None
        self.setWindowTitle(tr("Sign in to {service}", service=self.provider.name))
        self.setMinimumWidth(460)

        self.intro = QLabel()
        self.intro.setWordWrap(True)
        self.code_label = QLabel()
        code_font = QFont(self.code_label.font())
        code_font.setPointSizeF(code_font.pointSizeF() * 2)
        code_font.setBold(True)
        code_font.setStyleHint(QFont.StyleHint.Monospace)
        self.code_label.setFont(code_font)
        self.code_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.code_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.copy_button = QPushButton(tr("Copy code"))
        self.copy_button.clicked.connect(self.copy_code)
        self.open_button = QPushButton(tr("Open the page again"))
        self.open_button.clicked.connect(self.open_page)
        self.status = StatusLabel()
        # While the sign-in waits, Cancel stands where Close is afterwards.
        self.waiting = LongAction(self.tasks, self.status, self)
        self.waiting.running_changed.connect(self._waiting_changed)
        self.cancel_button = self.waiting.cancel_button
        self.close_button = QPushButton(tr("Close"))
        self.close_button.clicked.connect(self.reject)
        for widget in (self.code_label, self.copy_button, self.open_button):
            widget.setVisible(False)

        buttons = QHBoxLayout()
        buttons.addWidget(self.copy_button)
        buttons.addWidget(self.open_button)
        buttons.addStretch(1)
        buttons.addWidget(self.waiting.button_slot(self.close_button))
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.code_label)
        layout.addWidget(self.status)
        layout.addWidget(hint(tr("Quotagate keeps the sign-in in its own encrypted store and renews it itself.")))
        layout.addLayout(buttons)
        self.task: asyncio.Task[None] | None = None

    # -- running -------------------------------------------------------------------------------------
    def start(self) -> asyncio.Task[None]:
        self.open()
        self.task = self.waiting.start(tr("Waiting for the sign-in…"), self._sign_in, self._answered,
                                       lambda seconds: tr("Sign-in cancelled after {seconds} s.", seconds=seconds))
        return self.task

    async def _sign_in(self) -> dict[str, Any]:
        """The flow's answer; a cancelled wait cancels the flow, which closes its listener."""
        try:
            if self.provider.flow == "device":
                return await self._start_device()
            return await self._start_browser()
        except SignInError as exc:
            return {"status": "failed", "error": str(exc)}
        except asyncio.CancelledError:
            if self.flow_id is not None:  # shielded: closing the dialog right after Cancel must not stop it
                await asyncio.shield(self.tasks.start(self._cancel(self.flow_id)))
            raise

    async def _start_browser(self) -> dict[str, Any]:
        started = await self.subscriptions.flows.authorize(self.provider.id)
        self.flow_id, self.url = started["flowId"], started["url"]
        self.intro.setText(tr("Your browser opens {service}'s sign-in page. Sign in there; Quotagate finishes by "
                              "itself when the browser comes back.", service=self.provider.name))
        self.copy_button.setText(tr("Copy link"))  # for a browser other than the default one
        self.open_button.setVisible(True)
        self.copy_button.setVisible(True)
        if not self.open_page():
            self.intro.setText(tr("No browser could be opened here. Copy the link and open it in a browser on this "
                                  "computer; Quotagate finishes by itself when the sign-in comes back."))
        self.adjustSize()  # as tall as the text now in it
        return await self.subscriptions.flows.wait(started["flowId"])

    async def _start_device(self) -> dict[str, Any]:
        started = await self.subscriptions.flows.device_code(self.provider.id)
        self.flow_id, self.url = started["flowId"], started["verificationUri"]
        self.intro.setText(tr("Open {url} and type this code to let Quotagate use your {service} subscription:",
                              url=started["verificationUri"], service=self.provider.name))
        self.code_label.setText(started["userCode"])
        for widget in (self.code_label, self.copy_button, self.open_button):
            widget.setVisible(True)
        self.open_button.setText(tr("Open GitHub"))
        self.adjustSize()
        return await self.subscriptions.flows.wait_for_device(started["flowId"])

    def _answered(self, answer: dict[str, Any], _seconds: float) -> None:
        if answer["status"] == "done":
            connection = answer["connection"]
            self.status.ok(tr("Signed in as {identity}.", identity=connection.get("identity") or connection["name"]))
            self.on_done(connection)
            self.accept()
        elif answer["status"] == "cancelled":  # cancelled elsewhere (the management API)
            self.status.info(answer.get("error") or tr("The sign-in was cancelled."))
        else:
            self.status.error(answer.get("error") or tr("The sign-in did not finish."))

    def _waiting_changed(self, running: bool) -> None:
        if not running:  # over: the code and the page are of no more use
            for widget in (self.code_label, self.copy_button, self.open_button):
                widget.setVisible(False)

    # -- buttons ------------------------------------------------------------------------------------
    def copy_code(self) -> None:
        """The device code to type or, for a browser sign-in, the link to open."""
        QGuiApplication.clipboard().setText(self.code_label.text() if self.code_label.text() else self.url or "")
        self.copy_button.setText(tr("Copied"))

    def open_page(self) -> bool:
        """Whether a browser took the page."""
        return bool(self.url) and QDesktopServices.openUrl(QUrl(self.url))

    def reject(self) -> None:
        """Closing the dialog (Esc, the window's ✕) while it waits cancels the sign-in too."""
        self.waiting.cancel()
        super().reject()

    async def _cancel(self, flow_id: str) -> None:
        try:
            await self.subscriptions.flows.cancel(flow_id)
        except SignInError:
            pass  # already over


# -- the Providers page's part for subscriptions ---------------------------------------------------------
def subscription_headers() -> list[str]:
    return [tr("Name"), tr("Signed in as"), tr("Plan"), tr("Expires"), tr("State")]


def subscription_row(account: Any, set_aside: Any = None) -> list[Any]:
    """A sign-in's row: who, which plan, when its token expires (and whether it renews), its state.
    `set_aside`: the state cell of an account the gateway set aside, shown unless it must sign in again."""
    public = account.public()
    if public["expiresAt"]:
        moment = datetime.fromisoformat(public["expiresAt"].replace("Z", "+00:00")).astimezone()
        expires = moment.strftime("%Y-%m-%d %H:%M")
        expires_tip = tr("Quotagate renews it before then.") if public["renewable"] else \
            tr("It cannot be renewed; sign in again after that.")
    else:
        expires = tr("renews itself") if public["renewable"] else "—"
        expires_tip = ""
    if public["state"] == "sign-in-again":
        state = cell(tr("⚠ sign in again"), color=ERROR_COLOR, tooltip=public.get("stateReason") or "")
    elif account.needs_key:
        state = cell(tr("⚠ sign in again"), color=ERROR_COLOR,
                     tooltip=tr("This sign-in was encrypted on another computer and cannot be read here."))
    elif not account.active:
        state = cell(tr("Off"), color=MUTED_COLOR)
    elif set_aside is not None:
        state = set_aside
    else:
        state = cell(tr("Active"))
    source = public["source"]
    origin = tr("Signed in here") if source == "signed-in" else tr("Imported from {file}", file=source)
    return [cell(account.name, data=account.id, tooltip=origin),
            cell(public["identity"] or "—", color=None if public["identity"] else MUTED_COLOR),
            cell(public["plan"] or "—", color=None if public["plan"] else MUTED_COLOR),
            cell(expires, tooltip=expires_tip), state]


class SubscriptionActions(QWidget):
    """"Sign in…" and "Import from <tool>" for the subscription shown, with the shared-session warning."""

    def __init__(self, page: Any, on_change: Callable[[str, int | None], Any]) -> None:
        super().__init__(page)
        self.page = page
        self.on_change = on_change
        self.provider_id: str | None = None
        self.dialog: SignInDialog | None = None
        self.confirm_box: ConfirmBox | None = None
        self.sign_in_button = QPushButton(tr("Sign in…"))
        self.sign_in_button.setToolTip(tr("Sign in with your subscription (recommended): Quotagate gets a session "
                                          "of its own"))
        self.sign_in_button.clicked.connect(lambda: self.open_sign_in())
        self.import_button = QPushButton(tr("Import…"))
        self.import_menu = QMenu(self.import_button)
        self.import_button.setMenu(self.import_menu)
        self.warning = hint(tr(SHARED_SESSION_WARNING))
        self.warning.setWordWrap(True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.sign_in_button)
        layout.addWidget(self.import_button)

    def show_for(self, provider_id: str | None) -> None:
        """Show the actions for `provider_id`, or hide them for a provider that is not a subscription."""
        self.provider_id = provider_id if provider_id in PROVIDERS else None
        self.setVisible(self.provider_id is not None)
        self.warning.setVisible(self.provider_id is not None)
        self.import_menu.clear()
        if self.provider_id is None:
            return
        for source in self._subscriptions().import_sources(self.provider_id) if self._ready() else ():
            action = self.import_menu.addAction(tr("Import from {tool}", tool=source.title))
            action.triggered.connect(lambda _checked=False, s=source: self.confirm_import(s.id, s.title))
        self.import_button.setEnabled(not self.import_menu.isEmpty())

    def open_sign_in(self) -> SignInDialog | None:
        if self.provider_id is None or not self._ready():
            return None
        self.dialog = SignInDialog(self.page, self._subscriptions(), self.provider_id, self._signed_in)
        self.dialog.start()
        return self.dialog

    def confirm_import(self, source: str, title: str) -> ConfirmBox:
        provider = PROVIDERS[self.provider_id or ""]
        self.confirm_box = ConfirmBox(
            self.page, tr("Import from {tool}", tool=title),
            tr("Copy the {service} sign-in of {tool} into Quotagate?", service=provider.name, tool=title),
            tr("Import"), lambda: self.page.tasks.start(self._import(provider.id, source)),
            tr("{warning} {tool}'s own files are only read, never changed.", warning=tr(SHARED_SESSION_WARNING),
               tool=title))
        self.confirm_box.open()
        return self.confirm_box

    async def _import(self, provider: str, source: str) -> None:
        try:
            accounts = await self._subscriptions().import_from(provider, source)
        except SignInError as exc:
            self.page.status.error(str(exc))
            return
        names = ", ".join(a.public()["identity"] or a.name for a in accounts)
        await self.on_change(tr("Imported {names}.", names=names), accounts[-1].id)

    def _signed_in(self, connection: dict[str, Any]) -> None:
        self.page.tasks.start(self.on_change(tr("Signed in as {identity}.", identity=connection.get("identity")
                                                or connection["name"]), connection["id"]))

    def _ready(self) -> bool:
        return self.page.services.subscriptions is not None

    def _subscriptions(self) -> Subscriptions:
        assert self.page.services.subscriptions is not None
        return self.page.services.subscriptions
