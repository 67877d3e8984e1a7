"""A planned AWS call, as data: what the executor runs, what --dry-run prints, what a plan
file stores, and the equivalent `aws` CLI command line an engineer can run by hand."""

from __future__ import annotations

import base64
import hashlib
import json
import os
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
        if self.service == "cloudformation-response":  # a PUT to a pre-signed URL (presigned.py)
            from recover.act.presigned import cli

            return cli(self.params)
        parts = ["aws", CLI_SERVICE.get(self.service, self.service), xform_name(self.operation, "-")]
        for key, value in self.params.items():
            flag = "--" + xform_name(key, "-")
            if key in self.files:  # text parameters (a template body) are read as text
                scheme = "file://" if isinstance(value, str) else "fileb://"
                parts += [flag, scheme + self.files[key]]
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
    def from_dict(cls, d: Any) -> Call:
        """A call read back from a plan, every field type-checked (ValueError names the field);
        blob parameters stay descriptors until `with_blobs_loaded` reads them from `files`."""
        if not isinstance(d, dict):
            raise ValueError(f"expected a call object, got {type(d).__name__}")
        for key in ("service", "operation"):
            if not isinstance(d.get(key), str) or not d[key]:
                raise ValueError(f"{key}: expected a non-empty string")
        if not isinstance(d.get("params"), dict):
            raise ValueError("params: expected an object")
        if not isinstance(d.get("description", ""), str):
            raise ValueError("description: expected a string")
        files = d.get("files") or {}
        if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
            raise ValueError("files: expected an object of parameter -> file path")
        if not isinstance(d.get("region"), str | None):
            raise ValueError("region: expected a string or null")
        for key, value in d["params"].items():
            if isinstance(value, dict) and "__blob__" in value:
                _check_blob_descriptor(key, value, files)
        return cls(service=d["service"], operation=d["operation"], params=dict(d["params"]),
                   description=d.get("description", ""), files=dict(files),
                   region=d.get("region"))

    def with_blobs_loaded(self) -> Call:
        """Replace blob descriptors by the bytes of their file, checking size and SHA-256
        (a plan must run exactly what was reviewed)."""
        params = dict(self.params)
        for key, value in self.params.items():
            if not (isinstance(value, dict) and "__blob__" in value):
                continue
            path = self.files.get(key)
            if not path:
                raise ValueError(f"{self.operation}: parameter {key} has no file to read")
            if not os.path.isfile(path):  # not a directory, FIFO or device (/dev/zero)
                raise ValueError(f"{self.operation}: {path} is not a regular file")
            with open(path, "rb") as fh:  # never more than the reviewed size (+1 to see growth)
                data = fh.read(int(value["size"]) + 1)
            if _describe_blob(data) != value:
                raise ValueError(f"{self.operation}: {path} changed since the plan was made "
                                 "(size or SHA-256 differ)")
            params[key] = data
        return Call(self.service, self.operation, params, self.description, dict(self.files),
                    self.region)


def _describe_blob(data: bytes) -> dict[str, Any]:
    digest = hashlib.sha256(data).digest()
    return {"__blob__": True, "size": len(data), "sha256_b64": base64.b64encode(digest).decode()}


def _check_blob_descriptor(key: str, value: dict[str, Any], files: dict[str, str]) -> None:
    """A blob parameter in a plan: its size, its SHA-256 and the file that holds the bytes."""
    if (value.get("__blob__") is not True or type(value.get("size")) is not int
            or value["size"] < 0 or not isinstance(value.get("sha256_b64"), str)
            or set(value) != {"__blob__", "size", "sha256_b64"}):
        raise ValueError(f"params.{key}: a blob is described by __blob__: true, size and "
                         "sha256_b64 only")
    if not files.get(key):
        raise ValueError(f"params.{key}: a blob needs its file in files.{key}")
