"""Runbook flows: the orchestration of gather → decide → confirm → act → follow for each
runbook. They call the snapshot layer, pure planners, prompts and the one executor."""
