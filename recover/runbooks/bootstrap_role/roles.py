"""bootstrap-role: the roles of a stack and what became of each (data.roles[]), and the
names the other parts share."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from recover.act.retry import Backoff
from recover.aws.iam_roles import role_tags
from recover.decide import role_plan as rp
from recover.model.stack import StackSnapshot
from recover.model.statuses import DELETE_STARTED
from recover.run.context import RunContext
from recover.runbooks.driver import read_tree

COMMAND = "bootstrap-role"  # the runbook's id (recover/runbooks/bootstrap_role/__init__.py)
RESUMABLE_DELETE = DELETE_STARTED
CREATE_OPS = ("CreateRole", "AttachRolePolicy")
REMOVE_OPS = ("DetachRolePolicy", "DeleteRolePolicy", "DeleteRole")
ADMIN_POLICY = "arn:{partition}:iam::aws:policy/AdministratorAccess"

# data.roles[].outcome (docs/reference/json-output.md)
CREATED_KEPT = "created_kept"
CREATED_REMOVED = "created_removed"
EXISTING_KEPT = "existing_kept"
EXISTING_REMOVED = "existing_removed"
REMOVAL_FAILED = "removal_failed"
ALREADY_GONE = "already_gone"
NOT_CREATED = "not_created"
TRUST_FIXED = "trust_fixed"  # an existing role's trust was widened and kept so
TRUST_RESTORED = "trust_fixed_restored"  # widened, then the original trust put back


@dataclass
class RoleOutcome:
    arn: str
    name: str
    state_before: str  # missing | exists
    created: bool = False
    role_id: str = ""
    created_by_recover: bool = False
    removed: bool = False
    kept_because: str = ""
    removal_error: str = ""
    exists_after: bool | None = None  # iam:GetRole at the end of the run (None: not read)
    plan: dict[str, Any] | None = None
    history: dict[str, Any] | None = None  # what CloudTrail says about the deleted role
    # an existing role CloudFormation cannot assume (state_before "untrusting"): its trust
    trust_verdict: str = ""  # recover/model/trust_policy.py verdicts
    trust_before: dict[str, Any] | None = None
    trust_fixed: dict[str, Any] | None = None  # the document recover put in place
    trust_changed: bool = False
    trust_restored: bool = False
    trust_kept_because: str = ""

    @property
    def outcome(self) -> str:
        if self.trust_changed:
            return TRUST_RESTORED if self.trust_restored else TRUST_FIXED
        if self.removal_error:
            return REMOVAL_FAILED
        if self.removed:
            return CREATED_REMOVED if self.created else EXISTING_REMOVED
        if self.created:
            return CREATED_KEPT
        if self.state_before == "missing" or self.exists_after is False:
            return ALREADY_GONE if self.state_before == "exists" else NOT_CREATED
        return EXISTING_KEPT

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__, outcome=self.outcome)


def stack_role_arns(snap: StackSnapshot) -> list[str]:
    """Distinct RoleARNs of the tree, the root's first (operations run on the root)."""
    out: list[str] = []
    for n in snap.nodes:
        if n.info.role_arn and n.info.role_arn not in out:
            out.append(n.info.role_arn)
    return out


def tags_say_recover(rc: RunContext, name: str) -> bool:
    try:
        tags = role_tags(rc.aws.client("iam"), name)
    except ClientError:
        return False
    return bool(tags) and rp.created_by_recover(tags or {})


@dataclass
class BootstrapRoleOptions:
    qualifier: str | None = None
    policy_arns: list[str] = field(default_factory=list)
    permissions_boundary: str | None = None
    then: str | None = None  # delete | continue-rollback | nothing (None: ask)
    remove_role_after: bool | None = None  # None: ask
    fix_trust: bool = False  # widen an existing role's trust (False: ask, or exit 4 unattended)
    restore_trust_after: bool | None = None  # put the original trust back after (None: ask)
    wait: bool = True
    timeout: float = 3600.0
    poll_interval: float = 3.0
    retry: Backoff = field(default_factory=Backoff)
    plan_out: Path | None = None
    # handed over to rollback-stuck with --then continue-rollback
    skip: list[str] = field(default_factory=list)
    skip_unrecoverable: bool = False
    restore_artifacts: bool | None = None
    artifact_sources: list[str] = field(default_factory=list)
    accept_substitute: bool = False
    accept_unverified: bool = False
    trail: str | None = None


snapshot = read_tree
