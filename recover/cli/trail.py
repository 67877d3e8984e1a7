"""`recover trail scan SOURCE`: find Lambda artifact fetch failures (NoSuchKey) in CloudTrail.

A thin layer: options become a Window and a record source (recover.cloudtrail.scan), the scan
runs, and the outcome is rendered as a table (human) or `data.missing_artifacts` (JSON).
"""

from __future__ import annotations

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from recover.cli.common import recover_command
from recover.cli.params import examples
from recover.cloudtrail.extract import CODE_HISTORY_EVENTS, PREFILTER_HISTORY
from recover.cloudtrail.scan import (
    build_source,
    parse_time_spec,
    scan_code_history,
    scan_missing_artifacts,
)
from recover.cloudtrail.sources import EVENT_HISTORY, Window
from recover.run.context import RunContext
from recover.run.errors import UsageError
from recover.run.result import Result
from recover.run.services import source_deps

SOURCE_HELP = """SOURCE is one of: a .json/.json.gz file or a folder of them; - (stdin);
s3://BUCKET/PREFIX (a trail bucket, standard or organization layout); lookup (CloudTrail Event
history, LookupEvents, per --region); athena://WORKGROUP/DATABASE.TABLE?output=s3://BUCKET/PATH/
(Athena over the CloudTrail table; options region=, catalog=, partition=); lake://EVENT_DATA_STORE
(CloudTrail Lake). Times: ISO-8601 (no zone = UTC) or relative: 90s, 30m, 2h, 3d, 1w."""


@examples(
    "recover trail scan ./trail-logs --since 3d",
    "recover trail scan s3://my-trail-bucket/AWSLogs/ --event-name UpdateFunctionCode20150331v2",
)
@click.group(name="trail")
def command() -> None:
    """Read CloudTrail: find Lambda code objects that were missing from S3."""


@command.command(name="scan", epilog=SOURCE_HELP)
@click.argument("source")
@click.option("--since", help="Only events at or after this time (ISO-8601 or 2h, 3d...).")
@click.option("--until", help="Only events at or before this time (ISO-8601 or 2h, 3d...).")
@click.option("--event-name", "event_names", multiple=True,
              help="Only these event names (repeatable), e.g. UpdateFunctionCode20150331v2.")
@click.option("--region", "regions", multiple=True,
              help="Only these Regions (repeatable); the Regions LookupEvents queries.")
@click.option("--account", "accounts", multiple=True,
              help="Only these account ids (repeatable); prunes S3 listing.")
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True,
              help="Files read in parallel (S3 fetches use twice as many).")
@click.option("--validate", is_flag=True,
              help="JSON-decode every record (slower) so any damage is reported; by default "
                   "records that cannot match are skipped by a byte-level prefilter.")
@recover_command("trail scan")
def scan(rc: RunContext, source: str, since: str | None, until: str | None,
         event_names: tuple[str, ...], regions: tuple[str, ...], accounts: tuple[str, ...],
         workers: int, validate: bool) -> Result:
    """Find Lambda code objects that were missing from S3: UpdateFunctionCode, CreateFunction
    and PublishLayerVersion calls that failed with NoSuchKey (bucket, key, version, function,
    time). Read-only."""
    window = _window(rc, since, until, regions, accounts)
    src = build_source(source, window, tuple(event_names), source_deps(rc), workers=workers,
                       validate=validate)
    outcome = scan_missing_artifacts(src, window, tuple(event_names), source)
    result = Result(command="trail scan", data=outcome.to_dict(), human=_human)
    stats = outcome.stats
    if source == "lookup" and window.since and window.since < rc.clock() - EVENT_HISTORY:
        result.messages.append(
            "[yellow]note:[/] Event history (LookupEvents) keeps 90 days; older events are only "
            "in a trail's S3 files (s3://...) or in Athena / CloudTrail Lake")
    if stats.corrupt_files:
        result.messages.append(
            f"[yellow]warning:[/] {stats.corrupt_files} file(s) had damage; "
            f"{stats.corrupt_records} record(s) skipped (see data.stats.corrupt in --output json)")
    return result


@command.command(name="history", epilog=SOURCE_HELP)
@click.argument("source")
@click.option("--function", "function", help="Only this function (name or ARN).")
@click.option("--since", help="Only events at or after this time (ISO-8601 or 2h, 3d...).")
@click.option("--until", help="Only events at or before this time (ISO-8601 or 2h, 3d...).")
@click.option("--region", "regions", multiple=True, help="Only these Regions (repeatable).")
@click.option("--account", "accounts", multiple=True, help="Only these account ids.")
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True,
              help="Files read in parallel (S3 fetches use twice as many).")
