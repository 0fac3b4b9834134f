#!/usr/bin/env bash
# Build the one-folder Quotagate bundle with PyInstaller.
#
#   packaging/build.sh [OUTPUT_DIR]     (default: build/pyinstaller under the repository)
#
# The bundle lands in OUTPUT_DIR/dist/quotagate/ (PyInstaller's scratch files in OUTPUT_DIR/work);
# the last line printed is the path of the executable. PyInstaller comes from the repository's
# .venv, or from $PYTHON (`$PYTHON -m PyInstaller`) when PYTHON is set.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
out="${1:-$root/build/pyinstaller}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

if [[ -n "${PYTHON:-}" ]]; then
    pyinstaller=("$PYTHON" -m PyInstaller)
elif [[ -x "$root/.venv/bin/pyinstaller" ]]; then
    pyinstaller=("$root/.venv/bin/pyinstaller")
else
    echo "build.sh: no PyInstaller: install it into $root/.venv (pip install -e '.[packaging]') or set PYTHON" >&2
    exit 1
fi

"${pyinstaller[@]}" --noconfirm --clean --log-level WARN \
    --workpath "$out/work" --distpath "$out/dist" \
    "$here/quotagate.spec" >&2

executable="$out/dist/quotagate/quotagate"
[[ -x "$executable" ]] || { echo "build.sh: build finished but $executable is missing" >&2; exit 1; }
echo "$executable"
