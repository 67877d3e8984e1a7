"""Custom code CloudFormation waits on: custom resource handlers, resource signals."""

from __future__ import annotations

import re
from typing import Any

from recover.explain.parse import Message
from recover.explain.rules.base import Rule, family, groups, reason, when
from recover.explain.taxonomy import FailureMode


def _cr_failed(m: re.Match[str] | None, msg: Message) -> dict[str, Any]:
    r = re.search(r"Message returned:\s*(.*?)(?:\s*\(RequestId:\s*[-\w]+\))?\s*$", msg.text)
    out: dict[str, Any] = {"reason": (r.group(1) if r else msg.text).strip()}
    ls = re.search(r"Log Stream:\s*(\S+)", msg.text)
    if ls:
        out["log_stream"] = ls.group(1)
    return out


E_CR_NO_RESPONSE = (
    "A custom resource's handler never sent its response to CloudFormation, which waited until "
    "its timeout (up to an hour). The handler crashed, timed out, could not reach the response URL, "
    "or (with cfn-response) runs an old inline copy of the module. Read the function's CloudWatch "
    "logs for request id {request_id}; once fixed, retry. If it can never answer, skip it in "
    "ContinueUpdateRollback (during a rollback) or retain it in DeleteStack (during a delete).")


E_CR_FAILED = (
    "A custom resource's handler answered FAILED, so CloudFormation failed the resource. Its "
    "own reason follows the status: {reason}. Read the handler's CloudWatch logs "
    "(request id {request_id}), fix the cause and retry; if it keeps failing during a rollback "
    "or delete, skip or retain the resource.")


E_CR_TIMEOUT = (
    "A resource whose provisioning runs custom code (a custom resource or a registry resource "
    "type handler) did not report completion before CloudFormation's timeout. Check the "
    "handler's logs; retry once it works, or skip/retain the resource if it never will.")


E_CR_PROVIDER = (
    "A custom resource's provider reported that it failed: {reason}. CloudFormation only relays "
    "what the handler said; read the handler's logs, fix the cause (or make the handler treat an "
    "already-gone target as deleted) and retry, or skip/retain the resource.")


E_CR_WAITING = (
    "A custom resource is still waiting for its handler's answer. CloudFormation waits until "
    "the resource's ServiceTimeout (default one hour) for each attempt. If the handler crashed "
    "or never answers, the request is often in its CloudWatch logs: `recover custom-resource "
    "STACK` finds it and answers it for the handler (docs/reference/aws-behaviour.md"
    "#custom-resource-requests-and-responses).")


E_SIGNAL = (
    "The resource waited for success signals (cfn-signal / CreationPolicy / WaitCondition) and "
    "got a FAILURE signal or too few signals in time. Read the instance's cfn-init / user-data "
    "logs; during a rollback, send the signals (`aws cloudformation signal-resource`) and "
    "continue (docs/reference/aws-behaviour.md#why-a-rollback-fails).")


RULES: tuple[Rule, ...] = family(
    "custom_resources",
    Rule("custom-resource-no-response", FailureMode.CUSTOM_RESOURCE_FAILURE, 55, E_CR_NO_RESPONSE,
         when(r"did not receive a response from your Custom Resource",
              extract=groups()), defaults={"request_id": "(see the message)"},
         examples=('CloudFormation did not receive a response from your Custom Resource. Please check your logs for requestId [0b1c...].',)),
    Rule("custom-resource-failed", FailureMode.CUSTOM_RESOURCE_FAILURE, 55, E_CR_FAILED,
         when(r"Received response status \[FAILED\] from custom resource", extract=_cr_failed),
         defaults={"request_id": "in the message"},
         examples=('Received response status [FAILED] from custom resource. Message returned: Error: boom (RequestId: 0b1c...)',)),
    Rule("custom-resource-timeout", FailureMode.CUSTOM_RESOURCE_FAILURE, 50, E_CR_TIMEOUT,
         when(r"Custom Resource failed to stabilize",
              r"timed out waiting for (?:creation|completion|deletion|update|the (?:response|signal))"
              r" of (?:the )?physical resource",
              r"custom resource.{0,40}timed? ?out"), confidence="medium",
         examples=('Resource timed out waiting for creation of physical resource',)),
    Rule("custom-resource-provider-failed", FailureMode.CUSTOM_RESOURCE_FAILURE, 50, E_CR_PROVIDER,
         when(r"^Failed to (?:create|update|delete) resource\.\s", r"Invalid service token",
              r"malformed response from your Custom Resource", r"Response object is too long",
              r"Invalid PhysicalResourceId",
              r"custom resource (?:provider|handler|lambda).{0,40}(?:failed|error)", extract=reason),
         confidence="medium",
         examples=("Failed to delete resource. The repository with name 'x' does not exist in the registry with id '1'",)),
    # a line of the stack's events (console, `cdk deploy`, describe-stack-events) while it waits
    Rule("custom-resource-waiting", FailureMode.CUSTOM_RESOURCE_WAITING, 40, E_CR_WAITING,
         when(r"(?:Custom::\w+|AWS::CloudFormation::CustomResource)\)?\s+"
              r"(?:CREATE|UPDATE|DELETE)_IN_PROGRESS"), confidence="medium",
         examples=("DnsRecord (Custom::DnsRecord) DELETE_IN_PROGRESS",)),
    Rule("resource-signal-failure", FailureMode.SIGNAL_FAILURE, 45, E_SIGNAL,
         when(r"Received \d* ?FAILURE signal", r"Failed to receive \d+ resource signal",
              r"WaitCondition (?:timed out|received failed)"),
         examples=('Received FAILURE signal with UniqueId i-0123456789abcdef0',)),
)
