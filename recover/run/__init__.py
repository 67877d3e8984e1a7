"""Run infrastructure: what every command run shares, outside AWS and the runbooks: the run
context, expected errors and their exit codes, results, Ctrl-C handling, the evidence folder,
resuming an unfinished run, and private files."""
