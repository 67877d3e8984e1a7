"""The trail benchmark runs end to end on a tiny archive and every method is exact (speed is
not asserted: benchmarks measure, tests do not time)."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO

# the benchmark runs zcat, jq and the CLI as child processes (tests/tiers.py)
pytestmark = pytest.mark.subprocess


def test_benchmark_runs_on_a_tiny_archive(shared_data: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    if not (shutil.which("zcat") and Path("/usr/bin/time").exists()):
        pytest.skip("needs zcat and GNU time")
    spec = importlib.util.spec_from_file_location("trail_scan", REPO / "benchmarks" / "trail_scan.py")
    assert spec and spec.loader
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    args = ["--records", "9000", "--scale", "1", "--workdir", str(tmp_path)]
    if not shutil.which("jq"):
        args.append("--skip-jq")
    assert bench.main(args) == 0
    out = capsys.readouterr().out
    assert "| 9,000 records" in out and "recover CLI" in out and "| NO |" not in out
    manifest = next(tmp_path.glob("archive-*/manifest.json")).read_text()
    import json
    assert len(json.loads(manifest)["truth"]) >= 1  # something to find
