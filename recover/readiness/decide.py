"""Decide (pure): from gathered facts to the readiness report: which referenced artifacts are
missing, which hazards will remove them (with dates and the rule responsible), and how to fix
each. No boto3 here; unit-tested with plain data."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from recover.model.stack import StackSnapshot
from recover.model.statuses import STABLE
from recover.readiness.artifacts import Artifact
from recover.readiness.ecr_lifecycle import PolicyError, image_threats, parse_policy
from recover.readiness.gather import Gathered
from recover.readiness.reference import reference_hazards
from recover.readiness.s3_lifecycle import ARCHIVE_CLASSES, rule_id, rule_prefix, threats

BLOCKING, WARNING, ADVICE = "blocking", "warning", "advice"
CDK_ASSETS_BUCKET = re.compile(r"^cdk-(?P<qualifier>[A-Za-z0-9_-]{1,10})-assets-\d{12}-[a-z0-9-]+$")


@dataclass
class Options:
    check_termination_protection: bool = False
    horizon_days: int = 0  # 0: every future date is reported; N: only within N days


@dataclass
class Report:
    stack: str
    root_id: str
    ready: bool
    artifacts: list[dict[str, Any]]
    missing: list[dict[str, Any]]
    hazards: list[dict[str, Any]]
    unresolved: list[dict[str, Any]]
    stacks: list[dict[str, Any]]
    checked_at: datetime
    notes: list[str] = field(default_factory=list)
    references: list[dict[str, Any]] = field(default_factory=list)  # REFERENCE code in use

    def to_dict(self) -> dict[str, Any]:
        return {"stack": self.stack, "root_id": self.root_id, "ready": self.ready,
                "checked_at": self.checked_at.isoformat(),
                "summary": {"artifacts": len(self.artifacts), "missing": len(self.missing),
                            "hazards": len(self.hazards), "unresolved": len(self.unresolved),
                            "stacks": len(self.stacks)},
                "missing": self.missing, "hazards": self.hazards,
                "references": self.references,
                "unresolved": self.unresolved, "artifacts": self.artifacts,
                "stacks": self.stacks, "notes": self.notes}


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt else None


def _where(a: Artifact) -> dict[str, Any]:
    return {"stack": a.stack_name, "logical_id": a.logical_id, "resource_type": a.resource_type,
            "kind": a.kind, "property": a.prop, "location": a.location}


def assess(g: Gathered, now: datetime, options: Options | None = None) -> Report:
    opts = options or Options()
    snap = g.snapshot
    artifacts: list[dict[str, Any]] = []
    missing: list[dict[str, Any]] = []
    unresolved: list[dict[str, Any]] = []
    hazards: list[dict[str, Any]] = []
    at_risk: dict[tuple[str, str, str], list[dict[str, Any]]] = {}

    for a in g.artifacts:
        entry = {**_where(a), "status": "present"}
        if a.unresolved:
            entry.update(status="unresolved", detail=a.unresolved)
            unresolved.append({**_where(a), "reason": a.unresolved})
        elif a.is_s3:
            _check_object(g, a, entry, missing, at_risk, now, opts)
        elif a.is_image:
            _check_image(g, a, entry, missing, at_risk, now, opts)
        artifacts.append(entry)

    hazards += _lifecycle_hazards(at_risk, g)
    hazards += reference_hazards(g.references, g.buckets, g.objects, g.policies, now,
                                 opts.horizon_days)
    hazards += _bucket_hazards(g)
    hazards += _cdk_hazards(g, now)
    hazards += _stack_hazards(snap, g, opts)
    if unresolved:
        hazards.append({
            "kind": "unresolved-location", "severity": WARNING, "stack": snap.root.name,
            "subject": f"{len(unresolved)} artifact location(s)",
            "detail": "these locations could not be worked out from the template, parameters "
                      "and resources, so their existence is not proven: "
                      + "; ".join(f"{u['stack']}.{u['logical_id']} {u['property']}: "
                                  f"{u['reason']}" for u in unresolved[:10]),
            "fix": "check them by hand (or pass the values as plain parameters)"})
    blocking = any(h["severity"] == BLOCKING for h in hazards)
    stacks = [{"name": n.name, "stack_id": n.stack_id, "status": n.info.status,
               "last_updated": _iso(n.info.last_updated_time or n.info.creation_time),
               "role_arn": n.info.role_arn, "depth": n.depth} for n in snap.nodes]
    notes = [f"could not read nested stack {sid}: {why}" for sid, why in snap.unreadable]
    return Report(stack=snap.requested or snap.root.name, root_id=snap.root_id,
                  ready=not missing and not blocking, artifacts=artifacts, missing=missing,
                  hazards=hazards, unresolved=unresolved, stacks=stacks, checked_at=now,
                  notes=notes, references=[r.to_dict() for r in g.references])


# --- artifacts -------------------------------------------------------------------------------

def _check_object(g: Gathered, a: Artifact, entry: dict[str, Any],
                  missing: list[dict[str, Any]],
                  at_risk: dict[tuple[str, str, str], list[dict[str, Any]]],
                  now: datetime, opts: Options) -> None:
    bucket = g.buckets.get(a.bucket)
    obj = g.objects.get((a.bucket, a.key, a.version))
    if bucket is not None and not bucket.exists:
        entry.update(status="missing", detail="NoSuchBucket")
        missing.append({**_where(a), "reason": f"bucket {a.bucket} does not exist",
                        "fix": f"recreate bucket {a.bucket} and upload {a.key} (the exact bytes "
                               "the stack was deployed with), or deploy a new version that "
                               "points elsewhere"})
        return
    if obj is None or obj.error:
        entry.update(status="unknown", detail=obj.error if obj else "not checked")
        return
    if not obj.exists:
        if a.version:
            reason = f"version {a.version} of s3://{a.bucket}/{a.key} no longer exists"
            fix = ("a deleted object version cannot come back: deploy a new version whose "
                   "template points at an existing object; until then a rollback to the "
                   "current template fails")
        elif obj.delete_marker:
            reason = f"s3://{a.bucket}/{a.key}: the current version is a delete marker"
            fix = (f"restore it: list the versions (aws s3api list-object-versions --bucket "
                   f"{a.bucket} --prefix {a.key}) and delete the delete marker or copy the "
                   "previous version back onto the key (recover rollback-stuck "
                   "--restore-artifacts does this safely)")
        else:
            reason = f"s3://{a.bucket}/{a.key} does not exist"
            fix = (f"upload the exact bytes the stack was deployed with to s3://{a.bucket}/"
                   f"{a.key} (from cdk.out, the CI artifacts, or the deployed function's code "
                   "via lambda get-function), never overwriting another object")
        entry.update(status="missing", detail=reason)
        missing.append({**_where(a), "reason": reason, "fix": fix})
        return
    if obj.storage_class in ARCHIVE_CLASSES:
        reason = f"s3://{a.bucket}/{a.key} is archived ({obj.storage_class}) and unreadable"
        entry.update(status="missing", detail=reason)
        missing.append({**_where(a), "reason": reason,
                        "fix": f"restore it (aws s3api restore-object --bucket {a.bucket} "
                               f"--key {a.key}) and copy it back to a readable storage class"})
        return
    entry.update(version_id=obj.version or None, last_modified=_iso(obj.last_modified))
    bucket_rules = list(bucket.rules) if bucket else []
    for t in threats(bucket_rules, obj, versioned=bool(bucket and bucket.versioning == "Enabled")):
        if opts.horizon_days and t.date and t.date > now + timedelta(days=opts.horizon_days):
            continue
        at_risk.setdefault((a.bucket, t.rule_id, t.action), []).append(
            {**_where(a), "key": a.key, "version": a.version or None, "date": _iso(t.date),
             "permanent": t.permanent, "detail": t.detail,
             "overdue": bool(t.date and t.date <= now)})
        entry.setdefault("at_risk", []).append({"rule": t.rule_id, "action": t.action,
                                                "date": _iso(t.date)})


def _check_image(g: Gathered, a: Artifact, entry: dict[str, Any],
                 missing: list[dict[str, Any]],
                 at_risk: dict[tuple[str, str, str], list[dict[str, Any]]],
                 now: datetime, opts: Options) -> None:
    state = g.images.get((a.image_region, a.registry, a.repository, a.tag, a.digest))
    if state is None or (not state.exists and state.error not in (
            "ImageNotFoundException", "RepositoryNotFoundException")):
        entry.update(status="unknown", detail=state.error if state else "not checked")
        return
    repo = g.repos.get((a.image_region, a.registry, a.repository))
    if not state.exists:
        what = "repository" if state.error == "RepositoryNotFoundException" else "image"
        reason = f"{a.image}: {what} not found in ECR"
        if repo and repo.policy:
            reason += " (the repository has a lifecycle policy: probably expired by it)"
        entry.update(status="missing", detail=reason)
        missing.append({**_where(a), "reason": reason,
                        "fix": f"push the same image again as {a.image} (rebuild from the "
                               "same commit, or copy it from another registry), or deploy a "
                               "new version that references an existing image"})
        return
    entry.update(digest=state.info.digest if state.info else None)
    if repo is None or not repo.policy or state.info is None:
        return
    try:
        rules = parse_policy(repo.policy)
    except PolicyError as exc:
        entry["detail"] = str(exc)
        return
    images = list(repo.images) if repo.images is not None else [state.info]
    for t in image_threats(rules, images, state.info, now):
        if opts.horizon_days and t.date and t.date > now + timedelta(days=opts.horizon_days):
            continue
        at_risk.setdefault((f"ecr:{a.repository}", t.rule_id, t.action), []).append(
            {**_where(a), "key": a.image, "version": None, "date": _iso(t.date),
             "permanent": True, "detail": t.detail, "overdue": bool(t.date and t.date <= now)})
        entry.setdefault("at_risk", []).append({"rule": t.rule_id, "action": t.action,
                                                "date": _iso(t.date)})


# --- hazards ---------------------------------------------------------------------------------

def _lifecycle_hazards(at_risk: dict[tuple[str, str, str], list[dict[str, Any]]],
                       g: Gathered) -> list[dict[str, Any]]:
    out = []
    for (where, rule, action), items in sorted(at_risk.items()):
        dated = sorted((i for i in items if i["date"]), key=lambda i: i["date"])
        first = dated[0]["date"] if dated else None
        if where.startswith("ecr:"):
            repo = where[4:]
            out.append({
                "kind": "ecr-lifecycle",
                "severity": BLOCKING if any(i["overdue"] for i in items) else WARNING, "stack": items[0]["stack"],
                "subject": f"ECR repository {repo}", "repository": repo, "rule": rule,
                "action": action, "date": first, "images": [i["key"] for i in items],
                "resources": sorted({f"{i['stack']}.{i['logical_id']}" for i in items}),
                "detail": items[0]["detail"],
                "fix": f"add a rule evaluated before {rule} (a smaller rulePriority; renumber "
                       "if needed) that selects the tags your stacks deploy and keeps them "
                       "(e.g. their tagPatternList with imageCountMoreThan 9999), or raise "
                       "its countNumber"})
            continue
        bucket = g.buckets.get(where)
        prefixes = _rule_prefix(bucket.rules if bucket else (), rule)
        # overdue: the date has passed and the object is still there; S3 acts asynchronously,
        # so it can disappear at any moment (docs/reference/aws-behaviour.md#s3-lifecycle-expiration)
        overdue = any(i["overdue"] for i in items)
        out.append({
            "kind": "lifecycle-rule", "severity": BLOCKING if overdue else WARNING, "stack": items[0]["stack"],
            "subject": f"bucket {where}", "bucket": where, "rule": rule, "action": action,
            "date": first, "keys": [
                {"key": i["key"], "version": i["version"], "date": i["date"],
                 "resource": f"{i['stack']}.{i['logical_id']}", "overdue": i["overdue"]}
                for i in items],
            "permanent": any(i["permanent"] for i in items),
            "detail": items[0]["detail"] + (
                "" if prefixes is None else " (the rule covers the whole bucket)"
                if prefixes == "" else f" (the rule covers prefix {prefixes!r})"),
            "fix": (f"S3 lifecycle filters cannot exclude keys: narrow rule {rule}'s filter "
                    "(a prefix or tag the deployment artifacts do not carry), move deployment "
                    "artifacts under a prefix no expiring rule covers, or raise its days above "
                    "the longest time between two deploys plus a rollback")})
    return out


def _rule_prefix(rules: Iterable[dict[str, Any]], rid: str) -> str | None:
    for r in rules:
        if rule_id(r) == rid:
            return rule_prefix(r)
    return None


def _bucket_hazards(g: Gathered) -> list[dict[str, Any]]:
    out = []
    users: dict[str, set[str]] = {}
    for a in g.artifacts:
        if a.is_s3 and not a.unresolved:
            users.setdefault(a.bucket, set()).add(f"{a.stack_name}.{a.logical_id}")
    for name, bucket in sorted(g.buckets.items()):
        if not bucket.exists:
            continue
        if bucket.error:
            out.append({"kind": "bucket-unreadable", "severity": WARNING, "stack": "",
                        "subject": f"bucket {name}", "bucket": name, "detail": bucket.error,
                        "fix": "grant s3:GetBucketVersioning and s3:GetLifecycleConfiguration "
                               "to check it"})
            continue
        if bucket.versioning != "Enabled":
            state = "suspended" if bucket.versioning == "Suspended" else "not enabled"
            out.append({
                "kind": "unversioned-bucket", "severity": WARNING, "stack": "",
                "subject": f"bucket {name}", "bucket": name, "versioning": bucket.versioning,
                "resources": sorted(users.get(name, ())),
                "detail": f"versioning is {state}: an overwrite or delete of a deployment "
                          "artifact is permanent, so there is nothing to restore from "
                          "(docs/reference/aws-behaviour.md#s3-versioning-and-delete-markers, docs/reference/aws-behaviour.md#s3-lifecycle-expiration)",
                "fix": f"enable versioning: aws s3api put-bucket-versioning --bucket {name} "
                       "--versioning-configuration Status=Enabled (keep noncurrent versions "
                       "longer than a deploy-plus-rollback window)"})
    return out


def _cdk_hazards(g: Gathered, now: datetime) -> list[dict[str, Any]]:
    """CDK file assets live in the bootstrap staging bucket (docs/reference/aws-behaviour.md#cdk-bootstrap). Two ways they
    disappear: an Expiration rule someone added (retention shorter than the time since the
    stack's last deploy means the current template's assets are gone or going), and
    `cdk gc`, which deletes assets no deployed template references; while a deploy is in
    flight the previous template's assets look unreferenced, hence its rollback buffer."""
    out = []
    snap = g.snapshot
    assets: dict[str, list[Artifact]] = {}
    for a in g.artifacts:
        if a.is_s3 and CDK_ASSETS_BUCKET.match(a.bucket):
            assets.setdefault(a.bucket, []).append(a)
    for name, refs in sorted(assets.items()):
        bucket = g.buckets.get(name)
        last = max((n.info.last_updated_time or n.info.creation_time for n in snap.nodes
                    if n.info.last_updated_time or n.info.creation_time), default=None)
        age_days = max(0, (now - last).days) if last else None
        retention = [int((r.get("Expiration") or {}).get("Days"))
                     for r in (bucket.rules if bucket else ())
                     if r.get("Status") == "Enabled" and (r.get("Expiration") or {}).get("Days")
                     and any(a.key.startswith(rule_prefix(r)) for a in refs)]
        if retention and age_days is not None:
            days = min(retention)
            severity = WARNING
            if days <= age_days:
                verdict = (f"shorter than the {age_days} days since the stack's last deploy: "
                           "the assets the current template needs are expired or expiring")
            else:
                verdict = (f"the assets expire {days - age_days} days from now unless the stack "
                           "is deployed again first")
            out.append({
                "kind": "cdk-assets-retention", "severity": severity, "stack": snap.root.name,
                "subject": f"CDK assets bucket {name}", "bucket": name,
                "retention_days": days, "days_since_last_deploy": age_days,
                "detail": f"an Expiration rule keeps assets {days} days, {verdict}",
                "fix": "remove the Expiration rule from the CDK staging bucket (the bootstrap "
                       "template only expires noncurrent versions) and let `cdk gc` remove "
                       "unreferenced assets, or re-bootstrap to restore the default rules"})
        out.append({
            "kind": "cdk-gc-rollback-buffer", "severity": ADVICE, "stack": snap.root.name,
            "subject": f"CDK assets bucket {name}", "bucket": name,
            "detail": "`cdk gc` deletes assets that no deployed template references; while a "
                      "deploy is in progress the previous version's assets look unreferenced, "
                      "and deleting them breaks that deploy's rollback",
            "fix": "run `cdk gc` with --rollback-buffer-days longer than your longest deploy "
                   "plus rollback (and never while a deploy runs); the bootstrap bucket keeps "
                   "deleted versions 30 days (CleanupOldVersions), the window to restore one"})
    return out


def _stack_hazards(snap: StackSnapshot, g: Gathered, opts: Options) -> list[dict[str, Any]]:
    out = []
    root = snap.root
    if root.info.status not in STABLE:
        failed = root.info.status.endswith("FAILED")
        out.append({
            "kind": "stack-not-stable", "severity": BLOCKING if failed else WARNING,
            "stack": root.name, "subject": f"stack {root.name}", "status": root.info.status,
            "detail": f"the stack is {root.info.status}: a new deploy cannot start (and so "
                      "cannot roll back) from this state",
            "fix": "recover diagnose " + root.name + " names the runbook that gets it out of "
                   "this state" if failed else "wait for the operation to finish and check "
                   "again"})
    for check in snap.roles:
        # a role only a failure message names (not any stack's RoleARN) is the root's concern
        users = [n.name for n in snap.nodes if n.info.role_arn == check.arn] or [root.name]
        if check.state in ("missing", "untrusting", "other_path"):
            out.append({
                "kind": "service-role-missing", "severity": BLOCKING, "stack": users[0],
                "subject": f"service role {check.name}", "role_arn": check.arn,
                "stacks": users, "detail": f"{check.detail or check.state}: every update, "
                "rollback or delete of the stack will fail with 'Role ... is invalid or "
                "cannot be assumed' (docs/reference/aws-behaviour.md#service-roles-rolearn)",
                "fix": ("re-bootstrap the environment (cdk bootstrap) or recreate the role: "
                        f"recover bootstrap-role {users[0]} (runbook bootstrap-role)")
                if "-cfn-exec-role-" in check.name else
                "recreate the role with the same name and path, trusting "
                f"cloudformation.amazonaws.com: recover bootstrap-role {users[0]} (runbook "
                "bootstrap-role)"})
        elif check.state == "unknown":
            out.append({"kind": "service-role-unchecked", "severity": WARNING,
                        "stack": users[0], "subject": f"service role {check.name}",
                        "role_arn": check.arn, "detail": check.detail,
                        "fix": "grant iam:GetRole to check it"})
    for t in g.templates:
        if t.template is None:
            out.append({"kind": "template-unreadable", "severity": WARNING, "stack": t.stack_name,
                        "subject": f"template of {t.stack_name}", "detail": t.error,
                        "fix": "grant cloudformation:GetTemplate (or fix the template) so its "
                               "artifacts can be checked"})
    if opts.check_termination_protection and not root.info.termination_protection:
        out.append({
            "kind": "termination-protection-off", "severity": WARNING, "stack": root.name,
            "subject": f"stack {root.name}",
            "detail": "termination protection is off: one DeleteStack removes the stack and "
                      "every resource without a Retain policy",
            "fix": "aws cloudformation update-termination-protection "
                   f"--enable-termination-protection --stack-name {root.name}"})
    return out

