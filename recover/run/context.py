"""The run context: everything a command needs from the outside world, injected.

Tests build their own RunContext (fake clock, sandbox endpoint, temp evidence dir, a
console writing to a buffer) instead of patching globals.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported where used: `recover CMD --help` must not pay for boto3 or rich
    from rich.console import Console

    from recover.aws.session import SessionFactory


def utcnow() -> datetime:
    return datetime.now(UTC)


def default_sessions(**kwargs: Any) -> SessionFactory:
    """The real boto3 session factory, imported on first use."""
    from recover.aws.session import SessionFactory

    return SessionFactory(**kwargs)


def state_dir() -> Path:
    """$XDG_STATE_HOME/recover, or ~/.local/state/recover."""
    base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return base / "recover"


@dataclass
class GlobalOptions:
    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    output: str = "human"
    non_interactive: bool = False
    yes: bool = False
    dry_run: bool = False
    evidence_dir: Path | None = None
    debug: bool = False
    argv: list[str] = field(default_factory=list)


@dataclass
class RunContext:
    options: GlobalOptions
    console: Console  # stderr: progress, prompts' surroundings, logs
    out: Console  # stdout in human mode
    stdout: IO[str]
    stdin: IO[str]
    is_tty: bool
    clock: Callable[[], datetime] = utcnow
    session_factory_cls: Callable[..., SessionFactory] = default_sessions
    _sessions: SessionFactory | None = None

    @classmethod
    def from_options(cls, options: GlobalOptions, **overrides: Any) -> RunContext:
        from recover.ui.console import make_console

        is_tty = sys.stdin.isatty() and sys.stderr.isatty()
        kw: dict[str, Any] = dict(
            options=options,
            console=make_console(stderr=True),
            out=make_console(stderr=False),
            stdout=sys.stdout,
            stdin=sys.stdin,
            is_tty=is_tty,
        )
        kw.update(overrides)
        return cls(**kw)

    @property
    def interactive(self) -> bool:
        """Prompts allowed: a terminal on both ends and no --non-interactive."""
        return self.is_tty and not self.options.non_interactive and self.options.output != "json"

    @property
    def aws(self) -> SessionFactory:
        if self._sessions is None:
            # botocore reads AWS_DEFAULT_REGION; the AWS CLI v2 and SDKs also honour AWS_REGION.
            region = self.options.region or os.environ.get("AWS_REGION") or None
            self._sessions = self.session_factory_cls(
                profile=self.options.profile, region=region,
                endpoint_url=self.options.endpoint_url)
        return self._sessions

    @property
    def evidence_root(self) -> Path:
        """--evidence-dir, else ./recover-evidence, else (the current folder is not writable:
        `recover diagnose` run from /) the user's state folder."""
        if self.options.evidence_dir:
            return self.options.evidence_dir
        here = Path("recover-evidence")
        if here.is_dir() and os.access(here, os.W_OK | os.X_OK) or os.access(".", os.W_OK | os.X_OK):
            return here
        return state_dir() / "evidence"

    def progress(self, message: str) -> None:
        """A line of progress for people; always stderr, so stdout stays clean for JSON."""
        self.console.print(message, highlight=False, soft_wrap=True)
