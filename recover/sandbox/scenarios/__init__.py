"""Named, deterministic broken worlds. Each module has a `seed(world)` and a docstring with its
ground truth (which keys are missing, where the bytes are, what must be skipped); the same facts
are stored in `world.ground_truth` so tests assert on them."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

from recover.sandbox.scenarios import (
    cdk_bootstrap_deleted,
    custom_resource_delete,
    custom_resource_rollback,
    custom_resource_silent,
    degap,
    degap_before,
    delete_failed,
    ecr_expired,
    express_wedge,
    healthy,
    hook_failed,
    nested_skip,
    reference_code,
    role_deleted_in_rollback,
    service_role_deleted,
    service_role_untrusted,
    skip_pending,
    skipped_drift,
    stale_latest,
)
from recover.sandbox.world import World

# name -> the module that seeds it (its `seed(world)`) and describes it (its docstring)
MODULES: dict[str, ModuleType] = {
    "degap": degap,
    "nested-skip": nested_skip,
    "delete-failed": delete_failed,
    "cdk-bootstrap-deleted": cdk_bootstrap_deleted,
    "service-role-deleted": service_role_deleted,
    "service-role-untrusted": service_role_untrusted,
    "role-deleted-in-rollback": role_deleted_in_rollback,
    "healthy": healthy,
    "degap-before": degap_before,
    "ecr-expired": ecr_expired,
    "stale-latest": stale_latest,
    "reference-code": reference_code,
    "express-wedge": express_wedge,
    "custom-resource-delete": custom_resource_delete,
    "custom-resource-rollback": custom_resource_rollback,
    "custom-resource-silent": custom_resource_silent,
    "skipped-drift": skipped_drift,
    "skip-pending": skip_pending,
    "hook-failed": hook_failed,
}
SCENARIOS: dict[str, Callable[[World], None]] = {name: m.seed for name, m in MODULES.items()}


def describe(name: str) -> str:
    """The first sentence of the scenario's docstring, without the leading `name:`."""
    first = " ".join((MODULES[name].__doc__ or "").strip().split("\n\n")[0].split())
    first = first.removeprefix(f"{name}:").strip()
    return first.split(". ")[0].rstrip(".") + "."
