"""A planned AWS call, as data: what the executor runs, what --dry-run prints, what a plan
file stores, and the equivalent `aws` CLI command line an engineer can run by hand."""

from __future__ import annotations

import base64
import hashlib
import json
import shlex
from dataclasses import dataclass, field
from typing import Any

from botocore import xform_name

# `aws` CLI top-level command per boto3 service name where they differ.
CLI_SERVICE = {"s3": "s3api"}


@dataclass(frozen=True)
class Call:
    service: str  # boto3 service name: cloudformation, s3, iam, lambda...
    operation: str  # API operation name: ContinueUpdateRollback, PutObject...
    params: dict[str, Any]
    description: str  # one line for people: what this changes and why
    # Local files standing for blob parameters in the CLI rendering, e.g. {"Body": "/tmp/x.zip"}.
    files: dict[str, str] = field(default_factory=dict)
    region: str | None = None

    @property
    def method(self) -> str:
        return xform_name(self.operation)

    def cli(self) -> str:
        """The `aws` command line equivalent (blob parameters point at `files`)."""
        parts = ["aws", CLI_SERVICE.get(self.service, self.service), xform_name(self.operation, "-")]
        for key, value in self.params.items():
            flag = "--" + xform_name(key, "-")
            if key in self.files:
                parts += [flag, "fileb://" + self.files[key]]
            elif isinstance(value, bool):
                parts.append(flag if value else "--no-" + flag[2:])
            elif isinstance(value, list) and all(isinstance(v, str) for v in value):
                parts.append(flag)
                parts += [shlex.quote(v) for v in value]
            elif isinstance(value, dict | list):
                parts += [flag, shlex.quote(json.dumps(value, separators=(",", ":")))]
            elif isinstance(value, bytes):
                parts += [flag, "fileb://<file with the bytes>"]
            else:
                parts += [flag, shlex.quote(str(value))]
        if self.region:
            parts += ["--region", self.region]
        return " ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form: bytes become their size and sha256 (never the content)."""
        return {"service": self.service, "operation": self.operation,
                "params": {k: _describe_blob(v) if isinstance(v, bytes) else v
                           for k, v in self.params.items()},
                "description": self.description, "files": dict(self.files),
                "region": self.region, "cli": self.cli()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Call:
        params = dict(d["params"])
        for k, v in list(params.items()):
            if isinstance(v, dict) and v.get("__blob__"):
                raise ValueError(f"parameter {k} holds bytes that a plan file does not carry; "
                                 f"the file {d.get('files', {}).get(k, '?')} must be read again")
        return cls(service=d["service"], operation=d["operation"], params=params,
                   description=d.get("description", ""), files=dict(d.get("files") or {}),
                   region=d.get("region"))


def _describe_blob(data: bytes) -> dict[str, Any]:
    digest = hashlib.sha256(data).digest()
    return {"__blob__": True, "size": len(data), "sha256_b64": base64.b64encode(digest).decode()}
