"""The stack statuses runbook steps may name (their home is recover.model.statuses): the loader
checks every name a runbook file gives, so a typo is caught before anything runs."""

from __future__ import annotations

from recover.model.statuses import IN_PROGRESS, STACK_STATUSES

__all__ = ["IN_PROGRESS", "STACK_STATUSES"]
