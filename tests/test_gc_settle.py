"""`settle_bulk` (core/system/gc_policy.py): between slices of a bulk apply, what survives the
young collections is frozen, so no full collection walks it in the middle of the next slice."""

from __future__ import annotations

import gc

from tgtriage.core.system.gc_policy import settle_bulk


def test_survivors_of_the_young_collections_are_frozen_half_way_to_the_next() -> None:
    was_enabled = gc.isenabled()
    gc.enable()
    try:
        gc.collect(1)  # the middle generation's counter starts at zero
        frozen = gc.get_freeze_count()
        settle_bulk()
        assert gc.get_freeze_count() == frozen, "not due yet: nothing collected or frozen"
        _, threshold1, _ = gc.get_threshold()
        kept = []
        while gc.get_count()[1] < threshold1 // 2:  # young collections run as objects pile up
            kept.append([len(kept)])
        settle_bulk()
        assert gc.get_freeze_count() >= frozen + len(kept) // 2, "the survivors are frozen"
        assert gc.get_count()[1] == 0
    finally:
        gc.unfreeze()
        if not was_enabled:
            gc.disable()
