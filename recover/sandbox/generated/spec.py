"""Generated failure worlds, as plain data: a pure function of the seed (same seed, same world).

A world is a stack tree (nesting depth 1-3) in UPDATE_ROLLBACK_FAILED or DELETE_FAILED, where
every changed resource carries a failure kind, plus the CloudTrail noise, the faults and the
flags of the unattended run. The spec also says, from its own knowledge of the world and not
from recover's logic, what the run must end in (`Expected`).

Kinds of the rollback worlds (one per changed resource):
- code-s3-version: the function's previous code object is behind a delete marker; its
  previous S3 version is the very object;
- code-lambda-version: the object is gone for good; the bytes survive as published version 1;
- code-file: the object is gone for good; only a file the engineer names holds the bytes
  (`--artifact-source file:KEY=PATH`);
- code-nowhere: the object is gone for good and no copy exists (the function's $LATEST holds
  the NEW code of the failed update, which must never be restored as the old one);
- out-of-band: the function was deleted by hand during the update;
- cancelled / forward-failed: the update's own failure and what it cancelled (never skipped);
- role-deleted (world level): the stack's CDK service role `cdk-<random qualifier>-cfn-exec-
  role-...` was deleted while the update ran, so the rollback failed on the role.
Kinds of the delete worlds: bucket-nonempty, dependency (a security group an ENI uses).

Whether Lambda's expected CodeSha256 is knowable is a world property (`hash_known`): the
functions were created inside or outside CloudTrail's 90-day LookupEvents window.
"""

from __future__ import annotations

import hashlib
import random
import string
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

CODE_KINDS = ("code-s3-version", "code-lambda-version", "code-file", "code-nowhere")
ROLLBACK_KINDS = (*CODE_KINDS, "out-of-band", "cancelled", "forward-failed")
DELETE_KINDS = ("bucket-nonempty", "dependency")
WORLD_KINDS = ("role-deleted",)
KINDS = (*ROLLBACK_KINDS, *WORLD_KINDS, *DELETE_KINDS)
# not failure kinds, but dimensions the soak table also reports
TRAITS = ("depth-1", "depth-2", "depth-3", "trail-later-page", "throttling", "5xx",
          "connection-reset", "answer-lost", "hash-unknown", "skip-unrecoverable")

STUCK, ROLLED_BACK = "UPDATE_ROLLBACK_FAILED", "UPDATE_ROLLBACK_COMPLETE"
DELETE_FAILED, DELETED = "DELETE_FAILED", "DELETE_COMPLETE"
NEEDS_DECISION = 4  # docs/reference/exit-codes.md: --non-interactive met an unsettled decision
LOOKUP_PAGE = 50  # LookupEvents MaxResults ceiling (docs/reference/aws-behaviour.md#lookupevents)
FAULT_OPS = ("cloudtrail:LookupEvents", "cloudformation:DescribeStackEvents",
             "cloudformation:DescribeStacks", "cloudformation:ListStackResources",
             "s3:HeadObject", "s3:ListObjectVersions", "lambda:GetFunction",
             "cloudformation:ContinueUpdateRollback", "cloudformation:DeleteStack",
             "s3:PutObject", "iam:GetRole")
# The changes a world's recovery makes, by what the world holds: the first answer of one of them
# is lost (served, then the connection drops), so the retry meets its own earlier change.
CHANGE_OPS = {"rollback": ("cloudformation:ContinueUpdateRollback",),
              "delete": ("cloudformation:DeleteStack",),
              "role-deleted": ("iam:CreateRole",),
              "code-s3-version": ("s3:CopyObject",),
              "code-lambda-version": ("s3:PutObject",), "code-file": ("s3:PutObject",)}


@dataclass(frozen=True)
class StackSpec:
    index: int
    parent: int | None  # None = the root
    logical_id: str | None  # the AWS::CloudFormation::Stack resource in the parent


@dataclass(frozen=True)
class ResourceSpec:
    stack: int
    logical_id: str
    kind: str  # a KIND, or "plain" (not changed by the update / deleted without trouble)

    @property
    def ref(self) -> tuple[int, str]:
        return (self.stack, self.logical_id)


