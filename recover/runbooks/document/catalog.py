"""The runbook catalog: find the runbook files, load them all, check them as a set.

The files live in the repository's top-level `runbooks/` folder; the wheel ships the same
files as `recover/_runbooks/` (pyproject's force-include). `runbooks_dir()` finds whichever
exists, the installed copy first.
"""

from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass
from pathlib import Path

import recover
from recover.runbooks import canonical
from recover.runbooks.document.errors import Problem, RunbookFormatError, RunbookNotFoundError
from recover.runbooks.document.model import Runbook
from recover.runbooks.document.validate import load_text

SUFFIX = ".yaml"


def runbooks_dir(package_dir: Path | None = None) -> Path:
    """`recover/_runbooks` in an installed wheel, else `<checkout>/runbooks`."""
    pkg = package_dir or Path(recover.__file__).resolve().parent
    for candidate in (pkg / "_runbooks", pkg.parent / "runbooks"):
        if candidate.is_dir():
            return candidate
    raise RunbookFormatError([Problem(str(pkg), "", "no runbook folder found (looked for "
                                      "recover/_runbooks and runbooks/ beside the package)")])


@dataclass(frozen=True)
class Catalog:
    directory: Path
    runbooks: tuple[Runbook, ...]

    def ids(self) -> list[str]:
        return [r.id for r in self.runbooks]

    def get(self, runbook_id: str) -> Runbook:
        wanted = canonical(runbook_id)  # an earlier id (execution-role-missing) still works
        for r in self.runbooks:
            if r.id == wanted:
                return r
        close = difflib.get_close_matches(runbook_id.replace("_", "-"), self.ids(), n=1)
        by_mode = [r.id for r in self.matching(failure_mode=runbook_id.replace("-", "_"))]
        if close:
            hint = f"did you mean {close[0]}?"
        elif by_mode:
            hint = f"failure mode {runbook_id} is handled by: {', '.join(by_mode)}"
        else:
            hint = "list them with `recover runbooks list`"
        raise RunbookNotFoundError(f"unknown runbook '{runbook_id}' (known: {', '.join(self.ids())})",
                                   hint=hint)

    def matching(self, failure_mode: str | None = None, status: str | None = None) -> list[Runbook]:
        """Runbooks that handle `failure_mode` and/or start from stack `status`."""
        return [r for r in self.runbooks
                if (failure_mode is None or failure_mode in r.failure_modes)
                and (status is None or status in r.applies_to)]

    def with_handovers(self, runbook_ids: list[str]) -> list[Runbook]:
        """The named runbooks plus every runbook they may hand over to, transitively."""
        order: list[str] = []
        todo = list(runbook_ids)
        while todo:
            rid = todo.pop(0)
            if rid in order:
                continue
            order.append(rid)
            todo.extend(self.get(rid).handovers)
        return [self.get(rid) for rid in order]


def check_catalog(runbooks: list[Runbook]) -> list[Problem]:
    """Checks across files: id equals the file name, ids unique, handover targets exist."""
    problems: list[Problem] = []
    ids = {r.id for r in runbooks}
    seen: dict[str, str] = {}
    for r in runbooks:
        stem = Path(r.source).name.removesuffix(SUFFIX)
        if r.id != stem:
            problems.append(Problem(r.source, "id", f"'{r.id}' must equal the file name '{stem}'"))
        if r.id in seen:
            problems.append(Problem(r.source, "id", f"'{r.id}' is also the id of {seen[r.id]}"))
        seen.setdefault(r.id, r.source)
        for i, step in enumerate(r.steps):
            for status, target in step.handover:
                if target not in ids:
                    problems.append(Problem(r.source, f"steps[{i}].handover.{status}",
                                            f"no runbook '{target}' in the catalog"))
    return problems


def load_directory(directory: Path) -> Catalog:
    """Load and check every `*.yaml` in `directory` (sorted); raise on the first bad file."""
    files = sorted(directory.glob(f"*{SUFFIX}"))
    if not files:
        raise RunbookFormatError([Problem(str(directory), "", "no runbook files (*.yaml) here")])
    runbooks: list[Runbook] = []
    for path in files:
        source = _display(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise RunbookFormatError([Problem(source, "", f"cannot read: {exc}")]) from None
        runbooks.append(load_text(text, source))
    if problems := check_catalog(runbooks):
        raise RunbookFormatError(problems)
    return Catalog(directory=directory, runbooks=tuple(runbooks))


def _display(path: Path) -> str:
    """`runbooks/<file>` for messages, whatever the absolute location."""
    return f"{path.parent.name}/{path.name}"


@functools.cache
def _cached(directory: Path) -> Catalog:
    return load_directory(directory)


def load_catalog(directory: Path | None = None) -> Catalog:
    """The shipped catalog (cached per process), or the one in `directory`."""
    return _cached((directory or runbooks_dir()).resolve())


def source_path(runbook: Runbook, catalog: Catalog) -> Path:
    return catalog.directory / f"{runbook.id}{SUFFIX}"
