"""Artifacts the deployment needs (Lambda code, layers, images, nested templates). NoSuchKey or
NoSuchBucket here is the artifact, not the resource being changed; and where S3 answers
AccessDenied it says both readings (a missing object, or a policy refusing the read)."""

from __future__ import annotations

import re
from typing import Any

from recover.explain.parse import Message
from recover.explain.rules.base import Rule, family, when
from recover.explain.taxonomy import FailureMode


def _s3_code(m: re.Match[str] | None, msg: Message) -> dict[str, Any]:
    code = re.search(r"S3 Error Code:\s*(\w+)", msg.text)
    out: dict[str, Any] = {"s3_error_code": code.group(1)} if code else {}
    if re.search(r"layer", msg.text + msg.raw + str(msg.fields.get("resource_type", "")), re.I):
        out["artifact"] = "layer version's content"
    return out


def _image(m: re.Match[str] | None, msg: Message) -> dict[str, Any]:
    return {"image": m.group(1)} if m else {}


E_CODE = (
    "Lambda could not fetch the {artifact} from S3 (S3 said {s3_error_code}): "
    "the object{at} was deleted, expired by a lifecycle rule, or never uploaded. During a "
    "rollback CloudFormation re-deploys the previous code, so a missing old artifact leaves the "
    "stack in UPDATE_ROLLBACK_FAILED. Put the exact bytes back at the exact key (a previous S3 "
    "version, the code still deployed in the function, a cdk.out asset), then continue the "
    "rollback: runbook artifacts.")


E_WRONG_REGION = (
    "Lambda could not fetch the code because the S3 bucket is in another Region: the bucket "
    "given for a function's code must be in the function's Region (docs/reference/aws-behaviour.md#lambda-code-locations). Copy "
    "the artifact to a bucket in the stack's Region (or deploy the stack in the bucket's) and "
    "retry. Nothing is missing.")


E_CODE_DENIED = (
    "Lambda was denied reading the deployment package{at} from S3. S3 answers AccessDenied "
    "instead of NoSuchKey when the object is gone and the reader lacks s3:ListBucket, so this is "
    "usually a deleted artifact, and otherwise a bucket policy or KMS key refusing access "
    "(both readings: docs/reference/aws-behaviour.md#misleading-error-codes). Check "
    "that the object exists; if it does not, restore it (runbook artifacts), if it does, "
    "fix the bucket or key policy and retry.")


E_TEMPLATE_URL = (
    "CloudFormation could not read a template from S3{at} (a nested stack's TemplateURL or the "
    "template of the operation). S3 answers Access Denied instead of NoSuchKey when the object "
    "is missing, so the template object was most likely deleted or never uploaded. Upload it "
    "again at the same URL (or fix the bucket policy if it does exist) and retry.")


E_IMAGE = (
    "The container image the function needs ({image}) is gone from its repository (deleted by "
    "hand or by a lifecycle policy). Push the same image and tag back, or deploy with an image "
    "that exists, then retry.")


E_CODEURI = (
    "The local code the deployment packages (CodeUri) does not exist, so nothing could be "
    "uploaded. Build the function first (sam build / the project's build), or point CodeUri at "
    "the right folder, then deploy again.")


E_CODE_INVALID = (
    "Lambda rejected the deployment package itself (corrupt, not a zip, or too large), so the "
    "artifact exists but is unusable. Rebuild and upload a valid package, then deploy again.")


RULES: tuple[Rule, ...] = family(
    "artifacts",
    Rule("artifact-bucket-wrong-region", FailureMode.REFUSED_VALUE, 45, E_WRONG_REGION,
         when(r"S3 Error Code:\s*(?:PermanentRedirect|AuthorizationHeaderMalformed|IllegalLocationConstraint)"),
         examples=('Error occurred while GetObject. S3 Error Code: PermanentRedirect. S3 Error Message: The bucket is in this region: us-east-1.',)),
    Rule("artifact-s3-object-missing", FailureMode.MISSING_ARTIFACT, 60, E_CODE,
         when(r"S3 Error Code:\s*NoSuch(?:Key|Bucket)",
              r"Error occurred while (?:GetObject|getting the object from S3)",
              r"(?:\bcode (?:object|package|artifact)|artifact|asset|layer|\.zip\b).{0,60}"
              r"\b(?:NoSuchKey|NoSuchBucket)\b",
              extract=_s3_code), defaults={"s3_error_code": "NoSuchKey",
                                          "artifact": "function's deployment package"},
         examples=('Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: The specified key does not exist.',)),
    Rule("artifact-s3-access-denied", FailureMode.MISSING_ARTIFACT, 55, E_CODE_DENIED,
         when(r"S3 Error Code:\s*AccessDenied", r"Your access has been denied by S3"),
         confidence="medium",
         examples=('Your access has been denied by S3, please make sure your request credentials have permission to GetObject for bucket/key.zip. S3 Error Code: AccessDenied. S3 Error Message: Access Denied',)),
    Rule("template-url-unreadable", FailureMode.MISSING_ARTIFACT, 55, E_TEMPLATE_URL,
         when(r"\bS3 error:\s*(?:Access Denied|The specified (?:key|bucket) does not exist)",
              r"TemplateURL.{0,80}(?:valid S3 object|does not exist|Access Denied|not found)",
              r"(?:Error occurred while|Failed to|Unable to) (?:download|retriev|fetch|get)\w* "
              r"(?:the )?template"), confidence="medium",
         examples=('S3 error: Access Denied For more information check http://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html',)),
    Rule("artifact-image-missing", FailureMode.MISSING_ARTIFACT, 55, E_IMAGE,
         when(r"Source image (\S+) (?:does not exist|is not valid|not found)", extract=_image),
         confidence="medium", defaults={"image": "see the message"},
         examples=('Source image 123456789012.dkr.ecr.us-east-1.amazonaws.com/app:v1 does not exist. Provide a valid source image.',)),
    Rule("artifact-codeuri-missing", FailureMode.MISSING_ARTIFACT, 50, E_CODEURI,
         when(r"CodeUri.{0,120}(?:does not exist|not found|NoSuchKey)"), confidence="medium",
         examples=('Parameter CodeUri of resource Fn refers to a file or folder that does not exist /src/fn',)),
    Rule("lambda-package-invalid", FailureMode.REFUSED_VALUE, 45, E_CODE_INVALID,
         when(r"Could not unzip uploaded file", r"Unzipped size must be smaller",
              r"is not a valid (?:zip|archive)", r"Uploaded file must be a non-empty zip"),
         examples=('Could not unzip uploaded file. Please check your file, then try to upload again.',)),
)
