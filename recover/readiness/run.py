"""Running readiness checks: one stack, or every root stack of a region with bounded
concurrency and the API calls of each stack counted separately (CALL_SCOPE)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from recover.aws.rates import cloudformation_gate
from recover.aws.session import CALL_SCOPE, SessionFactory, map_in_context
from recover.model.statuses import LIVE
from recover.readiness.decide import Options, Report, assess
from recover.readiness.gather import SharedReads, gather
from recover.run.errors import RecoverError, translate_aws_error

LIVE_STATUSES = list(LIVE)  # every StackStatus but DELETE_COMPLETE


def check_stack(aws: SessionFactory, stack: str, *, clock: Callable[[], datetime],
                options: Options, workers: int = 4, shared: SharedReads | None = None) -> Report:
    g = gather(aws, stack, clock=clock, max_workers=workers, shared=shared)
    return assess(g, clock(), options)


def root_stacks(aws: SessionFactory) -> list[str]:
    """Names of the region's live root stacks (nested ones are checked with their root)."""
    cfn = aws.client("cloudformation")
    names: list[str] = []
    try:
        for page in cfn.get_paginator("list_stacks").paginate(StackStatusFilter=LIVE_STATUSES):
            names += [s["StackName"] for s in page.get("StackSummaries", [])
                      if not s.get("ParentId") and s.get("StackStatus") != "DELETE_COMPLETE"]
    except (ClientError, BotoCoreError) as exc:
        raise translate_aws_error(exc, region=aws.region) or exc from exc
    return sorted(set(names))


def check_region(aws: SessionFactory, *, clock: Callable[[], datetime], options: Options,
                 concurrency: int = 4, progress: Callable[[str], None] | None = None,
                 ) -> dict[str, Any]:
    """Every root stack of the region, `concurrency` stacks at a time (one worker inside each,
    so at most `concurrency` calls are in flight). Calls are attributed to the stack whose
    check made them; a shared bucket or repository is read (and counted) once, by the first
    stack that needs it."""
    # N stacks at a time means N requests in flight, never more than CloudFormation's rate
    # per second (docs/reference/aws-behaviour.md#request-rates), the listing included
    with cloudformation_gate():
        return _check_all(aws, clock=clock, options=options, concurrency=concurrency,
                          progress=progress)


def _check_all(aws: SessionFactory, *, clock: Callable[[], datetime], options: Options,
               concurrency: int, progress: Callable[[str], None] | None) -> dict[str, Any]:
    names = root_stacks(aws)
    done: list[int] = [0]
    shared = SharedReads()  # a bucket's rules are read once, not once per stack

    def one(name: str) -> dict[str, Any]:
        CALL_SCOPE.set(name)
        try:
            report = check_stack(aws, name, clock=clock, options=options, workers=1,
                                 shared=shared)
            out: dict[str, Any] = {"stack": name, "report": report}
        except RecoverError as err:
            out = {"stack": name, "error": err.as_dict()}
        except (ClientError, BotoCoreError) as exc:
            err = translate_aws_error(exc, region=aws.region)
            out = {"stack": name, "error": err.as_dict() if err else {"message": str(exc)}}
        out["api_calls"] = aws.counter.scope_calls(name)
        done[0] += 1
        if progress:
            progress(f"[{done[0]}/{len(names)}] {name}")
        return out

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        results = map_in_context(pool, one, names)
    return {"stacks": results, "count": len(names)}
