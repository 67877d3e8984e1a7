"""`recover readiness`: prove, read-only, that a stack could still roll back (every artifact its
current template references exists, and nothing is about to remove one)."""
