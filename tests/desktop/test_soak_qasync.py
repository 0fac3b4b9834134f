"""The gateway keeps serving under sustained traffic inside a qasync loop.

Regression guard for PySide6 6.12.0 on Python 3.11 (DESIGN.md, "Known pitfall"): it drops references to
interpreter singletons on socket-notifier work, and after a few thousand requests the process aborts with
`Fatal Python error: none_dealloc` / `bool_dealloc`. The soak runs in a subprocess so that such an abort
fails this test instead of killing pytest.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

SOAK_SCRIPT = Path(__file__).with_name("soak_gateway_qasync.py")
REQUESTS = 5000
CONCURRENCY = 16
SOAK_TIMEOUT_SECONDS = 240


def _last_line(text: str, prefix: str) -> str:
    lines = [line for line in text.splitlines() if line.startswith(prefix)]
    return lines[-1] if lines else f"(no line starting {prefix!r})"


@pytest.mark.slow
@pytest.mark.timeout(SOAK_TIMEOUT_SECONDS + 30)
def test_gateway_answers_5000_requests_in_a_qasync_loop_without_aborting(tmp_path: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, str(SOAK_SCRIPT), "--requests", str(REQUESTS), "--concurrency", str(CONCURRENCY)],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=SOAK_TIMEOUT_SECONDS,
    )

    if "Fatal Python error" in result.stderr:
        # The full stderr is mostly thread dumps; the abort reason and how far it got say it all.
        pytest.fail(f"the soak process aborted (exit code {result.returncode}): "
                    f"{_last_line(result.stderr, 'Fatal Python error')}\n"
                    f"last progress: {_last_line(result.stdout, 'soak: progress')}", pytrace=False)
    report = (f"exit code {result.returncode}\n--- stdout ---\n{result.stdout}"
              f"\n--- stderr (tail) ---\n{result.stderr[-4000:]}")
    assert result.returncode == 0, report
    assert re.search(rf"^soak: {REQUESTS}/{REQUESTS} ok in ", result.stdout, re.MULTILINE), report
