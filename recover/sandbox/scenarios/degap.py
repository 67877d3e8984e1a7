"""degap: the seed incident. Root `degap-prod` and its nested stacks are UPDATE_ROLLBACK_FAILED
because the previous code of four Go Lambda functions expired from the versioned deployment
bucket.

Timeline (simulated clock): day 0 deploy v1; day 12 someone deletes `degap-prod-report` by hand
and recreates it with a hand-built zip (out of band, in CloudTrail); day 30 garbage collection
expires the v1 objects; day 31 the v2 update fails on `NightlySchedule` (forward failure),
`DeadLetterQueue` is cancelled, and the rollback fails on every function.

Ground truth (also in `world.ground_truth`):
- deployment bucket `degap-artifacts-123456789012-us-east-1` (versioned), trail bucket
  `degap-cloudtrail-123456789012` (trail log files, AWSLogs/... layout);
- ApiStack child: `OrdersFunction` (degap-prod-orders) and `UsersFunction` (degap-prod-users):
  previous key hidden by a delete marker; the previous version is still there (restore by
  copying it, or deleting the marker);
- WorkersStack child: `IngestFunction` (degap-prod-ingest): previous key gone for good (all
  versions purged); the same bytes are still deployed as published version 1 of
  degap-prod-ingest (GetFunction Qualifier=1) and as $LATEST of `degap-staging-ingest`;
  `ReportFunction` (degap-prod-report): previous key behind a delete marker; the function was
  deleted and recreated by hand on day 12;
- forward failure `NightlySchedule` and cancelled `DeadLetterQueue` (WorkersStack) must NOT be
  skipped; once the four keys are restored, ContinueUpdateRollback on the root succeeds with no
  skips.
"""

from __future__ import annotations

from recover.sandbox.scenarios import _kit as kit
from recover.sandbox.world import World

ROOT = "degap-prod"
DAY = 86400.0


