"""The application icon, loaded from the PNG renders in resources/icons."""

from __future__ import annotations

from PySide6.QtGui import QIcon

from resources import ICONS_DIR


def app_icon() -> QIcon:
    icon = QIcon()
    for png in sorted(ICONS_DIR.glob("quotagate-*.png")):
        icon.addFile(str(png))
    return icon
