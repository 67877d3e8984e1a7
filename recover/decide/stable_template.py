"""Which template was the stack's last stable one, proven from CloudTrail and the stack's events
(pure: no AWS call).

CloudTrail records that a CreateStack/UpdateStack/ExecuteChangeSet was accepted, not that the
operation it started succeeded (docs/reference/aws-behaviour.md#cloudformation-calls-in-cloudtrail).
The stack's events say how each operation ended: an operation starts with the stack's own
`CREATE_IN_PROGRESS`/`UPDATE_IN_PROGRESS` "User Initiated" event and ends at the stack's next
status that is not `*_IN_PROGRESS`. The last stable template is the one of the last operation
that ended `CREATE_COMPLETE` or `UPDATE_COMPLETE` (a later update that rolled back restored
it). Each such operation is matched to the accepted call that started it: by client request
token when both carry one, else by time (the call's eventTime within MATCH_WINDOW of the start
event, and no other call or start in that window). Anything not proven this way is reported,
never guessed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from recover.cloudtrail.stack_calls import STARTS_OPERATION, StackCall
from recover.model.stack import StackEvent
from recover.readiness.artifacts import s3_from_url

START_STATUSES = ("CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS")
COMPLETED = ("CREATE_COMPLETE", "UPDATE_COMPLETE")
USER_INITIATED = "User Initiated"
# eventTime is when the request completed; the start event is written while it runs. Two
# operations on one stack never overlap, so a window of two minutes cannot join two of them
# unless both started inside it, which is then reported as ambiguous.
MATCH_WINDOW = timedelta(minutes=2)


@dataclass(frozen=True)
class Operation:
    started: datetime
    outcome: str  # the first stack status after the start that is not *_IN_PROGRESS ("" if none)
    token: str = ""
    call: StackCall | None = None
    why_no_call: str = ""

    @property
    def completed(self) -> bool:
        return self.outcome in COMPLETED

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"started": self.started.isoformat(), "outcome": self.outcome}
        if self.call is not None:
            out["call"] = f"{self.call.event_name} {self.call.event_id}"
        if self.why_no_call:
            out["unmatched"] = self.why_no_call
        return out


@dataclass(frozen=True)
class S3Template:
    bucket: str
    key: str
    version: str | None  # pinned in the URL
    read_at: datetime  # when CloudFormation read it: the time of the call that carried the URL

    @property
    def spec(self) -> str:
        return f"s3://{self.bucket}/{self.key}" + (f"?versionId={self.version}"
                                                   if self.version else "")


@dataclass
class StableTemplate:
    """The outcome: `proven` with where the template is, or the reason it is not."""

    proven: bool
    reason: str
    operation: Operation | None = None
    carrier: StackCall | None = None  # the call whose request held the template
    s3: S3Template | None = None
    body: str | None = None  # a complete templateBody from the record
    capabilities: tuple[str, ...] = ()
    parameter_keys: tuple[str, ...] = ()
    history: list[Operation] = field(default_factory=list)

    @property
    def label(self) -> str:
        if self.carrier is None or self.operation is None:
            return ""
        op = self.operation
        via = f"{op.call.event_name} {op.call.event_id}" if op.call else ""
        if self.carrier is not op.call:
            via += f" of change set {self.carrier.change_set or self.carrier.change_set_id}"
        return f"CloudTrail {via} at {op.started.isoformat()} (ended {op.outcome})"

    def to_dict(self) -> dict[str, Any]:
        return {"proven": self.proven, "reason": self.reason,
                "operation": self.operation.to_dict() if self.operation else None,
                "carrier": self.carrier.to_dict() if self.carrier else None,
                "s3": self.s3.spec if self.s3 else None,
                "read_at": self.s3.read_at.isoformat() if self.s3 else None,
                "capabilities": list(self.capabilities),
                "parameter_keys": list(self.parameter_keys),
                "history": [o.to_dict() for o in self.history]}


def _is_stack(e: StackEvent, stack_name: str) -> bool:
    return e.is_stack_event or (e.logical_id == stack_name
                                and e.resource_type == "AWS::CloudFormation::Stack")


def operations(events: Sequence[StackEvent], stack_name: str) -> list[Operation]:
    """The stack's user-initiated create/update operations and how each ended, oldest first."""
    mine = sorted((e for e in events if _is_stack(e, stack_name)), key=lambda e: e.timestamp)
    ops: list[Operation] = []
    for i, e in enumerate(mine):
        if e.status not in START_STATUSES or e.reason != USER_INITIATED:
            continue
        end = next((x.status for x in mine[i + 1:] if not x.status.endswith("_IN_PROGRESS")), "")
        ops.append(Operation(started=e.timestamp, outcome=end, token=e.client_request_token))
    return ops


