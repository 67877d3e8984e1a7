"""The simulated CloudFormation's state and its operation runner: the stacks, their events and
statuses, and the walks an accepted operation runs (rollback, delete) with the checks every
mutating operation shares (service role, ClientRequestToken).

Operations run like AWS: the call validates synchronously, flips the stack to *_IN_PROGRESS and
returns; a background thread then walks the resources with `step_delay` seconds between steps.
While a scenario is seeded the same walks run inline (and advance the simulated clock), so
failure states are reached causally.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from recover.sandbox import moto_access as aws
from recover.sandbox.cfn import handlers, operations
from recover.sandbox.cfn.model import NESTED_STACK, CfnError, SimEvent, SimResource, SimStack
from recover.sandbox.cfn.ports import WorldPort

DELETE_STATES = ("DELETE_IN_PROGRESS", "DELETE_COMPLETE", "DELETE_FAILED")
TOKEN_PATTERN = re.compile(r"[a-zA-Z0-9][-a-zA-Z0-9]*")
PAGE = 100


class Runner:
    """The state and the walks; `Seeding` and `CfnApi` build on it, `CfnEngine` joins them."""

    def __init__(self, world: WorldPort, step_delay: float = 0.2) -> None:
        self.world = world
        self.step_delay = step_delay
        self.lock = threading.RLock()
        self.stacks: dict[str, SimStack] = {}  # by stack id, creation order
        self._tokens: dict[tuple[str, str], str] = {}  # (stack id, token) -> request fingerprint
        self._threads: list[threading.Thread] = []
        self._seeding = True  # steps advance the simulated clock instead of sleeping
        self.page_size = PAGE  # tests lower it to exercise NextToken
        self._gate = threading.Event()  # cleared = accepted operations wait before their walk
        self._gate.set()
        # IAM eventual consistency (docs/reference/aws-behaviour.md#iam-eventual-consistency): a role CloudFormation has not seen before (by unique
        # id) is refused this many times before it can be assumed. 0 = at once (the default).
        self.role_propagation_checks = 0
        # Test knobs (recover/sandbox/cfn/drift.py): an endpoint without drift detection, or
        # one that refuses DeploymentMode REVERT_DRIFT.
        self.drift_detection_supported = True
        # stack operations: ids, LastOperations, hook results (recover/sandbox/cfn/operations.py)
        self.operations = operations.OperationState()
        # change sets by id (recover/sandbox/cfn/drift.py)
        self.change_sets: dict[str, Any] = {}
        self.revert_drift_supported = True
        self._role_checks: dict[str, int] = {}

    # --- lookup -------------------------------------------------------------------------------

    def find(self, name_or_id: str) -> SimStack | None:
        """By ARN: any stack, deleted ones included. By name: the live stack of that name."""
        with self.lock:
            if name_or_id.startswith("arn:"):
                return self.stacks.get(name_or_id)
            live = [s for s in self.stacks.values()
                    if s.name == name_or_id and s.status != "DELETE_COMPLETE"]
            return live[-1] if live else None

    def get(self, name_or_id: str, message: str = "Stack with id {} does not exist") -> SimStack:
        stack = self.find(name_or_id)
        if stack is None:
            raise CfnError(message.format(name_or_id))
        return stack

    def children(self, stack: SimStack) -> list[SimStack]:
        return [self.stacks[r.child_stack_id] for r in stack.resources.values()
                if r.type == NESTED_STACK and r.child_stack_id in self.stacks]

    def tree(self, root: SimStack) -> list[SimStack]:
        out = [root]
        for child in self.children(root):
            out.extend(self.tree(child))
        return out

    # --- events -------------------------------------------------------------------------------

    def stack_event(self, stack: SimStack, status: str, reason: str | None = None,
                    token: str | None = None) -> None:
        """Stack-level events: EventId is a UUID (docs/reference/aws-behaviour.md#stack-events), logical id = name, physical = ARN."""
        with self.lock:
            operations.begin(self, stack, status)
            stack.events.append(SimEvent(
                stack_id=stack.stack_id, stack_name=stack.name, event_id=self.world.new_uuid(),
                logical_id=stack.name, physical_id=stack.stack_id, resource_type=NESTED_STACK,
                timestamp=self.world.clock(), status=status, reason=reason,
                client_request_token=token,
                operation_id=operations.current(self, stack)))

    def event(self, stack: SimStack, res: SimResource, status: str, reason: str | None = None,
              token: str | None = None, physical: str | None = None) -> None:
        """Resource events: EventId `<LogicalId>-<STATUS>-<ISO time>` (docs/reference/aws-behaviour.md#stack-events, 2022 form)."""
        now = self.world.clock()
        iso = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
        with self.lock:
            stack.events.append(SimEvent(
                stack_id=stack.stack_id, stack_name=stack.name,
                event_id=f"{res.logical_id}-{status}-{iso}", logical_id=res.logical_id,
                physical_id=res.physical_id if physical is None else physical,
                resource_type=res.type, timestamp=now, status=status, reason=reason,
                properties=res.properties or None, client_request_token=token,
                operation_id=operations.current(self, stack)))
            res.updated = now

    def _set_status(self, stack: SimStack, status: str, reason: str | None,
                    token: str | None) -> None:
        with self.lock:
            stack.status, stack.reason = status, reason
            if status.startswith(("UPDATE", "DELETE")):
                stack.last_updated = self.world.clock()
        self.stack_event(stack, status, reason, token)

    def _step(self) -> None:
        if self._seeding:
            self.world.clock.advance(2)
        elif self.step_delay:
            time.sleep(self.step_delay)

    def _parent_resource(self, child: SimStack) -> SimResource:
        parent = self.stacks[child.parent_id]  # type: ignore[index]
        return next(r for r in parent.resources.values() if r.child_stack_id == child.stack_id)

    # --- the walks ----------------------------------------------------------------------------

    def _rollback_stack(self, stack: SimStack, skips: dict[str, set[str]],
                        token: str | None) -> bool:
        """Roll `stack` (status already UPDATE_ROLLBACK_IN_PROGRESS) back. Returns success.

        Approximation of AWS's parallel, dependency-ordered rollback in two waves: first the
        resources the update changed (and those whose rollback failed before), nested stacks
        recursively; then the forward-failed and cancelled ones. If a wave has a failure,
        CloudFormation stops there, so after a failed first wave the forward-failed / cancelled
        resources keep their forward reasons (what operator notes observed, docs/reference/aws-behaviour.md#resourcestoskip-rules rule 1)."""
        mine = skips.get(stack.name, set())
        pending = [r for r in stack.resources.values() if r.needs_rollback]
        first = [r for r in pending if r.failed_phase != "update" or r.type == NESTED_STACK]
        second = [r for r in pending if r not in first]
        for wave in (first, second):
            failed: list[str] = []
            for res in wave:
                if res.logical_id in mine:
                    self._skip(stack, res, token)
                    continue
                self.event(stack, res, "UPDATE_IN_PROGRESS", token=token)
                reason = self._rollback_resource(stack, res, skips, token)
                if reason is None:
                    self._settle(stack, res, token)
                else:
                    res.status, res.reason, res.failed_phase = "UPDATE_FAILED", reason, "rollback"
                    self.event(stack, res, "UPDATE_FAILED", reason, token)
                    failed.append(res.logical_id)
            if failed:
                self._set_status(stack, "UPDATE_ROLLBACK_FAILED", "The following resource(s) "
                                 f"failed to update: [{', '.join(failed)}]. ", token)
                return False
        self._set_status(stack, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", None, token)
        self._step()
        self._set_status(stack, "UPDATE_ROLLBACK_COMPLETE", None, token)
        return True

    def _rollback_resource(self, stack: SimStack, res: SimResource, skips: dict[str, set[str]],
                           token: str | None) -> str | None:
        """Roll one resource back: recurse into a nested stack, else the causal handler."""
        if res.type == NESTED_STACK and res.child_stack_id in self.stacks:
            child = self.stacks[res.child_stack_id]
            self._set_status(child, "UPDATE_ROLLBACK_IN_PROGRESS", None, token)
            if self._rollback_stack(child, skips, token):
                return None
            # guessed wording (operator notes' paraphrase: "Currently in UPDATE_ROLLBACK_FAILED,
            # <Resource> failed"); not verified verbatim (docs/reference/aws-behaviour.md#resourcestoskip-rules)
            return (f"Embedded stack {child.stack_id} was not successfully updated. Currently in "
                    f"UPDATE_ROLLBACK_FAILED, {child.reason or ''}").rstrip()
        self._step()
        return self.role_unusable(stack) or handlers.rollback(self.world, stack, res)

    def _settle(self, stack: SimStack, res: SimResource, token: str | None) -> None:
        if res.previous is not None:
            res.properties = dict(res.previous)
        res.status, res.reason, res.failed_phase, res.needs_rollback = (
            "UPDATE_COMPLETE", None, None, False)
        self.event(stack, res, "UPDATE_COMPLETE", token=token)

    def _skip(self, stack: SimStack, res: SimResource, token: str | None) -> None:
        """docs/reference/aws-behaviour.md#resourcestoskip-rules rule 6: skipped resources are set to UPDATE_COMPLETE without being rolled back, so the
        real resource stays as it is (inconsistent with the template). AWS's event reason for a
        skip is not documented; the sandbox emits none."""
        res.status, res.reason, res.failed_phase, res.needs_rollback = (
            "UPDATE_COMPLETE", None, None, False)
        self.event(stack, res, "UPDATE_COMPLETE", token=token)

    def _delete_stack(self, stack: SimStack, retain: set[str], token: str | None,
                      force: bool = False) -> bool:
        """Delete in reverse template order. force = DeletionMode FORCE_DELETE_STACK: a resource
        that still fails to delete is left in place and the stack is deleted anyway (docs/reference/aws-behaviour.md#deletestack-and-retainresources; that
        it shows as DELETE_SKIPPED is a guess, like RetainResources, docs/reference/aws-behaviour.md#unconfirmed-delete-details)."""
        failed: list[str] = []
        for res in reversed(list(stack.resources.values())):
            if res.status in ("DELETE_COMPLETE", "DELETE_SKIPPED"):
                continue
            if res.logical_id in retain or res.deletion_policy == "Retain":
                # DELETE_SKIPPED for RetainResources is inferred, not confirmed (docs/reference/aws-behaviour.md#which-resources-may-be-retained, docs/reference/aws-behaviour.md#unconfirmed-delete-details)
                res.status, res.reason = "DELETE_SKIPPED", None
                self.event(stack, res, "DELETE_SKIPPED", token=token)
                continue
            self.event(stack, res, "DELETE_IN_PROGRESS", token=token)
            self._step()
            if res.type == NESTED_STACK and res.child_stack_id in self.stacks:
                child = self.stacks[res.child_stack_id]
                if child.status == "DELETE_COMPLETE":
                    reason = None
                else:
                    self._set_status(child, "DELETE_IN_PROGRESS", "User Initiated", token)
                    ok = self._delete_stack(child, set(), token, force=force)
                    # guessed wording, modelled on the update case
                    reason = None if ok else (f"Embedded stack {child.stack_id} was not "
                                              f"successfully deleted: {child.reason}")
            else:
                reason = self.role_unusable(stack) or handlers.delete(self.world, stack, res)
            if reason is None:
                res.status, res.reason = "DELETE_COMPLETE", None
                self.event(stack, res, "DELETE_COMPLETE", token=token)
            elif force:
                res.status, res.reason = "DELETE_SKIPPED", reason
                self.event(stack, res, "DELETE_SKIPPED", reason, token)
            else:
                res.status, res.reason = "DELETE_FAILED", reason
                self.event(stack, res, "DELETE_FAILED", reason, token)
                failed.append(res.logical_id)
        if failed:
            # verbatim shape, trailing space included (docs/reference/aws-behaviour.md#why-a-delete-fails)
            names = ", ".join(reversed(failed))
            self._set_status(stack, "DELETE_FAILED",
                             f"The following resource(s) failed to delete: [{names}]. ", token)
            return False
        self._set_status(stack, "DELETE_COMPLETE", None, token)
        stack.deleted = self.world.clock()
        return True

    def _launch(self, work: Callable[[], Any]) -> None:
        if self._seeding:
            work()
            return
        def gated() -> None:
            self._gate.wait()
            work()

        thread = threading.Thread(target=gated, name="sandbox-cfn-operation", daemon=True)
        with self.lock:
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def hold(self) -> None:
        """Accepted operations stay *_IN_PROGRESS until `release()` (tests of the async
        behaviour, without timing)."""
        self._gate.clear()

    def release(self) -> None:
        self._gate.set()

    def wait_idle(self, timeout: float = 60.0) -> None:
        """Join the running operations (tests and `world.settle()`)."""
        for thread in list(self._threads):
            thread.join(timeout)

    # --- checks shared by the mutating operations -----------------------------------------------

    def check_role(self, stack: SimStack, role_arn: str | None) -> None:
        """docs/reference/aws-behaviour.md#service-roles-rolearn: the role given, else the stack's role, must exist and trust
        cloudformation.amazonaws.com, checked live against moto's IAM; a synchronous 400."""
        arn = role_arn or stack.role_arn
        if arn is None:
            return  # CloudFormation uses the caller's credentials
        name = arn.rsplit("/", 1)[-1]
        problem = self.role_unusable(stack, arn)
        if problem:
            raise CfnError(problem)
        unique_id = aws.role_id(name) or name
        seen = self._role_checks.get(unique_id, 0)
        if seen < self.role_propagation_checks:
            # a new role is not assumable yet; AWS answers as for a missing role (the delay
            # itself is not documented: the count is a test knob, not a measured value)
            self._role_checks[unique_id] = seen + 1
            raise CfnError(f"Role {arn} is invalid or cannot be assumed")
        if role_arn:
            stack.role_arn = role_arn  # "always uses this role for all future operations" (docs/reference/aws-behaviour.md#service-roles-rolearn)

    def role_unusable(self, stack: SimStack, role_arn: str | None = None) -> str | None:
        """The reason a resource operation fails when the stack's service role vanished after the
        operation was accepted: CloudFormation acts on every resource as that role (docs/reference/aws-behaviour.md#service-roles-rolearn), so
        each resource it reaches fails with the role message (verbatim pattern, docs/reference/aws-behaviour.md#service-roles-rolearn / docs/reference/aws-behaviour.md#aws-messages-recover-recognises).
        Unconfirmed: the fact sheet only has the synchronous 400; that a resource reached after
        the role vanished carries the same text as its reason is the most likely reading."""
        arn = role_arn or stack.role_arn
        if arn is None:
            return None  # CloudFormation uses the caller's credentials
        name = arn.rsplit("/", 1)[-1]
        # the ARN carries the path: a role of that name under another path is another role
        if aws.role_arn(name) != arn or not aws.role_trusts_cloudformation(name):
            return f"Role {arn} is invalid or cannot be assumed"
        return None

    def check_token(self, stack: SimStack, token: str | None, fingerprint: str) -> bool:
        """ClientRequestToken idempotency. True = the same request was already accepted (answer
        success, start nothing); reuse for another request = TokenAlreadyExistsException."""
        if not token:
            return False
        if not TOKEN_PATTERN.fullmatch(token) or len(token) > 128:
            raise CfnError(pattern_error("clientRequestToken", token, TOKEN_PATTERN.pattern))
        seen = self._tokens.get((stack.stack_id, token))
        if seen is None:
            return False
        if seen == fingerprint:
            return True
        # model doc text; the wire message is not captured (docs/reference/aws-behaviour.md#aws-messages-recover-recognises)
        raise CfnError("A client request token already exists.", "TokenAlreadyExistsException")



def request_fingerprint(action: str, p: dict[str, Any]) -> str:
    """What makes two requests with the same ClientRequestToken the same request."""
    return json.dumps({"Action": action, **p}, sort_keys=True, default=str)


def pattern_error(field: str, value: str, pattern: str) -> str:
    """AWS's front-door constraint message (the standard '1 validation error detected' form)."""
    return (f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy "
            f"constraint: Member must satisfy regular expression pattern: {pattern}")
