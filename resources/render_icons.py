"""Render resources/icons/quotagate.svg to the PNG sizes desktops ask for. Run after editing the SVG:

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m resources.render_icons
"""

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

from resources import ICONS_DIR

SIZES = (16, 22, 24, 32, 48, 64, 128, 256)


def main() -> None:
    app = QGuiApplication([])  # noqa: F841 - painting needs an application object
    renderer = QSvgRenderer(str(ICONS_DIR / "quotagate.svg"))
    for size in SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        image.save(str(ICONS_DIR / f"quotagate-{size}.png"))


if __name__ == "__main__":
    main()
