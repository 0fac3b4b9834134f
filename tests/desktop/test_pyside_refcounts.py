"""A fast guard for the PySide6 6.12.0 refcount bug (see DESIGN.md and test_soak_qasync.py).

6.12.0 drops a reference to None on every call of a method returning nothing, and one to True on every
signal disconnect; on Python 3.11 those singletons are not immortal, so the process aborts once they hit 0.
"""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import QObject, QTimer

needs_mortal_singletons = pytest.mark.skipif(sys.version_info >= (3, 12),
                                             reason="None/True are immortal from Python 3.12")


@needs_mortal_singletons
def test_void_methods_do_not_drop_references_to_none(qapp) -> None:
    timer = QTimer()
    before = sys.getrefcount(None)
    for i in range(500):
        timer.setInterval(i)
    assert sys.getrefcount(None) >= before - 50


@needs_mortal_singletons
def test_signal_disconnect_does_not_drop_references_to_true(qapp) -> None:
    obj = QObject()

    def slot() -> None:
        pass

    before = sys.getrefcount(True)
    for _ in range(300):
        obj.destroyed.connect(slot)
        obj.destroyed.disconnect(slot)
    assert sys.getrefcount(True) >= before - 30