@dataclass(frozen=True)
class Expected:
    """What the unattended run must end in. outcomes: "complete" (the stack reaches `terminal`,
    exit 0) and/or "refuse" (exit `refuse_exit`, no mutating call, the stack untouched); both
    when the issue leaves the choice to recover (bytes that exist but cannot be proven)."""

    outcomes: frozenset[str]
    terminal: str
    refuse_exit: int = NEEDS_DECISION
    # (stack index, logical id) that may appear in ResourcesToSkip / RetainResources
    skippable: frozenset[tuple[int, str]] = frozenset()
    role_after: str | None = None  # "present" / "absent" once complete


@dataclass(frozen=True)
class WorldSpec:
    seed: int
    family: str  # "rollback" | "delete"
    stacks: tuple[StackSpec, ...]
    resources: tuple[ResourceSpec, ...]
    hash_known: bool
    age_days: int  # the world was deployed this many days before the run
    role_qualifier: str | None
    trail_filler: int  # matching CloudTrail records newer than the relevant ones
    faults: dict = field(hash=False, compare=False)
    skip_unrecoverable: bool = False
    retain_all_failed: bool = False
    remove_role_after: bool = False
    secret: str = ""
    expected: Expected = field(default_factory=lambda: Expected(frozenset(), ""))

    @property
    def root(self) -> str:
        return f"gw{self.seed}-{self.family}"

    @property
    def depth(self) -> int:
        def level(i: int) -> int:
            parent = self.stacks[i].parent
            return 1 if parent is None else 1 + level(parent)
        return max(level(s.index) for s in self.stacks)

    def kinds(self) -> set[str]:
        out = {r.kind for r in self.resources if r.kind != "plain"}
        if self.role_qualifier:
            out.add("role-deleted")
        return out

    def traits(self) -> set[str]:
        out = {f"depth-{self.depth}"}
        if self.trail_filler >= LOOKUP_PAGE:
            out.add("trail-later-page")
        if self.faults.get("throttle"):
            out.add("throttling")
        if self.faults.get("server_error"):
            out.add("5xx")
        if self.faults.get("connection_reset"):
            out.add("connection-reset")
        if self.faults.get("answer_lost"):
            out.add("answer-lost")
        if self.family == "rollback" and not self.hash_known:
            out.add("hash-unknown")
        if self.skip_unrecoverable:
            out.add("skip-unrecoverable")
        return out

    def tree_order(self) -> list[int]:
        """Stack indexes in CloudFormation's walk order (parent, then children depth first)."""
        return _tree_order(self.stacks)

    def function_name(self, res: ResourceSpec) -> str:
        return f"gw{self.seed}-s{res.stack}-{res.logical_id.lower()}"

    def code(self, res: ResourceSpec, build: str) -> bytes:
        """The deployment package of a function: `old` (what the rollback must restore) or
        `new` (what the failed update deployed)."""
        from recover.sandbox.scenarios._kit import go_zip

        return go_zip(self.function_name(res), f"{build}-{self.seed}")

    def old_key(self, res: ResourceSpec) -> str:
        return hashlib.sha256(self.code(res, "old")).hexdigest() + ".zip"

    def file_path(self, files_dir: Path, res: ResourceSpec) -> Path:
        return files_dir / f"{self.function_name(res)}.zip"

    def command(self, files_dir: Path) -> list[str]:
        """The command and flags of the unattended run (global options excluded)."""
        follow = ["--poll-interval", "0.1"]
        if self.family == "delete":
            args = ["delete-failed", self.root, *follow]
            return args + (["--retain-all-failed"] if self.retain_all_failed else [])
        extra = ["--restore-artifacts"]
        if self.skip_unrecoverable:
            extra.append("--skip-unrecoverable")
        if self.role_qualifier:
            keep = "--remove-role-after" if self.remove_role_after else "--keep-role"
            return ["bootstrap-role", self.root, "--then", "continue-rollback", keep,
                    "--retry-delay", "0.01", *follow, *extra]
        for res in self.resources:
            if res.kind == "code-file":
                extra += ["--artifact-source",
                          f"file:{self.old_key(res)}={self.file_path(files_dir, res)}"]
        return ["rollback-stuck", self.root, *follow, *extra]

    def clock_start(self, now: datetime | None = None) -> datetime:
        """Where the simulated clock starts: `age_days` before today's midnight (UTC), so the
        world ends before the run and the 90-day LookupEvents window means what the spec says."""
        now = now or datetime.now(UTC)
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        return midnight - timedelta(days=self.age_days)

    def describe(self) -> str:
        kinds = ", ".join(f"{r.logical_id}@s{r.stack}:{r.kind}" for r in self.resources
                          if r.kind != "plain")
        role = f" role cdk-{self.role_qualifier}" if self.role_qualifier else ""
        return (f"seed {self.seed} {self.family} depth {self.depth}{role} "
                f"hash_known={self.hash_known} filler={self.trail_filler} "
                f"faults={self.faults or '-'} -> {sorted(self.expected.outcomes)}: {kinds}")


