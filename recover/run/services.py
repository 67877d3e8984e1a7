"""What every stack run needs from its RunContext, outside the click layer (commands and flows
both use it): its evidence folder, what earlier unfinished runs did, and CloudTrail sources."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from recover.act.needs import needs
from recover.cloudtrail.scan import SourceDeps
from recover.run.context import RunContext
from recover.run.evidence import EvidenceRun
from recover.run.resume import PriorRuns, load_prior


@needs("cloudformation:GetTemplate")
def read_templates(rc: RunContext, stack_id: str) -> Any:
    """A stack's original template, read once per run to learn its NoEcho parameters."""
    return rc.aws.client("cloudformation").get_template(
        StackName=stack_id, TemplateStage="Original").get("TemplateBody")


def open_evidence(rc: RunContext, command: str, subject: str) -> EvidenceRun:
    """The evidence folder of a stack run (use as a context manager), with the caller's
    identity recorded and a way to read the templates of the stacks it snapshots (their NoEcho
    parameters are redacted from every file of the folder, recover/run/evidence.py) (sts:GetCallerIdentity needs no permission; a failure is recorded, not
    raised, so the command's own first call reports credential problems in its context)."""
    ev = EvidenceRun(rc.evidence_root, command, subject, clock=rc.clock,
                     argv=rc.options.argv, region=rc.aws.region,
                     endpoint_url=rc.options.endpoint_url, api_counter=rc.aws.counter)
    ev.template_reader = lambda stack_id: read_templates(rc, stack_id)
    if not rc.options.evidence_dir and rc.evidence_root.is_absolute():
        rc.progress(f"the current folder is not writable: the evidence goes to {ev.dir}")
    try:
        who = rc.aws.client("sts").get_caller_identity()
        identity = {k: who.get(k) for k in ("Account", "Arn", "UserId")}
    except Exception as exc:  # noqa: BLE001 - identity is informative only
        identity = {"error": f"{type(exc).__name__}: {exc}"[:300]}
    ev.set(dry_run=bool(rc.options.dry_run), identity=identity)  # one metadata write
    return ev


def resume_from(rc: RunContext, ev: EvidenceRun,
                accept: Callable[[Path], bool] | None = None) -> PriorRuns:
    """The unfinished earlier runs of this command on this stack (recover/run/resume.py); when there
    are some, say so, journal what they did and link them from this run's metadata."""
    if rc.options.dry_run:
        return PriorRuns()
    prior = load_prior(rc.evidence_root, ev.command, ev.subject, region=rc.aws.region,
                       endpoint_url=rc.options.endpoint_url,
                       account=(ev.metadata.get("identity") or {}).get("Account"),
                       exclude_run_id=ev.run_id,
                       accept=accept)
    if prior:
        ev.set(resumed_from=[r["dir"] for r in prior.runs])
        ev.journal.append("resume", **prior.summary())
        if prior.calls or prior.runs[0].get("outcome") in ("running", "interrupted"):
            rc.progress(prior.describe())  # not for a run that only stopped on an error
    return prior


def source_deps(rc: RunContext) -> SourceDeps:
    """What building a CloudTrail source needs from this run (shared by every --trail option)."""
    return SourceDeps(client=lambda service, region: rc.aws.client(service, region=region),
                      lookup_client=_lookup_clients(rc),
                      lookup_attempts=lambda region: rc.aws.attempts("cloudtrail", region),
                      stdin=_binary_stdin(rc),
                      default_region=rc.options.region or _session_region(rc), now=rc.clock)


def _session_region(rc: RunContext) -> str | None:
    try:
        return rc.aws.region
    except Exception:  # noqa: BLE001 - no region configured: the source says what it needs
        return None


def _binary_stdin(rc: RunContext) -> Any:
    buffer = getattr(rc.stdin, "buffer", None)
    if buffer is not None:
        return buffer
    return io.BytesIO(rc.stdin.read().encode())  # a text stream given by tests


def _lookup_clients(rc: RunContext) -> Any:
    """LookupEvents clients with botocore's retries off: every HTTP request must pass the 2/s
    rate limiter, so the reader retries itself (docs/reference/aws-behaviour.md#lookupevents)."""
    return lambda region: rc.aws.unretried_client("cloudtrail", region)
