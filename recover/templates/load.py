"""Parse a template body as CloudFormation does: JSON, or YAML with the short-form intrinsic
tags (`!Ref X`, `!Sub ...`, `!GetAtt A.B`...), into plain JSON-shaped data (`{"Ref": X}`,
`{"Fn::Sub": ...}`). Built on yaml.SafeLoader: no Python object construction. Timestamps stay
strings (`AWSTemplateFormatVersion: 2010-09-09` is a string for CloudFormation)."""

from __future__ import annotations

import json
from typing import Any

import yaml

from recover.errors import InputError

# Short-form tags and the long form they stand for.
_FN = ("And", "Base64", "Cidr", "Equals", "FindInMap", "GetAZs", "If", "ImportValue", "Join",
       "Length", "Not", "Or", "Select", "Split", "Sub", "ToJsonString", "Transform")


class _TemplateLoader(yaml.SafeLoader):
    """SafeLoader + CloudFormation tags, without the YAML 1.1 timestamp resolver."""


_TemplateLoader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _node_value(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]


def _fn(name: str) -> Any:
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        return {f"Fn::{name}": _node_value(loader, node)}
    return construct


def _ref(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
    return {"Ref": _node_value(loader, node)}


def _condition(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
    return {"Condition": _node_value(loader, node)}


def _getatt(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
    value = _node_value(loader, node)
    if isinstance(value, str):  # !GetAtt Resource.Attribute (the attribute may contain dots)
        resource, _, attribute = value.partition(".")
        value = [resource, attribute]
    return {"Fn::GetAtt": value}


for _name in _FN:
    _TemplateLoader.add_constructor(f"!{_name}", _fn(_name))
_TemplateLoader.add_constructor("!Ref", _ref)
_TemplateLoader.add_constructor("!Condition", _condition)
_TemplateLoader.add_constructor("!GetAtt", _getatt)


def parse_template(body: str | dict[str, Any]) -> dict[str, Any]:
    """A template body (GetTemplate's TemplateBody: a string, or already a dict when botocore
    decoded JSON) as a dict. Raises InputError with the parser's one-line reason."""
    if isinstance(body, dict):
        return body
    text = body.lstrip("\ufeff")
    if text.lstrip().startswith("{"):
        try:
            doc = json.loads(text)
        except ValueError as exc:
            raise InputError(f"template is not valid JSON: {' '.join(str(exc).split())}") from exc
    else:
        try:
            doc = yaml.load(text, Loader=_TemplateLoader)  # noqa: S506 - SafeLoader subclass
        except yaml.YAMLError as exc:
            where = getattr(exc, "problem_mark", None)
            at = f" (line {where.line + 1})" if where is not None else ""
            why = " ".join(str(getattr(exc, "problem", None) or exc).split())
            raise InputError(f"template is not valid YAML{at}: {why}") from exc
        except RecursionError as exc:
            raise InputError("template is nested too deeply to parse") from exc
        except (ValueError, TypeError, IndexError, KeyError, AttributeError) as exc:
            # PyYAML constructors raise these on malformed explicit tags (`!!int` with no value)
            raise InputError(f"template has an invalid value: {' '.join(str(exc).split())}") from exc
    if not isinstance(doc, dict):
        raise InputError("template is not a mapping (expected Resources at the top level)")
    return doc
