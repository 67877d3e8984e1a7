"""Pick the bytes to restore (pure), and say whether restoring them needs someone's acceptance.

Only a SHA-256 equal to the expected CodeSha256 proves bytes to be the old code (verified).
1. Verified candidates win: previous S3 versions of the key first (they are the very object,
   restored by a copy), then the rest in order of trust.
2. Nothing verified: a source the engineer named for this key (file:KEY=, folder:KEY=, a
   cdk.out asset whose destination is this key) wins over anything the tool found by itself;
   then previous S3 versions of the key; code deployed in Lambda comes last. After a failed or
   partial update a function's $LATEST is often the NEW code, so unverified Lambda code is
   never chosen silently.
3. `gate`: a verified pick goes ahead; any other pick needs an acceptance, a flag
   (--accept-unverified when no CodeSha256 is known, --accept-substitute when one is known and
   nothing matches it) or the operator's answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from recover.artifacts.model import Candidate, Choice, FailedSource, WantedArtifact

TRUST = {"s3-previous-version": 0, "lambda": 1, "cdk-asset": 2, "file": 3, "folder": 4}
ACCEPT_UNVERIFIED = "--accept-unverified"
ACCEPT_SUBSTITUTE = "--accept-substitute"


def _unverified_rank(c: Candidate) -> int:
    if c.named:
        return 0
    return {"s3-previous-version": 1, "cdk-asset": 2, "file": 2, "folder": 2}.get(c.kind, 3)


def choose(wanted: WantedArtifact, candidates: Iterable[Candidate],
           failed: Iterable[FailedSource] = ()) -> Choice:
    failed = tuple(failed)
    expected = wanted.expected_sha256
    # Stable: candidates of one rank keep the order the gatherer gave (newest version first).
    pool = list(candidates)
    exact = [c for c in pool if expected and c.sha256 == expected]
    rest = [c for c in pool if c not in exact]
    exact.sort(key=lambda c: c.trust)
    rest.sort(key=lambda c: (_unverified_rank(c), c.trust))
    ordered = exact + rest
    if not ordered:
        why = ("no source holds these bytes: no previous S3 version, no Lambda function or "
               "version with this code, no --artifact-source given")
        if failed:
            why += f"; {len(failed)} source(s) could not be read"
        return Choice(wanted, None, "none", why, failed=failed)
    best, others = ordered[0], tuple(ordered[1:])
    if exact:
        return Choice(wanted, best, "exact", "SHA-256 matches the CodeSha256 AWS recorded "
                      f"({wanted.expected_from})", others, failed)
    what = _label(best)
    if expected:
        return Choice(wanted, best, "substitute",
                      f"no source matches the expected CodeSha256 {expected} "
                      f"({wanted.expected_from}); the best candidate, {what}, differs "
                      f"({best.sha256 or 'hash unknown'}): the rolled-back function would run "
                      "different code", others, failed)
    return Choice(wanted, best, "unverified",
                  "no CodeSha256 is recorded for this key (no CloudTrail record in the window, "
                  f"no Lambda version deployed from it), so nothing proves {what} to be the "
                  "old code", others, failed)


def _label(c: Candidate) -> str:
    if c.named:
        return f"the {c.description} named for this key"
    if c.kind == "lambda":
        return f"the {c.description} (often the NEW code after a failed update)"
    return f"the {c.description}"


@dataclass(frozen=True)
class Gate:
    """May the choice's candidate be restored? `accepted_by` says who accepted unproven bytes
    (a flag); `needs` names the flag that would settle it when nobody has."""

    go: bool
    accepted_by: str | None = None
    needs: str | None = None


def flag_for(choice: Choice) -> str | None:
    """The flag that accepts this choice's bytes, or None when they need no acceptance."""
    if choice.verification == "substitute":
        return ACCEPT_SUBSTITUTE
    if choice.verification == "unverified":
        return ACCEPT_UNVERIFIED
    return None


def gate(choice: Choice, *, accept_unverified: bool = False,
         accept_substitute: bool = False) -> Gate:
    if choice.candidate is None:
        return Gate(False)
    flag = flag_for(choice)
    if flag is None:
        return Gate(True)
    if (flag == ACCEPT_UNVERIFIED and accept_unverified) or (
            flag == ACCEPT_SUBSTITUTE and accept_substitute):
        return Gate(True, accepted_by=flag)
    return Gate(False, needs=flag)
