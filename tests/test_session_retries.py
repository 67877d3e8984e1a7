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