def seed(world: World) -> None:
    acct, region = world.account, world.region
    deploy = f"degap-artifacts-{acct}-{region}"
    trail_bucket = f"degap-cloudtrail-{acct}"
    kit.bucket(world, deploy, versioned=True)
    kit.bucket(world, trail_bucket)
    exec_role = kit.role(world, "degap-lambda-exec", kit.LAMBDA_TRUST)
    names = {"OrdersFunction": "degap-prod-orders", "UsersFunction": "degap-prod-users",
             "IngestFunction": "degap-prod-ingest", "ReportFunction": "degap-prod-report"}
    v1 = {lid: kit.go_zip(fn, "v1") for lid, fn in names.items()}
    v2 = {lid: kit.go_zip(fn, "v2") for lid, fn in names.items()}
    v1_keys = {lid: kit.asset_key(data) for lid, data in v1.items()}
    v2_keys = {lid: kit.asset_key(data) for lid, data in v2.items()}

    # day 0: v1 deployed (the zips uploaded, functions created by CloudFormation)
    for lid in names:
        kit.put(world, deploy, v1_keys[lid], v1[lid])
    fn = {lid: kit.go_function(world, None, lid, names[lid], deploy, v1_keys[lid], exec_role)
          for lid in names}
    world.client("lambda").publish_version(FunctionName=names["IngestFunction"])
    world.client("lambda").create_function(
        FunctionName="degap-staging-ingest", Runtime="provided.al2023", Handler="bootstrap",
        Role=exec_role, Code={"ZipFile": v1["IngestFunction"]})
    root = world.cfn.add_stack(ROOT, [
        kit.res("ConfigTable", "AWS::DynamoDB::Table", "degap-prod-config"),
        kit.nested("ApiStack"), kit.nested("WorkersStack")], description="Degap production")
    api = world.cfn.add_stack("", [fn["OrdersFunction"], fn["UsersFunction"]],
                              parent=root, logical_id="ApiStack")
    workers = world.cfn.add_stack("", [
        fn["IngestFunction"], fn["ReportFunction"],
        kit.res("NightlySchedule", "AWS::Events::Rule", "degap-prod-nightly",
                ScheduleExpression="cron(0 2 * * ? *)"),
        kit.res("DeadLetterQueue", "AWS::SQS::Queue",
                f"https://sqs.{region}.amazonaws.com/{acct}/degap-prod-dlq")],
        parent=root, logical_id="WorkersStack")
    world.roots.append(ROOT)

    # day 12: degap-prod-report deleted and recreated by hand (out of band)
    world.clock.advance(12 * DAY)
    lam = world.client("lambda")
    lam.delete_function(FunctionName=names["ReportFunction"])
    world.record_operator_call("DeleteFunction20150331", "lambda.amazonaws.com",
                               {"functionName": names["ReportFunction"]})
    world.clock.advance(600)
    hand = kit.go_zip(names["ReportFunction"], "hand-built")
    config = lam.create_function(FunctionName=names["ReportFunction"], Runtime="provided.al2023",
                                 Handler="bootstrap", Role=exec_role, Code={"ZipFile": hand})
    world.record_operator_call("CreateFunction20150331", "lambda.amazonaws.com",
                               {"functionName": names["ReportFunction"],
                                "runtime": "provided.al2023", "role": exec_role,
                                "handler": "bootstrap"},
                               world.lambda_response_elements(config))

    # day 30: the v1 objects expire (delete markers; ingest's old versions purged for good)
    world.clock.advance(18 * DAY)
    for lid in names:
        kit.expire(world, deploy, v1_keys[lid], purge=lid == "IngestFunction")

    # day 31: the v2 update: code deployed, then NightlySchedule fails and the rollback runs
    world.clock.advance(DAY)
    new_code = {}
    for lid in names:
        kit.put(world, deploy, v2_keys[lid], v2[lid])
        new_code[lid] = kit.deploy_code(world, None, names[lid], deploy, v2_keys[lid])
    schedule_reason = kit_reason(world)
    world.cfn.fail_update(root, changes={
        api.name: {lid: {**fn[lid].properties, "Code": new_code[lid]}
                   for lid in ("OrdersFunction", "UsersFunction")},
        workers.name: {
            **{lid: {**fn[lid].properties, "Code": new_code[lid]}
               for lid in ("IngestFunction", "ReportFunction")},
            "NightlySchedule": {"ScheduleExpression": "cron(0 2 * * *)"},
            "DeadLetterQueue": {"MessageRetentionPeriod": 1209600}},
    }, failure=(workers.name, "NightlySchedule", schedule_reason))
    world.clock.advance(900)
    kit.write_trail(world, trail_bucket)

    world.ground_truth.update({
        "root": ROOT, "api_stack": api.name, "workers_stack": workers.name,
        "deployment_bucket": deploy, "trail_bucket": trail_bucket,
        "missing": {
            f"{api.name}.OrdersFunction": {"key": v1_keys["OrdersFunction"],
                                           "source": "delete-marker",
                                           "sha256": kit.sha(v1["OrdersFunction"])},
            f"{api.name}.UsersFunction": {"key": v1_keys["UsersFunction"],
                                          "source": "delete-marker",
                                          "sha256": kit.sha(v1["UsersFunction"])},
            f"{workers.name}.IngestFunction": {"key": v1_keys["IngestFunction"],
                                               "source": "published-version",
                                               "function": names["IngestFunction"],
                                               "qualifier": "1",
                                               "also": "degap-staging-ingest",
                                               "sha256": kit.sha(v1["IngestFunction"])},
            f"{workers.name}.ReportFunction": {"key": v1_keys["ReportFunction"],
                                               "source": "delete-marker",
                                               "sha256": kit.sha(v1["ReportFunction"])},
        },
        "out_of_band": [names["ReportFunction"]],
        "forward_failed": f"{workers.name}.NightlySchedule",
        "cancelled": f"{workers.name}.DeadLetterQueue",
        "rollback_failed": [f"{api.name}.OrdersFunction", f"{api.name}.UsersFunction",
                            f"{workers.name}.IngestFunction", f"{workers.name}.ReportFunction"],
        "zips": {lid: v1[lid] for lid in names},
    })


def kit_reason(world: World) -> str:
    from recover.sandbox.cfn.handlers import handler_message

    return handler_message(world, "EventBridge", 400,
                           "Parameter ScheduleExpression is not valid.", "InvalidRequest")
