"""Checks of the `settings` a plan file carries, one per key an applier reads: each runbook
declares its own table (`PLAN_SETTINGS` beside its applier, named by its spec's
`plan_settings`), built from these, and `recover apply` runs it before anything is read from AWS
(recover/runbooks/plan_check.py)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from recover.act.plan import kind, short

Check = Callable[[Any], str | None]  # a problem with the value, or None


def boolean(v: Any) -> str | None:
    return None if isinstance(v, bool) else f"expected true or false, got {kind(v)}"


def opt_bool(v: Any) -> str | None:
    return None if v is None or isinstance(v, bool) else f"expected true, false or null, got {kind(v)}"


def number(low: float, high: float, whole: bool = False) -> Check:
    def check(v: Any) -> str | None:
        if isinstance(v, bool) or not isinstance(v, int if whole else int | float) \
                or (isinstance(v, float) and not math.isfinite(v)) or not low <= v <= high:
            what = "a whole number" if whole else "a number"
            return f"expected {what} from {low:g} to {high:g}, got {kind(v)}"
        return None
    return check


def str_list(v: Any) -> str | None:
    if isinstance(v, list) and all(isinstance(x, str) for x in v):
        return None
    return f"expected a list of strings, got {kind(v)}"


def opt_str(v: Any) -> str | None:
    return None if v is None or isinstance(v, str) else f"expected a string or null, got {kind(v)}"


def objects(fields: dict[str, Check]) -> Check:
    """A list of objects, each with these fields."""
    def check(v: Any) -> str | None:
        if not isinstance(v, list):
            return f"expected a list, got {kind(v)}"
        for i, item in enumerate(v):
            if not isinstance(item, dict):
                return f"[{i}]: expected an object, got {kind(item)}"
            for key, sub in fields.items():
                if key not in item:
                    return f"[{i}]: missing {key}"
                if (problem := sub(item[key])) is not None:
                    return f"[{i}].{key}: {problem}"
        return None
    return check


def of_type(t: type, what: str) -> Check:
    return lambda v: None if isinstance(v, t) and not isinstance(v, bool) else \
        f"expected {what}, got {kind(v)}"


def mapping(fields: dict[str, Check]) -> Check:
    def check(v: Any) -> str | None:
        if not isinstance(v, dict):
            return f"expected an object, got {kind(v)}"
        for key in v:
            if key not in fields:
                return f"unknown key {short(key)} (known: {', '.join(sorted(fields))})"
            if (problem := fields[key](v[key])) is not None:
                return f"{key}: {problem}"
        return None
    return check


STR = of_type(str, "a string")
COUNT = number(0, 1e12, whole=True)
# The CLI's own bounds (recover/cli/params.py follow_options): --timeout >= 1, --poll-interval > 0;
# a plan saved by an older recover may hold a poll interval of 0.
TIMING = {"wait": boolean, "timeout": number(1, 7 * 86400), "poll_interval": number(0, 3600)}
