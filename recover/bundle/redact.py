"""Redaction of everything that goes into a bundle (pure: no I/O, no boto3).

Three kinds of secret are removed:
- NoEcho parameter values. DescribeStacks already shows them as `****`, but a template
  `Default`, a plan, a journal (UpdateStack `Parameters`) or an emulator may carry the value, so
  the values are first discovered (`discover_noecho_values`) and then replaced wherever they
  appear, inside any string;
- credentials in CloudTrail records: every field of a `credentials` object (AssumeRole,
  GetSessionToken, GetFederationToken... put `accessKeyId`, `secretAccessKey`, `sessionToken`
  there in `responseElements`) except its `expiration`, and any field named like a secret
  (`sessionToken`, `secretAccessKey`, `password`, ...);
- common secret shapes in free text: private key blocks, bearer tokens, passwords in URLs,
  AWS access key ids next to a 40-character secret, STS session tokens, and high-entropy
  `secret=...` / `password: ...` assignments.

Counts by kind are kept (never the values) for the bundle's redaction summary.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import yaml

MARK = "[REDACTED:{}]"

# Field names whose string value is a secret (compared lower-case, without `_`/`-`).
SECRET_FIELDS = frozenset({
    "sessiontoken", "secretaccesskey", "secretkey", "password", "passwd", "privatekey",
    "clientsecret", "apikey", "authorization", "token", "accesstoken", "refreshtoken",
    "idtoken", "secret", "awssecretaccesskey", "awssessiontoken", "securitytoken",
})
# Credentials objects keep only these fields readable.
CREDENTIALS_KEEP = frozenset({"expiration"})

_PRIVATE_KEY = re.compile(
    r"-----BEGIN ((?:[A-Z0-9]+ )*PRIVATE KEY)-----.*?(?:-----END \1-----|$)", re.S)
_BEARER = re.compile(r"(?i)\b(bearer\s+)([A-Za-z0-9\-._~+/]{16,}=*)")
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://[^/\s:@\"']+:)([^@\s/\"']+)(@)")
_AWS_SECRET_CTX = re.compile(
    r"(?i)(aws_?secret_?access_?key|secret_?access_?key|secretkey)([\"'\s:=]+)([A-Za-z0-9/+=]{40})"
    r"(?![A-Za-z0-9/+=])")
_AWS_KEY_ID = re.compile(r"\b((?:AKIA|ASIA)[A-Z0-9]{16})\b")
_BARE_40 = re.compile(r"(?<![A-Za-z0-9/+=])([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])")
# STS session tokens are base64 of a structure starting with "origin" (IQoJb3JpZ2lu...) or,
# for older ones, FwoGZXIvYXdz / FQoGZXIvYXdz ("...er/aws").
_SESSION_TOKEN = re.compile(r"\b(?:IQoJb3JpZ2lu|FwoGZXIvYXdz|FQoGZXIvYXdz)[A-Za-z0-9/+=]{40,}")
_ASSIGNMENT = re.compile(
    r"(?i)\b(secret|password|passwd|pwd|token|api[_\-]?key|client[_\-]?secret|access[_\-]?token"
    r"|auth[_\-]?token)(\"?\s*[=:]\s*[\"']?)([^\s\"'&,;<>]{8,})")
PAIR_DISTANCE = 200
MIN_LITERAL = 4
_ASSIGNMENT_WORDS = ("secret", "passw", "pwd", "token", "key")  # shorter NoEcho values are only redacted where they are the whole value


def shannon_entropy(text: str) -> float:
    """Bits per character."""
    if not text:
        return 0.0
    counts = Counter(text)
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def _norm(key: str) -> str:
    return key.replace("_", "").replace("-", "").lower()


class Redactor:
    """Redacts strings and JSON-like values; `counts` says how many of each kind it removed."""

    def __init__(self, noecho_values: Iterable[str] = ()) -> None:
        values = {v for v in noecho_values if isinstance(v, str) and v and v != "****"}
        self._exact = frozenset(values)
        self._literals = sorted((v for v in values if len(v) >= MIN_LITERAL), key=len,
                                reverse=True)
        self._literal_re = (re.compile("|".join(re.escape(v) for v in self._literals))
                            if self._literals else None)
        self.counts: Counter[str] = Counter()

    @property
    def known_values(self) -> frozenset[str]:
        """The NoEcho values it redacts (for a second Redactor; never written anywhere)."""
        return self._exact

    def _mark(self, kind: str) -> str:
        self.counts[kind] += 1
        return MARK.format(kind)

    # -- free text
    def text(self, s: str) -> str:
        if not s:
            return s
        if s in self._exact:
            return self._mark("noecho_parameter")
        if self._literal_re is not None:
            s = self._literal_re.sub(lambda _m: self._mark("noecho_parameter"), s)
        if len(s) < 8:
            return s
        # Each pattern runs only when a cheap substring test says it could match: most
        # strings (event reasons, ids, names) need none of them.
        low = s.lower()
        if "private key" in low:
            s = _PRIVATE_KEY.sub(lambda _m: self._mark("private_key"), s)
        if "IQoJb3JpZ2lu" in s or "GZXIvYXdz" in s:
            s = _SESSION_TOKEN.sub(lambda _m: self._mark("session_token"), s)
        if "secret" in low:
            s = _AWS_SECRET_CTX.sub(
                lambda m: m.group(1) + m.group(2) + self._mark("aws_secret_key"), s)
        if "AKIA" in s or "ASIA" in s:
            s = self._key_pairs(s)
        if "bearer" in low:
            s = _BEARER.sub(lambda m: m.group(1) + self._mark("bearer_token"), s)
        if "://" in s and "@" in s:
            s = _URL_PASSWORD.sub(
                lambda m: m.group(1) + self._mark("url_password") + m.group(3), s)
        if any(w in low for w in _ASSIGNMENT_WORDS) and ("=" in s or ":" in s):
            s = _ASSIGNMENT.sub(self._assignment, s)
        return s

    def _key_pairs(self, s: str) -> str:
        """An access key id with a 40-character secret within PAIR_DISTANCE characters: both
        go (an id alone is an identifier, not a secret, and stays readable)."""
        spans: list[tuple[int, int, str]] = []
        for m in _AWS_KEY_ID.finditer(s):
            lo, hi = max(0, m.start() - PAIR_DISTANCE), min(len(s), m.end() + PAIR_DISTANCE)
            secrets = [(lo + x.start(1), lo + x.end(1)) for x in _BARE_40.finditer(s[lo:hi])]
            if secrets:
                spans.append((m.start(), m.end(), "aws_access_key_id"))
                spans += [(a, b, "aws_secret_key") for a, b in secrets]
        for a, b, kind in sorted(set(spans), reverse=True):
            s = s[:a] + self._mark(kind) + s[b:]
        return s

    def _assignment(self, m: re.Match[str]) -> str:
        value = m.group(3)
        if value.startswith("[REDACTED") or shannon_entropy(value) < 3.0:
            return m.group(0)
        return m.group(1) + m.group(2) + self._mark("secret_assignment")

    # -- structured values
    def value(self, obj: Any, key: str = "") -> Any:
        if isinstance(obj, str):
            if key and _norm(key) in SECRET_FIELDS and obj and obj != "****" \
                    and not obj.startswith("[REDACTED"):
                return self._mark("credential_field")
            return self.text(obj)
        if isinstance(obj, Mapping):
            out: dict[str, Any] = {}
            for k, v in obj.items():
                if _norm(str(k)) == "credentials" and isinstance(v, Mapping):
                    out[k] = {ck: (cv if ck in CREDENTIALS_KEEP or not isinstance(cv, str)
                                   else self._mark("cloudtrail_credentials"))
                              for ck, cv in v.items()}
                else:
                    out[k] = self.value(v, str(k))
            return out
        if isinstance(obj, list | tuple):
            return [self.value(v, key) for v in obj]
        return obj

    def json_text(self, text: str) -> str:
        """A JSON document (or JSON lines) redacted structurally; other text as free text."""
        try:
            return json.dumps(self.value(json.loads(text)), indent=2, ensure_ascii=False)
        except (ValueError, RecursionError):  # RecursionError: nested thousands deep
            pass
        lines = text.splitlines()
        if lines and all(_is_json_obj(line) for line in lines if line.strip()):
            return "\n".join(json.dumps(self.value(json.loads(line)), ensure_ascii=False)
                             if line.strip() else line for line in lines) + "\n"
        return self.text(text)

    def summary(self) -> dict[str, Any]:
        return {"total": sum(self.counts.values()), "by_kind": dict(sorted(self.counts.items())),
                "noecho_values_known": len(self._exact)}


def _is_json_obj(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except (ValueError, RecursionError):
        return False


# ---------------------------------------------------------------- NoEcho discovery


class _CfnLoader(yaml.SafeLoader):
    """YAML templates with CloudFormation short-form tags (!Ref, !Sub, ...) read as plain data."""


def _any_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)  # type: ignore[arg-type]


_CfnLoader.add_multi_constructor("!", _any_tag)


def parse_template(body: Any) -> dict[str, Any] | None:
    """A template body (dict, JSON or YAML text) as a dict; None if it cannot be read."""
    if isinstance(body, Mapping):
        return dict(body)
    if not isinstance(body, str):
        return None
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        try:
            data = yaml.load(body, Loader=_CfnLoader)  # noqa: S506 - a SafeLoader subclass
        except (yaml.YAMLError, RecursionError, ValueError):
            return None
    return data if isinstance(data, dict) else None


def noecho_parameters(template: Mapping[str, Any] | None) -> dict[str, str | None]:
    """NoEcho parameter names of a template, with their Default (None if none)."""
    out: dict[str, str | None] = {}
    params = (template or {}).get("Parameters")
    if not isinstance(params, Mapping):
        return out
    for name, spec in params.items():
        if not isinstance(spec, Mapping):
            continue
        flag = spec.get("NoEcho")
        if flag is True or (isinstance(flag, str) and flag.lower() == "true"):
            default = spec.get("Default")
            out[str(name)] = str(default) if default is not None else None
    return out


def discover_noecho_values(names: set[str], objs: Iterable[Any]) -> set[str]:
    """Values given to NoEcho parameters anywhere in `objs`: `{"ParameterKey": k,
    "ParameterValue": v}` pairs (API and journal shape) and `parameters: {k: v}` maps
    (snapshot shape). `****` (AWS's mask) is not a value."""
    found: set[str] = set()

    def walk(obj: Any, parent_key: str) -> None:
        if isinstance(obj, Mapping):
            key = obj.get("ParameterKey")
            val = obj.get("ParameterValue")
            if key in names and isinstance(val, str):
                found.add(val)
            if parent_key.lower() == "parameters":
                for k, v in obj.items():
                    if k in names and isinstance(v, str):
                        found.add(v)
            for k, v in obj.items():
                walk(v, str(k))
        elif isinstance(obj, list | tuple):
            for v in obj:
                walk(v, parent_key)

    for obj in objs:
        walk(obj, "")
    found.discard("****")
    found.discard("")
    return found
