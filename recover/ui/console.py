"""The consoles a run writes to (stderr for people and progress, stdout for results).

Not a terminal (a pipe, a file, a CI log): layouts (panels, tables, trees) wrap at COLUMNS, or at
80 when it is unset, so nothing is cut; a line of plain text is written whole, never broken, so
an error or a log line stays one line that grep finds. Prose meant to be read as a paragraph
passes soft_wrap=False to be wrapped like a layout.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console


class LineConsole(Console):
    """A rich Console that writes plain-text prints as whole lines when not on a terminal."""

    def print(self, *objects: Any, soft_wrap: bool | None = None, **kwargs: Any) -> None:
        if soft_wrap is None and not self.is_terminal and all(isinstance(o, str) for o in objects):
            soft_wrap = True
        super().print(*objects, soft_wrap=soft_wrap, **kwargs)


def make_console(*, stderr: bool) -> Console:
    return LineConsole(stderr=stderr, highlight=False)
