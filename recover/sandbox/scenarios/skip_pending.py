"""skip-pending: `billing-api` is UPDATE_ROLLBACK_FAILED because the rollback of four resources
failed (a throttled topic, a queue the role may not change back, a bucket deleted out of band, a
custom resource that never answered); the way out is to skip all four, which leaves them
inconsistent with the template for `recover reconcile` (ground truth: skipped_drift.py)."""

from __future__ import annotations

from recover.sandbox.scenarios import skipped_drift
from recover.sandbox.world import World


def seed(world: World) -> None:
    skipped_drift.build(world)
