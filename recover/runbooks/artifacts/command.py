"""`recover artifacts STACK | --function NAME`: find missing Lambda code objects, find their
bytes, verify them, and (with --restore) put them back without overwriting anything."""

from __future__ import annotations

import click

from recover.cli.common import recover_command
from recover.cli.params import STACK, examples
from recover.run.context import RunContext
from recover.run.result import Result


@examples(
    "recover artifacts my-stack",
    "recover artifacts my-stack --restore --artifact-source file:app/code.zip=./old-code.zip",
    "recover artifacts --function my-function --trail s3://my-trail-bucket/AWSLogs/ --since 3d",
)
@click.command("artifacts")
@click.argument("stack", required=False, type=STACK)
@click.option("--function", "functions", multiple=True, metavar="NAME",
              help="A function whose code object is missing (instead of STACK). Repeatable.")
@click.option("--trail", metavar="SOURCE", default=None,
              help="CloudTrail source: lookup (default), a path, -, s3://BUCKET/PREFIX, athena://...")
@click.option("--since", metavar="T", help="Start of the CloudTrail window (ISO-8601 or 2h, 3d).")
@click.option("--until", metavar="T", help="End of the CloudTrail window.")
@click.option("--restore", is_flag=True, help="Upload the chosen bytes (never overwriting).")
@click.option("--artifact-source", "artifact_sources", multiple=True, metavar="SPEC",
              help="file:KEY=PATH, folder:KEY=PATH, cdk-out:PATH, lambda:NAME[:QUALIFIER].")
@click.option("--accept-substitute", is_flag=True,
              help="Allow bytes whose SHA-256 differs from the expected CodeSha256.")
@click.option("--accept-unverified", is_flag=True,
              help="Allow bytes no recorded CodeSha256 proves to be the old code (a file you "
                   "name for the key first; never implied by --yes).")
@recover_command("artifacts")
def command(rc: RunContext, stack: str | None, functions: tuple[str, ...], trail: str | None,
            since: str | None, until: str | None, restore: bool,
            artifact_sources: tuple[str, ...], accept_substitute: bool,
            accept_unverified: bool) -> Result:
    """Find (and with --restore, restore) the missing code objects of STACK's failed functions."""
    from recover.runbooks.artifacts.run import ArtifactOptions, run

    return run(rc, stack, ArtifactOptions(
        functions=list(functions), trail=trail, since=since, until=until, restore=restore,
        artifact_sources=list(artifact_sources), accept_substitute=accept_substitute,
        accept_unverified=accept_unverified))
