"""Core events as Qt signals, so windows update on the GUI thread through Qt's usual connections."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from core.services import CoreServices, GatewayState


class CoreBridge(QObject):
    gateway_state_changed = Signal(object)  # GatewayState

    def __init__(self, services: CoreServices) -> None:
        super().__init__()
        self.services = services
        services.gateway_state_changed.connect(self._on_gateway_state)

    @property
    def gateway_state(self) -> GatewayState:
        return self.services.gateway_state

    def _on_gateway_state(self, state: GatewayState) -> None:
        self.gateway_state_changed.emit(state)
