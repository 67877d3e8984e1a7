"""Invariants checked on the world itself after an unattended run: the sandbox's own state (moto
backends, the CloudFormation engine, the request log), never recover's output. Imports only the
sandbox and boto3, so a defect in recover's logic cannot hide in the checker.

(a) terminal: the stack reached the expected terminal state, or recover refused with the
    documented exit code and sent no mutating call;
(b) skips: nothing skipped (ResourcesToSkip) or retained (RetainResources) that could be fixed;
(c) bytes: every object version that appeared holds the world's known old code of its key, and
    every rolled-back function runs its old code;
(d) objects: every object version and delete marker present before is still there, same ETag;
(e) secret: the NoEcho value appears in no evidence file (zips and gzip members included);
(f) lookup-rate: never more than 2 LookupEvents requests in any one second (arrival times);
(g) roles: no IAM role that existed before was deleted or had its policies changed, and the
    recreated service role is kept or removed as the flags said.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recover.sandbox.generated.spec import DELETE_FAILED, STUCK, WorldSpec

INVARIANTS = ("a", "b", "c", "d", "e", "f", "g")
NAMES = {"a": "terminal", "b": "skips", "c": "bytes", "d": "objects", "e": "secret",
         "f": "lookup-rate", "g": "roles"}
READ_PREFIXES = ("Describe", "List", "Get", "Head", "Lookup", "Validate", "Detect", "Estimate",
                 "Simulate")
LOOKUP_BURST = 2  # LookupEvents: 2 requests per second per account and Region (docs/reference/aws-behaviour.md#lookupevents)
# arrival jitter: requests a client sent exactly 1 s apart may arrive a few ms closer together
LOOKUP_WINDOW = 0.95


@dataclass(frozen=True)
class Violation:
    invariant: str
    detail: str

    def __str__(self) -> str:
        return f"({self.invariant}) {NAMES[self.invariant]}: {self.detail}"


@dataclass
class State:
    objects: dict[tuple[str, str, str], str]  # (bucket, key, version) -> ETag / "delete-marker"
    roles: dict[str, tuple[str, ...]]  # role name -> attached policy ARNs


def object_versions(s3: Any) -> dict[tuple[str, str, str], str]:
    """Every object version and delete marker of every bucket: (bucket, key, version) -> ETag,
    or "delete-marker"."""
    objects: dict[tuple[str, str, str], str] = {}
    for bucket in (b["Name"] for b in s3.list_buckets()["Buckets"]):
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            for v in page.get("Versions", []):
                objects[(bucket, v["Key"], v["VersionId"])] = v["ETag"]
            for m in page.get("DeleteMarkers", []):
                objects[(bucket, m["Key"], m["VersionId"])] = "delete-marker"
    return objects


def capture(client: Any) -> State:
    """Every object version and delete marker of every bucket, every role and its policies."""
    iam = client("iam")
    objects = object_versions(client("s3"))
    roles = {}
    for page in iam.get_paginator("list_roles").paginate():
        for r in page["Roles"]:
            attached = iam.list_attached_role_policies(RoleName=r["RoleName"])["AttachedPolicies"]
            roles[r["RoleName"]] = tuple(sorted(p["PolicyArn"] for p in attached))
    return State(objects, roles)


def code_sha256(data: bytes) -> str:
    """Lambda's CodeSha256: base64 of the SHA-256 digest."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def is_mutating(request: dict[str, Any]) -> bool:
    if request["service"] == "sts":
        return False
    if request["service"] == "s3":
        return request["method"] not in ("GET", "HEAD")
    return not str(request["operation"]).startswith(READ_PREFIXES)


def check(spec: WorldSpec, facts: dict[str, Any], world: Any, client: Any, before: State,
          after: State, requests: list[dict[str, Any]], exit_code: int | None,
          evidence_dirs: list[Path]) -> list[Violation]:
    out: list[Violation] = []
    out += _terminal(spec, facts, world, requests, exit_code, after)
    out += _skips(spec, facts, requests)
    out += _bytes(spec, facts, world, client, before, after)
    out += _objects(before, after)
    out += _secret(spec.secret, evidence_dirs)
    out += _lookup_rate(requests)
    out += _roles(facts, before, after)
    return out


