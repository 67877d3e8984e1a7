"""A refused HeadObject has no body: recover asks again with a ranged GET to learn why, so an
expired session on a HEAD is reported as expired credentials (not an unexpected error)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from recover.artifacts.sources import object_exists
from recover.run.errors import translate_aws_error
from recover.sandbox import start_sandbox


@pytest.fixture
def sb() -> Iterator[Any]:
    sandbox = start_sandbox(None, step_delay=0)
    s3 = sandbox.client("s3")
    s3.create_bucket(Bucket="code")
    s3.put_object(Bucket="code", Key="app.zip", Body=b"zip")
    yield sandbox
    sandbox.stop()


def test_expired_credentials_on_head_are_named(sb: Any) -> None:
    s3 = sb.client("s3")
    sb.world.expire_credentials(after_calls=0)
    with pytest.raises(ClientError) as info:
        object_exists(s3, "code", "app.zip")
    assert info.value.response["Error"]["Code"] == "ExpiredToken"
    assert translate_aws_error(info.value).code == "expired_token"


def test_a_missing_key_is_still_just_missing(sb: Any) -> None:
    s3 = sb.client("s3")
    assert object_exists(s3, "code", "app.zip") is True
    assert object_exists(s3, "code", "gone.zip") is False
