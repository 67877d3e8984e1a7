"""Serving the sandbox: moto's WSGI app behind our middleware, on 127.0.0.1 only, in a thread.

Only one sandbox per process: moto's backends are process-global and are reset on start.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

import boto3
from botocore.config import Config
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from recover.sandbox import moto_access
from recover.sandbox.clock import SimClock
from recover.sandbox.middleware import SandboxMiddleware
from recover.sandbox.world import World

HOST = "127.0.0.1"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing",
               "aws_session_token": "testing"}
_ACTIVE: list[Sandbox] = []
_ACTIVE_LOCK = threading.Lock()


class _QuietHandler(WSGIRequestHandler):
    """No access log: the sandbox serves tests and demos, whose output must stay readable."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class Sandbox:
    def __init__(self, world: World, server: BaseWSGIServer) -> None:
        self.world = world
        self._server = server
        self.endpoint = f"http://{HOST}:{server.server_port}"
        self.port = server.server_port
        self._thread = threading.Thread(target=server.serve_forever, name="sandbox-server",
                                        kwargs={"poll_interval": 0.1}, daemon=True)
        self._stopped = False

    @property
    def region(self) -> str:
        return self.world.region

    @property
    def account(self) -> str:
        return self.world.account

    @property
    def stacks(self) -> list[str]:
        """Root stack names the scenario built."""
        return list(self.world.roots)

    def client(self, service: str, **kwargs: Any) -> Any:
        """A boto3 client bound to this sandbox (test credentials, no retries on throttling so
        fault tests see the error)."""
        cfg = kwargs.pop("config", Config(retries={"total_max_attempts": 1, "mode": "standard"}))
        return boto3.client(service, endpoint_url=self.endpoint, region_name=self.region,
                            config=cfg, **CREDENTIALS, **kwargs)

    def env(self) -> dict[str, str]:
        """The environment a shell (or subprocess) needs to talk to this sandbox."""
        return {"AWS_ENDPOINT_URL": self.endpoint, "AWS_REGION": self.region,
                "AWS_DEFAULT_REGION": self.region, "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self.world.release_operations()
        self.world.settle(timeout=10)
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
        with _ACTIVE_LOCK:
            if self in _ACTIVE:
                _ACTIVE.remove(self)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start(scenario: str | None = None, port: int = 0, step_delay: float = 0.2,
          seed: int = 7, builder: Callable[[World], None] | None = None,
          clock_start: datetime | None = None) -> Sandbox:
    """`builder` seeds the world instead of a named scenario (the generated worlds,
    recover/sandbox/generated); `clock_start` is where the simulated clock starts."""
    from recover.sandbox.scenarios import SCENARIOS

    if scenario is not None and scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; known: {', '.join(sorted(SCENARIOS))}")
    with _ACTIVE_LOCK:
        if _ACTIVE:
            raise RuntimeError("a sandbox is already running in this process (moto's backends "
                               "are process-global): stop it first")
        moto_access.reset_all()
        moto_access.install_aws_managed_policies()
        world = World(seed=seed, step_delay=step_delay,
                      clock=SimClock(clock_start) if clock_start is not None else None)
        app = SandboxMiddleware(DomainDispatcherApplication(create_backend_app), world)
        server = make_server(HOST, port, app, threaded=True, request_handler=_QuietHandler)
        sandbox = Sandbox(world, server)
        _ACTIVE.append(sandbox)
    sandbox._thread.start()
    world.client = sandbox.client
    world.endpoint = sandbox.endpoint
    try:
        if scenario is not None:
            SCENARIOS[scenario](world)
        if builder is not None:
            builder(world)
    except BaseException:
        sandbox.stop()
        raise
    world.cfn.finish_seeding()
    world.clock.go_live()
    return sandbox
