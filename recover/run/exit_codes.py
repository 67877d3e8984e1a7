"""Process exit codes: the contract scripts and pipelines rely on (docs/reference/exit-codes.md)."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0  # healthy, or recovered
    ERROR = 1  # an error stopped the run (AWS error, bug, unreadable input)
    USAGE = 2  # bad command line or bad input value
    FAILURE_FOUND = 3  # the run finished but the stack is still failed / not ready
    NEEDS_DECISION = 4  # --non-interactive and a decision no flag settled
    ABORTED = 5  # the operator declined a confirmation
    PRECONDITION_CHANGED = 6  # the stack moved between plan and act/apply
    AWS_AUTH = 7  # no or expired credentials, or AccessDenied
    NOT_FOUND = 8  # the stack (or function, file...) does not exist where we looked
    INTERRUPTED = 130  # Ctrl-C / SIGINT
    TERMINATED = 143  # SIGTERM (e.g. a pipeline cancelling the job)


def status_for(code: ExitCode) -> str:
    """The envelope `status` that goes with an exit code."""
    if code == ExitCode.OK:
        return "ok"
    if code == ExitCode.NEEDS_DECISION:
        return "needs_decision"
    if code == ExitCode.FAILURE_FOUND:
        return "partial"
    return "error"
