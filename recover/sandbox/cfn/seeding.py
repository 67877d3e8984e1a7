"""Seeding the simulated CloudFormation: the stacks a scenario starts from and the operations
that brought them to their failure state, run through the same walks as the API's operations so
failures, events and CloudTrail records are produced, not written by hand."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from recover.sandbox.cfn import express
from recover.sandbox.cfn.model import SimResource, SimStack
from recover.sandbox.cfn.runner import Runner


class Seeding(Runner):

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

    def express_update(self, root: SimStack, body: str, *, fail: dict[str, str]) -> None:
        """Seed an EXPRESS update of `root` to the template `body` that fails on the resources
        in `fail` ({logical id: reason}): rollback is off, so the stack stays UPDATE_FAILED with
        the new template."""
        root.deployment_mode, root.disable_rollback = express.EXPRESS, True
        root.template, root.template_body = express.parse_body(body), body
        self._set_status(root, "UPDATE_IN_PROGRESS", "User Initiated", None)
        express.walk_update(self, root, root.template, None, fail=fail)

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
