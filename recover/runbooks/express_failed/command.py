"""`recover express-failed STACK`: replay the last stable template in EXPRESS mode."""

from __future__ import annotations

from pathlib import Path

import click

from recover.cli.common import recover_command
from recover.cli.params import STACK, examples, follow_options
from recover.run.context import RunContext
from recover.run.result import Result


@examples(
    "recover express-failed my-stack --dry-run",
    "recover express-failed my-stack --template s3://my-bucket/templates/my-stack.json --dry-run",
    "recover express-failed my-stack --template ./last-good.json",
)
@click.command("express-failed")
@click.argument("stack", type=STACK)
@click.option("--template", "template", metavar="PATH|s3://BUCKET/KEY[?versionId=V]",
              help="The last stable template, replayed in EXPRESS mode (a file, or an S3 "
                   "object or one of its earlier versions). Default: the template of the "
                   "stack's last completed deploy, when CloudTrail and the stack's events prove "
                   "it; otherwise asked (unattended: exit 4).")
@click.option("--trail", metavar="SOURCE", default="lookup", show_default=True,
              help="CloudTrail source searched for that deploy when --template is not given: "
                   "lookup (LookupEvents), s3://BUCKET/PREFIX, a path, athena://..., lake://...")
@click.option("--role-arn", help="Service role for UpdateStack (RoleARN; default: the "
                                 "stack's own).")
@follow_options("the replay")
@recover_command("express-failed")
def command(rc: RunContext, stack: str, template: str | None, trail: str,
            role_arn: str | None, wait: bool,
            timeout: float, poll_interval: float, plan_out: Path | None) -> Result:
    """Get STACK out of UPDATE_FAILED after a failed EXPRESS-mode update (replay the last
    stable template in EXPRESS mode)."""
    from recover.runbooks.express_failed.flow import ExpressOptions, run

    return run(rc, stack, ExpressOptions(template=template, trail=trail, role_arn=role_arn,
                                         wait=wait,
                                         timeout=timeout, poll_interval=poll_interval,
                                         plan_out=plan_out))
