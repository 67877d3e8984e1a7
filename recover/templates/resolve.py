"""Static resolution of intrinsic functions: what a value in a deployed template evaluates to,
when that is knowable from the stack's parameters (DescribeStacks, current values), its
resources' physical ids (ListStackResources; `Ref` of most resource types is the physical id),
the pseudo parameters, Mappings, Conditions and the region's exports (Fn::ImportValue, when
read). Anything else (Fn::GetAtt, NoEcho or unread SSM parameter values...) becomes an `Unresolved` value carrying the reason,
so the caller can say plainly which location it could not work out."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Unresolved:
    reason: str


class _NoValue:
    """AWS::NoValue: the property is removed."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()
MASKED = "****"  # how DescribeStacks returns NoEcho parameter values
_SUB_VAR = re.compile(r"\$\{([^}]*)\}")


@dataclass(frozen=True)
class Scope:
    account: str
    region: str
    partition: str = "aws"
    stack_name: str = ""
    stack_id: str = ""
    parameters: dict[str, str] = field(default_factory=dict)  # current values (DescribeStacks)
    parameter_types: dict[str, str] = field(default_factory=dict)  # from the template
    resources: dict[str, str] = field(default_factory=dict)  # logical id -> physical id
    mappings: dict[str, Any] = field(default_factory=dict)
    conditions: dict[str, Any] = field(default_factory=dict)
    exports: dict[str, str] | None = None  # the region's exports (ListExports), when read

    @property
    def url_suffix(self) -> str:
        return "amazonaws.com.cn" if self.partition == "aws-cn" else "amazonaws.com"

    @classmethod
    def for_template(cls, template: dict[str, Any], **kw: Any) -> Scope:
        params = template.get("Parameters") or {}
        types = {k: str(v.get("Type", "String")) for k, v in params.items()
                 if isinstance(v, dict)}
        types.update(kw.pop("parameter_types", {}))
        return cls(parameter_types=types, mappings=template.get("Mappings") or {},
                   conditions=template.get("Conditions") or {}, **kw)


def resolve(value: Any, scope: Scope, depth: int = 0) -> Any:
    """The value with every intrinsic function evaluated, or an Unresolved (the first reason)."""
    if depth > 50:
        return Unresolved("intrinsic functions nested too deeply")
    if isinstance(value, list):
        out = []
        for item in value:
            r = resolve(item, scope, depth + 1)
            if isinstance(r, Unresolved):
                return r
            if r is not NO_VALUE:
                out.append(r)
        return out
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        (key, arg), = value.items()
        if key == "Ref":
            return _ref(arg, scope)
        if key.startswith("Fn::"):
            handler = _FUNCTIONS.get(key)
            if handler is None:
                return Unresolved(f"{key} is only known to CloudFormation at deploy time")
            return handler(arg, scope, depth + 1)
        if key == "Condition":
            return _condition(arg, scope, depth + 1)
    out_map: dict[str, Any] = {}
    for k, v in value.items():
        r = resolve(v, scope, depth + 1)
        if isinstance(r, Unresolved):
            return r
        if r is not NO_VALUE:
            out_map[k] = r
    return out_map


def _ref(name: Any, scope: Scope) -> Any:
    pseudo = {"AWS::AccountId": scope.account, "AWS::Region": scope.region,
              "AWS::Partition": scope.partition, "AWS::StackName": scope.stack_name,
              "AWS::StackId": scope.stack_id, "AWS::URLSuffix": scope.url_suffix}
    if not isinstance(name, str):
        return Unresolved(f"Ref to a non-name {name!r}")
    if name == "AWS::NoValue":
        return NO_VALUE
    if name in pseudo:
        return pseudo[name] if pseudo[name] else Unresolved(f"{name} unknown")
    if name in scope.parameters:
        value = scope.parameters[name]
        ptype = scope.parameter_types.get(name, "String")
        if value == MASKED:
            return Unresolved(f"parameter {name} is NoEcho (its value is not readable)")
        if ptype.startswith("AWS::SSM::Parameter::Value"):
            return Unresolved(f"parameter {name} is an SSM parameter ({value}) whose resolved "
                              "value was not read")
        if ptype.startswith("List<") or ptype == "CommaDelimitedList":
            return [v.strip() for v in value.split(",")] if value else []
        return value
    if name in scope.resources:
        return scope.resources[name] or Unresolved(f"resource {name} has no physical id yet")
    if name.startswith("AWS::"):
        return Unresolved(f"pseudo parameter {name} is not resolved statically")
    return Unresolved(f"Ref {name}: no such parameter or resource")


