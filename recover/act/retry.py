"""Retry one call on one known transient error, with bounded exponential backoff.

Used for IAM's eventual consistency: a role created seconds ago may not be assumable by
CloudFormation yet, which answers with the same `Role ... is invalid or cannot be assumed`
ValidationError as for a missing role (docs/reference/aws-behaviour.md#iam-eventual-consistency; the Terraform AWS provider retries
CreateStack on exactly that message). Every attempt goes through the executor, so each one is
journaled; anything else than the expected error is raised at once.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from recover.act.calls import Call
from recover.act.executor import Executor
from recover.run.errors import RecoverError
from recover.run.exit_codes import ExitCode

ROLE_NOT_ASSUMABLE = re.compile(r"is invalid or cannot be assumed")


@dataclass(frozen=True)
class Backoff:
    first: float = 2.0  # seconds before the first retry
    factor: float = 2.0
    cap: float = 20.0  # longest single wait
    max_attempts: int = 8  # attempts in all, the first included

    def delays(self) -> list[float]:
        out, d = [], self.first
        for _ in range(max(0, self.max_attempts - 1)):
            out.append(min(d, self.cap))
            d *= self.factor
        return out


def matches(exc: BaseException, pattern: re.Pattern[str]) -> bool:
    if not isinstance(exc, ClientError):
        return False
    err = exc.response.get("Error", {})
    return err.get("Code") == "ValidationError" and bool(pattern.search(str(err.get("Message"))))


def run_retrying(executor: Executor, call: Call, *, backoff: Backoff,
                 pattern: re.Pattern[str] = ROLE_NOT_ASSUMABLE,
                 sleep: Callable[[float], None] = time.sleep,
                 on_retry: Callable[[int, float, str], None] | None = None) -> dict[str, Any]:
    """Run `call`; on an error matching `pattern`, wait and run it again, at most
    `backoff.max_attempts` times in all. Raises RecoverError(code="role_not_usable") when the
    error outlasts the attempts."""
    delays = backoff.delays()
    attempt = 0
    while True:
        attempt += 1
        try:
            return executor.run(call)
        except ClientError as exc:
            if not matches(exc, pattern):
                raise
            if attempt > len(delays):
                message = exc.response.get("Error", {}).get("Message", "")
                raise RecoverError(
                    f"{call.operation} still failed after {attempt} attempts over "
                    f"{sum(delays):.0f}s: {message}", code="role_not_usable",
                    exit_code=ExitCode.FAILURE_FOUND,
                    hint="IAM can take longer to propagate: run the same command again in a "
                         "minute (the role is kept)") from exc
            delay = delays[attempt - 1]
            if on_retry:
                on_retry(attempt, delay, str(exc.response.get("Error", {}).get("Message", "")))
            sleep(delay)
