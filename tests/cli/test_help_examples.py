"""Issue 15 item 9: every command's --help shows one to three real examples, and each example
names only commands, options and choices the CLI accepts."""

from __future__ import annotations

import importlib

import click
import pytest

from recover.cli import COMMANDS
from tests.test_docs_commands import check_command


def help_text(name: str) -> str:
    cmd = importlib.import_module(COMMANDS[name][0]).command
    return cmd.get_help(click.Context(cmd, info_name=name))


def example_lines(text: str) -> list[str]:
    after = text.split("Examples:", 1)[1] if "Examples:" in text else ""
    lines = []
    for line in after.splitlines()[1:]:
        if not line.strip():
            break
        lines.append(line.strip())
    return lines


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_shows_real_examples(name: str) -> None:
    lines = example_lines(help_text(name))
    assert 1 <= len(lines) <= 3, f"recover {name} --help shows {len(lines)} examples"
    assert any(name in line.split() for line in lines), lines
    for line in lines:
        assert line.startswith("recover ") and check_command(line) == [], line


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_description_reads_as_prose(name: str) -> None:
    """A multi-line docstring keeps no indentation inside the rewrapped description (the
    examples block appended at column 0 once kept the docstring's 4-space indent)."""
    description = help_text(name).split("Examples:", 1)[0]
    assert "    " not in " ".join(line.strip() for line in description.splitlines()), description
