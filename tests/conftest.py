"""Shared fixtures. Tests that need ../shared/data skip with a clear reason when it is absent."""

from __future__ import annotations

import io
import json
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from rich.console import Console

from recover.aws.session import SessionFactory
from recover.run.context import GlobalOptions, RunContext

pytest_plugins = ["pytester", "tests.sandbox_fixtures", "tests.tiers"]

# Tests run on parallel workers of a shared machine: hypothesis's per-example deadline (200 ms)
# would time the machine, not the code (tests do not time; benchmarks/ measure).
settings.register_profile("recover", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("recover")

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test ever reaches real AWS: fake credentials, a fixed region, no config files."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # never probe 169.254.169.254
    # Never touch the user's real orphan ledger (tests that need one set their own).
    monkeypatch.setenv("RECOVER_ORPHAN_LEDGER", str(tmp_path / "orphans-ledger.json"))
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not beside the repository")
    return SHARED_DATA


class FakeClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 23, 3, 0, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


class OfflineSessionFactory(SessionFactory):
    """Every client is wrapped in an active botocore Stubber: a call nobody queued a reply for
    fails inside the stubber, so a test can never reach the network by accident.
    Queue replies with `factory.stub(service).add_response(...)`."""

    def client(self, service: str, region: str | None = None):  # type: ignore[no-untyped-def]
        from botocore.stub import Stubber

        c = super().client(service, region)
        if not hasattr(c, "_recover_stub"):
            c._recover_stub = Stubber(c)
            c._recover_stub.activate()
        return c

    def unretried_client(self, service: str, region: str | None = None):  # type: ignore[no-untyped-def]
        from botocore.stub import Stubber

        c = super().unretried_client(service, region)
        if not hasattr(c, "_recover_stub"):
            c._recover_stub = Stubber(c)
            c._recover_stub.activate()
        return c

    def stub(self, service: str):  # type: ignore[no-untyped-def]
        return self.client(service)._recover_stub


@pytest.fixture
def make_context(tmp_path: Path) -> Callable[..., RunContext]:
    """A RunContext writing to buffers, with a temp evidence dir (no TTY by default) and an
    offline session factory (pass session_factory_cls to change it)."""

    def make(session_factory_cls: type[SessionFactory] = OfflineSessionFactory,
             **options: object) -> RunContext:
        opts = GlobalOptions(evidence_dir=tmp_path / "evidence", **options)  # type: ignore[arg-type]
        out_buf, err_buf = io.StringIO(), io.StringIO()
        return RunContext(options=opts, console=Console(file=err_buf, width=120),
                          out=Console(file=out_buf, width=120), stdout=out_buf,
                          stdin=io.StringIO(), is_tty=False, clock=FakeClock(),
                          session_factory_cls=session_factory_cls)

    return make


def run_cli(args: list[str], *, input: str | None = None, env: dict[str, str | None] | None = None,
            cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run `python -m recover ARGS` as a real subprocess, importing this checkout's code."""
    import os
    import subprocess
    import sys

    full_env = dict(os.environ)
    full_env["PYTHONPATH"] = str(REPO) + os.pathsep + full_env.get("PYTHONPATH", "")
    for key, value in (env or {}).items():  # None removes the variable
        if value is None:
            full_env.pop(key, None)
        else:
            full_env[key] = value
    return subprocess.run([sys.executable, "-m", "recover", *args], input=input, env=full_env,
                          cwd=cwd, capture_output=True, text=True, timeout=timeout)


def recover(sb: Any, tmp_path: Path, *args: str, output: str = "json",
            env: dict[str, str] | None = None, timeout: float = 300) -> tuple[int, Any, str]:
    """`recover ARGS` as a real subprocess against the served sandbox `sb`: evidence in
    tmp_path/ev, the orphan ledger at tmp_path/ledger/orphans.json. Returns (exit code, the JSON
    envelope (stdout's text when `output` is not json), stderr). A traceback fails the test."""
    full_env = dict(sb.env(), RECOVER_ORPHAN_LEDGER=str(tmp_path / "ledger" / "orphans.json"),
                    **(env or {}))
    proc = run_cli(["--endpoint-url", sb.endpoint, "--region", sb.region, "--output", output,
                    "--evidence-dir", str(tmp_path / "ev"), *args], env=full_env, timeout=timeout)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, json.loads(proc.stdout) if output == "json" else proc.stdout, proc.stderr
