"""An endpoint that answers with something other than AWS (a proxy, a captive portal, a wrong
port) gets a one-line error naming the call and what to check, not "unexpected error"."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import run_cli


class _NotAws(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def not_aws() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NotAws)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_an_answer_that_is_not_aws_is_named(not_aws: str) -> None:
    proc = run_cli(["--output", "json", "--endpoint-url", not_aws, "--region", "us-east-1",
                    "diagnose", "my-stack"],
                   env={"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
    envelope = json.loads(proc.stdout)
    err = envelope["errors"][0]
    assert err["code"] == "bad_endpoint_answer", err
    assert "cloudformation:DescribeStacks" in err["message"]
    assert "--endpoint-url" in err["hint"] and proc.returncode == envelope["exit_code"] != 0
    assert "Traceback" not in proc.stderr
