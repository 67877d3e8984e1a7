"""Citations in code, tests, runbooks and docs point at files and headings inside the repository.

Facts about AWS are cited as `docs/reference/aws-behaviour.md#anchor` (in docs and runbooks also
`aws-behaviour.md#anchor` or a relative markdown link); the design as `docs/explanation/design.md`.
A section sign without a file, a `docs/...md` path that does not exist, or an anchor that no
heading of the cited file produces (GitHub's rule) fails here, so citations cannot go stale.
Tests build fixture pages under docs/ paths, so in tests/ only anchored citations are checked.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

from tests.conftest import REPO

SECTION = "\N{SECTION SIGN}"
SCANNED = ("recover", "tests", "scripts", "benchmarks", "runbooks", "docs")
SUFFIXES = (".py", ".md", ".yaml", ".yml")
# A path ending in .md with an anchor; never the tail of a URL or of a longer path.
CITATION = re.compile(r"(?<![\w/.:-])((?:[\w.-]+/)*[\w.-]+\.md)#([\w-]+)")
DOCS_PATH = re.compile(r"(?<![\w/.:-])(docs/(?:[\w.-]+/)*[\w.-]+\.md)\b")
MD_NAME = re.compile(r"(?<![\w/.:-])((?:[\w.-]+/)*[\w.-]+\.md)\b")
# Documents that live outside the repository (the facts sheet, the design brief, its examples).
# A relative markdown link target, `file#anchor`, `file` or `#anchor`.
LINK = re.compile(r"\]\((?!https?:|mailto:)([^)\s]+)\)")
OUTSIDE = re.compile("|".join([r"aws-semantics", r"DESIGN\.md", r"DESIGN " + SECTION,
                               r"EXAMPLES\.md", r"EXAMPLES " + SECTION, r"shared/reference"]))


def scanned_files(root: Path = REPO) -> list[Path]:
    files = [p for d in SCANNED for p in sorted((root / d).rglob("*"))
             if p.suffix in SUFFIXES and p.is_file() and "__pycache__" not in p.parts]
    readme = root / "README.md"
    return [*files, readme] if readme.is_file() else files


def slug(heading: str) -> str:
    """GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip()).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


@cache
def anchors(path: Path) -> frozenset[str]:
    """Every anchor a markdown file offers: its headings (duplicates get -1, -2...) and ids."""
    seen: dict[str, int] = {}
    found: set[str] = set()
    fenced = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
            continue
        if fenced:
            continue
        m = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if m:
            base = slug(m.group(1))
            n = seen.get(base, 0)
            seen[base] = n + 1
            found.add(base if n == 0 else f"{base}-{n}")
        found.update(re.findall(r"""<a\s+(?:name|id)=["']([^"']+)["']""", line))
    return frozenset(found)


@cache
def md_by_name(root: Path) -> dict[str, list[Path]]:
    by_name: dict[str, list[Path]] = {}
    for p in root.rglob("*.md"):
        if ".git" not in p.parts:
            by_name.setdefault(p.name, []).append(p)
    return by_name


def resolve(cited: str, source: Path, root: Path = REPO) -> Path | None:
    """The repository file a citation names: relative to the citing file, to the repository
    root, or (a bare file name) the one markdown file of that name in the repository."""
    for base in (source.parent, root):
        candidate = (base / cited).resolve()
        if candidate.is_file() and candidate.is_relative_to(root.resolve()):
            return candidate
    if "/" not in cited:
        matches = md_by_name(root).get(cited, [])
        if len(matches) == 1:
            return matches[0].resolve()
    return None


def problems(path: Path, root: Path = REPO) -> list[str]:
    """Every stale or outside citation in one file, as `file:line: reason`."""
    out = []
    rel = path.relative_to(root)
    for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        where = f"{rel}:{no}"
        if OUTSIDE.search(line):
            out.append(f"{where}: cites a document outside the repository: {line.strip()[:120]}")
        if SECTION in line and not any(resolve(m, path, root) for m in MD_NAME.findall(line)):
            out.append(f"{where}: a section sign without a repository file: {line.strip()[:120]}")
        for cited in [] if rel.parts[0] == "tests" else DOCS_PATH.findall(line):
            if resolve(cited, path, root) is None:
                out.append(f"{where}: {cited} does not exist")
        for cited, anchor in CITATION.findall(line):
            target = resolve(cited, path, root)
            if target is None:
                out.append(f"{where}: {cited} (cited with #{anchor}) does not exist")
            elif anchor not in anchors(target):
                out.append(f"{where}: {cited} has no heading with anchor #{anchor}")
        if path.suffix == ".md":
            for target in LINK.findall(line):
                out += _link_problems(target, path, root, where)
    return out