def _stacks(rng: random.Random) -> tuple[StackSpec, ...]:
    depth = rng.randint(1, 3)
    stacks = [StackSpec(0, None, None)]
    if depth >= 2:
        for n in range(rng.randint(1, 2)):
            stacks.append(StackSpec(len(stacks), 0, f"Nested{n + 1}"))
    if depth == 3:
        stacks.append(StackSpec(len(stacks), 1, "Inner"))
    return tuple(stacks)


def _faults(rng: random.Random) -> dict:
    out: dict = {}
    if rng.random() < 0.45:
        out["throttle"] = {op: rng.choice((10, 20, 30, 40))
                           for op in rng.sample(FAULT_OPS, rng.randint(1, 3))}
    if rng.random() < 0.35:
        # never both on one operation: 40% throttling plus 30% 5xx would fail 58% of its calls,
        # beyond what any retry budget is meant to absorb
        free = [op for op in FAULT_OPS if op not in out.get("throttle", {})]
        out["server_error"] = {op: rng.choice((10, 20, 30))
                               for op in rng.sample(free, rng.randint(1, 2))}
    if out:
        out["seed"] = rng.randrange(1 << 16)
    return out


def _network_faults(spec: WorldSpec) -> WorldSpec:
    """Requests that get no answer: dropped before they are served (a read, 10-25% of them), or
    served and their answer lost (the first call of one change the recovery makes). Drawn from
    their own random stream, so the rest of a seed's world is what it was before these existed."""
    rng = random.Random(f"network-{spec.seed}")
    out = dict(spec.faults)
    busy = set(out.get("throttle", {})) | set(out.get("server_error", {}))
    changes = sorted({op for kind in (spec.family, *spec.kinds()) for op in CHANGE_OPS.get(kind, ())})
    if rng.random() < 0.25:
        free = [op for op in FAULT_OPS if op not in busy and op.split(":")[1].startswith(
            ("Describe", "List", "Get", "Head", "Lookup"))]
        out["connection_reset"] = {rng.choice(free): rng.choice((10, 15, 20, 25))}
    if rng.random() < 0.25 and (free := [op for op in changes if op not in busy]):
        out["answer_lost"] = {rng.choice(free): {"percent": 100, "times": 1}}
    if out and "seed" not in out:
        out["seed"] = rng.randrange(1 << 16)
    return replace(spec, faults=out)


def generate(seed: int) -> WorldSpec:
    """The world of `seed`. Pure: only `random.Random(seed)` decides."""
    rng = random.Random(seed)
    secret = "gwNoEcho" + "".join(rng.choice(string.ascii_letters + string.digits)
                                  for _ in range(20))
    stacks = _stacks(rng)
    faults = _faults(rng)
    if rng.random() < 0.25:
        return _network_faults(_delete_world(seed, rng, stacks, faults, secret))
    return _network_faults(_rollback_world(seed, rng, stacks, faults, secret))


