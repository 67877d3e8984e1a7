"""Generated failure worlds (issue 14 part 7), in CI: a fixed set of seeds chosen to cover every
failure kind, each run unattended through the real CLI (`python -m recover` subprocess) against
a served sandbox, then checked on the world itself (recover/sandbox/generated/check.py).

One test per (seed, invariant), so a known defect marks exactly the cells it breaks. The xfail
marks name the part of issue 14 whose fix should turn them green (strict: when a fix lands, the
XPASS fails the run and the lead drops the mark). `scripts/soak_worlds.py` runs thousands.
"""

from __future__ import annotations

import gzip
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest

from recover.sandbox.generated.check import INVARIANTS, NAMES, _lookup_rate, _secret, is_mutating
from recover.sandbox.generated.spec import (
    DELETED,
    KINDS,
    ROLLED_BACK,
    TRAITS,
    ResourceSpec,
    StackSpec,
    WorldSpec,
    covers,
    expected_outcome,
    generate,
)
from tests.once import once, selected

pytestmark = pytest.mark.e2e

# Chosen with spec.covers(): every kind, every trait, both outcomes (see test_ci_seeds_cover).
CI_SEEDS = {
    150: "code-s3-version only, depth 2, DescribeStacks throttled, the first "
         "ContinueUpdateRollback's answer lost",
    5: "code-lambda-version only, GetFunction throttled and 5xx",
    106: "code-file x3 (hash known), depth 2",
    51: "code-file, hash unknown (only the engineer's file holds the bytes), depth 3, "
        "DescribeStackEvents requests dropped unserved",
    1: "code-nowhere, no skip flag: must refuse; record 4 pages deep",
    54: "code-nowhere with --skip-unrecoverable (hash known), depth 3, faults on the calls",
    0: "code-nowhere x3 with --skip-unrecoverable, hash unknown, PutObject 5xx",
    68: "out-of-band x2 with --skip-unrecoverable, depth 3",
    6: "out-of-band, no skip flag: must refuse",
    7: "deleted CDK role (random qualifier) kept after, LookupEvents throttled and 5xx",
    24: "deleted CDK role removed after, record 4 pages deep",
    19: "DELETE_FAILED: non-empty buckets and a used security group, --retain-all-failed",
    9: "DELETE_FAILED without a retain flag: must refuse",
    89: "mixed: s3 version, file, nowhere x2 with --skip-unrecoverable, depth 3",
    13: "mixed nowhere + file without skip flag: must refuse, depth 3",
    49: "code-s3-version + code-nowhere without skip flag: must refuse before restoring anything",
    59: "code-file, hash unknown, with --skip-unrecoverable: the named file is a decision "
        "(refuse, exit 4), never a skip, depth 3",
}

# Known defects: (seed, invariant) -> reason, each marked xfail(strict=True) so the mark must go
# when the defect is fixed. Empty: every defect these seeds found (issue 14 parts 1-3, the
# rollback stop rule, --skip-unrecoverable with unproven bytes) is fixed.
KNOWN: dict[tuple[int, str], str] = {}

_RUNS: dict[int, Any] = {}


def _run(seed: int, tmp_path_factory: pytest.TempPathFactory,
         request: pytest.FixtureRequest) -> Any:
    """The seed's world run: once per session, in the first xdist worker that asks (its cells
    are spread over the workers; tests/once.py), kept in memory for its other cells."""
    if seed not in _RUNS:
        pytest.importorskip("moto", reason="the sandbox needs moto (pip install 'recover[sandbox]')")
        from tests.worlds.harness import run_world

        builds = {f"world-{s}": (lambda s=s: run_world(s, tmp_path_factory.mktemp(f"world{s}")))
                  for s in sorted(selected(request, "seed"), key=list(CI_SEEDS).index)}
        _RUNS[seed] = once(tmp_path_factory, f"world-{seed}", builds[f"world-{seed}"],
                           meanwhile=builds)
    return _RUNS[seed]


def _cells() -> list[Any]:
    cells = []
    for seed in CI_SEEDS:
        for inv in INVARIANTS:
            marks = [pytest.mark.xfail(strict=True, reason=KNOWN[(seed, inv)])] \
                if (seed, inv) in KNOWN else []
            cells.append(pytest.param(seed, inv, marks=marks, id=f"seed{seed}-{inv}-{NAMES[inv]}"))
    return cells


@pytest.mark.parametrize(("seed", "invariant"), _cells())
def test_world_invariant(seed: int, invariant: str, tmp_path_factory: pytest.TempPathFactory,
                        request: pytest.FixtureRequest) -> None:
    run = _run(seed, tmp_path_factory, request)
    broken = [str(v) for v in run.violations if v.invariant == invariant]
    assert not broken, run.summary() + "\n" + run.stderr_tail[-1500:]


# --- the generator and its oracle (no sandbox) -----------------------------------------------

def test_ci_seeds_cover_every_kind_and_trait() -> None:
    got = covers(list(CI_SEEDS))
    assert set(KINDS) | set(TRAITS) | {"outcome-complete", "outcome-refuse"} <= got


