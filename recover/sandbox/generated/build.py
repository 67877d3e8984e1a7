"""Seed a sandbox World from a WorldSpec: the same causal path as the named scenarios (real
objects in moto, CloudFormation failure states reached by the engine's own walks, CloudTrail
records of every call), and the facts a checker needs in `world.ground_truth["generated"]`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from recover.sandbox.cfn.handlers import handler_message
from recover.sandbox.cfn.model import SimResource, SimStack
from recover.sandbox.generated.spec import CODE_KINDS, WorldSpec
from recover.sandbox.scenarios import _kit as kit
from recover.sandbox.world import World

DAY = 86400.0
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"


def build(world: World, spec: WorldSpec, files_dir: Path) -> dict[str, Any]:
    """Seed `world` (a started sandbox still seeding) with `spec`; engineer-named files go to
    `files_dir`. Returns the facts (also in world.ground_truth["generated"])."""
    files_dir.mkdir(parents=True, exist_ok=True)
    facts: dict[str, Any] = {"seed": spec.seed, "root": spec.root, "stack_names": {},
                             "stack_ids": {}, "old_code": {}, "new_code": {}, "functions": {},
                             "buckets": {}, "security_groups": {}, "role_arn": None,
                             "neighbour_roles": [], "secret": spec.secret}
    world.ground_truth["generated"] = facts
    if spec.family == "delete":
        _delete_world(world, spec, facts)
    else:
        _rollback_world(world, spec, facts, files_dir)
    return facts


def _stacks(world: World, spec: WorldSpec, facts: dict[str, Any],
            resources: dict[int, list[SimResource]], role_arn: str | None) -> dict[int, SimStack]:
    """Create the stack tree (CREATE_COMPLETE), the root with a NoEcho parameter whose value
    appears only in the CreateStack CloudTrail record (DescribeStacks masks it, as AWS does)."""
    built: dict[int, SimStack] = {}
    for s in spec.stacks:
        own = list(resources.get(s.index, []))
        own += [kit.nested(c.logical_id) for c in spec.stacks  # type: ignore[arg-type]
                if c.parent == s.index]
        if s.parent is None:
            stack = world.cfn.add_stack(spec.root, own, role_arn=role_arn,
                                        parameters={"DbPassword": "****", "Stage": "prod"},
                                        description=f"generated world {spec.seed}")
            stack.template["Parameters"] = {"DbPassword": {"Type": "String", "NoEcho": True},
                                            "Stage": {"Type": "String"}}
            world.record_operator_call(
                "CreateStack", "cloudformation.amazonaws.com",
                {"stackName": spec.root, "roleARN": role_arn, "parameters": [
                    {"parameterKey": "DbPassword", "parameterValue": spec.secret},
                    {"parameterKey": "Stage", "parameterValue": "prod"}]},
                {"stackId": stack.stack_id},
                resources=[{"ARN": stack.stack_id, "accountId": world.account,
                            "type": "AWS::CloudFormation::Stack"}])
        else:
            stack = world.cfn.add_stack("", own, parent=built[s.parent], logical_id=s.logical_id)
        built[s.index] = stack
        facts["stack_names"][s.index] = stack.name
        facts["stack_ids"][s.index] = stack.stack_id
    world.roots.append(spec.root)
    facts["root_id"] = built[0].stack_id
    return built


# --- rollback worlds ------------------------------------------------------------------------

def _service_role(world: World, spec: WorldSpec, facts: dict[str, Any]) -> str | None:
    if not spec.role_qualifier:
        return None
    acct, region, q = world.account, world.region, spec.role_qualifier
    name = f"cdk-{q}-cfn-exec-role-{acct}-{region}"
    arn = kit.role(world, name, kit.CFN_TRUST, managed=[ADMIN])
    kit.iam_event(world, "CreateRole", arn, {"roleName": name, "path": "/",
                                             "assumeRolePolicyDocument": json.dumps(kit.CFN_TRUST)},
                  world.operator_identity())
    # neighbours recover must never touch: the same qualifier's other roles, another
    # qualifier's exec role
    other = "x" + q[1:] if q[0] != "x" else "y" + q[1:]
    account_trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{acct}:root"},
        "Action": "sts:AssumeRole"}]}
    for neighbour, trust, managed in (
            (f"cdk-{q}-deploy-role-{acct}-{region}", account_trust, []),
            (f"cdk-{other}-cfn-exec-role-{acct}-{region}", kit.CFN_TRUST, [ADMIN])):
        kit.role(world, neighbour, trust, managed=managed)
        facts["neighbour_roles"].append(neighbour)
    facts["role_arn"], facts["role_name"] = arn, name
    return arn


def _delete_role(world: World, facts: dict[str, Any]) -> None:
    iam, name, arn = world.client("iam"), facts["role_name"], facts["role_arn"]
    iam.detach_role_policy(RoleName=name, PolicyArn=ADMIN)
    iam.delete_role(RoleName=name)
    cleanup = dict(world.operator_identity(), userName="cleanup-bot",
                   arn=f"arn:aws:iam::{world.account}:user/cleanup-bot")
    kit.iam_event(world, "DetachRolePolicy", arn, {"roleName": name, "policyArn": ADMIN}, cleanup)
    kit.iam_event(world, "DeleteRole", arn, {"roleName": name}, cleanup)


def _rollback_world(world: World, spec: WorldSpec, facts: dict[str, Any],
                    files_dir: Path) -> None:
    acct, region = world.account, world.region
    deploy = f"gw{spec.seed}-assets-{acct}-{region}"
    kit.bucket(world, deploy, versioned=True)
    facts["deploy_bucket"] = deploy
    fn_role = kit.role(world, f"gw{spec.seed}-fn-role", kit.LAMBDA_TRUST)
    role_arn = _service_role(world, spec, facts)
    functions = [r for r in spec.resources if r.kind in (*CODE_KINDS, "out-of-band")]
    sim: dict[tuple[int, str], SimResource] = {}
    by_stack: dict[int, list[SimResource]] = {}
    for r in spec.resources:
        if r in functions:
            old, name = spec.code(r, "old"), spec.function_name(r)
            key = spec.old_key(r)
            kit.put(world, deploy, key, old)
            res = kit.go_function(world, role_arn, r.logical_id, name, deploy, key, fn_role)
            if r.kind == "code-lambda-version":
                world.client("lambda").publish_version(FunctionName=name)
            if r.kind == "code-file":
                spec.file_path(files_dir, r).write_bytes(old)
            facts["functions"][name] = {"stack": r.stack, "logical_id": r.logical_id,
                                        "kind": r.kind, "bucket": deploy, "key": key,
                                        "old_sha": kit.sha(old),
                                        "new_sha": kit.sha(spec.code(r, "new"))}
            facts["old_code"][f"{deploy}/{key}"] = kit.sha(old)
        elif r.kind == "forward-failed":
            res = kit.res(r.logical_id, "AWS::Events::Rule", f"gw{spec.seed}-{r.logical_id}",
                          ScheduleExpression="cron(0 2 * * ? *)")
        elif r.kind == "cancelled":
            res = kit.res(r.logical_id, "AWS::SQS::Queue",
                          f"https://sqs.{region}.amazonaws.com/{acct}/gw{spec.seed}-"
                          f"{r.logical_id.lower()}", VisibilityTimeout=30)
        else:
            res = kit.res(r.logical_id, "AWS::DynamoDB::Table", f"gw{spec.seed}-{r.logical_id}")
        sim[r.ref] = res
        by_stack.setdefault(r.stack, []).append(res)
    stacks = _stacks(world, spec, facts, by_stack, role_arn)

    # weeks later: the old objects expire (lifecycle / CDK garbage collection, not in CloudTrail)
    world.clock.advance((spec.age_days - 2) * DAY)
    for r in functions:
        if r.kind in CODE_KINDS:
            kit.expire(world, deploy, spec.old_key(r), purge=r.kind != "code-s3-version")
    world.clock.advance(DAY)

    # the update: new code deployed to every function, then a resource fails forward
    changes: dict[str, dict[str, dict[str, Any]]] = {}
    for r in functions:
        new, name = spec.code(r, "new"), spec.function_name(r)
        new_key = kit.asset_key(new)
        kit.put(world, deploy, new_key, new)
        facts["new_code"][f"{deploy}/{new_key}"] = kit.sha(new)
        code = kit.deploy_code(world, role_arn, name, deploy, new_key)
        changes.setdefault(stacks[r.stack].name, {})[r.logical_id] = {
            **sim[r.ref].properties, "Code": code}
    for r in functions:
        if r.kind == "out-of-band":  # deleted by hand while the update ran
            name = spec.function_name(r)
            world.client("lambda").delete_function(FunctionName=name)
            world.record_operator_call("DeleteFunction20150331", "lambda.amazonaws.com",
                                       {"functionName": name})
    if spec.role_qualifier:  # a clean-up deletes the bootstrap stack's role meanwhile
        _delete_role(world, facts)
    failing = next(r for r in spec.resources if r.kind == "forward-failed")
    last = stacks[failing.stack].name
    changes.setdefault(last, {})[failing.logical_id] = {"ScheduleExpression": "cron(0 2 * * *)"}
    for r in spec.resources:
        if r.kind == "cancelled":
            changes[last][r.logical_id] = {"VisibilityTimeout": 60}
    reason = handler_message(world, "EventBridge", 400,
                             "Parameter ScheduleExpression is not valid.", "InvalidRequest")
    world.cfn.fail_update(stacks[0], changes=changes, failure=(last, failing.logical_id, reason))
    _trail_noise(world, spec)
    world.clock.advance(600)


def _trail_noise(world: World, spec: WorldSpec) -> None:
    """Other teams' deploys after the failure: successful code updates that match the same
    LookupEvents filter, newest first, so the relevant records land on a later page."""
    world.clock.advance(60)
    for i in range(spec.trail_filler):
        name = f"gw-noise-{i % 7}"
        data = kit.go_zip(name, f"noise-{spec.seed}-{i}")
        key = kit.asset_key(data)
        world.trail.record(
            event_name="UpdateFunctionCode20150331v2", event_source="lambda.amazonaws.com",
            request_parameters={"functionName": world.lambda_arn(name),
                                "s3Bucket": f"noise-assets-{world.account}", "s3Key": key,
                                "publish": False, "dryRun": False},
            response_elements={"functionName": name, "functionArn": world.lambda_arn(name),
                               "codeSha256": kit.sha(data), "codeSize": len(data)},
            user_identity=world.operator_identity(),
            resources=[{"ARN": world.lambda_arn(name), "accountId": world.account,
                        "type": "AWS::Lambda::Function"}],
            source_ip="203.0.113.20", user_agent="aws-cli/2.15.0")
        world.clock.advance(20)


# --- delete worlds --------------------------------------------------------------------------

def _delete_world(world: World, spec: WorldSpec, facts: dict[str, Any]) -> None:
    acct, region = world.account, world.region
    by_stack: dict[int, list[SimResource]] = {}
    ec2 = world.client("ec2")
    vpc = subnet = None
    for r in spec.resources:
        if r.kind == "bucket-nonempty":
            name = f"gw{spec.seed}-{r.logical_id.lower()}-{acct}"
            kit.bucket(world, name, versioned=True)
            kit.put(world, name, "exports/a.csv", b"id,total\n1,10\n")
            kit.put(world, name, "exports/a.csv", b"id,total\n1,12\n")
            kit.put(world, name, "exports/b.csv", b"id,total\n2,7\n")
            world.client("s3").delete_object(Bucket=name, Key="exports/b.csv")
            facts["buckets"][r.logical_id] = name
            res = kit.res(r.logical_id, "AWS::S3::Bucket", name, BucketName=name,
                          VersioningConfiguration={"Status": "Enabled"})
        elif r.kind == "dependency":
            if vpc is None:
                vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
                subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.1.0/24")["Subnet"][
                    "SubnetId"]
            sg = ec2.create_security_group(GroupName=f"gw{spec.seed}-{r.logical_id}",
                                           Description="generated", VpcId=vpc)["GroupId"]
            ec2.create_network_interface(SubnetId=subnet, Groups=[sg], Description="by hand")
            facts["security_groups"][r.logical_id] = sg
            res = kit.res(r.logical_id, "AWS::EC2::SecurityGroup", sg, VpcId=vpc)
        else:
            res = kit.res(r.logical_id, "AWS::SQS::Queue",
                          f"https://sqs.{region}.amazonaws.com/{acct}/gw{spec.seed}-"
                          f"{r.logical_id.lower()}")
        by_stack.setdefault(r.stack, []).append(res)
    stacks = _stacks(world, spec, facts, by_stack, None)
    world.clock.advance((spec.age_days - 1) * DAY)
    world.cfn.start_delete(stacks[0])
    world.clock.advance(600)

