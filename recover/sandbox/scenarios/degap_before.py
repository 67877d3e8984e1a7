"""degap-before: the Degap world before the incident. Root `degap-prod` and its nested ApiStack /
WorkersStack are UPDATE_COMPLETE on v1 and healthy, but the versioned deployment bucket has a
lifecycle rule that will expire the v1 code the current templates reference, so the first
failed deploy after day 30 cannot roll back (what happened in `degap`).

Timeline (simulated clock): day -7 create on v0; day 0 update to v1 (the functions' code and
the nested templates); the world stops on day 20, ten days before the rule fires.

Ground truth (also in `world.ground_truth`):
- deployment bucket `degap-artifacts-<acct>-<region>` (versioned) with lifecycle rules
  `expire-deployments-30d` (whole bucket: Expiration 30 days, NoncurrentVersionExpiration
  1 day: the one that takes the v1 keys), `logs-7d` (prefix logs/), `scratch-by-tag` (tag
  scratch=true) and `old-disabled` (Disabled): the last three never match a referenced key;
- keys at risk, all through `expire-deployments-30d`: the four v1 zips (Orders, Users in
  ApiStack; Ingest, Report in WorkersStack) and the nested templates templates/api-v1.yaml,
  templates/workers-v1.yaml referenced by the root's TemplateURLs;
- templates are YAML with short-form tags (!Ref, !Sub, !GetAtt); bucket names come from the
  root parameter ArtifactsBucket (passed to the children) and from !Sub with AWS::AccountId /
  AWS::Region; nothing is missing today.
"""

from __future__ import annotations

from recover.sandbox.scenarios import _kit as kit
from recover.sandbox.world import World

ROOT = "degap-prod"
DAY = 86400.0
RULE = "expire-deployments-30d"
NAMES = {"OrdersFunction": "degap-prod-orders", "UsersFunction": "degap-prod-users",
         "IngestFunction": "degap-prod-ingest", "ReportFunction": "degap-prod-report"}

ROOT_TEMPLATE = """\
AWSTemplateFormatVersion: 2010-09-09
Description: Degap production
Parameters:
  ArtifactsBucket:
    Type: String
  Stage:
    Type: String
    Default: prod
Resources:
  ConfigTable:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub degap-${Stage}-config
  ApiStack:
    Type: AWS::CloudFormation::Stack
    Properties:
      TemplateURL: !Sub https://s3.${AWS::Region}.amazonaws.com/${ArtifactsBucket}/templates/api-{v}.yaml
      Parameters:
        ArtifactsBucket: !Ref ArtifactsBucket
  WorkersStack:
    Type: AWS::CloudFormation::Stack
    Properties:
      TemplateURL: !Sub "https://${ArtifactsBucket}.s3.${AWS::Region}.amazonaws.com/templates/workers-{v}.yaml"
      Parameters:
        ArtifactsBucket: !Ref ArtifactsBucket
"""

FUNCTION = """\
  {lid}:
    Type: AWS::Lambda::Function
    Properties:
      FunctionName: {name}
      Runtime: provided.al2023
      Handler: bootstrap
      Architectures: [arm64]
      Role: !Sub arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/degap-lambda-exec
      Code:
        S3Bucket: {bucket}
        S3Key: {key}
"""

API_HEAD = """\
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  ArtifactsBucket:
    Type: String
Resources:
"""

WORKERS_TAIL = """\
  NightlySchedule:
    Type: AWS::Events::Rule
    Properties:
      Name: degap-prod-nightly
      ScheduleExpression: cron(0 2 * * ? *)
      Targets:
        - Id: ingest
          Arn: !GetAtt IngestFunction.Arn
  DeadLetterQueue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: degap-prod-dlq
"""


def templates(version: str, keys: dict[str, str]) -> tuple[str, str, str]:
    """(root, api, workers) template bodies of one version."""
    api = API_HEAD + "".join(FUNCTION.format(lid=lid, name=NAMES[lid], bucket="!Ref ArtifactsBucket",
                                             key=keys[lid])
                             for lid in ("OrdersFunction", "UsersFunction"))
    workers = (API_HEAD
               + FUNCTION.format(lid="IngestFunction", name=NAMES["IngestFunction"],
                                 bucket="!Sub degap-artifacts-${AWS::AccountId}-${AWS::Region}",
                                 key=keys["IngestFunction"])
               + FUNCTION.format(lid="ReportFunction", name=NAMES["ReportFunction"],
                                 bucket="!Ref ArtifactsBucket", key=keys["ReportFunction"])
               + WORKERS_TAIL)
    return ROOT_TEMPLATE.replace("{v}", version), api, workers


