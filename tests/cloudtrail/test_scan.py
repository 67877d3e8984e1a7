"""Time specs and SOURCE strings of the scan pipeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from recover.cloudtrail.athena import AthenaSource, LakeSource
from recover.cloudtrail.scan import SourceDeps, build_source, parse_time_spec
from recover.cloudtrail.sources import LocalSource, LookupSource, S3Source, StreamSource, Window
from recover.run.errors import NotFoundError, UsageError

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("text,expected", [
    ("90s", NOW - timedelta(seconds=90)), ("30m", NOW - timedelta(minutes=30)),
    ("2h", NOW - timedelta(hours=2)), ("3d", NOW - timedelta(days=3)),
    ("1w", NOW - timedelta(weeks=1)), ("1.5h", NOW - timedelta(minutes=90)),
    ("2H", NOW - timedelta(hours=2)),
    ("2026-11-20T08:00:00Z", datetime(2026, 11, 20, 8, tzinfo=UTC)),
    ("2026-11-20T10:00:00+02:00", datetime(2026, 11, 20, 8, tzinfo=UTC)),
    ("2026-11-20", datetime(2026, 11, 20, tzinfo=UTC)),
    ("2026-11-20 08:00", datetime(2026, 11, 20, 8, tzinfo=UTC)),
])
def test_time_specs(text: str, expected: datetime) -> None:
    assert parse_time_spec(text, NOW) == expected


@pytest.mark.parametrize("text", ["", "yesterday", "2x", "-3d", "2026-13-01", "h"])
def test_bad_time_specs(text: str) -> None:
    with pytest.raises(UsageError):
        parse_time_spec(text, NOW)


def test_source_kinds(tmp_path: Path) -> None:
    import io

    deps = SourceDeps(client=lambda service, region: (service, region), stdin=io.BytesIO(b""),
                      default_region="eu-west-1")
    w = Window()
    assert isinstance(build_source(str(tmp_path), w, (), deps), LocalSource)
    assert isinstance(build_source("-", w, (), deps), StreamSource)
    s3 = build_source("s3://bucket/some/prefix", w, (), deps)
    assert isinstance(s3, S3Source) and (s3.bucket, s3.prefix) == ("bucket", "some/prefix")
    lookup = build_source("lookup", w, (), deps)
    assert isinstance(lookup, LookupSource) and lookup.regions == ["eu-west-1"]
    assert lookup.event_names == ["UpdateFunctionCode20150331v2", "CreateFunction20150331",
                                  "PublishLayerVersion20181031"]
    named = build_source("lookup", Window(regions=frozenset({"us-west-2", "us-east-1"})),
                         ("CreateFunction20150331",), deps)
    assert named.regions == ["us-east-1", "us-west-2"]  # type: ignore[attr-defined]
    assert named.event_names == ["CreateFunction20150331"]  # type: ignore[attr-defined]
    athena = build_source("athena://wg/db.tbl?region=us-west-2", w, (), deps)
    assert isinstance(athena, AthenaSource) and athena.client == ("athena", "us-west-2")
    lake = build_source("lake://EXAMPLE-f852-4e8f", w, (), deps)
    assert isinstance(lake, LakeSource) and lake.client == ("cloudtrail", None)


def test_source_errors(tmp_path: Path) -> None:
    deps = SourceDeps(client=lambda s, r: None)
    with pytest.raises(NotFoundError):
        build_source(str(tmp_path / "missing"), Window(), (), deps)
    with pytest.raises(UsageError):
        build_source("lookup", Window(), (), deps)  # no region anywhere
    with pytest.raises(UsageError):
        build_source("-", Window(), (), deps)  # no stdin
    with pytest.raises(UsageError):
        build_source("gs://bucket", Window(), (), deps)
