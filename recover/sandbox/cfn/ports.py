"""What the simulated CloudFormation needs from the world it runs in, as a Protocol, so the
engine and its handlers do not import the world (which builds the engine)."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any, Protocol

from recover.sandbox.cfn.model import SimStack
from recover.sandbox.clock import SimClock
from recover.sandbox.lambda_storage import CodeStorage

if TYPE_CHECKING:
    from recover.sandbox.cfn.custom import CustomResourceDesk


class WorldPort(Protocol):
    account: str
    region: str
    clock: SimClock
    code_storage: CodeStorage
    rng: random.Random
    endpoint: str  # where pre-signed custom resource response URLs point
    custom: CustomResourceDesk

    def new_uuid(self) -> str: ...

    def new_request_id(self) -> str: ...

    def random_suffix(self, n: int) -> str: ...

    def lambda_arn(self, name: str) -> str: ...

    def record_cfn_call(self, stack: SimStack, event_name: str, event_source: str,
                        params: dict[str, Any], *, response: dict[str, Any] | None = None,
                        error_code: str | None = None,
                        error_message: str | None = None) -> dict: ...

    def lambda_response_elements(self, config: dict[str, Any]) -> dict[str, Any]: ...
