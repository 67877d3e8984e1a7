#!/usr/bin/env python3
"""Set-up and run, with nothing but Python 3.11+ on the machine.

    python3 scripts/dev.py demo [ARGS...]   # venv + install, then `recover demo ARGS`
    python3 scripts/dev.py test [PYTEST ARGS...]   # venv + install, then ruff and pytest
    python3 scripts/dev.py recover ARGS...  # any recover command from the venv

The virtual environment lives in .venv (override with RECOVER_VENV). Installing is skipped
when pyproject.toml has not changed since the last install.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(os.environ.get("RECOVER_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"


def ensure_env() -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"recover needs Python 3.11 or newer (this is {sys.version.split()[0]})")
    if not PY.exists():
        print(f"creating virtual environment in {VENV}", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    stamp = VENV / ".recover-installed"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    print("installing recover with its sandbox and test extras", file=sys.stderr)
    subprocess.run([str(PY), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
    subprocess.run([str(PY), "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[sandbox,test]"],
                   check=True)
    stamp.write_text(digest)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"demo", "test", "recover", "setup"}:
        print(__doc__, file=sys.stderr)
        return 2
    ensure_env()
    cmd, rest = argv[0], argv[1:]
    if cmd == "setup":
        return 0
    if cmd == "demo":
        return subprocess.call([str(BIN / "recover"), "demo", *rest], cwd=ROOT)
    if cmd == "recover":
        return subprocess.call([str(BIN / "recover"), *rest], cwd=ROOT)
    lint = subprocess.call([str(PY), "-m", "ruff", "check", "recover", "tests", "benchmarks",
                            "scripts"], cwd=ROOT)
    if lint != 0:
        print("ruff found problems (see above)", file=sys.stderr)
        return lint
    code = subprocess.call([str(PY), "-m", "pytest", *rest], cwd=ROOT)
    if code == 5:
        print("pytest ran no test: treating that as a failure", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
