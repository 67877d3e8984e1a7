"""A CloudFormation-aware YAML loader: the short-form intrinsic tags (`!Ref`, `!Sub`,
`!GetAtt`, `!If`...) become their long JSON form (`{"Ref": ...}`, `{"Fn::Sub": ...}`), as
CloudFormation itself reads them. Plain PyYAML's safe loader rejects those tags."""

from __future__ import annotations

from typing import Any

import yaml


class CfnLoader(yaml.SafeLoader):
    """SafeLoader plus CloudFormation's `!Tag` short forms."""


def _construct(loader: CfnLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]


def _intrinsic(loader: CfnLoader, suffix: str, node: yaml.Node) -> Any:
    value = _construct(loader, node)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "Condition":
        return {"Condition": value}
    if suffix == "GetAtt" and isinstance(value, str):
        # `!GetAtt Resource.Attribute` (the attribute itself may contain dots)
        resource, _, attribute = value.partition(".")
        return {"Fn::GetAtt": [resource, attribute]}
    return {f"Fn::{suffix}": value}


CfnLoader.add_multi_constructor("!", _intrinsic)


def load(text: str) -> Any:
    """Parse a CloudFormation template written in YAML."""
    return yaml.load(text, Loader=CfnLoader)  # noqa: S506 - SafeLoader subclass