def _link_problems(target: str, path: Path, root: Path, where: str) -> list[str]:
    name, _, anchor = target.partition("#")
    linked = path.resolve() if not name else (path.parent / name).resolve()
    if not linked.exists() or not linked.is_relative_to(root.resolve()):
        return [f"{where}: link to {target}: no such file in the repository"]
    if anchor and linked.suffix == ".md" and anchor not in anchors(linked):
        return [f"{where}: link to {target}: no heading with that anchor"]
    return []


THIS = Path(__file__).resolve()


def test_every_citation_points_at_an_existing_file_and_heading() -> None:
    found = [p for f in scanned_files() if f.resolve() != THIS for p in problems(f)]
    assert not found, "\n".join(found)


def test_aws_behaviour_is_cited_and_every_section_has_a_public_source() -> None:
    doc = REPO / "docs" / "reference" / "aws-behaviour.md"
    cited = {a for f in scanned_files() if f not in (doc, THIS)
             for c, a in CITATION.findall(f.read_text(encoding="utf-8")) if c.endswith("aws-behaviour.md")}
    assert len(cited) >= 20 and cited <= anchors(doc)
    sections = re.split(r"\n(?=## )", doc.read_text(encoding="utf-8"))[1:]
    unsourced = [s.splitlines()[0] for s in sections
                 if "http" not in s and "botocore" not in s and "not confirmed" not in s.lower()
                 and "unconfirmed" not in s.splitlines()[0].lower()]
    assert not unsourced, unsourced


@pytest.mark.parametrize(("heading", "anchor"), [
    ("Service roles (RoleARN)", "service-roles-rolearn"),
    ("RetainResources only from DELETE_FAILED", "retainresources-only-from-delete_failed"),
    ("Where AWS records a function's CodeSha256", "where-aws-records-a-functions-codesha256"),
    ("`recover apply PLAN.json`", "recover-apply-planjson"),
    ("Gather, decide, act", "gather-decide-act"),
])
def test_slug_follows_github(heading: str, anchor: str) -> None:
    assert slug(heading) == anchor


def _write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_stale_and_outside_citations_are_reported(tmp_path: Path) -> None:
    _write(tmp_path, "docs/reference/facts.md", "# Facts\n\n## Service roles\n\n```\n## not a heading\n```\n")
    code = _write(tmp_path, "recover/x.py", "\n".join([
        "# ok: docs/reference/facts.md#service-roles",
        "# bad anchor: docs/reference/facts.md#not-a-heading",
        "# missing file: docs/reference/gone.md#service-roles",
        "# bare section: (" + SECTION + "1.5)",
        "# outside: aws-semantics " + SECTION + "1.4",
        "# url: https://example.com/docs/x.md#y",
    ]))
    found = problems(code, tmp_path)
    assert [f.split(":")[1] for f in found] == ["2", "3", "3", "4", "5", "5"], found
    doc = _write(tmp_path, "docs/reference/other.md", "See [facts](facts.md#service-roles) and "
                 "facts.md#service-roles; facts.md " + SECTION + "2 names its file.\n")
    assert problems(doc, tmp_path) == []
    links = _write(tmp_path, "docs/links.md", "# Links\n\n[a](#links) [b](reference/facts.md) "
                   "[c](#nowhere) [d](reference/facts.md#nope) [e](gone.md) [f](https://x.y/z.md#q)\n")
    found = problems(links, tmp_path)
    assert [f for f in found if ": link to " in f] == [
        "docs/links.md:3: link to #nowhere: no heading with that anchor",
        "docs/links.md:3: link to reference/facts.md#nope: no heading with that anchor",
        "docs/links.md:3: link to gone.md: no such file in the repository"]
    assert len(found) == 4  # the anchored citation reference/facts.md#nope is also reported
