"""Changes that can never be applied as requested: retrying the same request fails the same way.

During a rollback these are the failures a retry cannot fix (recover.decide.judgement): RDS
refuses to move an engine to a lower version, CloudFormation refuses to replace a resource that
has a custom name (the new one would need the same name while the old one still holds it), and
some properties cannot change in place (docs/reference/aws-behaviour.md#changes-that-cannot-be-rolled-back).
"""

from __future__ import annotations

import re
from typing import Any

from recover.explain.parse import Message
from recover.explain.rules.base import Rule, family, when
from recover.explain.taxonomy import FailureMode


def version_key(version: str) -> tuple[int, ...]:
    """`15.8` → (15, 8); non-numeric parts count as 0 (`8.0.mysql_aurora.3.04.0`)."""
    return tuple(int(p) if p.isdigit() else 0 for p in re.split(r"[.\-_]", version))


ENGINE_CHANGE_RE = re.compile(r"Cannot upgrade ([\w-]+) from ([\w.-]+) to ([\w.-]+?)\.?(?:\s|$)", re.I)


def _downgrade(m: re.Match[str] | None, msg: Message) -> dict[str, Any]:
    found = ENGINE_CHANGE_RE.search(msg.text)
    if not found:
        return {}
    return {"engine": found.group(1), "from_version": found.group(2), "to_version": found.group(3)}


def _is_downgrade(msg: Message) -> dict[str, Any] | None:
    found = ENGINE_CHANGE_RE.search(msg.text)
    if found and version_key(found.group(3)) < version_key(found.group(2)):
        return _downgrade(None, msg)
    generic = re.search(r"\bcannot (?:be )?downgrade|\bdowngrad\w* (?:is )?not (?:supported|allowed|"
                        r"permitted)", msg.text, re.I)
    return {} if generic else None


def _renamed(m: re.Match[str] | None, msg: Message) -> dict[str, Any]:
    name = re.search(r"Rename (\S+?) and update", msg.text)
    return {"physical_name": name.group(1)} if name else {}


E_DOWNGRADE = (
    "The service refused to move {engine} from {from_version} to {to_version}: a lower engine "
    "version than the one running. RDS upgrades engines but never downgrades them, and a minor "
    "version may have been raised by automatic minor upgrades since the template was written. "
    "During a rollback this can never succeed (CloudFormation asks for the old, lower version); "
    "retrying fails the same way. Skip the resource when continuing the rollback and set the "
    "template's EngineVersion to the running version before the next deploy "
    "(docs/reference/aws-behaviour.md#changes-that-cannot-be-rolled-back).")
E_CUSTOM_NAME = (
    "The change requires replacing {physical_name}, and it has a custom (fixed) name: "
    "CloudFormation creates the replacement before deleting the old resource, and two resources "
    "cannot hold one name, so it refuses. Retrying fails the same way. Either rename it in the "
    "template (a new name lets the replacement be created), or remove the resource in one "
    "deploy and add it back in the next; mind the data the old resource holds "
    "(docs/reference/aws-behaviour.md#changes-that-cannot-be-rolled-back).")
E_IMMUTABLE = (
    "The change touches a property that cannot be changed on an existing resource, and the "
    "resource cannot be replaced here. Retrying fails the same way: revert the property in the "
    "template, or replace the resource deliberately (new logical id), then deploy again.")


RULES: tuple[Rule, ...] = family(
    "irreversible",
    Rule("engine-downgrade", FailureMode.IRREVERSIBLE_CHANGE, 60, E_DOWNGRADE, _is_downgrade,
         defaults={"engine": "the engine", "from_version": "the running version",
                   "to_version": "a lower version"},
         examples=("Cannot upgrade postgres from 16.4 to 15.8",
                   "InvalidParameterCombination: Cannot upgrade aurora-postgresql from 15.10 to 15.5")),
    Rule("custom-name-replacement", FailureMode.IRREVERSIBLE_CHANGE, 60, E_CUSTOM_NAME,
         when(r"cannot update a stack when a custom-named resource requires replacing",
              extract=_renamed),
         defaults={"physical_name": "the resource"},
         examples=("CloudFormation cannot update a stack when a custom-named resource requires "
                   "replacing. Rename orders-table and update the stack again.",)),
    Rule("immutable-property", FailureMode.IRREVERSIBLE_CHANGE, 50, E_IMMUTABLE,
         when(r"\b(?:property|attribute|field)\b.{0,60}\b(?:is immutable|cannot be (?:changed|modified))",
              r"\bimmutable (?:property|attribute|field)",
              r"Replacement type updates not supported",
              codes=("NotUpdatable",)), confidence="medium",
         examples=("Replacement type updates not supported on stack with disable-rollback.",)),
)
