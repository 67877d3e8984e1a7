"""The executor: runs each planned Call, journaling before and after; --dry-run stops here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from recover.act import lost_answers, presigned
from recover.act.calls import Call
from recover.aws.session import SessionFactory
from recover.model.operations import STARTED_BY, last_operations
from recover.run.evidence import Journal
from recover.run.interrupts import change_in_flight


class Executor:
    def __init__(self, aws: SessionFactory, journal: Journal, *, dry_run: bool = False,
                 log: Callable[[str], None] | None = None) -> None:
        self.aws = aws
        self.journal = journal
        self.dry_run = dry_run
        self.log = log or (lambda _msg: None)
        self.would_run: list[Call] = []
        self.ran: list[tuple[Call, dict[str, Any]]] = []
        self.last_seq: int | None = None  # journal seq of the last call's `before` entry
        # {seq, operation, stack, operation_id, operation_type, source} per stack operation
        # started (docs/reference/aws-behaviour.md#unconfirmed-operation-details)
        self.operations: list[dict[str, Any]] = []

    def run(self, call: Call) -> dict[str, Any]:
        """Run one call. In dry-run mode record it and return {} without calling AWS."""
        if self.dry_run:
            self.would_run.append(call)
            self.journal.append("dry_run", call=call.to_dict())
            self.log(f"[dry-run] would call {call.service}:{call.operation}: {call.description}")
            return {}
        # A signal while the change is in flight waits for AWS's answer to be journaled.
        with change_in_flight():
            before = self.journal.append("call", phase="before", call=call.to_dict())
            self.last_seq = before["seq"]
            self.log(f"calling {call.service}:{call.operation}: {call.description}")
            client = None
            try:
                if call.service == presigned.SERVICE:  # an HTTP PUT, not an AWS API call
                    response = presigned.put(call.params)
                else:
                    client = self.aws.client(call.service, call.region)
                    response = getattr(client, call.method)(**call.params)
            except KeyboardInterrupt as exc:
                # Stopped at once (second signal): AWS may or may not have received the call.
                self.journal.append("call", phase="after", ref=before["seq"], ok=None,
                                    in_doubt=True, operation=call.operation,
                                    error={"code": "interrupted", "message": str(exc) or
                                           "interrupted while the call was in flight"})
                raise
            except ClientError as exc:
                settled = self._settle(client, call, exc)
                if settled is None:
                    self.journal.append("call", phase="after", ref=before["seq"], ok=False,
                                        operation=call.operation, error=_error_of(exc))
                    raise
                # our own change, met by botocore's retry after the first answer was lost
                how, response = settled
                self.log(f"{call.service}:{call.operation}: answer lost; {how}")
                self.journal.append("call", phase="after", ref=before["seq"], ok=True,
                                    operation=call.operation, response=_trim(response),
                                    answer_lost={"error": _error_of(exc), "settled_by": how})
                self.ran.append((call, response))
                return response
            except BaseException as exc:
                self.journal.append("call", phase="after", ref=before["seq"], ok=False,
                                    operation=call.operation, error=_error_of(exc))
                raise
            response = dict(response or {})
            meta = response.pop("ResponseMetadata", {})
            self.journal.append("call", phase="after", ref=before["seq"], ok=True,
                                operation=call.operation, response=_trim(response),
                                request_id=meta.get("RequestId"))
            self.ran.append((call, response))
        if call.service == "cloudformation" and call.operation in STARTED_BY:
            self._read_back_operation(call, before["seq"])
        return response

    def _read_back_operation(self, call: Call, seq: int) -> None:
        """Tie the call to the operation it started: read the stack's LastOperations right
        after it and take the first entry of the type the call starts. Journaled as its own
        entry (`operation_started`, ref = the call's seq): a failed read-back never hides that
        the call itself succeeded."""
        stack = str(call.params.get("StackName") or "")
        wanted = STARTED_BY[call.operation]
        entry: dict[str, Any] = {"ref": seq, "operation": call.operation, "stack": stack,
                                 "operation_type": wanted, "operation_id": None}
        try:
            found = self.aws.client("cloudformation", call.region).describe_stacks(
                StackName=stack)["Stacks"]
            ops = last_operations(found[0]) if found else ()
            match = next((o for o in ops if o.operation_type == wanted), None)
            if match is not None:
                entry.update(operation_id=match.operation_id, source="LastOperations")
            else:
                entry["source"] = ("DescribeStacks lists no LastOperations (older SDK or "
                                   "endpoint): the ClientRequestToken is the link"
                                   if not ops else f"no {wanted} entry in LastOperations")
        except (ClientError, BotoCoreError) as exc:
            entry["source"] = f"read-back failed: {_error_of(exc)['code']}"
        self.journal.append("operation_started", **entry)
        self.operations.append(entry)
        if entry["operation_id"]:
            self.log(f"{call.operation} started operation {entry['operation_id']} ({wanted})")

    def _settle(self, client: Any, call: Call,
                exc: ClientError) -> tuple[str, dict[str, Any]] | None:
        """recover's own change met by a retry (recover/act/lost_answers.py); a failure to
        show it leaves the call's own error to be raised."""
        try:
            return lost_answers.settle(client, call, exc)
        except Exception as reading:  # noqa: BLE001 - the call's error is the one to report
            self.log(f"could not tell whether {call.operation}'s retry met our own change: "
                     f"{reading}")
            return None


def _error_of(exc: BaseException) -> dict[str, Any]:
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and "Error" in response:
        return {"code": response["Error"].get("Code"), "message": response["Error"].get("Message")}
    return {"code": type(exc).__name__, "message": str(exc)[:500]}


def _trim(value: Any, depth: int = 0) -> Any:
    """Responses go into the journal; keep them small and JSON-safe."""
    if depth > 6:
        return "…"
    if isinstance(value, dict):
        return {k: _trim(v, depth + 1) for k, v in list(value.items())[:50]}
    if isinstance(value, list):
        return [_trim(v, depth + 1) for v in value[:50]]
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if hasattr(value, "read"):
        return "<stream>"
    return value
