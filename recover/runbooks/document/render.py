"""Markdown pages for runbooks and the IAM policy (pure text: used by `recover runbooks show
--format markdown` and by scripts/gen_docs.py, which writes docs/reference/)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from recover.runbooks.document.actions import ACTIONS, MANUAL
from recover.runbooks.document.catalog import Catalog
from recover.runbooks.document.iam import permissions_of, policy_document
from recover.runbooks.document.model import Runbook, Step

GENERATED = ("<!-- generated — do not edit. scripts/gen_docs.py writes this page from {source}; "
             "change the source and run `python scripts/gen_docs.py` -->")


def _code(items: Sequence[str]) -> str:
    return ", ".join(f"`{i}`" for i in items) if items else "none"


def _prose(text: str) -> str:
    """Prose for Markdown: `<STACK>` placeholders must not be read as HTML tags, and a `*`
    (as in `*_IN_PROGRESS` or If-None-Match '*') must not start emphasis."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("*", "\\*")


def _cell(text: str) -> str:
    return _prose(text).replace("|", "\\|").replace("\n", " ")


def step_kind(step: Step) -> str:
    if step.action == MANUAL:
        return "by hand, changes AWS" if step.mutates else "by hand, read-only"
    spec = ACTIONS.get(step.action)
    return {"gather": "read-only", "decide": "decision (no AWS call)", "act": "changes AWS",
            "follow": "read-only, follows", "record": "local evidence",
            "flow": "continues in another runbook"}.get(spec.phase if spec else "", "?")


def _fence(text: str) -> str:
    return f"```sh\n{text}\n```"


def step_markdown(number: int, step: Step, link_runbooks: bool) -> str:
    lines = [f"### {number}. {_prose(step.title)}", "",
             f"`{step.id}` · action `{step.action}` · {step_kind(step)}", "",
             f"**Why.** {_prose(step.why)}", "", f"**What it changes.** {_prose(step.changes)}", ""]
    if step.requires_status:
        lines += [f"**Requires stack status:** {_code(step.requires_status)}", ""]
    if step.expects_status:
        lines += [f"**Expected stack status after:** {_code(step.expects_status)}", ""]
    if step.handover:
        targets = [f"{status} → " + (f"[{rid}]({rid}.md)" if link_runbooks else f"`{rid}`")
                   for status, rid in step.handover]
        lines += ["**Continues in:** " + "; ".join(targets), ""]
    if step.confirm:
        how = (f"type `{step.confirm.answer}`" if step.confirm.kind == "typed"
               else "an explicit yes (default No)")
        lines += [f"**Confirmation:** {how}. {_prose(step.confirm.prompt)}", ""]
    if step.flags:
        lines += [f"**Non-interactive flags:** {_code(step.flags)}", ""]
    if step.permissions:
        lines += [f"**IAM permissions:** {_code(step.permissions)}", ""]
    if step.undo:
        lines += [f"**Undo.** {_prose(step.undo)}", ""]
    if step.cli:
        lines += ["**By hand:**", "", _fence(step.cli), ""]
    return "\n".join(lines)


def runbook_markdown(runbook: Runbook, source: str | None = None, link_runbooks: bool = False) -> str:
    """The full page of one runbook. `source` adds the generated-file banner."""
    out: list[str] = []
    if source:
        out += [GENERATED.format(source=source), ""]
    out += [f"# {_prose(runbook.title)}", "",
            f"Runbook `{runbook.id}`, version {runbook.version}. Every step can also be "
            "followed by hand with the `aws` CLI lines it shows.", "",
            _prose(runbook.summary), "",
            f"- **Failure modes:** {_code(runbook.failure_modes)}",
            f"- **Applies to stack status:** {_code(runbook.applies_to)}"]
    if runbook.handovers:
        names = [f"[{rid}]({rid}.md)" if link_runbooks else f"`{rid}`" for rid in runbook.handovers]
        out.append(f"- **May continue in:** {', '.join(names)}")
    out += ["", "## Steps at a glance", "", "| # | Step | Action | Kind |", "|---|---|---|---|"]
    for i, step in enumerate(runbook.steps, 1):
        out.append(f"| {i} | {_cell(step.title)} | `{step.action}` | {step_kind(step)} |")
    out += ["", "## Steps", ""]
    for i, step in enumerate(runbook.steps, 1):
        out.append(step_markdown(i, step, link_runbooks))
    out += ["## IAM permissions", "",
            f"The union of the steps' permissions (`recover iam-policy {runbook.id}` prints the "
            "policy, including the runbooks this one may continue in):", ""]
    out += [f"- `{p}`" for p in permissions_of([runbook])]
    return "\n".join(out).rstrip() + "\n"


