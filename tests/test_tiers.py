"""The fast tier (tests/tiers.py): tests that start servers or processes are left out of it by
what their code uses, and one that slips through fails instead of slowing the tier down."""

from __future__ import annotations

import pytest

INNER = '''
import importlib
import pytest

def run_cli(args):
    raise AssertionError("never run: deselected under --fast")

def helper_that_runs_the_cli():
    return run_cli(["--help"])

def hidden_server():
    # built by name, so reading the code cannot see that this starts a server
    server_cls = getattr(importlib.import_module("socketserver"), "TCP" + "Server")
    return server_cls(("127.0.0.1", 0), None)

@pytest.fixture(scope="module")
def served():
    server = hidden_server()
    yield server
    server.server_close()

def test_pure():
    assert 1 + 1 == 2

def test_runs_the_cli_through_a_helper():
    helper_that_runs_the_cli()

def test_hides_a_server():
    hidden_server().server_close()

def test_uses_a_module_fixture_that_hides_a_server(served):
    pass

def test_hides_a_process():
    getattr(importlib.import_module("subprocess"), "r" + "un")(["true"])

@pytest.mark.e2e
def test_marked_by_hand():
    hidden_server().server_close()
'''


@pytest.fixture
def inner(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(test_inner=INNER)
    pytester.makeini("[pytest]\nmarkers =\n    e2e: server\n    subprocess: process\n")
    return pytester


def test_fast_leaves_out_what_the_code_shows_and_fails_what_it_hides(
        inner: pytest.Pytester) -> None:
    result = inner.runpytest("-p", "tests.tiers", "--fast", "-rA")
    # deselected: the CLI run (through a helper) and the test marked by hand
    result.assert_outcomes(passed=1, failed=2, errors=1, deselected=2)
    result.stdout.fnmatch_lines_random([
        "*PASSED test_inner.py::test_pure*",
        "*ERROR at setup of test_uses_a_module_fixture_that_hides_a_server*",
    ])
    text = result.stdout.str()
    assert "starts a server under --fast" in text and "@pytest.mark.e2e" in text
    assert "starts a child process under --fast" in text and "@pytest.mark.subprocess" in text


def test_without_fast_everything_is_collected_and_marked(inner: pytest.Pytester) -> None:
    inner.makepyfile(conftest='''
import pytest

def pytest_collection_finish(session):
    for item in session.items:
        marks = sorted(m.name for m in item.iter_markers() if m.name in ("e2e", "subprocess"))
        print("MARKS", item.name, ",".join(marks) or "-")
''')
    # collected only: this test may itself run under --fast, where starting servers fails
    result = inner.runpytest("-p", "tests.tiers", "-s", "--collect-only")
    assert result.ret == 0
    result.stdout.fnmatch_lines_random([
        "MARKS test_pure -", "MARKS test_runs_the_cli_through_a_helper subprocess",
        "MARKS test_hides_a_server -", "MARKS test_marked_by_hand e2e",
        "*<Function test_hides_a_process>",
    ])
