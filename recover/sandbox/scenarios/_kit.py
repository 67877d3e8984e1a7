"""Building blocks the scenarios share: real objects in moto (through the served API, like a
user would create them) and the matching CloudFormation resources and CloudTrail records."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from typing import Any

from recover.sandbox.cfn.model import NESTED_STACK, SimResource, SimStack
from recover.sandbox.moto_access import code_sha256
from recover.sandbox.world import World

CFN_TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "cloudformation.amazonaws.com"},
    "Action": "sts:AssumeRole"}]}
LAMBDA_TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
    "Action": "sts:AssumeRole"}]}


def go_zip(function: str, build: str) -> bytes:
    """A small, deterministic Go-style deployment package: one `bootstrap` executable."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        info = zipfile.ZipInfo("bootstrap", date_time=(2026, 1, 1, 0, 0, 0))
        info.external_attr = 0o755 << 16
        payload = b"\x7fELF" + f"go1.23 {function} build {build}\n".encode() * 64
        zf.writestr(info, payload)
    return buf.getvalue()


def asset_key(data: bytes) -> str:
    """CDK-style asset key: a 64-hex fingerprint + .zip (here the sha256 of the zip)."""
    return hashlib.sha256(data).hexdigest() + ".zip"


def bucket(world: World, name: str, versioned: bool = False) -> None:
    s3 = world.client("s3")
    s3.create_bucket(Bucket=name)
    if versioned:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})


def put(world: World, bucket_name: str, key: str, data: bytes) -> str | None:
    return world.client("s3").put_object(Bucket=bucket_name, Key=key, Body=data).get("VersionId")


def expire(world: World, bucket_name: str, key: str, *, purge: bool = False) -> None:
    """What lifecycle expiration / CDK garbage collection does to a versioned key (docs/reference/aws-behaviour.md#s3-lifecycle-expiration): a
    delete marker on top; with purge, NoncurrentVersionExpiration also removed every old
    version for good. Neither appears in CloudTrail (docs/reference/aws-behaviour.md#cloudtrail-delivery-and-blind-spots), so nothing is recorded."""
    s3 = world.client("s3")
    s3.delete_object(Bucket=bucket_name, Key=key)
    if purge:
        listing = s3.list_object_versions(Bucket=bucket_name, Prefix=key)
        for v in listing.get("Versions", []):
            if v["Key"] == key:
                s3.delete_object(Bucket=bucket_name, Key=key, VersionId=v["VersionId"])


