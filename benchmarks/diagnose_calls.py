"""API calls of `recover diagnose`, with and without CloudFormation's operation APIs.

`diagnose` reads each failing stack's failed events by operation id (DescribeEvents with
OperationId and FailedEvents, docs/reference/aws-behaviour.md#stack-operations-and-operation-events)
where the API exists, and pages DescribeStackEvents back to the operation's start where it does
not (the baseline: what recover did before, and still does as the fallback). Worlds:

- degap: the Degap incident scenario (3 stacks, UPDATE_ROLLBACK_FAILED);
- tree-20: a 3-level tree, root + 4 children + 16 grandchildren (20 nested stacks), 12
  resources each and 3 earlier updates of history; one grandchild's rollback fails.

Calls are counted by a botocore `before-call` hook on the session diagnose uses (one count per
API call, retries excluded), cross-checked against the sandbox's own request log. Same code,
same world, same run for both columns.

Run: python benchmarks/diagnose_calls.py
"""

from __future__ import annotations

import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from recover.aws.session import SessionFactory  # noqa: E402
from recover.aws.snapshot import SnapshotOptions, take_snapshot  # noqa: E402
from recover.decide.diagnose import diagnose  # noqa: E402
from recover.sandbox import start_sandbox  # noqa: E402
from recover.sandbox.cfn.handlers import handler_message  # noqa: E402
from recover.sandbox.scenarios import _kit as kit  # noqa: E402
from recover.sandbox.world import World  # noqa: E402

RESOURCES = 12
HISTORY = 3  # earlier successful updates of the whole tree


def seed_tree(world: World) -> None:
    """tree-20: root -> 4 children -> 4 grandchildren each; one grandchild's Lambda cannot be
    rolled back (its old code object is gone)."""
    def resources(prefix: str) -> list[Any]:
        return [kit.res(f"{prefix}Queue{i}", "AWS::SQS::Queue", f"{prefix.lower()}-q{i}",
                        Delay=0) for i in range(RESOURCES)]

    root = world.cfn.add_stack("tree-root", [*resources("Root"),
                                             *(kit.nested(f"Child{c}") for c in range(4))])
    stacks = [root]
    for c in range(4):
        child = world.cfn.add_stack("", [*resources(f"C{c}"),
                                         *(kit.nested(f"Leaf{g}") for g in range(4))],
                                    parent=root, logical_id=f"Child{c}")
        stacks.append(child)
        for g in range(4):
            stacks.append(world.cfn.add_stack("", resources(f"L{c}{g}"), parent=child,
                                              logical_id=f"Leaf{g}"))
    world.roots.append(root.name)
    for n in range(HISTORY):  # history: every stack updated, every queue changed
        world.clock.advance(86400)
        world.cfn.complete_update(root, changes={s.name: {
            r.logical_id: {"Delay": n + 1} for r in s.resources.values()
            if r.type == "AWS::SQS::Queue"} for s in stacks})
    broken = stacks[-1]
    queue = broken.resources["L33Queue0"]
    queue.rollback_failure = handler_message(
        world, "Lambda", 400, "Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 "
        "Error Message: The specified key does not exist.", "InvalidRequest")
    world.clock.advance(86400)
    world.cfn.fail_update(root, changes={s.name: {
        r.logical_id: {"Delay": 9} for r in list(s.resources.values())[:3]
        if r.type == "AWS::SQS::Queue"} for s in stacks},
        failure=(broken.name, "L33Queue1", "Resource handler returned message: \"Rate "
                 "exceeded\""))


def measure(sb: Any, stack: str) -> dict[str, Any]:
    aws = SessionFactory(region=sb.region, endpoint_url=sb.endpoint,
                         credentials={"aws_access_key_id": "testing",
                                      "aws_secret_access_key": "testing"})
    calls: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    aws.boto3_session.events.register("before-call.cloudformation", count)
    aws.boto3_session.events.register("before-call.iam", count)
    seen_before = len(sb.world.requests)
    snap = take_snapshot(aws, stack, clock=lambda: datetime.now(UTC),
                         options=SnapshotOptions(events="operations"))
    found = diagnose(snap)
    served = len(sb.world.requests) - seen_before
    return {"calls": sum(calls.values()), "by_api": dict(calls), "served": served,
            "findings": len(found.findings), "failures": sorted(found.failures()),
            "source": (found.to_dict(snap).get("events_source") or {}).get("source")}


def run(world_name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    if world_name == "degap":
        sb = start_sandbox("degap", step_delay=0)
    else:
        sb = start_sandbox(None, step_delay=0, builder=seed_tree)
    try:
        stack = sb.world.roots[0]
        with_ops = measure(sb, stack)
        sb.world.operation_apis(False)
        without = measure(sb, stack)
    finally:
        sb.stop()
    return with_ops, without


def main() -> None:
    print("| world | stacks | operation APIs: calls | by API | without (DescribeStackEvents "
          "paging): calls | by API | same findings |")
    print("|---|---:|---:|---|---:|---|---|")
    for name in ("degap", "tree-20"):
        a, b = run(name)
        for m in (a, b):
            assert m["calls"] == m["served"], (name, m)  # the hook and the server agree
        stacks = 3 if name == "degap" else 21

        def fmt(m: dict[str, Any]) -> str:
            return ", ".join(f"{k} {v}" for k, v in sorted(m["by_api"].items()))

        print(f"| {name} | {stacks} | {a['calls']} | {fmt(a)} | {b['calls']} | {fmt(b)} | "
              f"{'yes' if a['failures'] == b['failures'] else 'NO'} ({a['findings']}) |")
        assert a["source"] == "describe-events" and b["source"] == "stack-events"


if __name__ == "__main__":
    main()