@recover_command("trail history")
def history(rc: RunContext, source: str, function: str | None, since: str | None,
            until: str | None, regions: tuple[str, ...], accounts: tuple[str, ...],
            workers: int) -> Result:
    """List successful code deployments of Lambda functions with the CodeSha256 Lambda
    computed: what rebuilt or recovered bytes must hash to."""
    if source.startswith(("athena://", "lake://")):
        raise UsageError("trail history reads files, stdin, s3:// or lookup; the Athena and "
                         "CloudTrail Lake queries select failures only")
    window = _window(rc, since, until, regions, accounts)
    src = build_source(source, window, CODE_HISTORY_EVENTS, source_deps(rc), workers=workers,
                       prefilter=PREFILTER_HISTORY)
    outcome = scan_code_history(src, window, function, source)
    return Result(command="trail history", data=outcome.to_dict(), human=_human_history)


def _window(rc: RunContext, since: str | None, until: str | None, regions: tuple[str, ...],
            accounts: tuple[str, ...]) -> Window:
    now = rc.clock()
    window = Window(since=parse_time_spec(since, now) if since else None,
                    until=parse_time_spec(until, now) if until else None,
                    accounts=frozenset(accounts), regions=frozenset(regions))
    if window.since and window.until and window.since > window.until:
        raise UsageError("--since is later than --until")
    return window


def _human(console: Console, result: Result) -> None:
    data = result.data
    found = data["missing_artifacts"]
    stats = data["stats"]
    if found:
        table = Table(title=f"Lambda code objects missing from S3 ({len(found)})",
                      title_justify="left")
        accounts = {f["account"] for f in found}
        many = len(accounts) > 1  # one account: named in the title, not on every row
        if not many and None not in accounts:
            table.title = f"{table.title} in account {next(iter(accounts))}"
        for col in ("event time (UTC)", "event", "region", *(["account"] if many else [])):
            table.add_column(col, no_wrap=True)
        longest_key = max(len(f["key"] or "") for f in found)
        for col in ("function / layer", "bucket", "key", "version"):
            # the key is what the engineer copies: keep it on one line when it fits
            table.add_column(col, overflow="fold",
                             min_width=min(60, longest_key) if col == "key" else None)
        for f in found:
            target = f["function_name"] or (f"layer {f['layer']}" if f["layer"] else "?")
            when = (f["event_time"] or "-")[:19].replace("T", " ")
            row = [when, f["event_name"], f["region"], *([f["account"]] if many else []),
                   target, f["bucket"], f["key"], f["object_version"]]
            table.add_row(*(escape(str(v or "-")) for v in row))
        console.print(table)
    else:
        console.print("No artifact fetch failures (NoSuchKey) found.")
    skipped = stats.get("skipped_files", 0)
    console.print(
        f"[dim]read {stats['files']} file(s), {stats['records']} record(s), "
        f"{stats['bytes']} bytes; {stats['decoded']} decoded; {skipped} file(s) skipped; "
        f"{stats['corrupt_records']} corrupt record(s) in {stats['corrupt_files']} file(s)"
        + (f"; {stats['api_calls']} API call(s)" if stats.get("api_calls") else "") + "[/]")
    for item in stats.get("corrupt", [])[:20]:
        reasons = "; ".join(f"{r} (x{n})" for r, n in item["reasons"].items())
        console.print(f"[yellow]damaged:[/] {escape(item['file'])}: {escape(reasons)}",
                      soft_wrap=True)


def _human_history(console: Console, result: Result) -> None:
    """One line per deployment (the hash must stay whole and copyable on any terminal)."""
    rows = result.data["code_history"]
    if not rows:
        console.print("No successful code deployments with a CodeSha256 found.")
    else:
        console.print(f"[bold]Lambda code deployments ({len(rows)})[/]: time (UTC), function, "
                      "CodeSha256, version, code location")
        for h in rows:
            when = (h["event_time"] or "-")[:19].replace("T", " ")
            where = (f"s3://{h['bucket']}/{h['key']}" if h["bucket"] and h["key"]
                     else "(zip upload)")
            if h["object_version"]:
                where += f"?versionId={h['object_version']}"
            console.print(escape(f"{when}  {h['function_name']}  {h['code_sha256']}  "
                                 f"{h['version'] or '-'}  {where}"), soft_wrap=True)
    stats = result.data["stats"]
    console.print(f"[dim]read {stats['files']} file(s), {stats['records']} record(s); "
                  f"{stats['corrupt_records']} corrupt record(s)[/]")
