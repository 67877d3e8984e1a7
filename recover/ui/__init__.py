"""Talking to the person at the terminal: questions (the only place questionary is used),
live progress and the diagnosis tree. No click here: flows use it as well as commands."""
