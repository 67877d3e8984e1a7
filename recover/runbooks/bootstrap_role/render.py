"""bootstrap-role: what people read (role history, plans, the outcome)."""

from __future__ import annotations

import json
from typing import Any

from rich.markup import escape

from recover.aws.role_history import RoleHistory
from recover.decide import role_plan as rp
from recover.run.context import RunContext
from recover.run.result import Result
from recover.runbooks.bootstrap_role.roles import (
    ALREADY_GONE,
    CREATED_KEPT,
    CREATED_REMOVED,
    EXISTING_KEPT,
    EXISTING_REMOVED,
    NOT_CREATED,
    REMOVAL_FAILED,
    TRUST_FIXED,
    TRUST_RESTORED,
)
from recover.ui.progress import print_resumed


def show_history(rc: RunContext, h: RoleHistory) -> None:
    c = rc.console
    if h.deleted_at:
        c.print(f"[bold]{escape(h.role_name)}[/] was deleted at {escape(h.deleted_at)} by "
                f"{escape(h.deleted_by)} (CloudTrail)", highlight=False)
    if h.managed_policies:
        c.print("  it had: " + escape(", ".join(h.managed_policies))
                + (f"; boundary {escape(h.permissions_boundary)}" if h.permissions_boundary
                   else ""), highlight=False)
    if h.note:
        c.print(f"  [dim]{escape(h.note)}[/]", highlight=False)


def show_plans(rc: RunContext, plans: list[rp.RolePlan]) -> None:
    c = rc.console
    for p in plans:
        t = p.target
        c.print(f"[bold]Role to recreate:[/] {escape(t.arn)}", highlight=False)
        c.print(f"  name {escape(t.name)}, path {escape(t.path)}"
                + (f", CDK qualifier {escape(t.qualifier)}" if t.cdk else ", not a CDK role"),
                highlight=False)
        c.print(f"  source: {escape(p.source)}", highlight=False)
        c.print("  trust policy (AssumeRolePolicyDocument):", highlight=False)
        for line in json.dumps(p.trust_policy, indent=2).splitlines():
            c.print(f"    {escape(line)}", highlight=False)
        c.print("  managed policies: " + ", ".join(p.managed_policy_arns), highlight=False)
        c.print(f"  permissions boundary: {escape(p.permissions_boundary or 'none')}",
                highlight=False)
        c.print("  tags: " + ", ".join(f"{k}={v}" for k, v in p.tags), highlight=False)
        for note in p.notes:
            c.print(f"  [dim]note: {escape(note)}[/]", highlight=False)
        for w in p.warnings:
            c.print(f"[yellow]warning:[/] {escape(w)}", highlight=False)


def render_done(console: Any, result: Result) -> None:
    d = result.data
    console.print(f"[bold]{escape(d['stack'])}:[/] {d['status_before']} → "
                  f"[bold]{d['final_status']}[/] (then: {d['then']})", highlight=False)
    for r in d["roles"]:
        console.print(f"  role {escape(r['name'])}: {escape(outcome_text(r))}"
                      + (f" [dim]new id {r['role_id']}[/]" if r["role_id"] else ""),
                      highlight=False)
    for f in d.get("follow_up") or []:
        console.print(f"[bold]long-term fix:[/] {escape(f)}", highlight=False)
    print_resumed(console, d.get("resumed"))
    console.print(f"[dim]evidence: {escape(d['evidence_dir'])}[/]", highlight=False)


def outcome_text(r: dict[str, Any]) -> str:
    """One true sentence per role, from what was done and what IAM showed at the end."""
    text = {CREATED_KEPT: "created, kept", CREATED_REMOVED: "created, then removed",
            EXISTING_KEPT: "already there, kept", EXISTING_REMOVED: "already there, removed",
            REMOVAL_FAILED: ("created, " if r["created"] else "") + "removal FAILED: "
            + r["removal_error"], ALREADY_GONE: "already gone when removal was asked",
            NOT_CREATED: "not created",
            TRUST_FIXED: "existed; trust policy fixed (CloudFormation added), kept so",
            TRUST_RESTORED: "existed; trust policy fixed for the operation, then the original "
                            "put back"}[r["outcome"]]
    if r.get("trust_kept_because") and r["outcome"] == TRUST_FIXED:
        text += f" ({r['trust_kept_because']})"
    if r["kept_because"] and r["outcome"] in (CREATED_KEPT, EXISTING_KEPT):
        text += f" ({r['kept_because']})"
    if r.get("exists_after") is not None:
        text += "; it exists now" if r["exists_after"] else "; it does not exist now"
    return text