def role(world: World, name: str, trust: dict[str, Any], managed: list[str] | None = None,
         path: str = "/") -> str:
    iam = world.client("iam")
    arn = iam.create_role(RoleName=name, Path=path,
                          AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    for policy in managed or []:
        iam.attach_role_policy(RoleName=name, PolicyArn=policy)
    return arn


def iam_event(world: World, event_name: str, role_arn: str, params: dict[str, Any],
              identity: dict[str, Any]) -> None:
    """A CloudTrail record of an IAM call on a role (IAM events are recorded in us-east-1,
    docs/reference/aws-behaviour.md#lookupevents; the sandbox records them in its one region)."""
    world.trail.record(event_name=event_name, event_source="iam.amazonaws.com",
                       request_parameters=params, user_identity=identity,
                       resources=[{"ARN": role_arn, "accountId": world.account,
                                   "type": "AWS::IAM::Role"}],
                       source_ip="AWS Internal" if identity.get("invokedBy") else "203.0.113.10",
                       user_agent="AWS Internal" if identity.get("invokedBy") else "aws-cli/2.15.0")


def res(logical_id: str, type_: str, physical_id: str | None = None, **props: Any) -> SimResource:
    return SimResource(logical_id=logical_id, type=type_, physical_id=physical_id or logical_id,
                       status="CREATE_IN_PROGRESS", properties=props)


def nested(logical_id: str) -> SimResource:
    return SimResource(logical_id=logical_id, type=NESTED_STACK, physical_id=None,
                       status="CREATE_IN_PROGRESS")


def go_function(world: World, stack_role: str | None, logical_id: str, name: str, bucket_name: str,
                key: str, exec_role: str) -> SimResource:
    """Create a Go Lambda function from S3 (really, in moto) as CloudFormation would, with its
    CreateFunction20150331 record carrying codeSha256."""
    lam = world.client("lambda")
    code = {"S3Bucket": bucket_name, "S3Key": key}
    config = lam.create_function(FunctionName=name, Runtime="provided.al2023",
                                 Handler="bootstrap", Role=exec_role, Code=code,
                                 Architectures=["arm64"])
    fake = SimStack(stack_id="", name="", status="", created=world.clock(), template={},
                    role_arn=stack_role)
    world.record_cfn_call(
        fake, "CreateFunction20150331", "lambda.amazonaws.com",
        {"functionName": name, "runtime": "provided.al2023", "role": exec_role,
         "handler": "bootstrap", "code": {"s3Bucket": bucket_name, "s3Key": key},
         "architectures": ["arm64"]},
        response=world.lambda_response_elements(config))
    return res(logical_id, "AWS::Lambda::Function", name, Code=code, Runtime="provided.al2023",
               Handler="bootstrap", Role=exec_role, FunctionName=name)


def deploy_code(world: World, stack_role: str | None, name: str, bucket_name: str,
                key: str) -> dict[str, Any]:
    """The forward update of a function's code (UpdateFunctionCode from S3, recorded)."""
    config = world.client("lambda").update_function_code(FunctionName=name, S3Bucket=bucket_name,
                                                         S3Key=key)
    fake = SimStack(stack_id="", name="", status="", created=world.clock(), template={},
                    role_arn=stack_role)
    world.record_cfn_call(fake, "UpdateFunctionCode20150331v2", "lambda.amazonaws.com",
                          {"functionName": world.lambda_arn(name), "s3Bucket": bucket_name,
                           "s3Key": key, "publish": False, "dryRun": False},
                          response=world.lambda_response_elements(config))
    return {"S3Bucket": bucket_name, "S3Key": key}


def write_trail(world: World, trail_bucket: str) -> list[str]:
    """Deliver every CloudTrail record so far as trail log files in the trail bucket (docs/reference/aws-behaviour.md#cloudtrail-log-files-in-s3);
    later records are delivered by `world.deliver_trail()` (or POST /_sandbox/deliver-trail)."""
    world.trail_bucket = trail_bucket
    return world.deliver_trail()


def sha(data: bytes) -> str:
    return code_sha256(data)


def service_stack_with_throttled_rollback(world: World, root_name: str, role_arn: str, *,
                                          service: str, queue_id: str, queue_name: str,
                                          description: str) -> SimStack:
    """A root stack run by `role_arn`, with an SNS topic and a nested stack holding one queue,
    whose update fails on the queue; the topic's rollback is throttled once and then would
    succeed (a transient cause, docs/reference/aws-behaviour.md#why-a-rollback-fails). The
    stack is left UPDATE_ROLLBACK_FAILED; the caller then breaks the role. Returns the nested
    stack."""
    topic = res("EventsTopic", "AWS::SNS::Topic",
                f"arn:aws:sns:{world.region}:{world.account}:{service}-events",
                DisplayName=f"{service} events")
    root = world.cfn.add_stack(root_name, [topic, nested("Queues")], role_arn=role_arn,
                               description=description)
    queue = res(queue_id, "AWS::SQS::Queue", queue_name, VisibilityTimeout=30)
    queues = world.cfn.add_stack("", [queue], parent=root, logical_id="Queues")
    world.roots.append(root_name)
    world.clock.advance(3 * 86400)
    topic.rollback_failure = ('Resource handler returned message: "Rate exceeded (Service: '
                              'Sns, Status Code: 400)" (HandlerErrorCode: Throttling)')
    world.cfn.fail_update(root, changes={
        root_name: {"EventsTopic": {"DisplayName": f"{service} events v2"}},
        queues.name: {queue_id: {"VisibilityTimeout": 45}}},
        failure=(queues.name, queue_id, 'Resource handler returned message: "Invalid '
                 'value for the parameter VisibilityTimeout (Service: Sqs, Status Code: 400)" '
                 "(HandlerErrorCode: InvalidRequest)"))
    topic.rollback_failure = None  # the throttling is over: a retry now succeeds
    world.clock.advance(3600)
    return queues
