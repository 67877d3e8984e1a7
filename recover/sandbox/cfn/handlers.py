"""Causal resource handlers: what CloudFormation does to the real (moto) resource when it rolls
back or deletes one, and the failure reason it reports when that does not work.

Each handler returns None on success or the resource's status reason on failure. Resource types
the sandbox does not simulate succeed, unless the scenario set a `rollback_failure` /
`delete_failure` knob on the resource.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from recover.sandbox import moto_access as aws
from recover.sandbox.cfn import custom
from recover.sandbox.cfn.model import SimResource, SimStack

if TYPE_CHECKING:
    from recover.sandbox.cfn.ports import WorldPort as World

CUSTOM_RESOURCE_NO_RESPONSE = (
    "CloudFormation did not receive a response from your Custom Resource. Please check your logs "
    "for requestId [{request_id}]. If you are using the Python cfn-response module, you may need "
    "to update your Lambda function code so that CloudFormation can attach the updated version.")


def handler_message(world: World, service: str, status: int, message: str, error_code: str) -> str:
    """The Cloud Control (registry handler) reason format, docs/reference/aws-behaviour.md#why-a-delete-fails."""
    return (f'Resource handler returned message: "{message} (Service: {service}, Status Code: '
            f'{status}, Request ID: {world.new_uuid()})" (RequestToken: {world.new_uuid()}, '
            f"HandlerErrorCode: {error_code})")


def role_unusable(stack: SimStack) -> str | None:
    """CloudFormation acts on resources as the stack's service role: when that role is gone (or
    no longer trusts CloudFormation) while an operation runs, every resource it touches fails.
    The resource-level wording is not confirmed by a public source; the API's own message for a
    missing role (docs/reference/aws-behaviour.md#service-roles-rolearn) is used."""
    arn = stack.role_arn
    if not arn:
        return None
    name = arn.rsplit("/", 1)[-1]
    if aws.role_arn(name) != arn or not aws.role_trusts_cloudformation(name):
        return f"Role {arn} is invalid or cannot be assumed"
    return None


# --- rollback ---------------------------------------------------------------------------------

def rollback(world: World, stack: SimStack, res: SimResource) -> str | None:
    blocked = role_unusable(stack)
    if blocked:
        return blocked
    if res.rollback_failure:
        return res.rollback_failure
    if custom.hangs(res):  # the rollback sends an Update back to the previous properties
        return world.custom.request(stack, res, "Update", old_properties=res.properties,
                                    new_properties=res.previous)
    if res.type == "AWS::Lambda::Function" and res.previous:
        return _rollback_lambda(world, stack, res)
    return None


def _rollback_lambda(world: World, stack: SimStack, res: SimResource) -> str | None:
    """Roll the function's code back to the PREVIOUS S3 object: Lambda's GetObject on the key
    (and version) fails with NoSuchKey while the object is gone or hidden by a delete marker."""
    prev: dict[str, Any] = (res.previous or {}).get("Code", {})
    bucket, key, version = prev.get("S3Bucket"), prev.get("S3Key"), prev.get("S3ObjectVersion")
    name = res.physical_id or ""
    params: dict[str, Any] = {"functionName": world.lambda_arn(name), "s3Bucket": bucket,
                              "s3Key": key, "publish": False, "dryRun": False}
    if version:
        # camelCase key inferred, not captured (docs/reference/aws-behaviour.md#unconfirmed-cloudtrail-details)
        params["s3ObjectVersion"] = version
    if aws.lambda_function(name, world.region) is None:
        message = f"Function not found: {world.lambda_arn(name)}"
        world.record_cfn_call(stack, "UpdateFunctionCode20150331v2", "lambda.amazonaws.com", params,
                              error_code="ResourceNotFoundException", error_message=message)
        return handler_message(world, "Lambda", 404, message, "NotFound")
    try:
        data = aws.s3_get(str(bucket), str(key), version)
    except aws.S3Missing as missing:
        if missing.code == "NoSuchBucket":
            message = ("Error occurred while GetObject. S3 Error Code: NoSuchBucket. S3 Error "
                       "Message: The specified bucket does not exist")
        else:
            message = ("Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error "
                       "Message: The specified key does not exist.")
        # errorCode InvalidParameterValueException is confirmed for this message (docs/reference/aws-behaviour.md#cloudtrail-records)
        world.record_cfn_call(stack, "UpdateFunctionCode20150331v2", "lambda.amazonaws.com", params,
                              error_code="InvalidParameterValueException", error_message=message)
        return handler_message(world, "Lambda", 400, message, "InvalidRequest")
    config = aws.lambda_update_code(name, world.region, data, bucket=str(bucket), key=str(key),
                                    version=version)
    world.code_storage.deployed(name, prev)  # COPY or REFERENCE, as the previous template said
    world.record_cfn_call(stack, "UpdateFunctionCode20150331v2", "lambda.amazonaws.com", params,
                          response=world.lambda_response_elements(config))
    return None


# --- delete -----------------------------------------------------------------------------------

def delete(world: World, stack: SimStack, res: SimResource) -> str | None:
    blocked = role_unusable(stack)
    if blocked:
        return blocked
    if res.delete_failure:
        return res.delete_failure
    if custom.hangs(res):
        return world.custom.request(stack, res, "Delete")
    if res.type.startswith("Custom::") or res.type == "AWS::CloudFormation::CustomResource":
        if res.properties.get("SandboxNeverResponds"):
            return CUSTOM_RESOURCE_NO_RESPONSE.format(request_id=world.new_uuid())
        return None
    if res.type == "AWS::S3::Bucket" and res.physical_id:
        return _delete_bucket(world, res.physical_id)
    if res.type == "AWS::EC2::SecurityGroup" and res.physical_id:
        return _delete_security_group(world, res.physical_id)
    if (res.type == "AWS::Lambda::Function" and res.physical_id
            and aws.lambda_function(res.physical_id, world.region) is not None):
        aws.lambda_delete(res.physical_id, world.region)
        world.code_storage.forget(res.physical_id)
    return None


def _delete_bucket(world: World, bucket: str) -> str | None:
    if not aws.bucket_exists(bucket):
        return None  # already gone: CloudFormation treats that as deleted
    if not aws.bucket_is_empty(bucket):
        # older (non-registry) handler format, verbatim shape from docs/reference/aws-behaviour.md#why-a-delete-fails
        return ("The bucket you tried to delete is not empty (Service: Amazon S3; Status Code: "
                f"409; Error Code: BucketNotEmpty; Request ID: {world.new_request_id()}; S3 "
                f"Extended Request ID: {world.new_request_id()}; Proxy: null)")
    aws.delete_bucket(bucket)
    return None


def _delete_security_group(world: World, group_id: str) -> str | None:
    if not aws.security_group_exists(group_id, world.region):
        return None
    if aws.security_group_in_use(group_id, world.region):
        return (f"resource {group_id} has a dependent object (Service: AmazonEC2; Status Code: "
                f"400; Error Code: DependencyViolation; Request ID: {world.new_uuid()})")
    aws.delete_security_group(group_id, world.region)
    return None
