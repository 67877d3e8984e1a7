"""Read IAM roles (gather): tags, existence, attached and inline policies, and waiting until a
new role is visible. Plain data out; a role that does not exist is None/False, other errors
propagate."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote

from botocore.exceptions import ClientError

from recover.act.needs import needs


def _missing(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "NoSuchEntity"


@needs("iam:ListRoleTags")
def role_tags(iam: Any, name: str) -> dict[str, str] | None:
    """The role's tags, or None when it does not exist."""
    try:
        pages = iam.get_paginator("list_role_tags").paginate(RoleName=name)
        return {t["Key"]: t["Value"] for page in pages for t in page.get("Tags", [])}
    except ClientError as exc:
        if _missing(exc):
            return None
        raise


@needs("iam:GetRole")
def role_exists(iam: Any, name: str) -> bool | None:
    """True or False, or None when IAM would not say."""
    try:
        iam.get_role(RoleName=name)
        return True
    except ClientError as exc:
        return False if _missing(exc) else None


@needs("iam:ListAttachedRolePolicies")
def attached_policies(iam: Any, name: str) -> list[str]:
    """ARNs of the managed policies attached to the role."""
    return [p["PolicyArn"] for page in iam.get_paginator("list_attached_role_policies").paginate(
        RoleName=name) for p in page.get("AttachedPolicies", [])]


@needs("iam:ListRolePolicies")
def inline_policies(iam: Any, name: str) -> list[str]:
    """Names of the role's inline policies."""
    return [policy for page in iam.get_paginator("list_role_policies").paginate(RoleName=name)
            for policy in page.get("PolicyNames", [])]


@needs("iam:GetRole")
def wait_visible(iam: Any, names: Iterable[str], delays: Iterable[float]) -> None:
    """`aws iam wait role-exists`, bounded: GetRole until every new role is visible (IAM is
    eventually consistent, docs/reference/aws-behaviour.md#iam-eventual-consistency)."""
    pauses = list(delays)
    for name in names:
        for delay in [*pauses, None]:
            try:
                iam.get_role(RoleName=name)
                break
            except ClientError as exc:
                if not _missing(exc) or delay is None:
                    raise
                time.sleep(delay)


@needs("iam:GetRole")
def role_trust(iam: Any, name: str) -> dict[str, Any] | None:
    """The role's trust policy (AssumeRolePolicyDocument) as a dict, or None when the role does
    not exist."""
    try:
        doc = iam.get_role(RoleName=name)["Role"].get("AssumeRolePolicyDocument")
    except ClientError as exc:
        if _missing(exc):
            return None
        raise
    if isinstance(doc, str):  # the API's URL-encoded JSON, when an SDK did not decode it
        doc = json.loads(unquote(doc))
    return doc if isinstance(doc, dict) else {}
