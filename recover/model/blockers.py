"""What stands in the way of a delete, as plain data (gathered by recover.aws.blockers, planned
by recover.decide.delete_plan)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class BucketContents:
    """What emptying a bucket would delete: every object version and delete marker (docs/reference/aws-behaviour.md#s3-versioning-and-delete-markers)."""

    name: str
    objects: int  # keys whose current version is an object (what a plain listing shows)
    versions: int  # object versions, current and noncurrent
    delete_markers: int
    entries: tuple[tuple[str, str], ...] = ()  # (key, version id) of each version and marker

    @property
    def total(self) -> int:
        return self.versions + self.delete_markers

    def to_dict(self) -> dict[str, Any]:
        return {"bucket": self.name, "objects": self.objects, "versions": self.versions,
                "delete_markers": self.delete_markers, "to_delete": self.total}
