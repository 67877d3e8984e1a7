"""Produce the postmortem bundle of the `degap` sandbox scenario after a journaled recovery
(the same steps as tests/bundle/test_evidence_e2e.py) and print its timeline.md.

    python scripts/evidence_degap_example.py OUT_DIR

Needs moto (pip install 'recover[sandbox]'); talks to 127.0.0.1 only.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(out_dir: str) -> int:
    from click.testing import CliRunner

    from recover.cli import cli
    from recover.run.context import GlobalOptions, RunContext
    from recover.sandbox import start_sandbox
    from tests.bundle.test_evidence_e2e import degap, plant_secrets, recovery

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sb = start_sandbox("degap", step_delay=0)
    try:
        os.environ.update(sb.env())
        plant_secrets(sb, "degap-prod", "degap-prod-report", None)
        recovery(sb, out / "ev", "missing-artifact", "degap-prod",
                 lambda ex, ev: degap(sb, ex, ev))
        sb.world.deliver_trail()
        rc = RunContext.from_options(GlobalOptions(endpoint_url=sb.endpoint, region=sb.region,
                                                   evidence_dir=out / "ev"))
        bundle = out / "degap-bundle"
        result = CliRunner().invoke(cli, ["evidence", "degap-prod", "--trail",
                                          f"s3://{sb.world.trail_bucket}", "--format", "dir",
                                          "--out", str(bundle), "--html"], obj=rc,
                                    standalone_mode=False)
        if result.exception:
            raise result.exception
        print((bundle / "timeline.md").read_text())
    finally:
        sb.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "degap-example"))
