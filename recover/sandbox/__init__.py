"""The sandbox: a broken AWS account on 127.0.0.1 (moto plus CloudFormation failure states).

moto is an optional extra (`pip install 'recover[sandbox]'`), so this module imports nothing
from moto at import time: `start_sandbox` imports the server lazily, and `moto_available()` lets
`recover demo` print the install hint instead of a traceback.

moto's backends are process-global, so only ONE sandbox may run per process at a time; starting
one resets every moto backend.
"""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from recover.sandbox.server import Sandbox

INSTALL_HINT = "the sandbox needs moto: pip install 'recover[sandbox]'"


def moto_available() -> bool:
    try:
        return importlib.util.find_spec("moto") is not None
    except (ImportError, ValueError):  # a broken or blocked install counts as missing
        return False


def start_sandbox(scenario: str | None = None, port: int = 0, step_delay: float = 0.2,
                  **kwargs: Any) -> Sandbox:
    """Start a served sandbox on 127.0.0.1 (port 0 = a free port), seeded with `scenario`."""
    if not moto_available():
        raise RuntimeError(INSTALL_HINT)
    from recover.sandbox.server import start

    return start(scenario=scenario, port=port, step_delay=step_delay, **kwargs)


def scenario_names() -> list[str]:
    from recover.sandbox.scenarios import SCENARIOS

    return sorted(SCENARIOS)
