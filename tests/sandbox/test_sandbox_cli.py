"""`recover sandbox serve|scenarios` as real subprocesses."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import boto3
import pytest

from tests.conftest import REPO, run_cli

pytestmark = pytest.mark.e2e  # every test here serves a sandbox on 127.0.0.1

pytest.importorskip("moto")


def test_scenarios_list_json() -> None:
    proc = run_cli(["--output", "json", "sandbox", "scenarios"])
    assert proc.returncode == 0, proc.stderr
    names = [s["name"] for s in json.loads(proc.stdout)["data"]["scenarios"]]
    assert names == ["cdk-bootstrap-deleted", "custom-resource-delete", "custom-resource-rollback",
                     "custom-resource-silent", "degap", "degap-before", "delete-failed",
                     "ecr-expired", "express-wedge", "healthy", "hook-failed", "nested-skip", "reference-code",
                     "role-deleted-in-rollback",
                     "service-role-deleted", "service-role-untrusted", "skip-pending",
                     "skipped-drift", "stale-latest"]


def test_unknown_scenario_is_a_usage_error() -> None:
    proc = run_cli(["sandbox", "serve", "--scenario", "nope"])
    assert proc.returncode == 2
    both = proc.stdout + proc.stderr  # human errors go where the CLI core renders them
    assert "unknown scenario 'nope'" in both and "Traceback" not in both


def test_missing_moto_prints_install_hint() -> None:
    code = ("import sys; sys.modules['moto'] = None\n"
            "from recover.cli import main; main(['sandbox', 'serve'])")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 1
    both = proc.stdout + proc.stderr
    assert "pip install 'recover[sandbox]'" in both and "Traceback" not in both


def test_package_import_does_not_import_moto() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-c", "import sys, recover.sandbox, recover.cli; "
                           "print('moto' in sys.modules)"], env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.stdout.strip() == "False", proc.stderr


def test_serve_prints_json_line_serves_and_stops_on_sigterm() -> None:
    """The server runs until a signal, so this test uses Popen (run_cli waits for the end)."""
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen([sys.executable, "-m", "recover", "--output", "json", "sandbox",
                             "serve", "--scenario", "nested-skip", "--step-delay", "0"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        envelope = json.loads(line)
        data = envelope["data"]
        assert envelope["status"] == "ok" and data["stacks"] == ["orders-platform"]
        assert data["endpoint"].startswith("http://127.0.0.1:")
        cfn = boto3.client("cloudformation", endpoint_url=data["endpoint"],
                           region_name=data["region"])
        stack = cfn.describe_stacks(StackName="orders-platform")["Stacks"][0]
        assert stack["StackStatus"] == "UPDATE_ROLLBACK_FAILED"
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert out == "" and "Traceback" not in err