def _root_status(world: Any, facts: dict[str, Any]) -> str:
    return world.cfn.get(facts["root_id"]).status


def _terminal(spec: WorldSpec, facts: dict[str, Any], world: Any, requests: list[dict[str, Any]],
              exit_code: int | None, after: State) -> list[Violation]:
    exp = spec.expected
    status = _root_status(world, facts)
    mutating = [f"{r['service']}:{r['operation']}" for r in requests if is_mutating(r)]
    stuck = DELETE_FAILED if spec.family == "delete" else STUCK
    if "refuse" in exp.outcomes and exit_code == exp.refuse_exit:
        out = []
        if mutating:
            out.append(Violation("a", f"refused with exit {exit_code} but sent {len(mutating)} "
                                 f"mutating call(s): {', '.join(mutating[:6])}"))
        if status != stuck:
            out.append(Violation("a", f"refused, yet the stack moved to {status}"))
        return out
    if "complete" not in exp.outcomes:
        return [Violation("a", f"expected a refusal (exit {exp.refuse_exit}, nothing sent), got "
                          f"exit {exit_code} with the stack {status} after "
                          f"{len(mutating)} mutating call(s)")]
    out = []
    if status != exp.terminal or exit_code != 0:
        out.append(Violation("a", f"expected {exp.terminal} and exit 0, got {status} and exit "
                             f"{exit_code}"))
    if exp.role_after:
        out += _role_after(exp.role_after, facts, requests, after, status == exp.terminal)
    return out


def _role_after(wanted: str, facts: dict[str, Any], requests: list[dict[str, Any]], after: State,
                terminal: bool) -> list[Violation]:
    """The recreated role is kept or removed as the flags say once the operation is over; if it
    is not over, a role the run created must still be there for the rerun (issue 14 part 2)."""
    name = facts.get("role_name")
    present = name in after.roles
    created = any(r["service"] == "iam" and r["operation"] == "CreateRole" and not r.get("fault")
                  for r in requests)
    if terminal and present != (wanted == "present"):
        return [Violation("g", f"the recreated role {name} should be {wanted} once the stack is "
                          f"terminal, it is {'present' if present else 'absent'}")]
    if not terminal and created and not present:
        return [Violation("g", f"the role {name} was recreated, then removed before the "
                          "operation it unblocked reached a terminal state")]
    return []


def _skip_ref(facts: dict[str, Any], entry: str, stack_ref: str | None = None) -> tuple[int, str]:
    names = {v: int(k) for k, v in facts["stack_names"].items()}
    ids = {v: int(k) for k, v in facts["stack_ids"].items()}
    if stack_ref is not None:  # RetainResources: the logical id in the stack the call named
        return (ids.get(stack_ref, names.get(stack_ref, -1)), entry)
    if "." in entry:
        stack_name, lid = entry.split(".", 1)
        return (names.get(stack_name, -1), lid)
    return (0, entry)


def _skips(spec: WorldSpec, facts: dict[str, Any],
           requests: list[dict[str, Any]]) -> list[Violation]:
    out = []
    allowed = spec.expected.skippable
    for r in requests:
        if r["service"] != "cloudformation" or r.get("fault") or "params" not in r:
            continue
        p = r["params"]
        if r["operation"] == "ContinueUpdateRollback":
            for entry in p.get("ResourcesToSkip") or []:
                if _skip_ref(facts, entry) not in allowed:
                    out.append(Violation("b", f"skipped {entry}, which the world could fix"))
        elif r["operation"] == "DeleteStack":
            for entry in p.get("RetainResources") or []:
                if _skip_ref(facts, entry, p.get("StackName")) not in allowed:
                    out.append(Violation("b", f"retained {entry} of {p.get('StackName')}, "
                                         "which would have deleted"))
    return out


