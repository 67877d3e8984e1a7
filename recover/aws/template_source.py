"""Read a template the engineer names (gather): a local file, or an S3 object
`s3://BUCKET/KEY[?versionId=V]` (a previous version of a template object is where the last
stable template often still is)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from botocore.exceptions import ClientError

from recover.act.needs import needs
from recover.run.errors import InputError, NotFoundError

# a template body CloudFormation accepts is at most 1 MB even through TemplateURL
MAX_READ = 1_048_576


@dataclass(frozen=True)
class TemplateSource:
    spec: str  # as given
    body: str
    version_id: str | None = None  # the S3 version read (None for a file or an unversioned key)


def parse_s3(spec: str) -> tuple[str, str, str | None]:
    """s3://BUCKET/KEY[?versionId=V] → (bucket, key, version); InputError when malformed."""
    parts = urlsplit(spec)
    key = parts.path.lstrip("/")
    query = parse_qs(parts.query)
    unknown = set(query) - {"versionId"}
    if not parts.netloc or not key or unknown:
        raise InputError(f"--template {spec}: expected s3://BUCKET/KEY or "
                         "s3://BUCKET/KEY?versionId=V")
    return parts.netloc, key, (query.get("versionId") or [None])[0]


@needs("s3:GetObject", "s3:GetObjectVersion")
def read_template_source(aws: Any, spec: str) -> TemplateSource:
    """The text of the template at `spec` (a path or an s3:// URL)."""
    if spec.startswith("s3://"):
        bucket, key, version = parse_s3(spec)
        params: dict[str, Any] = {"Bucket": bucket, "Key": key}
        if version:
            params["VersionId"] = version
        try:
            answer = aws.client("s3").get_object(**params)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in ("NoSuchKey", "NoSuchVersion", "NoSuchBucket", "404", "InvalidArgument"):
                raise NotFoundError(f"--template {spec}: {code} (no such object or version)"
                                    ) from exc
            raise
        data = answer["Body"].read(MAX_READ + 1)
        return TemplateSource(spec, _text(spec, data), answer.get("VersionId"))
    path = Path(spec).expanduser()
    try:
        data = path.read_bytes()[:MAX_READ + 1]
    except OSError as exc:
        raise InputError(f"--template {spec}: cannot read it ({exc.strerror or exc})") from exc
    return TemplateSource(spec, _text(spec, data))


def _text(spec: str, data: bytes) -> str:
    if len(data) > MAX_READ:
        raise InputError(f"--template {spec}: larger than CloudFormation's 1 MB template limit")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"--template {spec}: not UTF-8 text") from exc
