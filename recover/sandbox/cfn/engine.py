"""The simulated CloudFormation service: stack state, the API operations, and the asynchronous
operation runner that walks resources, emits events and ends in a terminal status.

Operations run like AWS: the call validates synchronously, flips the stack to *_IN_PROGRESS and
returns; a background thread then walks the resources with `step_delay` seconds between steps.
While a scenario is seeded the same walks run inline, so failure states are reached causally.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from recover.sandbox import moto_access as aws
from recover.sandbox.cfn import express, handlers, operations
from recover.sandbox.cfn.model import NESTED_STACK, CfnError, SimEvent, SimResource, SimStack

if TYPE_CHECKING:
    from recover.sandbox.world import World

DELETE_STATES = ("DELETE_IN_PROGRESS", "DELETE_COMPLETE", "DELETE_FAILED")
UPDATABLE = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE",
             "IMPORT_ROLLBACK_COMPLETE")
# botocore shape patterns (docs/reference/aws-behaviour.md#continueupdaterollback-request)
SKIP_PATTERN = re.compile(r"[a-zA-Z0-9]+|[a-zA-Z][-a-zA-Z0-9]*\.[a-zA-Z0-9]+")
TOKEN_PATTERN = re.compile(r"[a-zA-Z0-9][-a-zA-Z0-9]*")
PAGE = 100


def _fullmatch(pattern: re.Pattern[str], value: str) -> bool:
    return pattern.fullmatch(value) is not None


class CfnEngine:
    def __init__(self, world: World, step_delay: float = 0.2) -> None:
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

    # --- seeding API (scenarios) --------------------------------------------------------------

    def add_stack(self, name: str, resources: list[SimResource], *, parent: SimStack | None = None,
                  logical_id: str | None = None, role_arn: str | None = None,
                  template: dict[str, Any] | None = None, **extra: Any) -> SimStack:
        """A CREATE_COMPLETE stack (with its creation events). A child gets a generated name
        `<parent>-<LogicalId>-<12 upper alnum>` (docs/reference/aws-behaviour.md#nested-stacks, inferred rule) and its parent's
        AWS::CloudFormation::Stack resource points at it."""
        w = self.world
        if parent is not None:
            assert logical_id, "a nested stack needs the logical id of its parent resource"
            name = f"{parent.name}-{logical_id}-{w.random_suffix(12)}"
        stack_id = f"arn:aws:cloudformation:{w.region}:{w.account}:stack/{name}/{w.new_uuid()}"
        stack = SimStack(stack_id=stack_id, name=name, status="CREATE_IN_PROGRESS",
                         created=w.clock(), template=template or {}, role_arn=role_arn, **extra)
        if parent is not None:
            stack.parent_id = parent.stack_id
            stack.root_id = parent.root_id or parent.stack_id
            stack.role_arn = stack.role_arn or parent.role_arn
            nested = parent.resources[logical_id]  # type: ignore[index]
            nested.physical_id = stack_id
            nested.child_stack_id = stack_id
        with self.lock:
            self.stacks[stack_id] = stack
        self.stack_event(stack, "CREATE_IN_PROGRESS", "User Initiated")
        for res in resources:
            stack.resources[res.logical_id] = res
            self.event(stack, res, "CREATE_IN_PROGRESS", physical="")
            self.event(stack, res, "CREATE_IN_PROGRESS", "Resource creation Initiated")
            res.status, res.updated = "CREATE_COMPLETE", w.clock()
            self.event(stack, res, "CREATE_COMPLETE")
            self._step()
        if not stack.template:
            stack.template = self._template_of(stack)
        stack.status = "CREATE_COMPLETE"
        self.stack_event(stack, "CREATE_COMPLETE")
        return stack

    def fail_update(self, root: SimStack, *, changes: dict[str, dict[str, dict[str, Any]]],
                    failure: tuple[str, str, str],
                    before_rollback: Callable[[], None] | None = None) -> None:
        """Seed a failed update of `root`, then run its rollback for real.

        changes: {stack name: {logical id: new properties}} the update applied, in order;
        failure: (stack name, logical id, forward reason) of the resource that failed forward.
        Resources of the changed stacks that come after the failing one are cancelled
        (`Resource update cancelled`, docs/reference/aws-behaviour.md#resourcestoskip-rules). The rollback then runs through the causal
        handlers, exactly like ContinueUpdateRollback, so failures and CloudTrail records of
        the rollback are produced, not written by hand. before_rollback: what happened to the
        world while the update ran, before its rollback started (a service role deleted...)."""
        token = None
        self._set_status(root, "UPDATE_IN_PROGRESS", "User Initiated", token)
        fail_stack, fail_lid, fail_reason = failure
        failed = False
        for stack in self.tree(root):
            if stack is not root:
                parent_res = self._parent_resource(stack)
                self.event(self.stacks[stack.parent_id], parent_res, "UPDATE_IN_PROGRESS")  # type: ignore[index]
                self._set_status(stack, "UPDATE_IN_PROGRESS", "User Initiated", token)
            for lid, new_props in changes.get(stack.name, {}).items():
                res = stack.resources[lid]
                res.previous = json.loads(json.dumps(res.properties))
                res.needs_rollback = True
                if failed:
                    res.status, res.reason, res.failed_phase = (
                        "UPDATE_FAILED", "Resource update cancelled", "update")
                    self.event(stack, res, "UPDATE_FAILED", "Resource update cancelled")
                    continue
                self.event(stack, res, "UPDATE_IN_PROGRESS")
                self._step()
                if stack.name == fail_stack and lid == fail_lid:
                    failed = True
                    res.status, res.reason, res.failed_phase = "UPDATE_FAILED", fail_reason, "update"
                    self.event(stack, res, "UPDATE_FAILED", fail_reason)
                    continue
                res.properties = dict(new_props)
                res.status, res.reason = "UPDATE_COMPLETE", None
                self.event(stack, res, "UPDATE_COMPLETE")
        # the failure surfaces in every ancestor: its nested-stack resource fails, deepest first
        on_path = {s.stack_id for s in self.tree(root)
                   if any(t.name == fail_stack for t in self.tree(s))}
        root_failed_lid = fail_lid
        for stack in reversed(self.tree(root)[1:]):
            parent = self.stacks[stack.parent_id]  # type: ignore[index]
            res = self._parent_resource(stack)
            res.needs_rollback = True
            if stack.stack_id in on_path:
                self._set_status(stack, "UPDATE_FAILED", None, token)
                reason = f"Embedded stack {stack.stack_id} was not successfully updated."
                res.status, res.reason, res.failed_phase = "UPDATE_FAILED", reason, "update"
                self.event(parent, res, "UPDATE_FAILED", reason)
                if parent is root:
                    root_failed_lid = res.logical_id
            else:
                self._set_status(stack, "UPDATE_COMPLETE", None, token)
                res.status = "UPDATE_COMPLETE"
                self.event(parent, res, "UPDATE_COMPLETE")
        reason = f"The following resource(s) failed to update: [{root_failed_lid}]. "
        self._set_status(root, "UPDATE_ROLLBACK_IN_PROGRESS", reason, token)
        if before_rollback is not None:
            before_rollback()
        self._rollback_stack(root, {}, token)

    def complete_update(self, root: SimStack, *, changes: dict[str, dict[str, dict[str, Any]]],
                        template_bodies: dict[str, str] | None = None) -> None:
        """Seed a successful update of `root`'s tree: every stack UPDATE_IN_PROGRESS, the
        changed resources updated ({stack name: {logical id: new properties}}), then
        UPDATE_COMPLETE_CLEANUP_IN_PROGRESS and UPDATE_COMPLETE, children before parents (a
        parent completes after its nested stacks, docs/reference/aws-behaviour.md#nested-stacks). New template bodies replace the old."""
        bodies = template_bodies or {}
        tree = self.tree(root)
        for stack in tree:
            if stack is not root:
                parent = self.stacks[stack.parent_id]  # type: ignore[index]
                self.event(parent, self._parent_resource(stack), "UPDATE_IN_PROGRESS")
            self._set_status(stack, "UPDATE_IN_PROGRESS", "User Initiated", None)
            for lid, props in changes.get(stack.name, {}).items():
                res = stack.resources[lid]
                self.event(stack, res, "UPDATE_IN_PROGRESS")
                self._step()
                res.properties = dict(props)
                res.status = "UPDATE_COMPLETE"
                self.event(stack, res, "UPDATE_COMPLETE")
            if stack.name in bodies:
                stack.template_body = bodies[stack.name]
            elif stack.template_body is None:
                stack.template = self._template_of(stack)
        for stack in reversed(tree):
            self._set_status(stack, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", None, None)
            self._step()
            self._set_status(stack, "UPDATE_COMPLETE", None, None)
            if stack is not root:
                parent = self.stacks[stack.parent_id]  # type: ignore[index]
                res = self._parent_resource(stack)
                res.status = "UPDATE_COMPLETE"
                self.event(parent, res, "UPDATE_COMPLETE")

    def start_delete(self, stack: SimStack) -> None:
        """Seed: delete `stack` for real (synchronously) through the causal handlers."""
        self._set_status(stack, "DELETE_IN_PROGRESS", "User Initiated", None)
        self._delete_stack(stack, set(), None)

    def finish_seeding(self) -> None:
        self._seeding = False

    # --- events -------------------------------------------------------------------------------

    def stack_event(self, stack: SimStack, status: str, reason: str | None = None,
                    token: str | None = None) -> None:
        """Stack-level events: EventId is a UUID (docs/reference/aws-behaviour.md#stack-events), logical id = name, physical = ARN."""
        with self.lock:
            operations.begin(self.world, stack, status)
            stack.events.append(SimEvent(
                stack_id=stack.stack_id, stack_name=stack.name, event_id=self.world.new_uuid(),
                logical_id=stack.name, physical_id=stack.stack_id, resource_type=NESTED_STACK,
                timestamp=self.world.clock(), status=status, reason=reason,
                client_request_token=token,
                operation_id=operations.current(self.world, stack)))

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
                operation_id=operations.current(self.world, stack)))
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
        if not _fullmatch(TOKEN_PATTERN, token) or len(token) > 128:
            raise CfnError(_pattern_error("clientRequestToken", token, TOKEN_PATTERN.pattern))
        seen = self._tokens.get((stack.stack_id, token))
        if seen is None:
            return False
        if seen == fingerprint:
            return True
        # model doc text; the wire message is not captured (docs/reference/aws-behaviour.md#aws-messages-recover-recognises)
        raise CfnError("A client request token already exists.", "TokenAlreadyExistsException")

    # --- API: reads -----------------------------------------------------------------------------

    def describe_stacks(self, p: dict[str, Any]) -> dict[str, Any]:
        name = p.get("StackName")
        with self.lock:
            if name:
                stacks = [self.get(name)]
            else:
                stacks = [s for s in self.stacks.values() if s.status != "DELETE_COMPLETE"]
            return {"Stacks": [s.to_api() for s in reversed(stacks)]}

    def list_stacks(self, p: dict[str, Any]) -> dict[str, Any]:
        wanted = set(p.get("StackStatusFilter") or [])
        with self.lock:
            items = [s.summary() for s in reversed(list(self.stacks.values()))
                     if not wanted or s.status in wanted]
        return _paginate(items, p.get("NextToken"), "StackSummaries", self.page_size)

    def describe_stack_events(self, p: dict[str, Any]) -> dict[str, Any]:
        name = p.get("StackName") or ""
        stack = self.get(name, "Stack [{}] does not exist")  # echoes the input (docs/reference/aws-behaviour.md#stack-events)
        with self.lock:
            events = [e.to_api() for e in reversed(stack.events)]
        return _paginate(events, p.get("NextToken"), "StackEvents", self.page_size)

    def list_stack_resources(self, p: dict[str, Any]) -> dict[str, Any]:
        stack = self.get(p["StackName"])
        with self.lock:
            items = [_resource_summary(r) for r in stack.resources.values()]
        return _paginate(items, p.get("NextToken"), "StackResourceSummaries", self.page_size)

    def describe_stack_resources(self, p: dict[str, Any]) -> dict[str, Any]:
        if p.get("PhysicalResourceId"):
            with self.lock:
                for stack in self.stacks.values():
                    for r in stack.resources.values():
                        if r.physical_id == p["PhysicalResourceId"]:
                            return {"StackResources": [_resource(stack, r)
                                                       for r in stack.resources.values()]}
            raise CfnError(f"Stack for {p['PhysicalResourceId']} does not exist")
        if not p.get("StackName"):
            raise CfnError("Either StackName or PhysicalResourceId must be specified.")
        stack = self.get(p["StackName"])
        with self.lock:
            items = [_resource(stack, r) for r in stack.resources.values()
                     if not p.get("LogicalResourceId") or r.logical_id == p["LogicalResourceId"]]
        return {"StackResources": items[:100]}  # "limited to the first 100" (docs/reference/aws-behaviour.md#describestacks-and-stack-resources)

    def describe_stack_resource(self, p: dict[str, Any]) -> dict[str, Any]:
        stack = self.get(p["StackName"])
        res = stack.resources.get(p["LogicalResourceId"])
        if res is None:
            raise CfnError(f"Resource {p['LogicalResourceId']} does not exist for stack "
                           f"{p['StackName']}")
        detail = _resource(stack, res)
        detail["LastUpdatedTimestamp"] = detail.pop("Timestamp")
        detail["Metadata"] = "{}"
        return {"StackResourceDetail": detail}

    def get_template(self, p: dict[str, Any]) -> dict[str, Any]:
        stack = self.get(p["StackName"])
        body = stack.template_body or json.dumps(stack.template, indent=2)
        return {"TemplateBody": body,
                "StagesAvailable": ["Original", "Processed"]}

    # --- API: operations ------------------------------------------------------------------------

    def continue_update_rollback(self, p: dict[str, Any]) -> dict[str, Any]:
        # Order of the synchronous checks is a guess: front-door pattern validation, existence,
        # token (an idempotent retry must succeed whatever the status now is), root-only, role
        # (docs/reference/aws-behaviour.md#service-roles-rolearn), status (docs/reference/aws-behaviour.md#stack-statuses). The skip-list rules come later, asynchronously (docs/reference/aws-behaviour.md#resourcestoskip-rules).
        skips = list(p.get("ResourcesToSkip") or [])
        for i, skip in enumerate(skips, 1):
            if not _fullmatch(SKIP_PATTERN, skip):
                raise CfnError(_pattern_error(f"resourcesToSkip.{i}.member", skip,
                                              SKIP_PATTERN.pattern))
        stack = self.get(p["StackName"])
        token = p.get("ClientRequestToken")
        fingerprint = _fingerprint("ContinueUpdateRollback", p)
        with self.lock:
            if self.check_token(stack, token, fingerprint):
                return {}
            if not stack.is_root:
                # text observed in operator notes (3 notes); Eucalyptus prefixes "Failed to rollback: ".
                # Exact prefix on AWS unconfirmed (docs/reference/aws-behaviour.md#continueupdaterollback-runs-on-the-root): the bare observed text is used.
                raise CfnError("RollbackUpdatedStack cannot be invoked on child stacks")
            self.check_role(stack, p.get("RoleARN"))
            if stack.status != "UPDATE_ROLLBACK_FAILED":
                # Unconfirmed (docs/reference/aws-behaviour.md#unconfirmed-rollback-details): Eucalyptus' wording, which follows AWS's UpdateStack form.
                raise CfnError(f"Stack {stack.stack_id} is in {stack.status} state and can not "
                               "continue to update rollback.")
            if token:
                self._tokens[(stack.stack_id, token)] = fingerprint
            self._set_status(stack, "UPDATE_ROLLBACK_IN_PROGRESS", "User Initiated", token)

        def work() -> None:
            # docs/reference/aws-behaviour.md#resourcestoskip-rules: the observed skip errors appear as the reason of the root's
            # UPDATE_ROLLBACK_FAILED event after the call was accepted, so the sandbox checks
            # them here, asynchronously (sync vs async is unconfirmed, docs/reference/aws-behaviour.md#unconfirmed-rollback-details).
            error, by_stack = self._validate_skips(stack, skips)
            if error:
                self._step()
                self._set_status(stack, "UPDATE_ROLLBACK_FAILED", error, token)
                return
            self._rollback_stack(stack, by_stack, token)

        self._launch(work)
        return {}

    def _validate_skips(self, root: SimStack, skips: list[str]
                        ) -> tuple[str | None, dict[str, set[str]]]:
        tree = {s.name: s for s in self.tree(root)}
        by_stack: dict[str, set[str]] = {}
        for skip in skips:
            if "." in skip:
                stack_name, lid = skip.split(".", 1)
                stack = tree.get(stack_name)
                if stack is None:
                    # operator notes: a logical id used as prefix gives exactly this
                    return f"Stack [{stack_name}] does not exist", {}
            else:
                stack, lid = root, skip
            res = stack.resources.get(lid)
            if res is None:
                # operator notes only have a truncated paraphrase ("... does not belong to stack X");
                # full wording guessed.
                return f"Resource [{lid}] does not belong to stack {stack.name}", {}
            if res.status != "UPDATE_FAILED" or res.failed_phase != "rollback":
                return "Only the resources failed during UpdateRollback are allowed to be skipped", {}
            if res.type == NESTED_STACK:
                child = self.stacks.get(res.child_stack_id or "")
                # current wording: the condition is on the embedded stack's status (docs/reference/aws-behaviour.md#resourcestoskip-rules rule 5)
                if child is not None and child.status not in DELETE_STATES:
                    return "Nested stacks could not be skipped", {}
            by_stack.setdefault(stack.name, set()).add(lid)
        return None, by_stack

    def delete_stack(self, p: dict[str, Any]) -> dict[str, Any]:
        stack = self.find(p["StackName"])
        if stack is None or stack.status == "DELETE_COMPLETE":
            return {}  # deleting a stack that is gone is a no-op success (docs/reference/aws-behaviour.md#deletestack-and-retainresources)
        retain = list(p.get("RetainResources") or [])
        token = p.get("ClientRequestToken")
        fingerprint = _fingerprint("DeleteStack", p)
        with self.lock:
            if self.check_token(stack, token, fingerprint):
                return {}
            self.check_role(stack, p.get("RoleARN"))
            if stack.termination_protection:
                # CDK fake's wording, not confirmed as AWS's (docs/reference/aws-behaviour.md#deletestack-and-retainresources)
                raise CfnError(f"Stack [{stack.name}] cannot be deleted while "
                               "TerminationProtection is enabled")
            force = p.get("DeletionMode") == "FORCE_DELETE_STACK"
            if force and stack.status != "DELETE_FAILED":
                # verbatim, confirmed (docs/reference/aws-behaviour.md#retainresources-only-from-delete_failed)
                raise CfnError(f"Invalid operation on stack [{stack.stack_id}]. You can activate "
                               "DeletionMode FORCE_DELETE_STACK in a delete stack operation only "
                               "when the stack is in the DELETE_FAILED state.")
            if retain and stack.status != "DELETE_FAILED":
                # Unconfirmed (docs/reference/aws-behaviour.md#retainresources-only-from-delete_failed): the Eucalyptus clone's text
                raise CfnError(f"Invalid operation on stack {stack.stack_id}. When you delete a "
                               "stack, specify which resources to retain only when the stack is "
                               "in the DELETE_FAILED state.")
            for lid in retain:
                res = stack.resources.get(lid)
                # verbatim (docs/reference/aws-behaviour.md#which-resources-may-be-retained); unknown ids get the same message (Eucalyptus behaviour)
                if res is None or res.status == "DELETE_COMPLETE":
                    raise CfnError("The specified resources to retain must be in a valid state. "
                                   "Do not specify resources that are in the DELETE_COMPLETE "
                                   "state.")
            if stack.status == "DELETE_IN_PROGRESS":
                return {}
            if stack.status.endswith("_IN_PROGRESS"):
                # AWS refuses to delete a stack with an operation in flight; the exact wording
                # is not in the fact sheet (guessed, modelled on the CDK fake's phrasing)
                raise CfnError(f"Stack [{stack.name}] cannot be deleted while in status "
                               f"{stack.status}")
            if token:
                self._tokens[(stack.stack_id, token)] = fingerprint
            self._set_status(stack, "DELETE_IN_PROGRESS", "User Initiated", token)
        self._launch(lambda: self._delete_stack(stack, set(retain), token, force=force))
        return {}

    def update_stack(self, p: dict[str, Any]) -> dict[str, Any]:
        stack = self.get(p["StackName"])
        token = p.get("ClientRequestToken")
        fingerprint = _fingerprint("UpdateStack", p)
        with self.lock:
            if self.check_token(stack, token, fingerprint):
                return {"StackId": stack.stack_id}
            self.check_role(stack, p.get("RoleARN"))
            # UPDATE_FAILED: the EXPRESS refusals first (docs/reference/aws-behaviour.md#express-deployment-mode)
            express.check_update(stack, p)
            if stack.status not in UPDATABLE and not express.wedged(stack):
                # verbatim pattern, docs/reference/aws-behaviour.md#stack-statuses / docs/reference/aws-behaviour.md#aws-messages-recover-recognises
                raise CfnError(f"Stack:{stack.stack_id} is in {stack.status} state and can not "
                               "be updated.")
            if express.mode_of(p) != express.EXPRESS:
                raise CfnError("the recover sandbox simulates template updates (UpdateStack) "
                               "only in EXPRESS deployment mode")
            if p.get("UsePreviousTemplate"):
                body = stack.template_body or json.dumps(stack.template)
            elif p.get("TemplateBody"):
                body = str(p["TemplateBody"])
            else:
                raise CfnError("the recover sandbox reads templates from TemplateBody only")
            template = express.parse_body(body)
            parameters = express.parameters_after(stack, template, list(p.get("Parameters") or []))
            if token:
                self._tokens[(stack.stack_id, token)] = fingerprint
            stack.deployment_mode = express.EXPRESS
            stack.disable_rollback = not express.rollback_requested(p)
            stack.template, stack.template_body, stack.parameters = template, body, parameters
            if p.get("Capabilities") is not None:
                stack.capabilities = list(p["Capabilities"])
            self._set_status(stack, "UPDATE_IN_PROGRESS", "User Initiated", token)
        self._launch(lambda: express.walk_update(self, stack, template, token))
        return {"StackId": stack.stack_id}

    def express_update(self, root: SimStack, body: str, *, fail: dict[str, str]) -> None:
        """Seed an EXPRESS update of `root` to the template `body` that fails on the resources
        in `fail` ({logical id: reason}): rollback is off, so the stack stays UPDATE_FAILED with
        the new template."""
        root.deployment_mode, root.disable_rollback = express.EXPRESS, True
        root.template, root.template_body = express.parse_body(body), body
        self._set_status(root, "UPDATE_IN_PROGRESS", "User Initiated", None)
        express.walk_update(self, root, root.template, None, fail=fail)

    def rollback_stack(self, p: dict[str, Any]) -> dict[str, Any]:
        stack = self.get(p["StackName"])
        with self.lock:
            self.check_role(stack, p.get("RoleARN"))
            if express.wedged(stack):
                raise CfnError(express.ROLLBACK_REFUSED)
        raise CfnError("the recover sandbox simulates RollbackStack only for its refusal of "
                       "failed EXPRESS stacks")

    def create_change_set(self, p: dict[str, Any]) -> dict[str, Any]:
        stack = self.get(p["StackName"])
        with self.lock:
            express.check_update(stack, p)
        raise CfnError("the recover sandbox does not simulate change sets (CreateChangeSet)")

    def update_termination_protection(self, p: dict[str, Any]) -> dict[str, Any]:
        stack = self.get(p["StackName"])
        if not stack.is_root:
            raise CfnError("Termination protection cannot be updated on nested stacks; "
                           "update it on the root stack")
        stack.termination_protection = bool(p.get("EnableTerminationProtection"))
        return {"StackId": stack.stack_id}

    def force_status(self, name_or_id: str, status: str, reason: str | None = None) -> None:
        """Fault hook: change a stack's status behind the tool's back (emits the event too)."""
        stack = self.get(name_or_id)
        self._set_status(stack, status, reason, None)

    @staticmethod
    def _template_of(stack: SimStack) -> dict[str, Any]:
        resources: dict[str, Any] = {}
        for r in stack.resources.values():
            body: dict[str, Any] = {"Type": r.type}
            if r.properties:
                body["Properties"] = {k: v for k, v in r.properties.items()
                                      if not k.startswith("Sandbox")}
            if r.deletion_policy != "Delete":
                body["DeletionPolicy"] = r.deletion_policy
            resources[r.logical_id] = body
        return {"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}


def _resource_summary(r: SimResource) -> dict[str, Any]:
    out: dict[str, Any] = {"LogicalResourceId": r.logical_id,
                           "PhysicalResourceId": r.physical_id or "", "ResourceType": r.type,
                           "LastUpdatedTimestamp": r.updated, "ResourceStatus": r.status,
                           "DriftInformation": {"StackResourceDriftStatus": "NOT_CHECKED"}}
    if r.reason:
        out["ResourceStatusReason"] = r.reason
    return out


def _resource(stack: SimStack, r: SimResource) -> dict[str, Any]:
    out = _resource_summary(r)
    out["Timestamp"] = out.pop("LastUpdatedTimestamp")
    out.update({"StackName": stack.name, "StackId": stack.stack_id})
    return out


def _paginate(items: list[Any], token: str | None, key: str, size: int) -> dict[str, Any]:
    start = 0
    if token:
        try:
            start = int(base64.b64decode(token).decode())
        except (ValueError, UnicodeDecodeError) as exc:
            raise CfnError("Invalid NextToken") from exc
    out: dict[str, Any] = {key: items[start:start + size]}
    if start + size < len(items):
        out["NextToken"] = base64.b64encode(str(start + size).encode()).decode()
    return out


def _fingerprint(action: str, p: dict[str, Any]) -> str:
    return json.dumps({"Action": action, **p}, sort_keys=True, default=str)


def _pattern_error(field: str, value: str, pattern: str) -> str:
    """AWS's front-door constraint message (the standard '1 validation error detected' form)."""
    return (f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy "
            f"constraint: Member must satisfy regular expression pattern: {pattern}")
