"""express-failed: get a stack out of UPDATE_FAILED after a failed EXPRESS-mode update by
replaying its last stable template in EXPRESS mode (RollbackStack and classic updates are
refused for such a stack, docs/reference/aws-behaviour.md#express-deployment-mode)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from recover.runbooks.spec import PASS_ROLE, ActionSpec, RunbookSpec

MODE = "express_update_failed"


def chosen_when(statuses: Collection[str], findings: Sequence[Any]) -> str | None:
    # The status alone cannot tell: UPDATE_FAILED is also a STANDARD update with rollback off.
    if any(str(f.failure_mode) == MODE and f.depth == 0 for f in findings):
        return ("the stack is UPDATE_FAILED after an EXPRESS update: replay the last stable "
                "template in EXPRESS mode (RollbackStack and classic updates are refused)")
    return None


SPEC = RunbookSpec(
    id="express-failed",
    aliases=(),
    help="Get STACK out of UPDATE_FAILED after a failed EXPRESS-mode update (replay the last "
         "stable template in EXPRESS mode).",
    failure_modes=(MODE,),
    operations=frozenset({("cloudformation", "UpdateStack")}),
    builders=("recover/runbooks/express_failed/flow.py",),
    command="recover.runbooks.express_failed.command:command",
    applier="recover.runbooks.express_failed.apply:apply_plan",
    plan_settings="recover.runbooks.express_failed.apply:PLAN_SETTINGS",
    chosen_when="recover.runbooks.express_failed:chosen_when",
    # no template given: the demo finds it in the sandbox's CloudTrail
    scenarios={"express-wedge": {}},
    demo="recover.runbooks.express_failed.flow:demo",
    next_commands=("recover express-failed {stack} --dry-run",),
    actions=(
        ActionSpec("template.find_stable", "Find the template of the stack's last completed "
                   "deploy in CloudTrail, or read the one the engineer names", "gather",
                   uses=("recover.runbooks.express_failed.discovery:discover",
                         "recover.aws.template_source:read_template_source")),
        ActionSpec("express.plan_replay", "Plan the EXPRESS UpdateStack of the stable template "
                   "and what it changes back", "decide"),
        ActionSpec("stack.update_express", "UpdateStack in EXPRESS mode (DeploymentConfig)", "act",
                   ops=(("cloudformation", "UpdateStack"),), extra=PASS_ROLE),
    ),
)
