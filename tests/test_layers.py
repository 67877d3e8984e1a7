"""The layers hold (docs/explanation/design.md): read from the code itself, so a change that
breaks one fails here with the file and line.

- decide (and the pure parts beside it: detectors, model) imports no AWS SDK;
- gather (aws/) imports nothing from decide;
- only act/ sends a call that changes AWS (a client method named after a mutating operation
  of botocore's own models), with the CloudTrail query calls as the one named exception;
- the sandbox imports nothing of recover outside itself (it is a world built apart from the
  tool it tests), and its CloudFormation engine does not import the world that builds it (it
  sees the world through `recover/sandbox/cfn/ports.py`).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import botocore.session
import pytest

from tests.conftest import REPO

PACKAGE = REPO / "recover"
PURE = ("decide", "detectors", "model")
SDK = ("boto3", "botocore")
# Services recover calls, and the verbs that change something.
SERVICES = ("cloudformation", "s3", "iam", "lambda", "cloudtrail", "athena", "ecr", "ec2",
            "sts", "logs")
MUTATING = re.compile(r"^(Create|Delete|Put|Update|Continue|Attach|Detach|Tag|Untag|Copy|"
                      r"Execute|Set|Rollback|Cancel|Signal|Restore|Upload|Publish|Add|Remove|"
                      r"Modify|Start|Stop|Import|Enable|Disable|Complete|Abort|Invoke|Send|"
                      r"Reset|Register|Deregister)")
# Queries: they start and stop a query over CloudTrail's data and change no resource.
QUERIES = {"recover/cloudtrail/athena.py": {"start_query_execution", "stop_query_execution",
                                            "start_query", "cancel_query"}}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def mutating_methods() -> set[str]:
    session = botocore.session.get_session()
    out = {"upload_file", "upload_fileobj"}  # boto3's managed transfers
    for service in SERVICES:
        out |= {_snake(op) for op in session.get_service_model(service).operation_names
                if MUTATING.match(op)}
    return out


def modules(*parts: str) -> Iterator[Path]:
    for sub in parts:
        yield from sorted((PACKAGE / sub).rglob("*.py"))


def imports(path: Path) -> Iterator[tuple[int, str]]:
    """Every module the file imports, at any depth (function-level imports too)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, a.name) for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.lineno, node.module


def rel(path: Path) -> str:
    return str(path.relative_to(REPO))


def test_decide_imports_no_aws_sdk() -> None:
    bad = [f"{rel(p)}:{line} imports {name}" for p in modules(*PURE)
           for line, name in imports(p) if name.split(".")[0] in SDK]
    assert not bad, "the pure layers must not import boto3/botocore:\n" + "\n".join(bad)


def test_gather_imports_nothing_from_decide() -> None:
    bad = [f"{rel(p)}:{line} imports {name}" for p in modules("aws")
           for line, name in imports(p) if name.startswith(("recover.decide", "recover.runbooks"))]
    assert not bad, "\n".join(bad)


def test_only_act_sends_mutating_calls() -> None:
    mutating = mutating_methods()
    bad = []
    for p in PACKAGE.rglob("*.py"):
        if p.relative_to(PACKAGE).parts[0] in ("act", "sandbox"):
            continue  # the executor; the sandbox seeds its own fake AWS
        allowed = QUERIES.get(rel(p), set())
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr in mutating and node.func.attr not in allowed:
                bad.append(f"{rel(p)}:{node.lineno} calls .{node.func.attr}()")
    assert not bad, ("a change to AWS outside the executor (build a Call and run it with "
                     "recover.act.executor.Executor):\n" + "\n".join(bad))


def test_sandbox_imports_nothing_of_recover_outside_itself() -> None:
    bad = [f"{rel(p)}:{line} imports {name}" for p in modules("sandbox")
           for line, name in imports(p)
           if name.split(".")[0] == "recover" and not name.startswith("recover.sandbox")]
    assert not bad, "\n".join(bad)


def test_the_cfn_engine_does_not_import_its_world() -> None:
    bad = [f"{rel(p)}:{line} imports {name}" for p in modules("sandbox/cfn")
           for line, name in imports(p) if name == "recover.sandbox.world"]
    assert not bad, "use recover.sandbox.cfn.ports.WorldPort:\n" + "\n".join(bad)


@pytest.mark.parametrize("source", [
    "import boto3\n", "def f():\n    from botocore.exceptions import ClientError\n"])
def test_the_import_reader_sees_every_import(tmp_path: Path, source: str) -> None:
    path = tmp_path / "m.py"
    path.write_text(source)
    assert [name.split(".")[0] for _, name in imports(path)] in (["boto3"], ["botocore"])


def test_the_mutating_list_knows_the_calls_recover_makes() -> None:
    assert {"continue_update_rollback", "delete_stack", "put_object", "copy_object",
            "create_role", "delete_objects"} <= mutating_methods()
    assert not {"describe_stacks", "get_object", "list_object_versions"} & mutating_methods()
