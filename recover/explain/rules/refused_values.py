"""Property values the service refuses: deprecated runtimes, invalid values and combinations.

Deploying the same value again fails the same way; during a rollback the old value may itself be
refused now (a runtime deprecated since the last deploy), which a retry cannot fix.
"""

from __future__ import annotations

import re
from typing import Any

from recover.explain.parse import Message
from recover.explain.rules.base import Rule, family, when
from recover.explain.taxonomy import FailureMode


def _runtime(m: re.Match[str] | None, msg: Message) -> dict[str, Any]:
    out: dict[str, Any] = {"runtime": m.group(1)} if m else {}
    new = re.search(r"use the new runtime \(([^)]+)\)", msg.text)
    if new:
        out["recommended_runtime"] = new.group(1)
    return out


def _value(m: re.Match[str] | None, msg: Message) -> dict[str, Any]:
    return {"reason": msg.text.rstrip(". ")}


E_RUNTIME = (
    "Lambda no longer accepts runtime {runtime} for creating or updating functions (it reached "
    "end of support; existing functions keep running). Any update of the function fails, and "
    "so does a rollback that puts the old runtime back. Move the template to a supported runtime "
    "({recommended_runtime}) and deploy; during a rollback, skip the function and redeploy it "
    "on a supported runtime (docs/reference/aws-behaviour.md#lambda-runtime-deprecation).")
E_VALUE = (
    "The service refused a property value or combination of values: {reason}. The template "
    "(or a parameter) asks for something the service does not offer; the same request fails "
    "every time. Change the value in the template and deploy again; during a rollback, skip the "
    "resource and reconcile it afterwards.")


RULES: tuple[Rule, ...] = family(
    "refused_values",
    Rule("deprecated-runtime", FailureMode.REFUSED_VALUE, 60, E_RUNTIME,
         when(r"runtime parameter of (\S+) is no longer supported", extract=_runtime),
         defaults={"runtime": "(named in the message)",
                   "recommended_runtime": "a currently supported one"},
         examples=("The runtime parameter of python3.7 is no longer supported for creating or "
                   "updating AWS Lambda functions. We recommend you use the new runtime "
                   "(python3.12) while creating or updating functions.",)),
    Rule("invalid-property-value", FailureMode.REFUSED_VALUE, 50, E_VALUE,
         when(r"parameter group family \S+ is not valid", r"ParameterGroupFamily \S+ is not a valid",
              r"with DBParameterGroupFamily \S+ cannot be used",
              r"does not support creating a DB instance with the following combination",
              r"Cannot upgrade [\w-]+ from [\w.-]+ to",
              r"Cannot find version \S+ for",
              r"\bis not a valid (?:value|parameter|option|choice)\b",
              r"\bvalue is required if you specify\b", r"^Invalid [\w ]{1,40} (?:size|value|class|type)\b",
              r"\bis a member of a cluster\b", r"\bis not supported (?:for|by|with) (?:the |this )?\w+",
              codes=("InvalidParameterValue", "InvalidParameterValueException",
                     "InvalidParameterCombination"),
              extract=_value), confidence="medium",
         examples=("The parameter group family postgres16 is not valid for this engine version",
                   "RDS does not support creating a DB instance with the following combination: "
                   "DBInstanceClass=db.t2.micro, Engine=mysql, EngineVersion=8.0.35.")),
)