def _rollback_world(seed: int, rng: random.Random, stacks: tuple[StackSpec, ...],
                    faults: dict, secret: str) -> WorldSpec:
    role = "".join(rng.choice(string.ascii_lowercase + string.digits)
                   for _ in range(rng.randint(5, 10))) if rng.random() < 0.25 else None
    hash_known = bool(role) or rng.random() < 0.65
    if role:  # bootstrap-role passes no --artifact-source: bytes AWS itself still holds
        allowed = ["code-s3-version", "code-lambda-version"]
    elif hash_known:
        allowed = [*CODE_KINDS, "out-of-band"]
    else:  # nothing can be proven: only the engineer's file, or no bytes at all
        allowed = ["code-file", "code-nowhere", "out-of-band"]
    order = [s.index for s in stacks]
    resources: list[ResourceSpec] = []
    for n in range(rng.randint(1, 4)):
        kind = rng.choice(allowed)
        resources.append(ResourceSpec(rng.choice(order), f"Fn{n + 1}", kind))
    last = _tree_order(stacks)[-1]
    resources.append(ResourceSpec(last, "Schedule", "forward-failed"))
    resources += [ResourceSpec(last, f"Queue{n + 1}", "cancelled")
                  for n in range(rng.randint(0, 2))]
    resources += [ResourceSpec(rng.choice(order), f"Table{n + 1}", "plain")
                  for n in range(rng.randint(0, 2))]
    filler = rng.choice((0, 0, 30, 60, 110, 170))
    skip = rng.random() < 0.5
    spec = WorldSpec(seed=seed, family="rollback", stacks=stacks, resources=tuple(resources),
                     hash_known=hash_known, age_days=70 if hash_known else 130,
                     role_qualifier=role, trail_filler=filler, faults=faults,
                     skip_unrecoverable=skip, remove_role_after=bool(role) and rng.random() < 0.5,
                     secret=secret)
    return _with_expected(spec)


def _delete_world(seed: int, rng: random.Random, stacks: tuple[StackSpec, ...], faults: dict,
                  secret: str) -> WorldSpec:
    order = [s.index for s in stacks]
    resources = [ResourceSpec(rng.choice(order), f"Blocked{n + 1}",
                              rng.choice(DELETE_KINDS)) for n in range(rng.randint(1, 3))]
    resources += [ResourceSpec(rng.choice(order), f"Queue{n + 1}", "plain")
                  for n in range(rng.randint(0, 2))]
    spec = WorldSpec(seed=seed, family="delete", stacks=stacks, resources=tuple(resources),
                     hash_known=True, age_days=40, role_qualifier=None, trail_filler=0,
                     faults=faults, retain_all_failed=rng.random() < 0.7, secret=secret)
    return _with_expected(spec)


def _tree_order(stacks: tuple[StackSpec, ...]) -> list[int]:
    out: list[int] = []

    def walk(i: int) -> None:
        out.append(i)
        for s in stacks:
            if s.parent == i:
                walk(s.index)
    walk(0)
    return out


def expected_outcome(spec: WorldSpec) -> Expected:
    """From the world alone: which failures can be fixed, which only skipped, what must end."""
    if spec.family == "delete":
        blocked = frozenset(r.ref for r in spec.resources if r.kind in DELETE_KINDS)
        if spec.retain_all_failed:
            return Expected(frozenset({"complete"}), DELETED, skippable=blocked)
        return Expected(frozenset({"refuse"}), DELETED, skippable=blocked)
    unfixable = frozenset(r.ref for r in spec.resources
                          if r.kind in ("code-nowhere", "out-of-band"))
    # bytes that exist but cannot be proven to be the old code: recover may restore the file
    # the engineer named, or refuse and ask (issue 14 part 1 leaves it to the flags)
    unproven = any(r.kind in ("code-file", "code-nowhere") for r in spec.resources
                   if not spec.hash_known)
    role_after = None
    if spec.role_qualifier:
        role_after = "absent" if spec.remove_role_after else "present"
    if unfixable and not spec.skip_unrecoverable:
        return Expected(frozenset({"refuse"}), ROLLED_BACK, skippable=unfixable)
    outcomes = {"complete", "refuse"} if unproven else {"complete"}
    return Expected(frozenset(outcomes), ROLLED_BACK, skippable=unfixable,
                    role_after=role_after)


def _with_expected(spec: WorldSpec) -> WorldSpec:
    return replace(spec, expected=expected_outcome(spec))


def covers(seeds: list[int]) -> set[str]:
    """Every kind and trait the worlds of `seeds` contain."""
    out: set[str] = set()
    for s in seeds:
        spec = generate(s)
        out |= spec.kinds() | spec.traits() | {f"outcome-{o}" for o in spec.expected.outcomes}
    return out
