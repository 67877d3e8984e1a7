"""Act: the only place recover changes anything in AWS (one executor, journaled, dry-runnable)."""
