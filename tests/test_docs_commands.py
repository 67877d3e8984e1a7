"""The commands in the tutorial and the how-to guides are real: every `recover ...` line uses
commands, options and choice values the CLI has, and the tutorial runs as written against the
sandbox on 127.0.0.1, each command ending with the exit code the page says (`# exit N`, else
0)."""

from __future__ import annotations

import importlib
import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest

from recover.cli import COMMANDS, cli
from tests.conftest import run_cli

DOCS = Path(__file__).resolve().parent.parent / "docs"
TUTORIAL = DOCS / "tutorial" / "first-incident.md"
HOW_TO = sorted((DOCS / "how-to").glob("*.md"))
PAGES = [TUTORIAL, *HOW_TO]
_FENCE = re.compile(r"^```sh\n(.*?)^```", re.S | re.M)
_INLINE = re.compile(r"`(recover [^`]+)`")
_EXIT = re.compile(r"#\s*exit (\d+)\s*$")


def sh_lines(page: Path) -> Iterator[str]:
    """The lines of the page's ```sh blocks, in order."""
    for block in _FENCE.finditer(page.read_text(encoding="utf-8")):
        for line in block[1].splitlines():
            if line.strip():
                yield line.strip()


def recover_commands(page: Path) -> list[str]:
    """Every `recover ...` command line of the page: in sh blocks and in inline code."""
    out = [ln for ln in sh_lines(page) if ln.startswith("recover ")]
    text = _FENCE.sub("", page.read_text(encoding="utf-8"))
    out += [m[1] for m in _INLINE.finditer(text.replace("\n", " "))]
    return out


def _options(cmd: click.Command) -> dict[str, click.Option]:
    return {name: p for p in cmd.params if isinstance(p, click.Option)
            for name in (*p.opts, *p.secondary_opts)}


def _command(name: str) -> click.Command:
    return importlib.import_module(COMMANDS[name][0]).command


def check_command(line: str) -> list[str]:
    """What in `line` the CLI would not accept (empty: it names real things only)."""
    tokens = shlex.split(line, comments=True)
    assert tokens[0] == "recover", line
    global_opts = _options(cli)
    cmd: click.Command | None = None
    problems: list[str] = []
    i = 1
    while i < len(tokens):
        tok = tokens[i]
        i += 1
        if tok.startswith("-"):
            name, eq, value = tok.partition("=")
            opt = (_options(cmd) if cmd is not None else {}).get(name) or global_opts.get(name)
            if opt is None:
                problems.append(f"unknown option {name} in {line!r}")
                continue
            if opt.is_flag or opt.count:
                continue
            if not eq:
                value = tokens[i] if i < len(tokens) else ""
                i += 1
            if isinstance(opt.type, click.Choice) and value not in opt.type.choices:
                problems.append(f"{name} {value!r} is not one of {list(opt.type.choices)}")
        elif cmd is None:
            if tok not in COMMANDS:
                problems.append(f"unknown command {tok!r} in {line!r}")
                return problems
            cmd = _command(tok)
        elif isinstance(cmd, click.Group):
            sub = cmd.commands.get(tok)
            if sub is None:
                problems.append(f"unknown subcommand {tok!r} in {line!r}")
                return problems
            cmd = sub
    if cmd is None:
        problems.append(f"no command in {line!r}")
    return problems


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_command_on_the_page_is_real(page: Path) -> None:
    commands = recover_commands(page)
    assert commands, f"{page.name} shows no recover command"
    problems = [p for line in commands for p in check_command(line)]
    assert problems == []


def test_the_checker_catches_what_the_cli_would_refuse() -> None:
    assert check_command("recover --dry-run rollback-stuck s --skip a --plan-out p.json") == []
    assert check_command("recover bootstrap-role s --then delete --keep-role") == []
    assert check_command("recover orphans show x") == []
    assert check_command("recover rollback-stuck s --skip-all")  # no such option
    assert check_command("recover bootstrap-role s --then continue")  # not a choice
    assert check_command("recover restore s")  # no such command
    assert check_command("recover orphans purge")  # no such subcommand


def test_how_to_has_a_page_per_incident_type() -> None:
    names = {p.stem for p in HOW_TO}
    assert {"rollback-stuck", "missing-artifacts", "delete-failed", "bootstrap-role"} <= names
    tutorial = TUTORIAL.read_text(encoding="utf-8")
    assert all(f"../how-to/{n}.md" in tutorial for n in names - {"index"})


def test_tutorial_runs_as_written(sandbox: Any, tmp_path: Path) -> None:
    """Sandbox, diagnose, dry run, recovery, evidence: each command of the page in order, in
    a fresh folder, with the environment the page exports."""
    sb = None
    env: dict[str, str] = {}
    ran: list[str] = []
    for line in sh_lines(TUTORIAL):
        if line.startswith("recover sandbox serve"):
            # the first terminal: the fixture serves the same scenario on 127.0.0.1
            scenario = shlex.split(line)[shlex.split(line).index("--scenario") + 1]
            sb = sandbox(scenario)
            continue
        if line.startswith("export "):
            assert sb is not None, "the page exports before starting the sandbox"
            key, _, value = line.removeprefix("export ").partition("=")
            served = sb.env()
            assert key in served, f"serve does not print {key}"
            if key == "AWS_ENDPOINT_URL":
                assert value == "http://127.0.0.1:PORT"
                value = served[key]
            assert value == served[key], key
            env[key] = value
            continue
        assert line.startswith("recover "), f"a line the test cannot run: {line!r}"
        assert sb is not None and set(env) == set(sb.env()), "export every line serve prints"
        want = int(m[1]) if (m := _EXIT.search(line)) else 0
        args = shlex.split(line, comments=True)[1:]
        proc = run_cli(args, env={**env, "AWS_PROFILE": None, "COLUMNS": "100"}, cwd=tmp_path,
                       timeout=300)
        assert "Traceback" not in proc.stderr, proc.stderr
        assert proc.returncode == want, (line, proc.stdout[-2000:], proc.stderr[-2000:])
        ran.append(args[args.index(next(a for a in args if a in COMMANDS))])
    assert ran == ["diagnose", "rollback-stuck", "rollback-stuck", "diagnose", "evidence"]
    bundle = tmp_path / "degap-postmortem"
    assert (bundle / "timeline.md").is_file() and (bundle / "timeline.html").is_file()
    assert "UPDATE_ROLLBACK_COMPLETE" in (bundle / "timeline.md").read_text()
