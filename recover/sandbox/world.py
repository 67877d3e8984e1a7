"""The world: one simulated account (ids, clock, randomness) tying together the CloudFormation
engine, the CloudTrail recorder, the fault injector and moto's backends. Tests hold it as
`sandbox.world` to assert on what happened and to change things behind the tool's back."""

from __future__ import annotations

import random
import string
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from recover.sandbox.cfn.custom import CustomResourceDesk
from recover.sandbox.cfn.engine import CfnEngine
from recover.sandbox.cfn.model import SimStack
from recover.sandbox.clock import DEFAULT_START, SimClock
from recover.sandbox.faults import FaultInjector
from recover.sandbox.lambda_storage import CodeStorage
from recover.sandbox.moto_access import ACCOUNT
from recover.sandbox.trail import TrailRecorder

REGION = "us-east-1"
OPERATOR = "sandbox-operator"  # the IAM user the test credentials stand for


class World:
    def __init__(self, *, seed: int = 7, step_delay: float = 0.2, region: str = REGION,
                 clock: SimClock | None = None) -> None:
        self.account = ACCOUNT
        self.region = region
        self.clock = clock or SimClock(DEFAULT_START)
        self.rng = random.Random(seed)
        self.cfn = CfnEngine(self, step_delay=step_delay)
        self.trail = TrailRecorder(self.account, region, self.clock, seed=seed)
        self.faults = FaultInjector(self.account)
        self.roots: list[str] = []  # root stack names the scenario wants the tool to look at
        self.ground_truth: dict[str, Any] = {}
        self.trail_bucket: str | None = None  # where deliver_trail() writes log files
        # Lambda's COPY / REFERENCE code storage (GetFunction Code.ResolvedS3Object, Code.Error)
        self.code_storage = CodeStorage()
        # Every request the server received, in arrival order: {"t": monotonic seconds,
        # "service", "operation", "method", "fault": kind or None, "params": CloudFormation
        # parameters}. What a checker counts (mutating calls, LookupEvents per second, the
        # ResourcesToSkip received) without trusting the client's own account of it.
        self.requests: list[dict[str, Any]] = []
        self._requests_lock = threading.Lock()
        # set by the server: a boto3 client factory bound to the served endpoint
        self.client: Callable[[str], Any] = _no_client
        self.endpoint = ""  # set by the server: where pre-signed response URLs point
        # custom resource requests waiting for an answer (recover/sandbox/cfn/custom.py)
        self.custom = CustomResourceDesk(self)

    # --- deterministic ids ------------------------------------------------------------------

    def new_uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def new_request_id(self) -> str:
        return "".join(self.rng.choice(string.ascii_uppercase + string.digits) for _ in range(16))

    def random_suffix(self, n: int) -> str:
        return "".join(self.rng.choice(string.ascii_uppercase + string.digits) for _ in range(n))

    def lambda_arn(self, name: str) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account}:function:{name}"

    def role_arn(self, name: str) -> str:
        return f"arn:aws:iam::{self.account}:role/{name}"

    def log_request(self, service: str, operation: str, method: str) -> dict[str, Any]:
        entry: dict[str, Any] = {"t": time.monotonic(), "service": service,
                                 "operation": operation, "method": method, "fault": None}
        with self._requests_lock:
            self.requests.append(entry)
        return entry

    def requests_since(self, index: int) -> list[dict[str, Any]]:
        with self._requests_lock:
            return [dict(r) for r in self.requests[index:]]

    # --- identities and CloudTrail ------------------------------------------------------------

    def operator_identity(self) -> dict[str, Any]:
        return {"type": "IAMUser", "principalId": "AIDASANDBOXOPERATOR0001",
                "arn": f"arn:aws:iam::{self.account}:user/{OPERATOR}",
                "accountId": self.account, "accessKeyId": "AKIASANDBOXOPERATOR1",
                "userName": OPERATOR}

    def cloudformation_identity(self, stack: SimStack) -> dict[str, Any]:
        """Who CloudFormation acts as. With a service role: an assumed-role session of that role
        (session name guessed, docs/reference/aws-behaviour.md#unconfirmed-cloudtrail-details leaves invokedBy/userIdentity unconfirmed); without one: the
        caller's identity, invoked by CloudFormation."""
        if stack.role_arn:
            role = stack.role_arn.rsplit("/", 1)[-1]
            return {"type": "AssumedRole", "principalId": "AROASANDBOXCFNROLE01:AWSCloudFormation",
                    "arn": f"arn:aws:sts::{self.account}:assumed-role/{role}/AWSCloudFormation",
                    "accountId": self.account, "accessKeyId": "ASIASANDBOXCFNROLE01",
                    "sessionContext": {
                        "sessionIssuer": {"type": "Role", "principalId": "AROASANDBOXCFNROLE01",
                                          "arn": stack.role_arn, "accountId": self.account,
                                          "userName": role},
                        "attributes": {"creationDate": self.clock().strftime(
                            "%Y-%m-%dT%H:%M:%SZ"), "mfaAuthenticated": "false"}},
                    "invokedBy": "cloudformation.amazonaws.com"}
        ident = self.operator_identity()
        ident["invokedBy"] = "cloudformation.amazonaws.com"
        return ident

    def record_cfn_call(self, stack: SimStack, event_name: str, event_source: str,
                        params: dict[str, Any], *, response: dict[str, Any] | None = None,
                        error_code: str | None = None, error_message: str | None = None) -> dict:
        """A call CloudFormation made on the stack's behalf. sourceIPAddress/userAgent are
        "AWS Internal", as in the real CloudFormation-driven CreateFunction record quoted in
        docs/reference/aws-behaviour.md#cloudtrail-records (other captures show "cloudformation.amazonaws.com"; unconfirmed)."""
        name = params.get("functionName", "")
        return self.trail.record(
            event_name=event_name, event_source=event_source, request_parameters=params,
            response_elements=response, error_code=error_code, error_message=error_message,
            user_identity=self.cloudformation_identity(stack),
            resources=[{"ARN": name, "accountId": self.account, "type": "AWS::Lambda::Function"}]
            if name else None,
            source_ip="AWS Internal", user_agent="AWS Internal")

    def record_operator_call(self, event_name: str, event_source: str, params: dict[str, Any],
                             response: dict[str, Any] | None = None, **kw: Any) -> dict:
        return self.trail.record(event_name=event_name, event_source=event_source,
                                 request_parameters=params, response_elements=response,
                                 user_identity=self.operator_identity(),
                                 source_ip="203.0.113.10", user_agent="aws-cli/2.15.0", **kw)

    def lambda_response_elements(self, config: dict[str, Any]) -> dict[str, Any]:
        """FunctionConfiguration in CloudTrail's camelCase (docs/reference/aws-behaviour.md#cloudtrail-records)."""
        keys = ("FunctionName", "FunctionArn", "Runtime", "Role", "Handler", "CodeSize",
                "CodeSha256", "Version", "RevisionId", "State", "LastModified", "MemorySize",
                "Timeout", "PackageType", "Architectures")
        return {k[0].lower() + k[1:]: config[k] for k in keys if k in config}

    def deliver_trail(self) -> list[str]:
        """Write every CloudTrail record so far as trail log files in the trail bucket (docs/reference/aws-behaviour.md#cloudtrail-log-files-in-s3
        layout). Delivery is on demand: real CloudTrail delivers in ~5 minutes (docs/reference/aws-behaviour.md#cloudtrail-delivery-and-blind-spots)."""
        if not self.trail_bucket:
            return []
        s3 = self.client("s3")
        bucket = self.trail_bucket
        return self.trail.write_trail_files(
            lambda key, body: s3.put_object(Bucket=bucket, Key=key, Body=body), bucket=bucket)

    # --- test helpers -------------------------------------------------------------------------

    def settle(self, timeout: float = 60.0) -> None:
        """Wait until every running CloudFormation operation reached its terminal status."""
        self.cfn.wait_idle(timeout)

    def hold_operations(self) -> None:
        """Accepted CloudFormation operations wait (stay *_IN_PROGRESS) until released."""
        self.cfn.hold()

    def release_operations(self) -> None:
        self.cfn.release()

    def stack(self, name_or_id: str) -> SimStack:
        return self.cfn.get(name_or_id)

    def set_stack_status(self, stack: str, status: str, reason: str | None = None) -> None:
        self.cfn.force_status(stack, status, reason)

    def delay_role_propagation(self, checks: int) -> None:
        """IAM eventual consistency: CloudFormation refuses each newly created role `checks`
        times ("is invalid or cannot be assumed") before it can assume it."""
        self.cfn.role_propagation_checks = checks

    def operation_apis(self, available: bool) -> None:
        """Switch the operation APIs (LastOperations, OperationId, DescribeEvents,
        GetHookResult) off or back on: recover's fallback path (recover/sandbox/cfn/operations.py)."""
        from recover.sandbox.cfn import operations

        operations.set_unavailable(self.cfn, not available)

    def throttle(self, operation: str, percent: float = 100.0, seed: int = 0,
                 times: int | None = None) -> None:
        self.faults.throttle(operation, percent, seed, times)

    def rate_limit(self, operation: str, per_second: int) -> None:
        """AWS-like request-rate throttling of `operation` (see faults.rate_limit)."""
        self.faults.rate_limit(operation, per_second)

    def deny(self, action: str) -> None:
        self.faults.deny(action)

    def server_error(self, operation: str, percent: float = 100.0, seed: int = 0,
                     times: int | None = None) -> None:
        self.faults.server_error(operation, percent, seed, times)

    def connection_reset(self, operation: str, percent: float = 100.0, seed: int = 0,
                         times: int | None = None) -> None:
        """Requests of `operation` dropped unserved, with no HTTP answer (see faults.py)."""
        self.faults.connection_reset(operation, percent, seed, times)

    def answer_lost(self, operation: str, percent: float = 100.0, seed: int = 0,
                    times: int | None = None) -> None:
        """Requests of `operation` served, then the connection dropped before the answer."""
        self.faults.answer_lost(operation, percent, seed, times)

    def expire_credentials(self, after_calls: int = 0) -> None:
        self.faults.expire_credentials(after_calls)


def _no_client(service: str) -> Any:
    raise RuntimeError("the world has no server yet; use Sandbox.client")
