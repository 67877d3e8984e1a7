#!/usr/bin/env python3
"""Write the generated reference pages from the runbook files.

    python scripts/gen_docs.py          # (re)write docs/reference/runbooks/*.md, iam-policy.md
    python scripts/gen_docs.py --check  # exit 1 and name the stale files, write nothing

Generated: docs/reference/runbooks/<id>.md for each runbooks/<id>.yaml, the index
docs/reference/runbooks/index.md, and docs/reference/iam-policy.md. Pages of runbooks that no
longer exist are removed. tests/test_generated_docs.py fails when the committed pages are stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from recover.runbooks.document.catalog import load_directory  # noqa: E402
from recover.runbooks.document.render import (  # noqa: E402
    iam_policy_markdown,
    index_markdown,
    runbook_markdown,
)

DOCS = ROOT / "docs" / "reference"
PAGES = DOCS / "runbooks"
REGENERATE = "python scripts/gen_docs.py"


def expected_pages(root: Path = ROOT) -> dict[Path, str]:
    """Every generated page (path relative to the repository) and its content."""
    catalog = load_directory(root / "runbooks")
    pages = {Path("docs/reference/runbooks") / f"{r.id}.md":
             runbook_markdown(r, source=f"runbooks/{r.id}.yaml", link_runbooks=True)
             for r in catalog.runbooks}
    pages[Path("docs/reference/runbooks/index.md")] = index_markdown(catalog)
    pages[Path("docs/reference/iam-policy.md")] = iam_policy_markdown(catalog)
    return pages


def stale_pages(root: Path = ROOT) -> list[str]:
    """Generated pages that are missing, different, or left over from a removed runbook."""
    pages = expected_pages(root)
    stale = [str(p) for p, text in pages.items()
             if not (root / p).is_file() or (root / p).read_text(encoding="utf-8") != text]
    folder = root / "docs/reference/runbooks"
    if folder.is_dir():
        stale += [str(p.relative_to(root)) for p in sorted(folder.glob("*.md"))
                  if p.relative_to(root) not in pages]
    return sorted(stale)


def write_pages(root: Path = ROOT) -> list[str]:
    pages = expected_pages(root)
    written = []
    for rel, text in pages.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(str(rel))
    for path in sorted((root / "docs/reference/runbooks").glob("*.md")):
        if path.relative_to(root) not in pages:
            path.unlink()
            written.append(f"{path.relative_to(root)} (removed)")
    return written


def main(argv: list[str]) -> int:
    if argv == ["--check"]:
        stale = stale_pages()
        if stale:
            print(f"stale generated docs: {', '.join(stale)}; run `{REGENERATE}`", file=sys.stderr)
            return 1
        print("generated docs are up to date")
        return 0
    if argv:
        print(__doc__, file=sys.stderr)
        return 2
    written = write_pages()
    print("\n".join(f"wrote {p}" for p in written) or "generated docs were already up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
