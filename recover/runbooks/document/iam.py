"""The least-privilege IAM policy an on-call role needs for a set of runbooks, from their
declared permissions (cloud-custodian's lesson: permissions are metadata, the policy is
derived, never written by hand)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from recover.runbooks.document.model import Runbook

POLICY_VERSION = "2012-10-17"


def permissions_of(runbooks: Iterable[Runbook]) -> list[str]:
    """Every IAM action the runbooks declare, without duplicates, sorted service then action."""
    found = {p for r in runbooks for p in r.permissions}
    return sorted(found, key=_sort_key)


def _sort_key(permission: str) -> tuple[str, str]:
    service, _, action = permission.partition(":")
    return service, action


def _sid(service: str) -> str:
    # Sids are alphanumeric: "resourcegroupstaggingapi" style prefixes have no dashes, but
    # be safe for any prefix.
    return "Recover" + "".join(part.capitalize() for part in service.replace("-", " ").split())


def policy_document(runbooks: Iterable[Runbook]) -> dict[str, Any]:
    """One Allow statement per service, actions sorted, on every resource.

    Resource "*" because the stacks, buckets and roles are only known during an incident;
    docs/reference/iam-policy.md says how to narrow each statement when they are known.
    """
    by_service: dict[str, list[str]] = {}
    for permission in permissions_of(runbooks):
        by_service.setdefault(permission.partition(":")[0], []).append(permission)
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {"Sid": _sid(service), "Effect": "Allow", "Action": actions, "Resource": "*"}
            for service, actions in sorted(by_service.items())
        ],
    }
