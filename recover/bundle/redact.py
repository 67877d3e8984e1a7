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
  the signature and session token of pre-signed URLs,
  AWS access key ids next to a 40-character secret, STS session tokens, and high-entropy
  `secret=...` / `password: ...` assignments.

Counts by kind are kept (never the values) for the bundle's redaction summary.
"""

from __future__ import annotations

import io
import json
import math
import re
import stat
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

MARK = "[REDACTED:{}]"
CLEAN_CACHE_SIZE = 50_000  # bounded: a streaming bundle's memory must not grow with its rows
CLEAN_CACHE_LEN = 300

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
# A pre-signed URL is a credential until it expires (a custom resource's ResponseURL lets
# anyone answer the request for about two hours): its signature and session token go.
_URL_SIGNATURE = re.compile(r"(?i)([?&](?:X-Amz-Signature|X-Amz-Security-Token|Signature)=)"
                            r"([^&\s\"'<>]+)")
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
# A necessary condition for _ASSIGNMENT, searched in the lower-cased text: a case-sensitive
# search is ten times faster than the case-insensitive one, and most text (JSON lines with a
# `"..._token": ""` key) has no value after the word.
_ASSIGNMENT_HINT = re.compile(r"(?:secret|password|passwd|pwd|token|key)\"?\s*[=:]\s*[\"']?"
                              r"[^\s\"'&,;<>]{8,}")
_VALUE_STOP = frozenset(" \t\n\r\f\v\"'&,;<>")
_ASSIGNMENT_WORDS = ("secret", "passw", "pwd", "token", "key")  # shorter NoEcho values are only redacted where they are the whole value


def shannon_entropy(text: str) -> float:
    """Bits per character."""
    if not text:
        return 0.0
    counts = Counter(text)
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


_NORMS: dict[str, str] = {}


def _norm(key: str) -> str:
    n = _NORMS.get(key)
    if n is None:
        n = key.replace("_", "").replace("-", "").lower()
        if len(_NORMS) < 10_000:  # keys repeat (field names): bounded, not per value
            _NORMS[key] = n
    return n


class Redactor:
    """Redacts strings and JSON-like values; `counts` says how many of each kind it removed."""

    def __init__(self, noecho_values: Iterable[str] = (), *, count: bool = True) -> None:
        values = {v for v in noecho_values if isinstance(v, str) and v and not is_mask(v)}
        # `count=False`: a second look at values another Redactor already counted (the
        # streaming bundle reads stack events twice: raw/snapshot.json, then the timeline).
        self._count = count
        # Strings known to need nothing (ids, statuses, types repeat across thousands of
        # events): the answer cannot change, the secrets being fixed at construction.
        self._clean: set[str] = set()
        self._exact = frozenset(values)
        # Each value as written and as it reads inside a JSON string (a quote or a backslash
        # in a secret is escaped there), longest first so no shorter value splits a longer one.
        forms = {f for v in values if len(v) >= MIN_LITERAL
                 for f in (v, json.dumps(v, ensure_ascii=False)[1:-1])}
        self._literals = sorted(forms, key=len, reverse=True)
        self._literal_re = (re.compile("|".join(re.escape(v) for v in self._literals))
                            if self._literals else None)
        self.counts: Counter[str] = Counter()

    @property
    def known_values(self) -> frozenset[str]:
        """The NoEcho values it redacts (for a second Redactor; never written anywhere)."""
        return self._exact

    def _mark(self, kind: str) -> str:
        if self._count:
            self.counts[kind] += 1
        return MARK.format(kind)

    # -- free text
    def text(self, s: str) -> str:
        if not s or s in self._clean:
            return s
        out = self._text(s)
        if out == s and len(s) <= CLEAN_CACHE_LEN:
            if len(self._clean) >= CLEAN_CACHE_SIZE:
                self._clean.clear()
            self._clean.add(s)
        return out

    def all_clean(self, strings: list[str]) -> bool:
        """True when none of `strings` needs redacting, told from one look at them all (a
        stack event's ten fields): no whole value or literal known, and none of the cheap
        signs `_text` tests before each pattern. False means: look at each one."""
        if self._exact and any(s in self._exact for s in strings):
            return False
        joined = "\n".join(strings)
        if self._literal_re is not None and self._literal_re.search(joined):
            return False
        low = joined.lower()
        return not ("private key" in low or "IQoJb3JpZ2lu" in joined or "GZXIvYXdz" in joined
                    or "secret" in low or "AKIA" in joined or "ASIA" in joined
                    or "bearer" in low or ("://" in joined and "@" in joined)
                    or (("passw" in low or "pwd" in low or "token" in low or "key" in low)
                        and _ASSIGNMENT_HINT.search(low) is not None))

    def _text(self, s: str) -> str:
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
        if "signature=" in low or "security-token=" in low:
            s = _URL_SIGNATURE.sub(lambda m: m.group(1) + self._mark("url_signature"), s)
        if "://" in s and "@" in s:
            s = _URL_PASSWORD.sub(
                lambda m: m.group(1) + self._mark("url_password") + m.group(3), s)
        if any(w in low for w in _ASSIGNMENT_WORDS) and ("=" in s or ":" in s):
            s = self._assignments(s, s.lower())
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

    def _assignments(self, s: str, low: str) -> str:
        """_ASSIGNMENT.sub over `s`, run only where the (ten times faster) hint matched: each
        piece reaches back to the start of its word and on to the end of the value, so a
        match found in a piece is exactly one found in the whole text."""
        if len(low) != len(s):  # lower() changed lengths: offsets would not line up
            return _ASSIGNMENT.sub(self._assignment, s) if _ASSIGNMENT_HINT.search(low) else s
        spans: list[list[int]] = []
        for m in _ASSIGNMENT_HINT.finditer(low):
            a, b = m.start(), m.end()
            while a > 0 and (s[a - 1].isalnum() or s[a - 1] in "_-"):
                a -= 1  # the word's start (api_key, client-secret...): a real \b
            while b < len(s) and s[b] not in _VALUE_STOP:
                b += 1
            if spans and a <= spans[-1][1]:
                spans[-1][1] = max(spans[-1][1], b)
            else:
                spans.append([a, b])
        if not spans:
            return s
        out, last = [], 0
        for a, b in spans:
            out += [s[last:a], _ASSIGNMENT.sub(self._assignment, s[a:b])]
            last = b
        out.append(s[last:])
        return "".join(out)

    def _assignment(self, m: re.Match[str]) -> str:
        value = m.group(3)
        if value.startswith("[REDACTED") or shannon_entropy(value) < 3.0:
            return m.group(0)
        return m.group(1) + m.group(2) + self._mark("secret_assignment")

    # -- structured values
    def value(self, obj: Any, key: str = "", parent: str = "") -> Any:
        if isinstance(obj, str):
            if key and _norm(key) in SECRET_FIELDS and obj and not is_mask(obj) \
                    and not obj.startswith("[REDACTED"):
                return self._mark("credential_field")
            return self.text(obj)
        if isinstance(obj, Mapping):
            out: dict[str, Any] = {}
            env = _norm(key) == "variables" and _norm(parent) == "environment"
            for k, v in obj.items():
                if _norm(str(k)) == "credentials" and isinstance(v, Mapping):
                    out[k] = {ck: (cv if ck in CREDENTIALS_KEEP or not isinstance(cv, str)
                                   else self._mark("cloudtrail_credentials"))
                              for ck, cv in v.items()}
                elif env and isinstance(v, str) and v and looks_secret_name(str(k)) \
                        and not v.startswith("[REDACTED"):
                    out[k] = self._mark("lambda_environment")
                else:
                    out[k] = self.value(v, str(k), key)
            return out
        if isinstance(obj, list | tuple):
            return [self.value(v, key, parent) for v in obj]
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
    """Values given to the NoEcho parameters `names` anywhere in `objs` (see `discover`)."""
    book = SecretBook(noecho_names=set(names))
    book.learn(objs, names_from_templates=False)
    return {v for v in book.values if v in book.noecho_values}


# ------------------------------------------------------------ every shape a secret takes

# Words that make a Lambda environment variable (or any name) secret. A name is split into
# words at `_`, `-`, `.` and lower-to-upper case changes: DB_PASSWORD, dbPassword, db-password.
SECRET_WORDS = frozenset({
    "password", "passwd", "pwd", "passphrase", "secret", "secrets", "token", "tokens",
    "credential", "credentials", "creds", "apikey", "privatekey", "secretkey", "accesskey",
    "clientsecret", "authtoken", "auth", "authorization", "bearer", "jwt", "hmac", "signature",
    "sessiontoken", "connectionstring", "dsn",
})
# "KEY" is secret only after one of these words (STRIPE_API_KEY, SIGNING_KEY); S3_KEY,
# CACHE_KEY, KMS_KEY are not secrets.
KEY_QUALIFIERS = frozenset({
    "api", "access", "secret", "private", "signing", "encryption", "master", "client", "app",
    "auth", "hmac", "jwt", "license", "session", "webhook", "shared", "crypto", "cipher",
})
# A last word that names *where* a secret is, not the secret: DB_SECRET_ARN, TOKEN_URL.
POINTER_WORDS = frozenset({
    "id", "ids", "arn", "name", "names", "url", "uri", "path", "file", "region", "type", "ttl",
    "expiry", "expiration", "length", "header", "endpoint", "bucket", "table", "version",
    "enabled", "disabled", "parameter", "param", "ssm", "kms", "count", "timeout", "field",
})
MIN_GUESSED = 8  # a value found only by a name's looks must be this long to be searched in text
_WORDS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


def name_words(name: str) -> list[str]:
    return [w.lower() for part in re.split(r"[_\-.\s/:]+", name) for w in _WORDS.findall(part)]


def looks_secret_name(name: str) -> bool:
    """Does a Lambda environment variable (or field) named so hold a secret? A word from
    SECRET_WORDS, or KEY after a qualifier (API_KEY), or the whole name glued (APIKEY), unless
    the last word says it points at the secret (…_ARN, …_NAME, …_URL, …_ID)."""
    words = name_words(name)
    if not words:
        return False
    if words[-1] in POINTER_WORDS and len(words) > 1:
        return False
    glued = "".join(words)
    if any(w in SECRET_WORDS for w in words) or any(s in glued for s in (
            "password", "passwd", "secret", "token", "apikey", "privatekey", "credential")):
        return True
    return any(w == "key" and i > 0 and words[i - 1] in KEY_QUALIFIERS
               for i, w in enumerate(words))


def is_mask(value: str) -> bool:
    """How DescribeStacks shows a NoEcho value (`****`): asterisks only."""
    return len(value) >= 3 and set(value) == {"*"}


# `ParameterKey=K,ParameterValue=V` (the aws CLI's --parameters shorthand) and the same pair
# in JSON text (`"ParameterKey":"K","ParameterValue":"V"`), in any casing.
_PAIR_TEXT = re.compile(
    r"""(?i)parameter_?key["']?\s*[=:]\s*["']?([A-Za-z0-9]+)["']?\s*,\s*["']?"""
    r"""parameter_?value["']?\s*[=:]\s*("(?:[^"\\]|\\.)*"|'[^']*'|[^,\s"'\]}]+)""")


def _unquote(v: str) -> str:
    if len(v) >= 2 and v[0] == v[-1] and v[0] in "\"'":
        inner = v[1:-1]
        if v[0] == '"':
            try:
                return str(json.loads(v))
            except ValueError:
                return inner
        return inner
    return v


class SecretBook:
    """Everything known to be secret, learned from what is written: NoEcho parameter names (a
    template's `NoEcho: true`, or a parameter DescribeStacks masks as `****`) and their values
    (template `Default`, `ParameterKey`/`ParameterValue` pairs in any casing
    (`parameterKey`, `parameter_key`...), `parameters` maps, `--parameters` shorthand and JSON
    text), Lambda environment variables whose name looks secret (`looks_secret_name`), the
    fields of CloudTrail `credentials` objects and fields named like a secret. Pure."""

    def __init__(self, noecho_names: Iterable[str] = (), values: Iterable[str] = ()) -> None:
        self.noecho_names: set[str] = set(noecho_names)
        self.noecho_values: set[str] = set()
        self.values: set[str] = {v for v in values if v and not is_mask(v)}

    def learn(self, objs: Iterable[Any], *, names_from_templates: bool = True) -> bool:
        """Learn from JSON-like values and text; True when a new secret value was found."""
        objs = list(objs)
        before = len(self.values)
        if names_from_templates:
            self.learn_names((obj, "", "") for obj in objs)
        self.learn_values((obj, "", "") for obj in objs)
        return len(self.values) > before

    # `learn` in two passes, for callers that stream their values (recover.bundle.document):
    # every NoEcho name first, then the values, each part given with its key and its parent's
    # key as it sits in the whole document (the walk reads them).
    def learn_names(self, parts: Iterable[tuple[Any, str, str]]) -> None:
        for obj, key, parent in parts:
            self._walk(obj, key, parent, names_only=True)

    def learn_values(self, parts: Iterable[tuple[Any, str, str]]) -> None:
        for obj, key, parent in parts:
            self._walk(obj, key, parent, names_only=False)
        self.values.discard("")

    def learn_plain_strings(self, strings: Iterable[str]) -> None:
        """The values pass over strings under keys that mean nothing to the walk (a stack
        event's fields): the same as `learn_values` on them, without walking a dict."""
        strings = list(strings)
        joined = "\n".join(strings)  # one look at all of them says when none can teach
        low = joined.lower()
        if not ("parameter" in low and "value" in low) and not (
                self.noecho_names and any(name + "=" in joined for name in self.noecho_names)):
            return
        for s in strings:
            self._text(s)

    def learn_text(self, text: str) -> bool:
        """Learn from free text: a template (JSON or YAML) is read as data, other text is
        searched for `--parameters` pairs and `NAME=value` of NoEcho names."""
        tpl = parse_template(text) if ("Parameters" in text or "Resources" in text) else None
        return self.learn([tpl if tpl is not None else text])

    def redactor(self) -> Redactor:
        return Redactor(self.values)

    def _add(self, value: Any, *, noecho: bool = False, guessed: bool = False) -> None:
        if not isinstance(value, str) or not value or is_mask(value) \
                or value.startswith("[REDACTED"):
            return
        if guessed and len(value) < MIN_GUESSED:
            return  # only redacted where it stands (Redactor.value), never searched in text
        self.values.add(value)
        if noecho:
            self.noecho_values.add(value)

    def _walk(self, obj: Any, key: str, parent: str, *, names_only: bool) -> None:
        nk = _norm(key)
        if isinstance(obj, str):
            if nk == "templatebody":  # CreateStack/UpdateStack/CreateChangeSet in CloudTrail
                tpl = parse_template(obj)
                if tpl is not None:
                    self._walk(tpl, "", "", names_only=names_only)
            if not names_only:
                self._text(obj)
            return
        if isinstance(obj, list | tuple):
            for v in obj:
                self._walk(v, key, parent, names_only=names_only)
            return
        if not isinstance(obj, Mapping):
            return
        pk = pv = None
        seen_k = seen_v = False
        for k in obj:  # the first key of each name, in any casing
            n = _norm(str(k))
            if n == "parameterkey" and not seen_k:
                pk, seen_k = obj[k], True
            elif n == "parametervalue" and not seen_v:
                pv, seen_v = obj[k], True
        if names_only:
            if nk == "parameters":  # a template's Parameters section
                for name, spec in obj.items():
                    if isinstance(spec, Mapping) and _truthy(spec.get("NoEcho")):
                        self.noecho_names.add(str(name))
            if isinstance(pk, str) and isinstance(pv, str) and is_mask(pv):
                self.noecho_names.add(pk)
            if nk == "parameters":  # a snapshot's {name: value} map
                for name, v in obj.items():
                    if isinstance(v, str) and is_mask(v):
                        self.noecho_names.add(str(name))
        else:
            if pk in self.noecho_names:
                self._add(pv, noecho=True)
            if nk == "parameters":
                for name, v in obj.items():
                    if name in self.noecho_names:
                        if isinstance(v, str):
                            self._add(v, noecho=True)
                        elif isinstance(v, Mapping) and _truthy(v.get("NoEcho")):
                            default = v.get("Default")
                            self._add(str(default) if default is not None else None,
                                      noecho=True)
            if nk == "variables" and _norm(parent) == "environment":
                for name, v in obj.items():
                    if looks_secret_name(str(name)):
                        self._add(v, guessed=True)
            for k, v in obj.items():
                n = _norm(str(k))
                if n == "credentials" and isinstance(v, Mapping):
                    for ck, cv in v.items():
                        # an access key id is an identifier that links the session's calls:
                        # redacted inside `credentials` only, not searched for elsewhere
                        if ck not in CREDENTIALS_KEEP and not (
                                isinstance(cv, str) and _AWS_KEY_ID.fullmatch(cv)):
                            self._add(cv, guessed=True)
                elif n in SECRET_FIELDS and isinstance(v, str):
                    self._add(v, guessed=True)
        for k, v in obj.items():
            self._walk(v, str(k), key, names_only=names_only)

    def _text(self, s: str) -> None:
        if len(s) < 8:
            return
        low = s.lower()
        if "parameter" in low and "value" in low:
            for m in _PAIR_TEXT.finditer(s):
                if m.group(1) in self.noecho_names:
                    self._add(_unquote(m.group(2)), noecho=True)
        for name in self.noecho_names:  # --parameter-overrides Name=value, Stack:Name=value
            if name + "=" in s:
                for m in re.finditer(r"(?<![A-Za-z0-9])" + re.escape(name)
                                     + r"""=("[^"]*"|'[^']*'|[^\s,"'\]}]+)""", s):
                    self._add(_unquote(m.group(1)), noecho=True)


def _truthy(flag: Any) -> bool:
    return flag is True or (isinstance(flag, str) and flag.lower() == "true")


# ------------------------------------------------------------ checking a folder for leaks


@dataclass(frozen=True)
class Leak:
    """A secret found in a file: `path` relative to the root, `member` inside a zip (nested
    zips joined with `!`), `secret` a hint (first 4 characters and the length), never the
    value."""

    path: str
    member: str | None
    secret: str


def _hint(secret: str) -> str:
    return f"{secret[:4]}…({len(secret)} chars)"


def _scan_blob(blob: bytes, needles: list[tuple[str, list[bytes]]]) -> list[str]:
    return [hint for hint, forms in needles if any(f in blob for f in forms)]


def _scan_zip(blob: bytes, needles: list[tuple[str, list[bytes]]], prefix: str
              ) -> Iterator[tuple[str, str]]:
    try:
        zf = zipfile.ZipFile(io.BytesIO(blob))
    except (zipfile.BadZipFile, ValueError):
        return
    with zf:
        for info in zf.infolist():
            if info.is_dir():
                continue
            try:
                data = zf.read(info)
            except (zipfile.BadZipFile, RuntimeError, ValueError, OSError):
                continue
            name = f"{prefix}{info.filename}"
            for hint in _scan_blob(data, needles):
                yield name, hint
            if data[:4] == b"PK\x03\x04":
                yield from _scan_zip(data, needles, name + "!")


def find_leaks(root: Path, secrets: Iterable[str]) -> list[Leak]:
    """Every place under `root` (a folder or one file) where one of `secrets` can be read:
    raw bytes of every file, JSON-escaped forms, and the entries of zip files (nested ones
    too). Pure apart from reading; an empty list means no leak. Symlinks are not followed."""
    needles: list[tuple[str, list[bytes]]] = []
    for s in sorted({s for s in secrets if s}):
        forms = {s.encode(), json.dumps(s)[1:-1].encode(), json.dumps(s, ensure_ascii=False)
                 [1:-1].encode()}
        needles.append((_hint(s), sorted(forms)))
    root = Path(root)
    files = [root] if root.is_file() else sorted(
        p for p in root.rglob("*") if p.is_file() and not p.is_symlink())
    leaks: list[Leak] = []
    for path in files:
        rel = path.name if path == root else path.relative_to(root).as_posix()
        blob = path.read_bytes()
        leaks += [Leak(rel, None, h) for h in _scan_blob(blob, needles)]
        if blob[:4] == b"PK\x03\x04":
            leaks += [Leak(rel, m, h) for m, h in _scan_zip(blob, needles, "")]
    return leaks


def loose_modes(root: Path) -> list[str]:
    """Files under `root` not 0600 and folders not 0700 (`root` included), as
    `path: mode` lines; empty when every mode is private."""
    root = Path(root)
    out: list[str] = []
    for p in [root, *sorted(root.rglob("*"))] if root.is_dir() else [root]:
        if p.is_symlink():
            continue
        mode = stat.S_IMODE(p.stat().st_mode)
        want = 0o700 if p.is_dir() else 0o600
        if mode != want:
            out.append(f"{p}: {oct(mode)} (want {oct(want)})")
    return out