def _sub(arg: Any, scope: Scope, depth: int) -> Any:
    if isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], dict):
        text, variables = arg
        local: dict[str, Any] = {}
        for k, v in variables.items():
            r = resolve(v, scope, depth + 1)
            if isinstance(r, Unresolved):
                return r
            local[k] = r
    elif isinstance(arg, str):
        text, local = arg, {}
    else:
        return Unresolved("malformed Fn::Sub")
    if not isinstance(text, str):
        return Unresolved("malformed Fn::Sub")
    problem: list[Unresolved] = []

    def replace(m: re.Match[str]) -> str:
        name = m.group(1)
        if name.startswith("!"):  # ${!Literal} is the literal ${Literal}
            return "${" + name[1:] + "}"
        if name in local:
            return str(local[name])
        if "." in name and name.split(".", 1)[0] in scope.resources:
            problem.append(Unresolved(f"${{{name}}} (an attribute) is only known to "
                                      "CloudFormation"))
            return ""
        r = _ref(name, scope)
        if isinstance(r, Unresolved):
            problem.append(r)
            return ""
        return ",".join(r) if isinstance(r, list) else str(r)

    out = _SUB_VAR.sub(replace, text)
    return problem[0] if problem else out


def _join(arg: Any, scope: Scope, depth: int) -> Any:
    if not (isinstance(arg, list) and len(arg) == 2):
        return Unresolved("malformed Fn::Join")
    items = resolve(arg[1], scope, depth)
    if isinstance(items, Unresolved):
        return items
    if not isinstance(items, list):
        return Unresolved("Fn::Join of a non-list")
    return str(arg[0]).join(str(i) for i in items)


def _select(arg: Any, scope: Scope, depth: int) -> Any:
    if not (isinstance(arg, list) and len(arg) == 2):
        return Unresolved("malformed Fn::Select")
    index, items = resolve(arg[0], scope, depth), resolve(arg[1], scope, depth)
    for r in (index, items):
        if isinstance(r, Unresolved):
            return r
    try:
        return items[int(index)]
    except (ValueError, TypeError, IndexError):
        return Unresolved("Fn::Select index out of range")


def _split(arg: Any, scope: Scope, depth: int) -> Any:
    if not (isinstance(arg, list) and len(arg) == 2):
        return Unresolved("malformed Fn::Split")
    text = resolve(arg[1], scope, depth)
    if isinstance(text, Unresolved):
        return text
    return str(text).split(str(arg[0]))


def _find_in_map(arg: Any, scope: Scope, depth: int) -> Any:
    keys = resolve(arg, scope, depth)
    if isinstance(keys, Unresolved):
        return keys
    if not (isinstance(keys, list) and len(keys) == 3):
        return Unresolved("malformed Fn::FindInMap")
    try:
        return scope.mappings[keys[0]][keys[1]][keys[2]]
    except (KeyError, TypeError):
        return Unresolved(f"Fn::FindInMap {keys}: no such entry")


def _import_value(arg: Any, scope: Scope, depth: int) -> Any:
    name = resolve(arg, scope, depth)
    if isinstance(name, Unresolved):
        return name
    if scope.exports is None:
        return Unresolved(f"Fn::ImportValue {name}: the region's exports were not read")
    if name not in scope.exports:
        return Unresolved(f"Fn::ImportValue {name}: no such export")
    return scope.exports[name]


def _if(arg: Any, scope: Scope, depth: int) -> Any:
    if not (isinstance(arg, list) and len(arg) == 3):
        return Unresolved("malformed Fn::If")
    cond = _condition(arg[0], scope, depth)
    if isinstance(cond, Unresolved):
        return cond
    return resolve(arg[1] if cond else arg[2], scope, depth)


def _condition(name: Any, scope: Scope, depth: int) -> Any:
    if not isinstance(name, str) or name not in scope.conditions:
        return Unresolved(f"condition {name!r} not found")
    return _truth(scope.conditions[name], scope, depth + 1)


def _truth(expr: Any, scope: Scope, depth: int) -> Any:
    if depth > 50:
        return Unresolved("conditions nested too deeply")
    if isinstance(expr, bool):
        return expr
    if isinstance(expr, str) and expr.lower() in ("true", "false"):
        return expr.lower() == "true"
    if isinstance(expr, dict) and len(expr) == 1:
        (key, arg), = expr.items()
        if key == "Condition":
            return _condition(arg, scope, depth)
        if key in ("Fn::And", "Fn::Or", "Fn::Not") and isinstance(arg, list):
            values = [_truth(a, scope, depth + 1) for a in arg]
            bad = next((v for v in values if isinstance(v, Unresolved)), None)
            if bad is not None:
                return bad
            if key == "Fn::Not":
                return not values[0] if values else Unresolved("empty Fn::Not")
            return all(values) if key == "Fn::And" else any(values)
        if key == "Fn::Equals" and isinstance(arg, list) and len(arg) == 2:
            a, b = resolve(arg[0], scope, depth), resolve(arg[1], scope, depth)
            for r in (a, b):
                if isinstance(r, Unresolved):
                    return r
            return str(a) == str(b)
    return Unresolved("condition is not statically known")


_FUNCTIONS = {"Fn::Sub": _sub, "Fn::Join": _join, "Fn::Select": _select, "Fn::Split": _split,
              "Fn::FindInMap": _find_in_map, "Fn::If": _if, "Fn::ImportValue": _import_value}
