"""Start-up stays cheap: the lazy command table matches the real commands, and `recover --help`,
`--version` and completion import no command module, boto3, rich or questionary."""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import subprocess
import sys

import click
import pytest

import recover.cli as cli_pkg
from recover.cli import ALIASES, COMMANDS, cli
from recover.runbooks import registry

HEAVY = ("boto3", "botocore", "rich", "questionary", "recover.aws.session", "recover.runbooks.rollback_stuck.flow")

PROBE = """
import json, sys
from recover.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
heavy = HEAVY_NAMES
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in heavy or m in heavy
                        or any(m.startswith(h + ".") for h in heavy))), file=sys.stderr)
""".replace("HEAVY_NAMES", repr(HEAVY))


def loaded_heavy(args: list[str], env: dict[str, str] | None = None) -> list[str]:
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=60)
    return json.loads(proc.stderr.strip().splitlines()[-1])


def test_table_lists_every_command_module_with_its_name_and_help() -> None:
    """recover.cli's modules and every runbook's command module, as the table says."""
    modules = [f"recover.cli.{info.name}" for info in pkgutil.iter_modules(cli_pkg.__path__)]
    modules += [spec.command_module() for spec in registry()]
    defined = {}
    for name in modules:
        command = getattr(importlib.import_module(name), "command", None)
        if isinstance(command, click.Command):
            defined[command.name] = (name, command.get_short_help_str(limit=10_000))
    assert defined == COMMANDS


def test_lazy_group_resolves_every_command_and_the_old_names() -> None:
    ctx = click.Context(cli)
    for name in COMMANDS:
        assert cli.get_command(ctx, name).name == name
    assert cli.get_command(ctx, "no-such-command") is None
    assert ALIASES == {"missing-artifact": "artifacts", "execution-role-missing": "bootstrap-role"}
    for alias, name in ALIASES.items():
        assert cli.get_command(ctx, alias).name == name


@pytest.mark.parametrize("args,env", [
    (["--help"], {}),
    (["--version"], {}),
    ([], {"_RECOVER_COMPLETE": "bash_complete", "COMP_WORDS": "recover ro", "COMP_CWORD": "1"}),
])
def test_help_version_and_completion_import_nothing_heavy(args: list[str],
                                                          env: dict[str, str]) -> None:
    assert loaded_heavy(args, env) == []


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_a_commands_help_imports_no_aws_sdk_and_no_prompts(name: str) -> None:
    """`recover CMD --help` loads the command's module only: its flow is imported when it runs."""
    heavy = [m for m in loaded_heavy([name, "--help"], {})
             if m.split(".")[0] in ("boto3", "botocore", "questionary")]
    assert heavy == []


def test_help_lists_every_command_and_completion_offers_them() -> None:
    out = subprocess.run([sys.executable, "-m", "recover", "--help"], capture_output=True,
                         text=True, timeout=60).stdout
    for name in COMMANDS:
        assert f"  {name} " in out
    env = {**os.environ, "_RECOVER_COMPLETE": "bash_complete", "COMP_WORDS": "recover ro",
           "COMP_CWORD": "1"}
    done = subprocess.run([sys.executable, "-m", "recover"], capture_output=True, text=True,
                          env=env, timeout=60).stdout.split()
    assert done == ["plain,rollback-stuck"]


def test_a_command_still_gets_its_run_context() -> None:
    proc = subprocess.run([sys.executable, "-m", "recover", "--output", "json", "explain",
                           "Role arn:aws:iam::1:role/x is invalid or cannot be assumed"],
                          capture_output=True, text=True, timeout=60)
    assert json.loads(proc.stdout)["command"] == "explain"
