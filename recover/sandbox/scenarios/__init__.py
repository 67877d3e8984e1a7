"""Named, deterministic broken worlds. Each module has a `seed(world)` and a docstring with its
ground truth (which keys are missing, where the bytes are, what must be skipped); the same facts
are stored in `world.ground_truth` so tests assert on them."""

from __future__ import annotations

from collections.abc import Callable

from recover.sandbox.scenarios import (
    cdk_bootstrap_deleted,
    degap,
    degap_before,
    delete_failed,
    ecr_expired,
    healthy,
    nested_skip,
    reference_code,
    role_deleted_in_rollback,
    service_role_deleted,
    stale_latest,
)
from recover.sandbox.world import World

SCENARIOS: dict[str, Callable[[World], None]] = {
    "degap": degap.seed,
    "nested-skip": nested_skip.seed,
    "delete-failed": delete_failed.seed,
    "cdk-bootstrap-deleted": cdk_bootstrap_deleted.seed,
    "service-role-deleted": service_role_deleted.seed,
    "role-deleted-in-rollback": role_deleted_in_rollback.seed,
    "healthy": healthy.seed,
    "degap-before": degap_before.seed,
    "ecr-expired": ecr_expired.seed,
    "stale-latest": stale_latest.seed,
    "reference-code": reference_code.seed,
}


def describe(name: str) -> str:
    """The first sentence of the scenario's docstring, without the leading `name:`."""
    module = {"degap": degap, "nested-skip": nested_skip, "delete-failed": delete_failed,
              "cdk-bootstrap-deleted": cdk_bootstrap_deleted, "healthy": healthy,
              "service-role-deleted": service_role_deleted,
              "role-deleted-in-rollback": role_deleted_in_rollback, "degap-before": degap_before,
              "ecr-expired": ecr_expired, "stale-latest": stale_latest,
              "reference-code": reference_code}[name]
    first = " ".join((module.__doc__ or "").strip().split("\n\n")[0].split())
    first = first.removeprefix(f"{name}:").strip()
    return first.split(". ")[0].rstrip(".") + "."
