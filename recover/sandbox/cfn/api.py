"""The simulated CloudFormation's API surface: one method per implemented action, called by the
sandbox's middleware with the request's parameters and answering like AWS (the synchronous
checks, then the walk launched in the background)."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from recover.sandbox.cfn import drift, express, operations
from recover.sandbox.cfn.model import NESTED_STACK, CfnError, SimResource, SimStack
from recover.sandbox.cfn.runner import DELETE_STATES, Runner, pattern_error, request_fingerprint

UPDATABLE = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE",
             "IMPORT_ROLLBACK_COMPLETE")
# botocore shape patterns (docs/reference/aws-behaviour.md#continueupdaterollback-request)
SKIP_PATTERN = re.compile(r"[a-zA-Z0-9]+|[a-zA-Z][-a-zA-Z0-9]*\.[a-zA-Z0-9]+")


class CfnApi(Runner):
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
            if not SKIP_PATTERN.fullmatch(skip):
                raise CfnError(pattern_error(f"resourcesToSkip.{i}.member", skip,
                                              SKIP_PATTERN.pattern))
        stack = self.get(p["StackName"])
        token = p.get("ClientRequestToken")
        fingerprint = request_fingerprint("ContinueUpdateRollback", p)
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
        fingerprint = request_fingerprint("DeleteStack", p)
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
        fingerprint = request_fingerprint("UpdateStack", p)
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
            return drift.create_change_set(self, p)  # docs/reference/aws-behaviour.md#drift-aware-change-sets

    # change sets and drift (recover/sandbox/cfn/drift.py)

    def detect_stack_resource_drift(self, p: dict[str, Any]) -> dict[str, Any]:
        return drift.detect_stack_resource_drift(self, p)

    def describe_change_set(self, p: dict[str, Any]) -> dict[str, Any]:
        return drift.describe_change_set(self, p)

    def execute_change_set(self, p: dict[str, Any]) -> dict[str, Any]:
        return drift.execute_change_set(self, p)

    # operations (recover/sandbox/cfn/operations.py)

    def describe_events(self, p: dict[str, Any]) -> dict[str, Any]:
        return operations.describe_events(self, p)

    def get_hook_result(self, p: dict[str, Any]) -> dict[str, Any]:
        return operations.get_hook_result(self, p)

    def update_termination_protection(self, p: dict[str, Any]) -> dict[str, Any]:
        stack = self.get(p["StackName"])
        if not stack.is_root:
            raise CfnError("Termination protection cannot be updated on nested stacks; "
                           "update it on the root stack")
        stack.termination_protection = bool(p.get("EnableTerminationProtection"))
        return {"StackId": stack.stack_id}


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
