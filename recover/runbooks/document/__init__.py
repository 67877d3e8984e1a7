"""Runbooks: declarative documents (runbooks/*.yaml) that the engine loads, checks and renders.

- model: the frozen Runbook/Step data
- actions: the engine actions a step may name (metadata: mutating, IAM permissions)
- validate: shape and meaning checks with one-line problems
- catalog: find, load and cross-check the shipped runbooks
- render: Markdown pages; iam: the least-privilege policy
"""

from recover.runbooks.document.catalog import Catalog, load_catalog
from recover.runbooks.document.model import Confirm, Runbook, Step

__all__ = ["Catalog", "Confirm", "Runbook", "Step", "load_catalog"]
