"""A change whose answer was lost: AWS made it, the connection dropped before the answer came
back, botocore sent the same request again, and the retry met the change itself. CloudFormation
calls carry a ClientRequestToken and S3 restores are recognised by their bytes
(recover/artifacts/own_write.py); IAM has neither, so its retry fails with "already exists" or
"no such entity". This module tells recover's own change from someone else's:

- the error came on a retry (botocore's `RetryAttempts` > 0), so an earlier attempt of this very
  request may have been served; an error on the first attempt is never settled here;
- CreateRole: the role now there carries this run's `recover:run-id` tag and the path asked for
  (tags are set by CreateRole itself, atomically, so no one else's role has them);
- DeleteRole, DetachRolePolicy, DeleteRolePolicy: "no such entity" is the state the call was
  to reach.

Anything else is raised as before: recover never claims a change it cannot show is its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from recover.act.calls import Call
from recover.act.needs import needs
from recover.decide.role_plan import TAG_RUN_ID

# (what the retry met, the response recover goes on with) or None: not shown to be ours
Settled = tuple[str, dict[str, Any]]
Settler = Callable[[Any, Call, str], Settled | None]


def retried(exc: ClientError) -> bool:
    """The error is the answer to a retry: an earlier attempt may have been served."""
    meta = exc.response.get("ResponseMetadata") or {}
    return int(meta.get("RetryAttempts") or 0) > 0


def _tags(items: Any) -> dict[str, str]:
    return {t.get("Key", ""): t.get("Value", "") for t in items or []}


@needs("iam:GetRole")
def created_role(client: Any, call: Call, code: str) -> Settled | None:
    if code != "EntityAlreadyExists":
        return None
    run_id = _tags(call.params.get("Tags")).get(TAG_RUN_ID)
    if not run_id:
        return None
    role = client.get_role(RoleName=call.params["RoleName"])["Role"]
    if _tags(role.get("Tags")).get(TAG_RUN_ID) != run_id \
            or role.get("Path", "/") != call.params.get("Path", "/"):
        return None
    return (f"role {role['RoleName']} exists with this run's {TAG_RUN_ID} tag "
            f"({run_id}): created by the first attempt", {"Role": role})


def _gone(code: str, what: str) -> Settler:
    def settle(client: Any, call: Call, got: str) -> Settled | None:
        return (f"{what} is gone: removed by the first attempt", {}) if got == code else None
    return settle


SETTLERS: dict[tuple[str, str], Settler] = {
    ("iam", "CreateRole"): created_role,
    ("iam", "DeleteRole"): _gone("NoSuchEntity", "the role"),
    ("iam", "DetachRolePolicy"): _gone("NoSuchEntity", "the attachment"),
    ("iam", "DeleteRolePolicy"): _gone("NoSuchEntity", "the inline policy"),
}


def settle(client: Any, call: Call, exc: ClientError) -> Settled | None:
    """What shows the failed retry met recover's own change, or None."""
    settler = SETTLERS.get((call.service, call.operation))
    if settler is None or not retried(exc):
        return None
    return settler(client, call, str(exc.response.get("Error", {}).get("Code", "")))
