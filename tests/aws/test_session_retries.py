"""recover's retry defaults give way to the AWS SDKs' own retry settings."""

from __future__ import annotations

import pytest

from recover.aws.session import SessionFactory, retry_config


def test_defaults_unless_the_engineer_chose() -> None:
    assert retry_config({}, {}) == {"mode": "adaptive", "max_attempts": 8}
    assert retry_config({"AWS_RETRY_MODE": "standard"}, {}) == {"max_attempts": 8}
    assert retry_config({}, {"max_attempts": "3"}) == {"mode": "adaptive"}


@pytest.mark.parametrize(("env", "expected"), [
    ({}, {"mode": "adaptive", "total_max_attempts": 9}),  # 8 retries
    ({"AWS_RETRY_MODE": "standard", "AWS_MAX_ATTEMPTS": "3"},
     {"mode": "standard", "total_max_attempts": 3}),
])
def test_clients_get_the_resolved_settings(monkeypatch: pytest.MonkeyPatch, env: dict,
                                           expected: dict) -> None:
    monkeypatch.delenv("AWS_RETRY_MODE", raising=False)
    monkeypatch.delenv("AWS_MAX_ATTEMPTS", raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    client = SessionFactory(region="us-east-1").client("cloudformation")
    assert client.meta.config.retries == expected


def test_the_unretried_client_sends_one_request_and_others_honour_the_same_bound(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Config(retries={"max_attempts": 1}) counts retries, so it still sends 2 requests:
    the client the LookupEvents reader uses must send exactly one (every request passes its
    rate limiter), and its own loop gets the bound botocore uses for every other call."""
    monkeypatch.delenv("AWS_RETRY_MODE", raising=False)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "4")
    factory = SessionFactory(region="us-east-1")
    client = factory.unretried_client("cloudtrail")
    assert client.meta.config.retries["total_max_attempts"] == 1
    assert client is factory.unretried_client("cloudtrail")
    assert factory.client("cloudtrail").meta.config.retries["total_max_attempts"] == 4
    assert factory.attempts("cloudtrail") == 4


def test_a_network_error_names_the_call_and_its_attempts(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore's own retries give up on a reset with an exception that names no operation;
    the session tags it so the one-line error does."""
    from botocore.exceptions import ConnectionClosedError

    # botocore's backoff between the attempts (seconds in all) is not what is tested here
    monkeypatch.setattr("botocore.retries.standard.ExponentialBackoff.delay_amount",
                        lambda self, context: 0)

    from recover.run.errors import translate_aws_error

    factory = SessionFactory(region="us-east-1",
                             credentials={"aws_access_key_id": "a", "aws_secret_access_key": "b"})
    client = factory.client("cloudformation")
    attempts = []

    def reset(request, **_):  # type: ignore[no-untyped-def]
        attempts.append(1)
        raise ConnectionClosedError(endpoint_url=request.url)

    client.meta.events.register("before-send.cloudformation.DescribeStacks", reset)
    client.meta.events.register("needs-retry.cloudformation.DescribeStacks",
                                lambda **kw: 0 if len(attempts) < 3 else None, unique_id="x")
    with pytest.raises(ConnectionClosedError) as exc:
        client.describe_stacks()
    err = translate_aws_error(exc.value)
    assert err is not None and err.code == "no_answer"
    assert "cloudformation:DescribeStacks" in err.message and "\n" not in err.message
    assert err.details["attempts"] == len(attempts)
