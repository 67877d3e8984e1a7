"""Orphans: resources retained by a stack delete, captured before the stack goes, and the
ledger that keeps them across runs (`recover orphans list|show`)."""