@pytest.mark.parametrize("seed", [0, 1, 7, 19, 123, 4567])
def test_generator_is_a_pure_function_of_the_seed(seed: int, tmp_path: Path) -> None:
    a, b = generate(seed), generate(seed)
    assert a == b and a.faults == b.faults
    assert a.command(tmp_path) == b.command(tmp_path)
    assert a.describe() == b.describe()
    assert generate(seed + 1).describe() != a.describe()


def test_the_same_seed_builds_the_same_world(tmp_path: Path) -> None:
    pytest.importorskip("moto")
    from recover.sandbox import start_sandbox
    from recover.sandbox.generated.build import build

    spec = generate(89)
    seen = []
    for n in range(2):
        facts: dict[str, Any] = {}
        sb = start_sandbox(None, step_delay=0, seed=spec.seed, clock_start=spec.clock_start(),
                           builder=lambda w, n=n, facts=facts: facts.update(
                               build(w, spec, tmp_path / str(n))))
        try:
            stacks = {s.name: (s.status, {r.logical_id: (r.status, r.reason)
                                          for r in s.resources.values()})
                      for s in sb.world.cfn.stacks.values()}
            records = [(r["eventName"], r["eventTime"], r.get("errorCode"))
                       for r in sb.world.trail.records()]
        finally:
            sb.stop()
        seen.append((stacks, records, facts["old_code"], facts["stack_names"]))
    assert seen[0] == seen[1]
    assert seen[0][0][spec.root][0] == "UPDATE_ROLLBACK_FAILED"


def _spec(family: str, kinds: list[str], **kw: Any) -> WorldSpec:
    res = [ResourceSpec(0, f"R{i}", k) for i, k in enumerate(kinds)]
    spec = WorldSpec(seed=1, family=family, stacks=(StackSpec(0, None, None),),
                     resources=tuple(res), hash_known=kw.pop("hash_known", True), age_days=70,
                     role_qualifier=kw.pop("role", None), trail_filler=0, faults={}, **kw)
    return spec


def test_oracle_refuses_when_bytes_are_nowhere_and_no_skip_flag() -> None:
    exp = expected_outcome(_spec("rollback", ["code-nowhere", "forward-failed"]))
    assert exp.outcomes == {"refuse"} and exp.refuse_exit == 4


def test_oracle_skips_exactly_the_unfixable() -> None:
    exp = expected_outcome(_spec("rollback", ["code-nowhere", "out-of-band", "code-s3-version",
                                              "forward-failed", "cancelled"],
                                 skip_unrecoverable=True))
    assert exp.outcomes == {"complete"} and exp.terminal == ROLLED_BACK
    assert exp.skippable == {(0, "R0"), (0, "R1")}


def test_oracle_leaves_unproven_bytes_to_recover_or_a_refusal() -> None:
    exp = expected_outcome(_spec("rollback", ["code-file", "forward-failed"], hash_known=False))
    assert exp.outcomes == {"complete", "refuse"}


def test_oracle_for_delete_and_role_worlds() -> None:
    exp = expected_outcome(_spec("delete", ["bucket-nonempty", "plain"], retain_all_failed=True))
    assert exp.outcomes == {"complete"} and exp.terminal == DELETED
    assert exp.skippable == {(0, "R0")}
    assert expected_outcome(_spec("delete", ["dependency"])).outcomes == {"refuse"}
    role = expected_outcome(_spec("rollback", ["code-s3-version", "forward-failed"], role="q1",
                                  remove_role_after=True))
    assert role.role_after == "absent"


# --- the checker can fail --------------------------------------------------------------------

def test_lookup_rate_check_flags_three_requests_in_one_second() -> None:
    req = [{"service": "cloudtrail", "operation": "LookupEvents", "t": t}
           for t in (0.0, 0.5, 0.9, 5.0)]
    assert [v.invariant for v in _lookup_rate(req)] == ["f"]
    spaced = [dict(r, t=i * 0.5) for i, r in enumerate(req)]
    assert _lookup_rate(spaced) == []


def test_secret_check_looks_inside_zips_and_gzip(tmp_path: Path) -> None:
    (tmp_path / "clean.json").write_text("{}")
    assert _secret("s3cr3tValue", [tmp_path]) == []
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("raw/ct.jsonl.gz", gzip.compress(b'{"parameterValue": "s3cr3tValue"}'))
    (tmp_path / "bundle.zip").write_bytes(buf.getvalue())
    [v] = _secret("s3cr3tValue", [tmp_path])
    assert "bundle.zip" in v.detail


def test_mutating_calls_are_told_by_operation_and_method() -> None:
    assert is_mutating({"service": "cloudformation", "operation": "ContinueUpdateRollback",
                        "method": "POST"})
    assert not is_mutating({"service": "cloudformation", "operation": "DescribeStacks",
                            "method": "POST"})
    assert is_mutating({"service": "s3", "operation": "PutObject", "method": "PUT"})
    assert not is_mutating({"service": "s3", "operation": "ListObjectVersions", "method": "GET"})
    assert not is_mutating({"service": "sts", "operation": "GetCallerIdentity", "method": "POST"})
