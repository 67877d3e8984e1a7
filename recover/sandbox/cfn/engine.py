"""The simulated CloudFormation, in three parts: its state and operation runner
(`runner.py`), the seeding API scenarios build failure states with (`seeding.py`), and the API
surface the middleware calls (`api.py`)."""

from __future__ import annotations

from recover.sandbox.cfn.api import CfnApi
from recover.sandbox.cfn.seeding import Seeding


class CfnEngine(Seeding, CfnApi):
    """One engine per world, at `world.cfn`."""
