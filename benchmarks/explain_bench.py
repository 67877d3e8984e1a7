"""How fast `recover explain` classifies (pure CPU, no AWS): prints a Markdown table.

Usage (from the repository root): python benchmarks/explain_bench.py
Inputs: every message of ../shared/data/cfn-failure-messages/messages.jsonl (skipped when
absent), a 60-line CDK deploy paste, a describe-stack-events JSON dump and a 1 MB paste (the
CLI's input limit)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from recover.explain.classify import classify  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
CDK_ROW = ("Api | 3/9 | 10:01:10 AM | UPDATE_FAILED | AWS::Lambda::Function | Api/Fn (ApiFnB1C2) "
           'Resource handler returned message: "Error occurred while GetObject. S3 Error Code: '
           "NoSuchKey. S3 Error Message: The specified key does not exist. (Service: Lambda, Status "
           'Code: 400, Request ID: 1)" (RequestToken: 2, HandlerErrorCode: InvalidRequest)\n')
PROGRESS = "Api | 1/9 | 10:01:00 AM | UPDATE_IN_PROGRESS | AWS::Lambda::Function | Api/Fn (ApiFnB1C2)\n"


def bench(name: str, inputs: list[str], repeat: int) -> tuple[str, int, int, float, float]:
    start = time.perf_counter()
    for _ in range(repeat):
        for text in inputs:
            classify(text)
    elapsed = time.perf_counter() - start
    calls = repeat * len(inputs)
    size = sum(len(t) for t in inputs) // len(inputs)
    return name, calls, size, elapsed / calls * 1000, calls / elapsed


def main() -> int:
    cases: list[tuple[str, list[str], int]] = []
    jsonl = SHARED / "cfn-failure-messages" / "messages.jsonl"
    if jsonl.is_file():
        rows = [json.loads(line)["text"] for line in jsonl.read_text(encoding="utf-8").splitlines()]
        cases.append(("messages.jsonl (one message each)", rows, 20))
    cases.append(("CDK paste, 60 lines", [PROGRESS * 59 + CDK_ROW], 50))
    events = [{"LogicalResourceId": f"R{i}", "ResourceStatus": "CREATE_FAILED",
               "ResourceType": "AWS::S3::Bucket", "ResourceStatusReason": "Resource creation cancelled"}
              for i in range(500)]
    cases.append(("describe-stack-events JSON, 500 events", [json.dumps({"StackEvents": events})], 5))
    cases.append(("1 MB paste (input limit)", [(PROGRESS * 12_000)[:999_000] + CDK_ROW], 1))
    print("| input | calls | avg chars | ms per classify | classify per s |")
    print("|---|---:|---:|---:|---:|")
    for name, inputs, repeat in cases:
        n, calls, size, ms, rate = bench(name, inputs, repeat)
        print(f"| {n} | {calls} | {size} | {ms:.2f} | {rate:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
