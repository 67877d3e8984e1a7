"""Gather: what CloudTrail's event history says about a deleted role (who deleted it and when,
its path, the managed policies and boundary it had).

IAM is a global service: its events are recorded in us-east-1 (docs/reference/aws-behaviour.md#lookupevents), for the
last 90 days only, so a role created earlier shows its deletion but not its creation. Cost: at
most `max_pages` LookupEvents calls (ResourceName = role name), well under the 2 per second
limit. A failure (AccessDenied, no CloudTrail) is reported in `note`, never raised: the history
only informs the engineer's choices.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from recover.act.needs import needs
from recover.aws.session import SessionFactory
from recover.cloudtrail.sources import lookup_page, shared_limiter
from recover.run.errors import RecoverError

IAM_EVENTS_REGION = "us-east-1"


@dataclass(frozen=True)
class RoleHistory:
    role_name: str
    deleted_at: str = ""
    deleted_by: str = ""
    created_at: str = ""
    created_by: str = ""
    path: str = ""
    managed_policies: tuple[str, ...] = ()  # attached (and not detached) before the deletion
    permissions_boundary: str = ""
    records: int = 0
    note: str = ""
    events: tuple[dict[str, str], ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["managed_policies"] = list(self.managed_policies)
        out["events"] = list(self.events)
        return out


def _who(record: dict[str, Any]) -> str:
    ident = record.get("userIdentity") or {}
    who = str(ident.get("arn") or ident.get("userName") or ident.get("type") or "")
    if ident.get("invokedBy"):
        who += f" (via {ident['invokedBy']})"
    return who


@needs("cloudtrail:LookupEvents")
def lookup_role_history(aws: SessionFactory, role_name: str, *, max_pages: int = 5) -> RoleHistory:
    # Like every LookupEvents reader: botocore's retries off, each request through the shared
    # 2/s limiter, resets and throttling retried by lookup_page (docs/reference/aws-behaviour.md#lookupevents).
    ct = aws.unretried_client("cloudtrail", IAM_EVENTS_REGION)
    attempts = aws.attempts("cloudtrail", IAM_EVENTS_REGION)
    records: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"LookupAttributes": [{"AttributeKey": "ResourceName",
                                                    "AttributeValue": role_name}]}
    try:
        for _ in range(max_pages):
            page = lookup_page(ct, IAM_EVENTS_REGION, kwargs, limiter=shared_limiter(),
                               max_attempts=attempts)
            for item in page.get("Events", []):
                try:
                    records.append(json.loads(item.get("CloudTrailEvent") or "{}"))
                except ValueError:
                    continue
            if not page.get("NextToken"):
                break
            kwargs["NextToken"] = page["NextToken"]
    except (ClientError, BotoCoreError, RecoverError) as exc:
        code = exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) \
            else exc.code if isinstance(exc, RecoverError) else type(exc).__name__
        return RoleHistory(role_name, note=f"CloudTrail lookup failed ({code}); the role's "
                           "history is unknown")
    records = [r for r in records if (r.get("requestParameters") or {}).get("roleName")
               == role_name and not r.get("errorCode")]
    # LookupEvents answers newest first: reverse, then a stable sort keeps that order for
    # records of the same second (eventTime has one-second resolution)
    records.reverse()
    records.sort(key=lambda r: str(r.get("eventTime", "")))
    h: dict[str, Any] = {"managed": []}
    events = []
    for r in records:
        name, params = str(r.get("eventName")), r.get("requestParameters") or {}
        when, who = str(r.get("eventTime", "")), _who(r)
        events.append({"time": when, "event": name, "by": who})
        if name == "CreateRole":
            h.update(created_at=when, created_by=who, path=str(params.get("path") or "/"),
                     boundary=str(params.get("permissionsBoundary") or ""), managed=[])
        elif name == "AttachRolePolicy" and params.get("policyArn") not in h["managed"]:
            h["managed"].append(str(params.get("policyArn")))
        # DetachRolePolicy is ignored: IAM requires detaching before DeleteRole, so those
        # records describe the deletion, not the policies the role worked with.
        elif name == "PutRolePermissionsBoundary":
            h["boundary"] = str(params.get("permissionsBoundary") or "")
        elif name == "DeleteRole":
            h.update(deleted_at=when, deleted_by=who)
    note = "" if records else ("no CloudTrail event names this role in the last 90 days "
                               "(event history, us-east-1)")
    if records and not h.get("created_at"):
        note = "the role was created more than 90 days ago: its policies are not in the history"
    return RoleHistory(role_name, deleted_at=h.get("deleted_at", ""),
                       deleted_by=h.get("deleted_by", ""), created_at=h.get("created_at", ""),
                       created_by=h.get("created_by", ""), path=h.get("path", ""),
                       managed_policies=tuple(h["managed"]),
                       permissions_boundary=h.get("boundary", ""), records=len(records),
                       note=note, events=tuple(events[-20:]))
