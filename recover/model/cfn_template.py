"""CloudFormation templates as plain data: JSON or YAML, with the short-form intrinsic tags.

GetTemplate returns the body as a string; botocore already decodes a JSON body into a dict
(its `json_decode_template_body` hook), a YAML body stays text. yaml.safe_load rejects the
short forms (`!Ref`, `!Sub`, `!GetAtt a.b`...), so a small SafeLoader subclass maps each to
its long form (`{"Ref": ...}`, `{"Fn::Sub": ...}`, `{"Fn::GetAtt": ["a", "b"]}`). Nothing else
is constructed: no Python objects, no arbitrary tags.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

# Short-form tags and the long-form key each stands for (CloudFormation intrinsic functions).
SHORT_FORMS = {
    "Ref": "Ref", "Condition": "Condition", "GetAtt": "Fn::GetAtt",
    **{name: f"Fn::{name}" for name in (
        "Base64", "Cidr", "FindInMap", "GetAZs", "ImportValue", "Join", "Select", "Split",
        "Sub", "Transform", "And", "Equals", "If", "Not", "Or", "Length", "ToJsonString",
        "ForEach")},
}


class TemplateError(ValueError):
    """The template body is neither JSON nor YAML CloudFormation can read."""


class _CfnLoader(yaml.SafeLoader):
    pass


def _construct_short_form(loader: _CfnLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    key = SHORT_FORMS.get(tag_suffix)
    if key is None:
        raise yaml.constructor.ConstructorError(None, None, f"unknown tag !{tag_suffix}",
                                                node.start_mark)
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if key == "Fn::GetAtt" and isinstance(value, str):
            # `!GetAtt Resource.Attribute` splits on the first dot only (attributes may hold dots)
            resource, _, attribute = value.partition(".")
            value = [resource, attribute]
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {key: value}


_CfnLoader.add_multi_constructor("!", _construct_short_form)


def parse_template(body: Any) -> dict[str, Any]:
    """A template body (dict from botocore, JSON text or YAML text) as a plain dict."""
    if isinstance(body, dict):
        return json.loads(json.dumps(body))  # OrderedDicts and friends → plain JSON data
    if not isinstance(body, str):
        raise TemplateError(f"template body of type {type(body).__name__}")
    text = body.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise TemplateError(f"template is not valid JSON: {exc}") from exc
    else:
        try:
            data = yaml.load(text, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
        except yaml.YAMLError as exc:
            raise TemplateError(f"template is not valid YAML: {exc}".splitlines()[0]) from exc
        except RecursionError as exc:
            raise TemplateError("template is nested too deeply to parse") from exc
        except (ValueError, TypeError, IndexError, KeyError, AttributeError) as exc:
            # PyYAML's constructors raise these on malformed explicit tags (`!!int` with no
            # value, `!!timestamp` that is no date), found by a property test
            raise TemplateError(f"template has an invalid value: {' '.join(str(exc).split())}"
                                ) from exc
    if not isinstance(data, dict):
        raise TemplateError("template top level is not a mapping")
    # YAML may produce dates or other scalars; keep the snippet JSON-safe
    return json.loads(json.dumps(data, default=str))


def resource_snippet(template: dict[str, Any], logical_id: str) -> dict[str, Any] | None:
    """The template's definition of one resource (Type, Properties, DeletionPolicy...)."""
    resources = template.get("Resources")
    if not isinstance(resources, dict):
        return None
    snippet = resources.get(logical_id)
    return snippet if isinstance(snippet, dict) else None