def seed(world: World) -> None:
    acct, region = world.account, world.region
    deploy = f"degap-artifacts-{acct}-{region}"
    kit.bucket(world, deploy, versioned=True)
    world.client("s3").put_bucket_lifecycle_configuration(
        Bucket=deploy, LifecycleConfiguration={"Rules": [
            {"ID": RULE, "Filter": {"Prefix": ""}, "Status": "Enabled",
             "Expiration": {"Days": 30}, "NoncurrentVersionExpiration": {"NoncurrentDays": 1}},
            {"ID": "logs-7d", "Filter": {"Prefix": "logs/"}, "Status": "Enabled",
             "Expiration": {"Days": 7}},
            {"ID": "scratch-by-tag", "Filter": {"Tag": {"Key": "scratch", "Value": "true"}},
             "Status": "Enabled", "Expiration": {"Days": 1}},
            {"ID": "old-disabled", "Filter": {"Prefix": ""}, "Status": "Disabled",
             "Expiration": {"Days": 2}},
        ]})
    exec_role = kit.role(world, "degap-lambda-exec", kit.LAMBDA_TRUST)
    zips = {v: {lid: kit.go_zip(fn, v) for lid, fn in NAMES.items()} for v in ("v0", "v1")}
    keys = {v: {lid: kit.asset_key(z) for lid, z in zips[v].items()} for v in zips}
    for v in zips:
        for lid in NAMES:
            kit.put(world, deploy, keys[v][lid], zips[v][lid])

    # day -7 (the scenario's start): created on v0
    root_v0, api_v0, workers_v0 = templates("v0", keys["v0"])
    for name, body in (("api-v0.yaml", api_v0), ("workers-v0.yaml", workers_v0)):
        kit.put(world, deploy, f"templates/{name}", body.encode())
    fn = {lid: kit.go_function(world, None, lid, NAMES[lid], deploy, keys["v0"][lid], exec_role)
          for lid in NAMES}
    params = {"ArtifactsBucket": deploy}
    root = world.cfn.add_stack(ROOT, [
        kit.res("ConfigTable", "AWS::DynamoDB::Table", "degap-prod-config"),
        kit.nested("ApiStack"), kit.nested("WorkersStack")], description="Degap production",
        parameters={**params, "Stage": "prod"}, template_body=root_v0)
    api = world.cfn.add_stack("", [fn["OrdersFunction"], fn["UsersFunction"]], parent=root,
                              logical_id="ApiStack", parameters=dict(params),
                              template_body=api_v0)
    workers = world.cfn.add_stack("", [
        fn["IngestFunction"], fn["ReportFunction"],
        kit.res("NightlySchedule", "AWS::Events::Rule", "degap-prod-nightly",
                ScheduleExpression="cron(0 2 * * ? *)"),
        kit.res("DeadLetterQueue", "AWS::SQS::Queue",
                f"https://sqs.{region}.amazonaws.com/{acct}/degap-prod-dlq")],
        parent=root, logical_id="WorkersStack", parameters=dict(params),
        template_body=workers_v0)
    world.roots.append(ROOT)

    # day 0: the v1 update (code and nested templates), successful
    world.clock.advance(7 * DAY)
    root_v1, api_v1, workers_v1 = templates("v1", keys["v1"])
    for name, body in (("api-v1.yaml", api_v1), ("workers-v1.yaml", workers_v1)):
        kit.put(world, deploy, f"templates/{name}", body.encode())
    code = {lid: kit.deploy_code(world, None, NAMES[lid], deploy, keys["v1"][lid]) for lid in NAMES}
    world.cfn.complete_update(root, changes={
        api.name: {lid: {**fn[lid].properties, "Code": code[lid]}
                   for lid in ("OrdersFunction", "UsersFunction")},
        workers.name: {lid: {**fn[lid].properties, "Code": code[lid]}
                       for lid in ("IngestFunction", "ReportFunction")},
    }, template_bodies={ROOT: root_v1, api.name: api_v1, workers.name: workers_v1})

    # day 20: today; the rule fires on day 30
    world.clock.advance(20 * DAY)
    at_risk = {f"{api.name}.{lid}": keys["v1"][lid] for lid in ("OrdersFunction", "UsersFunction")}
    at_risk.update({f"{workers.name}.{lid}": keys["v1"][lid]
                    for lid in ("IngestFunction", "ReportFunction")})
    at_risk.update({f"{ROOT}.ApiStack": "templates/api-v1.yaml",
                    f"{ROOT}.WorkersStack": "templates/workers-v1.yaml"})
    world.ground_truth.update({
        "root": ROOT, "api_stack": api.name, "workers_stack": workers.name,
        "deployment_bucket": deploy, "rule": RULE, "at_risk": at_risk,
        "expiration_days": 30, "noncurrent_days": 1,
        "not_matching_rules": ["logs-7d", "scratch-by-tag", "old-disabled"],
        "missing": [],
    })
