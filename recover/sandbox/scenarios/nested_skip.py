"""nested-skip: `orders-platform` is UPDATE_ROLLBACK_FAILED because the rollback of a nested
database cannot be fixed (an engine upgrade cannot be downgraded), so the only way out is to
skip it by `<child-stack-name>.<LogicalId>` in one ContinueUpdateRollback on the root.

Ground truth (also in `world.ground_truth`):
- child `orders-platform-DataStack-<12>`: `Database` (AWS::RDS::DBInstance) UPDATE_FAILED in the
  rollback, never fixable -> the correct skip list is exactly [`<child>.Database`];
- `DbParameters` failed in the forward update and `CpuAlarm` was cancelled: skipping either is
  refused with `Only the resources failed during UpdateRollback are allowed to be skipped`;
- `DataStack.Database` (logical id as prefix) -> `Stack [DataStack] does not exist`;
- bare `Database` -> does not belong to the root; `DataStack` itself (child not DELETE_*) ->
  `Nested stacks could not be skipped`;
- root resource `ApiGateway` is fine.
"""

from __future__ import annotations

from recover.sandbox.cfn.handlers import handler_message
from recover.sandbox.scenarios import _kit as kit
from recover.sandbox.world import World

ROOT = "orders-platform"


def seed(world: World) -> None:
    root = world.cfn.add_stack(ROOT, [
        kit.res("ApiGateway", "AWS::ApiGateway::RestApi", "a1b2c3d4e5"),
        kit.nested("DataStack")], description="Orders platform")
    database = kit.res("Database", "AWS::RDS::DBInstance", "orders-db", EngineVersion="15.8",
                       Engine="postgres", DBInstanceClass="db.t4g.medium")
    data = world.cfn.add_stack("", [
        database,
        kit.res("DbParameters", "AWS::RDS::DBParameterGroup", "orders-db-params",
                Family="postgres15"),
        kit.res("CpuAlarm", "AWS::CloudWatch::Alarm", "orders-db-cpu", Threshold=80)],
        parent=root, logical_id="DataStack")
    world.roots.append(ROOT)
    world.clock.advance(7 * 86400)
    # The rollback would have to downgrade the engine: RDS refuses, whatever the operator fixes.
    database.rollback_failure = handler_message(
        world, "Rds", 400, "Cannot upgrade postgres from 16.4 to 15.8", "InvalidRequest")
    world.cfn.fail_update(root, changes={data.name: {
        "Database": {**database.properties, "EngineVersion": "16.4"},
        "DbParameters": {"Family": "postgres16"},
        "CpuAlarm": {"Threshold": 90}}},
        failure=(data.name, "DbParameters", handler_message(
            world, "Rds", 400, "The parameter group family postgres16 is not valid for "
            "this engine version", "InvalidRequest")))
    world.ground_truth.update({
        "root": ROOT, "child": data.name, "skip": [f"{data.name}.Database"],
        "forward_failed": f"{data.name}.DbParameters", "cancelled": f"{data.name}.CpuAlarm",
        "wrong_skips": {
            f"{data.name}.DbParameters":
                "Only the resources failed during UpdateRollback are allowed to be skipped",
            f"{data.name}.CpuAlarm":
                "Only the resources failed during UpdateRollback are allowed to be skipped",
            "DataStack.Database": "Stack [DataStack] does not exist",
            "DataStack": "Nested stacks could not be skipped",
        },
    })
