"""Decide: pure functions of gathered data. Nothing here imports boto3 or does I/O."""
