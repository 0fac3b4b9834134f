#!/usr/bin/env bash
# Installs the few Debian/Ubuntu libraries Qt needs (and venv/binutils for the build), only if missing.
# Usage: scripts/install-system-deps.sh [--test]
set -euo pipefail

packages=(
    # Qt's platform plugins (offscreen and xcb) and fonts
    libegl1 libgl1 libglib2.0-0 libfontconfig1 libfreetype6 libdbus-1-3 libxkbcommon0
    libxkbcommon-x11-0 libx11-xcb1 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0
    libxcb-render-util0 libxcb-image0 libxcb-randr0 libxcb-xfixes0 libxcb-xkb1 libxcb-sync1
    libxcb-shm0 libxcb-render0 libxcb-xinerama0
    fonts-dejavu-core fonts-droid-fallback  # Latin and CJK text
)
if [[ "${1:-}" == "--test" ]]; then
    packages+=(binutils)  # PyInstaller reads shared-library dependencies with objdump
fi
if ! python3 -c "import venv, ensurepip" 2>/dev/null; then
    packages+=(python3-venv)
fi

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
    echo "Not a Debian-based system: install the equivalents of these yourself if Qt fails to start:"
    echo "  ${packages[*]}"
    exit 0
fi

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
    exit 0
fi

sudo=""
if [[ $(id -u) -ne 0 ]]; then
    sudo="sudo"
fi
echo "Installing system libraries: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
