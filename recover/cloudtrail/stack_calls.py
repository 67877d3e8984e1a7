"""CloudFormation's own calls on one stack, as CloudTrail recorded them (pure).

A record says a call was accepted (no errorCode) or refused; it never says whether the operation
the call started succeeded (recover.decide.stable_template matches each call to the stack's
events for that). What a record can hold (docs/reference/aws-behaviour.md#cloudformation-calls-in-cloudtrail):
camelCase request members (`stackName`, `templateURL`, `templateBody`, `usePreviousTemplate`,
`capabilities`, `changeSetName`, `clientRequestToken`, `deploymentConfig`), parameter KEYS only
(CloudFormation logs no parameter value), and `responseElements.stackId` (`id` for a change
set). A large field may be truncated, marked `omitted: true`
(docs/reference/aws-behaviour.md#cloudtrail-records).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from recover.cloudtrail.record import TrailRecord

SOURCE = "cloudformation.amazonaws.com"
STARTS_OPERATION = ("CreateStack", "UpdateStack", "ExecuteChangeSet")
STACK_CALL_EVENTS = (*STARTS_OPERATION, "CreateChangeSet")


@dataclass(frozen=True)
class StackCall:
    event_id: str
    event_name: str
    time: datetime
    stack_ref: str = ""  # stackName as sent: a name or a stack ARN
    stack_id: str = ""  # from responseElements, when the call was accepted
    token: str = ""  # clientRequestToken
    template_url: str = ""
    template_body: str | None = None
    truncated: bool = False  # CloudTrail marked the request parameters as cut short
    use_previous_template: bool = False
    parameter_keys: tuple[str, ...] = ()
    capabilities: tuple[str, ...] = ()
    change_set: str = ""  # changeSetName as sent (a name or an ARN)
    change_set_id: str = ""  # CreateChangeSet's responseElements.id
    mode: str = ""  # deploymentConfig.mode, when sent
    error_code: str = ""

    @property
    def accepted(self) -> bool:
        return not self.error_code

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"event_id": self.event_id, "event_name": self.event_name,
                               "time": self.time.isoformat()}
        for key in ("stack_ref", "token", "template_url", "change_set", "change_set_id", "mode",
                    "error_code"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        if self.template_body is not None:
            out["template_body_chars"] = len(self.template_body)
        if self.truncated:
            out["truncated"] = True
        if self.use_previous_template:
            out["use_previous_template"] = True
        if self.parameter_keys:
            out["parameter_keys"] = list(self.parameter_keys)
        if self.capabilities:
            out["capabilities"] = list(self.capabilities)
        return out


def _m(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _s(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _omitted(rec: TrailRecord, params: Mapping[str, Any]) -> bool:
    # Where CloudTrail puts the marker is not pinned down: accept it at either level.
    return rec.get("omitted") is True or params.get("omitted") is True


def stack_call(rec: TrailRecord) -> StackCall | None:
    """The record as a StackCall, or None when it is not one of STACK_CALL_EVENTS."""
    if rec.event_source != SOURCE or rec.event_name not in STACK_CALL_EVENTS:
        return None
    when = rec.event_time
    if when is None:
        return None
    p = _m(rec.request_parameters)
    r = _m(rec.response_elements)
    body = p.get("templateBody")
    keys = tuple(_s(_m(x).get("parameterKey")) for x in p.get("parameters") or []
                 if _s(_m(x).get("parameterKey")))
    caps = tuple(c for c in p.get("capabilities") or [] if isinstance(c, str))
    return StackCall(
        event_id=rec.event_id or f"{rec.event_name}@{when.isoformat()}",
        event_name=rec.event_name, time=when, stack_ref=_s(p.get("stackName")),
        stack_id=_s(r.get("stackId")), token=_s(p.get("clientRequestToken")),
        template_url=_s(p.get("templateURL")),
        template_body=body if isinstance(body, str) else None,
        truncated=_omitted(rec, p), use_previous_template=p.get("usePreviousTemplate") is True,
        parameter_keys=keys, capabilities=caps, change_set=_s(p.get("changeSetName")),
        change_set_id=_s(r.get("id")), mode=_s(_m(p.get("deploymentConfig")).get("mode")),
        error_code=rec.error_code or "")


def calls_for_stack(records: Iterable[TrailRecord], stack_name: str,
                    stack_id: str) -> list[StackCall]:
    """This stack's calls, oldest first, each event once (duplicates share an eventID). A call
    on an earlier stack of the same name (another stack id) is left out; an ExecuteChangeSet
    that names only a change set ARN is kept when a kept CreateChangeSet returned that ARN."""
    seen: set[str] = set()
    calls: list[StackCall] = []
    for rec in records:
        call = stack_call(rec)
        if call is None or call.event_id in seen:
            continue
        seen.add(call.event_id)
        calls.append(call)
    calls.sort(key=lambda c: (c.time, c.event_id))

    def ours(c: StackCall) -> bool:
        if c.stack_id:
            return c.stack_id == stack_id
        return c.stack_ref in (stack_name, stack_id)

    kept = [c for c in calls if ours(c)]
    change_sets = {c.change_set_id for c in kept if c.change_set_id}
    kept += [c for c in calls if c not in kept and c.event_name == "ExecuteChangeSet"
             and not c.stack_ref and c.change_set in change_sets]
    kept.sort(key=lambda c: (c.time, c.event_id))
    return kept