def _bytes(spec: WorldSpec, facts: dict[str, Any], world: Any, client: Any, before: State,
           after: State) -> list[Violation]:
    from recover.sandbox import moto_access as aws  # moto only when a world is checked

    out = []
    s3 = client("s3")
    for (bucket, key, version), etag in after.objects.items():
        if (bucket, key, version) in before.objects or etag == "delete-marker":
            continue
        body = s3.get_object(Bucket=bucket, Key=key, VersionId=version)["Body"].read()
        want = facts["old_code"].get(f"{bucket}/{key}")
        got = code_sha256(body)
        if want is None:
            out.append(Violation("c", f"a new object s3://{bucket}/{key} the world never lost"))
        elif got != want:
            what = ("the NEW code of the failed update" if got in facts["new_code"].values()
                    else "bytes the world does not know")
            out.append(Violation("c", f"s3://{bucket}/{key} restored with {what} "
                                 f"(sha256 {got}, old code is {want})"))
    if spec.family == "rollback" and _root_status(world, facts) == spec.expected.terminal:
        skipped = spec.expected.skippable
        for name, fn in facts["functions"].items():
            if (fn["stack"], fn["logical_id"]) in skipped:
                continue
            deployed = aws.lambda_function(name, world.region)
            code = bytes(getattr(deployed, "code_bytes", b"") or b"")
            if deployed is not None and code_sha256(code) != fn["old_sha"]:
                what = "its NEW code" if code_sha256(code) == fn["new_sha"] else "unknown code"
                out.append(Violation("c", f"{name} rolled back but runs {what}"))
    return out


def _objects(before: State, after: State) -> list[Violation]:
    lost = [f"s3://{b}/{k}?versionId={v}" for (b, k, v), etag in before.objects.items()
            if after.objects.get((b, k, v)) != etag]
    return [Violation("d", f"{len(lost)} object version(s) lost or changed: "
                      + ", ".join(lost[:4]))] if lost else []


def _secret(secret: str, dirs: list[Path]) -> list[Violation]:
    needle = secret.encode()
    hits = []
    for d in dirs:
        if not d.exists():
            continue
        for path in sorted(p for p in d.rglob("*") if p.is_file()):
            for member, data in _contents(path):
                if needle in data:
                    hits.append(f"{path}{'!' + member if member else ''}")
    return [Violation("e", "the NoEcho value is in " + ", ".join(hits[:4]))] if hits else []


def _contents(path: Path) -> list[tuple[str, bytes]]:
    data = path.read_bytes()
    out = [("", data)]
    if path.suffix == ".gz":
        with contextlib.suppress(OSError, EOFError):
            out.append(("gunzip", gzip.decompress(data)))
    if zipfile.is_zipfile(io.BytesIO(data)):
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for info in zf.infolist():
                inner = zf.read(info)
                out.append((info.filename, inner))
                if info.filename.endswith(".gz"):
                    with contextlib.suppress(OSError, EOFError):
                        out.append((info.filename + "!gunzip", gzip.decompress(inner)))
    return out


def _lookup_rate(requests: list[dict[str, Any]]) -> list[Violation]:
    times = sorted(r["t"] for r in requests
                   if r["service"] == "cloudtrail" and r["operation"] == "LookupEvents")
    worst = [(times[i], times[i + LOOKUP_BURST] - times[i])
             for i in range(len(times) - LOOKUP_BURST)
             if times[i + LOOKUP_BURST] - times[i] < LOOKUP_WINDOW]
    if not worst:
        return []
    return [Violation("f", f"{len(worst)} burst(s) of {LOOKUP_BURST + 1} LookupEvents requests "
                      f"within {min(w for _, w in worst):.3f} s ({len(times)} requests in all)")]


def _roles(facts: dict[str, Any], before: State, after: State) -> list[Violation]:
    changed = [name for name, policies in before.roles.items()
               if after.roles.get(name) != policies]
    return [Violation("g", "roles deleted or changed: " + ", ".join(changed))] if changed else []
