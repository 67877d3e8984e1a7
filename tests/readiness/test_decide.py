"""The readiness decision (pure): gathered facts in, missing / hazards / ready out."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from recover.model.stack import RoleCheck
from recover.readiness.artifacts import Artifact
from recover.readiness.decide import Options, assess
from recover.readiness.ecr_lifecycle import ImageInfo
from recover.readiness.gather import BucketState, Gathered, ImageState, RepoState, TemplateRead
from recover.readiness.s3_lifecycle import ObjectState
from tests.builders import ACCOUNT, REGION, T0, NodeBuilder, snapshot

NOW = T0 + timedelta(days=10)
CDK = f"cdk-hnb659fds-assets-{ACCOUNT}-{REGION}"


def art(lid: str, bucket: str = "deploy", key: str = "", **kw: object) -> Artifact:
    base: dict = dict(stack_name="app", stack_id="arn:app", logical_id=lid,
                      resource_type="AWS::Lambda::Function", kind="lambda-code", prop="Code",
                      bucket=bucket, key=key or f"{lid}.zip")
    base.update(kw)
    return Artifact(**base)


def world(artifacts: list[Artifact], objects: dict, buckets: dict, roles: tuple = (),
          status: str = "UPDATE_COMPLETE", **kw: object) -> Gathered:
    root = NodeBuilder("app", status, role_arn=roles[0].arn if roles else "")
    snap = snapshot(root, roles=roles)
    return Gathered(snapshot=snap, templates=[TemplateRead("app", snap.root_id, {})],
                    artifacts=artifacts, objects=objects, buckets=buckets, **kw)


def present(bucket: str, key: str, days_old: int = 1, **kw: object) -> ObjectState:
    return ObjectState(bucket, key, exists=True, last_modified=NOW - timedelta(days=days_old),
                       size=10, **kw)


def test_all_present_versioned_no_rules_is_ready_with_no_hazards() -> None:
    a = art("Fn")
    g = world([a], {("deploy", "Fn.zip", ""): present("deploy", "Fn.zip")},
              {"deploy": BucketState("deploy", versioning="Enabled")})
    r = assess(g, NOW)
    assert r.ready and r.missing == [] and r.hazards == []
    assert r.artifacts[0]["status"] == "present"


def test_missing_keys_are_named_with_the_right_fix() -> None:
    arts = [art("Hidden"), art("Gone"), art("Pinned", version="v9")]
    objects = {("deploy", "Hidden.zip", ""): ObjectState("deploy", "Hidden.zip",
                                                         delete_marker=True),
               ("deploy", "Gone.zip", ""): ObjectState("deploy", "Gone.zip"),
               ("deploy", "Pinned.zip", "v9"): ObjectState("deploy", "Pinned.zip", "v9")}
    g = world(arts, objects, {"deploy": BucketState("deploy", versioning="Enabled")})
    r = assess(g, NOW)
    assert not r.ready
    by = {m["logical_id"]: m for m in r.missing}
    assert "delete marker" in by["Hidden"]["reason"] and "list-object-versions" in by["Hidden"]["fix"]
    assert "does not exist" in by["Gone"]["reason"] and "upload the exact bytes" in by["Gone"]["fix"]
    assert "version v9" in by["Pinned"]["reason"] and "cannot come back" in by["Pinned"]["fix"]
    assert by["Hidden"]["location"] == "s3://deploy/Hidden.zip"


def test_missing_bucket_and_archived_object() -> None:
    arts = [art("A", bucket="nope"), art("B")]
    objects = {("nope", "A.zip", ""): ObjectState("nope", "A.zip"),
               ("deploy", "B.zip", ""): present("deploy", "B.zip", storage_class="GLACIER")}
    g = world(arts, objects, {"nope": BucketState("nope", exists=False),
                              "deploy": BucketState("deploy", versioning="Enabled")})
    r = assess(g, NOW)
    reasons = sorted(m["reason"] for m in r.missing)
    assert "bucket nope does not exist" in reasons[0] and "archived (GLACIER)" in reasons[1]


def test_lifecycle_rule_names_rule_keys_and_dates_and_overdue_blocks() -> None:
    rule = {"ID": "expire-30", "Status": "Enabled", "Filter": {"Prefix": ""},
            "Expiration": {"Days": 30}}
    other = {"ID": "logs", "Status": "Enabled", "Filter": {"Prefix": "logs/"},
             "Expiration": {"Days": 1}}
    arts = [art("Young"), art("Old")]
    objects = {("deploy", "Young.zip", ""): present("deploy", "Young.zip", days_old=5),
               ("deploy", "Old.zip", ""): present("deploy", "Old.zip", days_old=31)}
    g = world(arts, objects, {"deploy": BucketState("deploy", versioning="Enabled",
                                                    rules=(rule, other))})
    r = assess(g, NOW)
    [h] = [h for h in r.hazards if h["kind"] == "lifecycle-rule"]
    assert h["rule"] == "expire-30" and h["bucket"] == "deploy"
    keys = {k["key"]: k for k in h["keys"]}
    assert set(keys) == {"Young.zip", "Old.zip"}
    assert keys["Old.zip"]["overdue"] and not keys["Young.zip"]["overdue"]
    assert h["severity"] == "blocking" and not r.ready  # S3 may act at any moment
    assert h["date"] == keys["Old.zip"]["date"]
    only_young = assess(world([arts[0]], objects, g.buckets), NOW)
    assert only_young.ready and only_young.hazards[0]["severity"] == "warning"
    assert assess(world([arts[0]], objects, g.buckets), NOW,
                  Options(horizon_days=10)).hazards == []


def test_unversioned_bucket_is_a_hazard() -> None:
    g = world([art("Fn")], {("deploy", "Fn.zip", ""): present("deploy", "Fn.zip")},
              {"deploy": BucketState("deploy", versioning="Suspended")})
    r = assess(g, NOW)
    [h] = r.hazards
    assert h["kind"] == "unversioned-bucket" and "suspended" in h["detail"]
    assert "put-bucket-versioning" in h["fix"] and h["resources"] == ["app.Fn"]
    assert r.ready  # nothing missing today


def test_missing_service_role_blocks() -> None:
    role = RoleCheck(arn=f"arn:aws:iam::{ACCOUNT}:role/cdk-hnb659fds-cfn-exec-role-{ACCOUNT}-"
                     f"{REGION}", state="missing", detail="iam:GetRole: NoSuchEntity")
    r = assess(world([], {}, {}, roles=(role,)), NOW)
    [h] = r.hazards
    assert h["kind"] == "service-role-missing" and h["severity"] == "blocking"
    assert "cdk bootstrap" in h["fix"] and not r.ready


def test_failed_stack_and_termination_protection_opt_in() -> None:
    g = world([], {}, {}, status="UPDATE_ROLLBACK_FAILED")
    kinds = {h["kind"]: h for h in assess(g, NOW).hazards}
    assert kinds["stack-not-stable"]["severity"] == "blocking"
    assert "termination-protection-off" not in kinds
    kinds = {h["kind"] for h in assess(g, NOW, Options(check_termination_protection=True)).hazards}
    assert "termination-protection-off" in kinds


def test_cdk_assets_bucket_retention_and_gc_advice() -> None:
    a = art("Fn", bucket=CDK, key="abc.zip")
    expire = {"ID": "cost-saver", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 7}}
    g = world([a], {(CDK, "abc.zip", ""): present(CDK, "abc.zip", days_old=3)},
              {CDK: BucketState(CDK, versioning="Enabled", rules=(expire,))})
    snap = g.snapshot
    root = snap.nodes[0]
    info = replace(root.info, last_updated_time=NOW - timedelta(days=9))
    g.snapshot = replace(snap, nodes=(replace(root, info=info),))
    kinds = {h["kind"]: h for h in assess(g, NOW).hazards}
    ret = kinds["cdk-assets-retention"]
    assert ret["retention_days"] == 7 and ret["days_since_last_deploy"] == 9
    assert "shorter than" in ret["detail"]
    assert kinds["cdk-gc-rollback-buffer"]["severity"] == "advice"
    assert "--rollback-buffer-days" in kinds["cdk-gc-rollback-buffer"]["fix"]


def test_images_missing_and_at_risk() -> None:
    uri = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/web"
    gone = art("Task", bucket="", key="", kind="container-image", image=f"{uri}:r1",
               repository="web", registry=ACCOUNT, image_region=REGION, tag="r1")
    kept = replace(gone, logical_id="Fn", image=f"{uri}:r2", tag="r2")
    policy = ('{"rules": [{"rulePriority": 1, "selection": {"tagStatus": "tagged", '
              '"tagPrefixList": ["r"], "countType": "imageCountMoreThan", "countNumber": 1}, '
              '"action": {"type": "expire"}}]}')
    images = (ImageInfo("d2", ("r2",), NOW - timedelta(days=2)),
              ImageInfo("d3", ("r3",), NOW - timedelta(days=1)))
    g = world([gone, kept], {}, {},
              images={(REGION, ACCOUNT, "web", "r1", ""): ImageState(
                          False, error="ImageNotFoundException"),
                      (REGION, ACCOUNT, "web", "r2", ""): ImageState(True, images[0])},
              repos={(REGION, ACCOUNT, "web"): RepoState(REGION, ACCOUNT, "web", policy,
                                                         images)})
    r = assess(g, NOW)
    [m] = r.missing
    assert m["logical_id"] == "Task" and "lifecycle policy" in m["reason"]
    [h] = r.hazards
    assert h["kind"] == "ecr-lifecycle" and h["images"] == [f"{uri}:r2"]
    assert h["severity"] == "blocking"  # number 2 of 1 kept: expired at the next evaluation


def test_unresolved_locations_are_said_plainly() -> None:
    a = art("Fn", bucket="", key="", unresolved="Fn::GetAtt X.Y is only known to CloudFormation")
    r = assess(world([a], {}, {}), NOW)
    assert r.unresolved[0]["reason"].startswith("Fn::GetAtt")
    [h] = r.hazards
    assert h["kind"] == "unresolved-location" and "app.Fn Code" in h["detail"]
    assert r.artifacts[0]["status"] == "unresolved"


def test_shared_reads_read_each_key_once_under_concurrency() -> None:
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from recover.readiness.gather import SharedReads

    shared, calls, gate = SharedReads(), [], threading.Event()

    def read() -> str:
        calls.append(1)
        gate.wait(5)
        return "rules"

    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(shared.get, ("bucket", "b"), read) for _ in range(8)]
        gate.set()
        assert [f.result() for f in futures] == ["rules"] * 8
    assert len(calls) == 1
