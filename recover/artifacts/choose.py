"""Pick the bytes to restore (pure): an exact CodeSha256 match first, in order of trust.

Trust order (DESIGN §1): the previous S3 version behind a delete marker (the very object
that was at the key), code still deployed in Lambda (a function or a published version),
a CDK cdk.out asset, then files or folders the engineer names.
"""

from __future__ import annotations

from collections.abc import Iterable

from recover.artifacts.model import Candidate, Choice, WantedArtifact

TRUST = {"s3-previous-version": 0, "lambda": 1, "cdk-asset": 2, "file": 3, "folder": 4}


def choose(wanted: WantedArtifact, candidates: Iterable[Candidate]) -> Choice:
    ordered = sorted(candidates, key=lambda c: (c.trust, c.description))
    if not ordered:
        return Choice(wanted, None, "none", "no source holds these bytes: no previous S3 "
                      "version, no Lambda function or version with this code, no "
                      "--artifact-source given")
    expected = wanted.expected_sha256
    if expected:
        exact = [c for c in ordered if c.sha256 == expected]
        if exact:
            return Choice(wanted, exact[0], "exact",
                          f"SHA-256 matches the CodeSha256 Lambda recorded ({wanted.expected_from})",
                          tuple(c for c in ordered if c is not exact[0]))
        return Choice(wanted, ordered[0], "substitute",
                      f"no source matches the expected CodeSha256 {expected}; the best "
                      f"candidate differs ({ordered[0].sha256 or 'hash unknown'}), so it is a "
                      "substitute: the rolled-back function would run different code",
                      tuple(ordered[1:]))
    return Choice(wanted, ordered[0], "unverified",
                  "no CodeSha256 is known for this key (no successful update of it in the "
                  "CloudTrail window), so the bytes cannot be verified", tuple(ordered[1:]))
