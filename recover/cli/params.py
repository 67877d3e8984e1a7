"""click parameter types that refuse bad values before anything runs (exit 2, one line):
stack names, resource ids for --skip/--retain/--retry, and durations."""

from __future__ import annotations

import math
import re
from typing import Any

import click

# aws-semantics §1.1: StackName is a `StackNameOrId`, a name `[a-zA-Z][-a-zA-Z0-9]*` or a stack
# ARN. CloudFormation caps a stack name at 128 characters (User Guide, "stack name").
_STACK_NAME = re.compile(r"[a-zA-Z][-a-zA-Z0-9]{0,127}")
_STACK_ARN = re.compile(r"arn:(aws|aws-us-gov|aws-cn):cloudformation:[-a-z0-9]+:\d{12}:stack/"
                        r"[a-zA-Z][-a-zA-Z0-9]{0,127}/[-a-zA-Z0-9]+")
# aws-semantics §1.1: a ResourceToSkip is `LogicalId` or `<child-stack-name>.<LogicalId>`;
# recover names --retain/--retry targets the same way. A logical id is at most 255 characters.
_RESOURCE = re.compile(r"[a-zA-Z0-9]{1,255}|[a-zA-Z][-a-zA-Z0-9]{0,127}\.[a-zA-Z0-9]{1,255}")


def _shown(value: str) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


class StackRef(click.ParamType):
    """A stack name or stack ARN. An empty name would make DescribeStacks list every stack of
    the region, so a run would act on whichever came first: refused here."""

    name = "stack"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value)
        if _STACK_NAME.fullmatch(text) or _STACK_ARN.fullmatch(text):
            return text
        self.fail(f"{_shown(text)} is not a stack name (a letter, then letters, digits and "
                  "hyphens, at most 128) or a stack ARN", param, ctx)


class ResourceRef(click.ParamType):
    """`LogicalId` (a resource of the root stack) or `<child-stack-name>.<LogicalId>`."""

    name = "id"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value).strip()
        if _RESOURCE.fullmatch(text):
            return text
        self.fail(f"{_shown(str(value))} is not a resource id: use LogicalId for the root "
                  "stack's resources or <child-stack-name>.<LogicalId> (letters and digits, "
                  "one dot)", param, ctx)


class Seconds(click.FloatRange):
    """A duration in seconds: a finite number in range (click's FloatRange lets nan through)."""

    name = "seconds"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            float(value)
        except (TypeError, ValueError):
            self.fail(f"{_shown(str(value))} is not a number of seconds", param, ctx)
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number of seconds", param, ctx)
        return number


STACK = StackRef()
RESOURCE_ID = ResourceRef()
