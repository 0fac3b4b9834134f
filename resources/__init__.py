"""Icons and other files shipped with Quotagate (a package so the files travel with an install or bundle)."""

from pathlib import Path

RESOURCES_DIR = Path(__file__).resolve().parent
ICONS_DIR = RESOURCES_DIR / "icons"
