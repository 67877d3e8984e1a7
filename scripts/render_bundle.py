"""Render a postmortem bundle's pictures into PNGs, to look at a change to the bundle.

    python scripts/render_bundle.py BUNDLE [--out DIR]      # a bundle folder or .zip
    python scripts/render_bundle.py --example degap [--out DIR]

Writes into DIR (default: ./bundle-pictures):
  timeline-chart-N.png  each Mermaid block of timeline.md, drawn by the Mermaid CLI (`mmdc`,
                        npm @mermaid-js/mermaid-cli) with the system Chromium
  timeline-html.png     timeline.html as headless Chromium shows it (1280 px wide)

--example SCENARIO builds the bundle first: the sandbox scenario (degap, nested-skip,
delete-failed, cdk-bootstrap-deleted), its runbook run unattended, then `recover evidence
--html` (127.0.0.1 only, needs moto).

Needs `chromium` (Debian package) and `mmdc`:
    apt-get install chromium
    PUPPETEER_SKIP_DOWNLOAD=1 npm install -g @mermaid-js/mermaid-cli
A missing tool is reported and its pictures skipped (exit 1 if none could be drawn).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from recover.bundle.mermaid import mermaid_blocks  # noqa: E402

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
HTML_SIZE = (1280, 3200)


def chromium() -> str | None:
    return next((p for p in map(shutil.which, CHROMIUM_NAMES) if p), None)


def read_bundle(path: Path) -> dict[str, str]:
    """timeline.md and timeline.html (when present) of a bundle folder or zip."""
    want = ("timeline.md", "timeline.html")
    if path.is_dir():
        return {n: (path / n).read_text(encoding="utf-8") for n in want if (path / n).is_file()}
    with zipfile.ZipFile(path) as zf:
        out = {}
        for info in zf.infolist():
            name = info.filename.split("/", 1)[-1]
            if name in want:
                out[name] = zf.read(info).decode("utf-8")
        return out


def render_mermaid(markdown: str, out: Path, browser: str) -> list[Path]:
    mmdc = shutil.which("mmdc")
    if mmdc is None:
        print("mmdc not found: PUPPETEER_SKIP_DOWNLOAD=1 npm install -g "
              "@mermaid-js/mermaid-cli", file=sys.stderr)
        return []
    pictures = []
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp, "puppeteer.json")
        config.write_text(json.dumps({"executablePath": browser,
                                      "args": ["--no-sandbox", "--disable-gpu"]}))
        for i, block in enumerate(mermaid_blocks(markdown), 1):
            src = Path(tmp, f"chart-{i}.mmd")
            src.write_text(block, encoding="utf-8")
            png = out / f"timeline-chart-{i}.png"
            subprocess.run([mmdc, "-q", "-p", str(config), "-i", str(src), "-o", str(png),
                            "-w", "1400", "-b", "white", "-s", "1.5"], check=True,
                           env={**os.environ, "PUPPETEER_SKIP_DOWNLOAD": "1"})
            pictures.append(png)
    return pictures


def render_html(html: str, out: Path, browser: str) -> Path:
    png = out / "timeline-html.png"
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp, "timeline.html")
        page.write_text(html, encoding="utf-8")
        subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                        "--hide-scrollbars", f"--user-data-dir={tmp}/profile",
                        f"--window-size={HTML_SIZE[0]},{HTML_SIZE[1]}",
                        f"--screenshot={png.resolve()}", page.as_uri()],
                       check=True, capture_output=True)
    return png


# scenario -> the runbook an on-call engineer would run on it, unattended
EXAMPLES: dict[str, list[str]] = {
    "degap": ["rollback-stuck", "{root}", "--restore-artifacts"],
    "nested-skip": ["rollback-stuck", "{root}", "--skip-unrecoverable"],
    "delete-failed": ["delete-failed", "{root}", "--retain-all-failed"],
    "cdk-bootstrap-deleted": ["bootstrap-role", "{root}", "--then", "delete",
                              "--remove-role-after"],
}


def build_example(scenario: str, work: Path) -> Path:
    """A bundle folder of the scenario after its runbook ran for real (sandbox on 127.0.0.1,
    with a step delay so the operations take visible time)."""
    from click.testing import CliRunner

    from recover.cli import cli
    from recover.sandbox import start_sandbox

    if scenario not in EXAMPLES:
        raise SystemExit(f"no example recovery for {scenario!r}; one of: {', '.join(EXAMPLES)}")
    sb = start_sandbox(scenario, step_delay=0.5)
    try:
        os.environ.update(sb.env())
        base = ["--evidence-dir", str(work / "ev"), "--non-interactive", "--yes"]
        runbook = [a.format(root=sb.stacks[0]) for a in EXAMPLES[scenario]]
        bundle = work / "bundle"
        for args in (runbook, ["evidence", sb.stacks[0], "--trail", "lookup", "--format", "dir",
                               "--out", str(bundle), "--html"]):
            result = CliRunner().invoke(cli, base + args, catch_exceptions=False)
            print(f"recover {' '.join(args)}: exit {result.exit_code}", file=sys.stderr)
    finally:
        sb.stop()
    return bundle


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("bundle", nargs="?", type=Path, help="a bundle folder or .zip")
    ap.add_argument("--example", metavar="SCENARIO", help="build the bundle of this scenario")
    ap.add_argument("--out", type=Path, default=Path("bundle-pictures"))
    args = ap.parse_args(argv)
    if (args.bundle is None) == (args.example is None):
        ap.error("give a BUNDLE or --example SCENARIO")
    args.out.mkdir(parents=True, exist_ok=True)
    browser = chromium()
    if browser is None:
        print("chromium not found: apt-get install chromium", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as work:
        bundle = args.bundle or build_example(args.example, Path(work))
        if args.example:  # keep the example bundle beside its pictures
            kept = args.out / "bundle"
            shutil.rmtree(kept, ignore_errors=True)
            shutil.copytree(bundle, kept)
        files = read_bundle(bundle)
    pictures: list[Path] = []
    if "timeline.md" in files:
        pictures += render_mermaid(files["timeline.md"], args.out, browser)
    if "timeline.html" in files:
        pictures.append(render_html(files["timeline.html"], args.out, browser))
    else:
        print("no timeline.html in the bundle (export it with --html)", file=sys.stderr)
    for p in pictures:
        print(p)
    return 0 if pictures else 1


if __name__ == "__main__":
    sys.exit(main())
