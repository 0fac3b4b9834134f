"""`quotagate serve` sets the collector for serving once started (what the headless bench measured)."""

from __future__ import annotations

import gc

from core.gateway import collector


def test_settling_freezes_start_up_objects_and_spaces_young_collections_out() -> None:
    before = gc.get_threshold()
    try:
        collector.settle_after_start()
        assert gc.get_threshold() == (collector.YOUNG_THRESHOLD, *before[1:])
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
