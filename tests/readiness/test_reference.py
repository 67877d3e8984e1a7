"""REFERENCE code as a live dependency (pure): missing object, unversioned bucket, lifecycle
rule covering the referenced version (with its date), bucket policy that stops Lambda."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from recover.readiness.gather import BucketState
from recover.readiness.reference import FunctionRef, PolicyState, lambda_can_read, reference_hazards
from recover.readiness.s3_lifecycle import ObjectState, lifecycle_date

NOW = datetime(2026, 6, 1, tzinfo=UTC)
DEPLOYED = datetime(2026, 5, 20, 10, tzinfo=UTC)
ARN = "arn:aws:lambda:us-east-1:123456789012:function:f"
REF = FunctionRef("s", "Fn", "f", ARN, "resolved", "b", "code/f.zip", "v1")
GRANT = {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
         "Action": ["s3:GetObject", "s3:GetObjectVersion"], "Resource": "arn:aws:s3:::b/code/*",
         "Condition": {"ArnLike": {"aws:SourceArn": ARN}}}


def policy(*statements: dict) -> PolicyState:
    return PolicyState(json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))


def kinds(bucket: BucketState, obj: ObjectState, pol: PolicyState, ref: FunctionRef = REF
          ) -> dict[str, dict]:
    return {h["kind"]: h for h in reference_hazards([ref], {"b": bucket}, {ref.oid: obj},
                                                    {"b": pol}, NOW)}


def obj(**kw: object) -> ObjectState:
    return ObjectState("b", "code/f.zip", "v1", exists=True, last_modified=DEPLOYED, **kw)


def test_healthy_reference_has_no_hazard() -> None:
    assert kinds(BucketState("b", versioning="Enabled"), obj(), policy(GRANT)) == {}


def test_deleted_version_breaks_the_function_now() -> None:
    h = kinds(BucketState("b", versioning="Enabled"),
              ObjectState("b", "code/f.zip", "v1", exists=False), policy(GRANT))
    assert h["reference-code-missing"]["severity"] == "blocking"
    assert "update-function-code" in h["reference-code-missing"]["fix"]


def test_unversioned_bucket_and_expiration_dated() -> None:
    rules = ({"ID": "old", "Status": "Enabled", "Filter": {"Prefix": "code/"},
              "Expiration": {"Days": 30}},)
    h = kinds(BucketState("b", versioning="", rules=rules), obj(), policy(GRANT))
    assert h["reference-unversioned-bucket"]["severity"] == "warning"
    life = h["reference-lifecycle"]
    assert life["date"] == lifecycle_date(DEPLOYED, 30).isoformat() and life["rule"] == "old"


def test_versioned_expiration_counts_from_the_permanent_delete_only() -> None:
    rules = ({"ID": "cur", "Status": "Enabled", "Filter": {"Prefix": ""},
              "Expiration": {"Days": 30}},
             {"ID": "nc", "Status": "Enabled", "Filter": {"Prefix": ""},
              "NoncurrentVersionExpiration": {"NoncurrentDays": 7}})
    h = kinds(BucketState("b", versioning="Enabled", rules=rules), obj(), policy(GRANT))
    assert h["reference-lifecycle"]["rule"] == "nc"  # the delete marker alone breaks nothing
    assert h["reference-lifecycle"]["date"] == lifecycle_date(
        lifecycle_date(DEPLOYED, 30), 7).isoformat()


def test_policy_that_no_longer_lets_lambda_read() -> None:
    bucket = BucketState("b", versioning="Enabled")
    assert kinds(bucket, obj(), PolicyState(None))["reference-policy"]["severity"] == "blocking"
    narrow = {**GRANT, "Resource": "arn:aws:s3:::b/other/*"}
    assert "reference-policy" in kinds(bucket, obj(), policy(narrow))
    deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}
    assert "reference-policy" in kinds(bucket, obj(), policy(GRANT, deny))
    other_fn = {**GRANT, "Condition": {"ArnLike": {"aws:SourceArn": ARN + "-other"}}}
    assert lambda_can_read(policy(other_fn).text, REF)[0] is False
    only_get = {**GRANT, "Action": "s3:GetObject"}
    ok, why = lambda_can_read(policy(only_get).text, REF)
    assert not ok and "GetObjectVersion" in why
    assert lambda_can_read(policy({**GRANT, "Action": "s3:Get*"}).text, REF)[0]