def index_markdown(catalog: Catalog) -> str:
    out = [GENERATED.format(source="runbooks/*.yaml"), "", "# Runbooks", "",
           "Each runbook is a YAML document in the repository's `runbooks/` folder (the format: "
           "[runbook-format.md](../runbook-format.md)). `recover runbooks list` and "
           "`recover runbooks show ID` show the same content in a terminal.", "",
           "| Runbook | Title | Failure modes | Applies to | Steps |", "|---|---|---|---|---|"]
    for r in catalog.runbooks:
        out.append(f"| [{r.id}]({r.id}.md) | {_cell(r.title)} | {_code(r.failure_modes)} | "
                   f"{_code(r.applies_to)} | {len(r.steps)} |")
    return "\n".join(out) + "\n"


def iam_policy_markdown(catalog: Catalog) -> str:
    policy = json.dumps(policy_document(catalog.runbooks), indent=2)
    out = [GENERATED.format(source="runbooks/*.yaml"), "", "# IAM policy for on-call engineers",
           "",
           "The least-privilege policy an on-call role needs to run every recover runbook, "
           "derived from the permissions each runbook step declares, with what the read-only "
           "`recover diagnose` reads beyond them (the failing operations' events and hook "
           "results; without them it falls back to the stack events). "
           "`recover iam-policy [RUNBOOK_ID ...]` prints it for a chosen set of runbooks "
           "(including the runbooks they may continue in).", "",
           "```json", policy, "```", "",
           "## Per runbook", "", "| Runbook | IAM actions |", "|---|---|"]
    for r in catalog.runbooks:
        out.append(f"| [{r.id}](runbooks/{r.id}.md) | {_code(permissions_of([r]))} |")
    out += ["", "## Narrowing it", "",
            "Every statement allows `Resource: \"*\"` because the stacks, buckets and roles are "
            "known only during an incident. Where they are known in advance, narrow them:", "",
            "- `iam:PassRole`: only the stacks' service roles (for CDK, "
            "`arn:aws:iam::<ACCOUNT>:role/cdk-<QUALIFIER>-cfn-exec-role-<ACCOUNT>-<REGION>`), "
            "with the condition `iam:PassedToService = cloudformation.amazonaws.com`.",
            "- `iam:CreateRole`, `iam:AttachRolePolicy`, `iam:DeleteRole`...: only "
            "`arn:aws:iam::<ACCOUNT>:role/cdk-*-cfn-exec-role-*`; add a permissions boundary "
            "condition if your organisation uses one, since the recreated role may get "
            "AdministratorAccess.",
            "- `s3:*`: the artifact buckets (for CDK, `cdk-<QUALIFIER>-assets-<ACCOUNT>-<REGION>`).",
            "- `kms:*`: the key of those buckets (`alias/cdk-<QUALIFIER>-assets-key`).",
            "- `cloudformation:*`: `arn:aws:cloudformation:<REGION>:<ACCOUNT>:stack/<PREFIX>*/*`.",
            "",
            "Steps marked *by hand* in a runbook list the permissions of the commands they "
            "show; a fix you choose to make beyond them needs that resource's own permissions. "
            "`sts:GetCallerIdentity`, which recover calls for the evidence metadata, needs no "
            "permission."]
    return "\n".join(out) + "\n"