def match_calls(ops: list[Operation], calls: Sequence[StackCall]) -> list[Operation]:
    """Each operation with the accepted call that started it, or why none could be joined."""
    starters = [c for c in calls if c.accepted and c.event_name in STARTS_OPERATION]
    out: list[Operation] = []
    for op in ops:
        by_token = [c for c in starters if op.token and c.token == op.token]
        if len(by_token) == 1:
            out.append(Operation(op.started, op.outcome, op.token, by_token[0]))
            continue
        # a call carrying another token started another operation
        near = [c for c in starters if abs(c.time - op.started) <= MATCH_WINDOW
                and not (op.token and c.token and c.token != op.token)]
        shared = len(near) == 1 and sum(
            1 for o in ops if abs(near[0].time - o.started) <= MATCH_WINDOW) > 1
        if len(near) == 1 and not shared:
            out.append(Operation(op.started, op.outcome, op.token, near[0]))
        else:
            why = ("no accepted CreateStack/UpdateStack/ExecuteChangeSet record within "
                   f"{int(MATCH_WINDOW.total_seconds())} s of the start" if not near else
                   f"{len(near)} record(s) fit more than one operation: ambiguous")
            out.append(Operation(op.started, op.outcome, op.token, None, why))
    return out


def _change_set_of(execute: StackCall, calls: Sequence[StackCall]) -> StackCall | None:
    created = [c for c in calls if c.event_name == "CreateChangeSet" and c.accepted
               and c.time <= execute.time]
    by_arn = [c for c in created if c.change_set_id and c.change_set_id == execute.change_set]
    if by_arn:
        return by_arn[-1]
    by_name = [c for c in created if c.change_set and c.change_set == execute.change_set]
    return by_name[-1] if by_name else None


def parse_template_url(url: str, read_at: datetime) -> S3Template | None:
    found = s3_from_url(url.split("?", 1)[0])
    if found is None:
        return None
    version = (parse_qs(urlsplit(url).query).get("versionId") or [None])[0]
    return S3Template(found[0], found[1], version, read_at)


def last_stable(calls: Sequence[StackCall], events: Sequence[StackEvent], stack_name: str,
                *, before: datetime | None = None) -> StableTemplate:
    """The last completed operation before `before` (default: before the newest operation,
    the failed one) and where its template is, or why that cannot be proven."""
    history = match_calls(operations(events, stack_name), calls)
    if not history:
        return StableTemplate(False, "the stack's events show no user-initiated create or "
                              "update", history=history)
    cutoff = before or history[-1].started
    done = [o for o in history if o.completed and o.started < cutoff]
    if not done:
        return StableTemplate(False, "no earlier create or update of this stack completed "
                              "(its events show none)", history=history)
    return _template_of(done[-1], history, calls)


def _template_of(op: Operation, history: list[Operation], calls: Sequence[StackCall],
                 depth: int = 0) -> StableTemplate:
    when = f"the operation that started {op.started.isoformat()} and ended {op.outcome}"
    if op.call is None:
        return StableTemplate(False, f"{when} has no matching CloudTrail record "
                              f"({op.why_no_call}); its template cannot be proven",
                              operation=op, history=history)
    carrier = op.call
    if carrier.event_name == "ExecuteChangeSet":
        found = _change_set_of(carrier, calls)
        if found is None:
            return StableTemplate(False, f"{when} executed change set {carrier.change_set}, "
                                  "whose CreateChangeSet record is not in the trail source",
                                  operation=op, history=history)
        carrier = found
    result = StableTemplate(False, "", operation=op, carrier=carrier,
                            capabilities=carrier.capabilities,
                            parameter_keys=carrier.parameter_keys, history=history)
    if carrier.use_previous_template:
        earlier = [o for o in history if o.completed and o.started < op.started]
        if not earlier or depth > 20:
            result.reason = f"{when} reused the previous template, which cannot be traced"
            return result
        inner = _template_of(earlier[-1], history, calls, depth + 1)
        result.proven, result.s3, result.body = inner.proven, inner.s3, inner.body
        result.reason = f"{when} reused the previous template: {inner.reason}"
        return result
    if carrier.template_url:
        s3 = parse_template_url(carrier.template_url, carrier.time)
        if s3 is None:
            result.reason = f"{when} used templateURL {carrier.template_url}, not an S3 URL"
            return result
        result.proven, result.s3 = True, s3
        result.reason = f"{when} read {carrier.template_url} at {carrier.time.isoformat()}"
        return result
    if carrier.template_body is not None and not carrier.truncated:
        result.proven, result.body = True, carrier.template_body
        result.reason = f"{when} sent its template in the request, recorded in full"
        return result
    result.reason = (f"{when} sent its template in the request, and the CloudTrail record "
                     + ("marks it as truncated (omitted)" if carrier.truncated
                        else "does not hold it"))
    return result


def version_at(versions: Sequence[dict[str, Any]], when: datetime) -> tuple[str | None, str]:
    """The version of an S3 key that was current at `when`: the newest version or delete marker
    (ListObjectVersions entries with `VersionId`, `LastModified`, `IsDeleteMarker`) not newer
    than `when`. (None, why) when there was none or it was a delete marker."""
    older = sorted((v for v in versions if v["LastModified"] <= when),
                   key=lambda v: v["LastModified"])
    if not older:
        newest = max((v["LastModified"] for v in versions), default=None)
        return None, ("every version of the object is newer than the deploy (overwritten "
                      "since, and the bucket kept no older version)" if newest
                      else "the object has no versions left")
    current = older[-1]
    if current.get("IsDeleteMarker"):
        return None, "the object was deleted (a delete marker) when the deploy read it"
    later = [v for v in versions if v["LastModified"] > when]
    note = (f"version {current['VersionId']} (overwritten since by {len(later)} newer "
            "version(s))" if later else f"version {current['VersionId']} (still current)")
    return str(current["VersionId"]), note
