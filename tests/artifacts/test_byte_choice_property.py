"""The byte choice can never restore unproven bytes without acceptance (issue 14.1), for every
combination of candidate kinds, hashes, expected hash and flags (exhaustive, then hypothesis
for lists with repeats and any order)."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from recover.artifacts.choose import ACCEPT_SUBSTITUTE, ACCEPT_UNVERIFIED, TRUST, choose, gate
from recover.artifacts.model import Candidate, WantedArtifact

GOOD, OTHER = "GOOD=", "OTHER="
# (kind, named, qualifier): what the gatherers produce
KINDS = [("s3-previous-version", False, None), ("lambda", False, "$LATEST"),
         ("lambda", False, "3"), ("cdk-asset", True, None), ("file", True, None),
         ("folder", True, None)]


def cand(i: int, kind: str, named: bool, qualifier: str | None, sha: str | None) -> Candidate:
    return Candidate(kind=kind, description=f"{kind} #{i}", trust=TRUST[kind], sha256=sha,
                     named=named, qualifier=qualifier)


def check(expected: str | None, cands: list[Candidate], accept_unverified: bool,
          accept_substitute: bool) -> None:
    w = WantedArtifact(function_name="fn", bucket="b", key="k.zip", expected_sha256=expected,
                       expected_from="test" if expected else "")
    ch = choose(w, cands)
    g = gate(ch, accept_unverified=accept_unverified, accept_substitute=accept_substitute)
    verified = [c for c in cands if expected and c.sha256 == expected]
    if not cands:
        assert ch.candidate is None and not g.go
        return
    assert ch.candidate in cands and set(ch.ranked) == set(cands)
    proven = bool(expected) and ch.candidate.sha256 == expected
    # The invariant: unproven bytes go ahead only with the flag that accepts them.
    if g.go and not proven:
        flag = ACCEPT_SUBSTITUTE if expected else ACCEPT_UNVERIFIED
        assert g.accepted_by == flag
        assert accept_substitute if expected else accept_unverified
    if not (accept_unverified or accept_substitute):
        assert not g.go or proven
    if not g.go:
        assert g.needs == (ACCEPT_SUBSTITUTE if expected else ACCEPT_UNVERIFIED)
    # Verified wins, previous S3 versions of the key first.
    if verified:
        assert ch.verification == "exact" and proven and g.go and g.accepted_by is None
        if any(c.kind == "s3-previous-version" for c in verified):
            assert ch.candidate.kind == "s3-previous-version"
    else:
        assert ch.verification == ("substitute" if expected else "unverified")
        # A source named for the key beats anything guessed; Lambda code comes last.
        if any(c.named for c in cands):
            assert ch.candidate.named
        if any(c.kind != "lambda" for c in cands):
            assert ch.candidate.kind != "lambda"


def test_every_combination_of_kinds_hashes_and_flags() -> None:
    n = 0
    for size in range(len(KINDS) + 1):
        for kinds in itertools.combinations(KINDS, size):
            for shas in itertools.product((GOOD, OTHER, None), repeat=size):
                cands = [cand(i, *k, sha) for i, (k, sha) in enumerate(zip(kinds, shas, strict=True))]
                for expected in (None, GOOD):
                    for au, asub in itertools.product((False, True), repeat=2):
                        check(expected, cands, au, asub)
                        n += 1
    assert n > 10_000  # every subset of kinds x every hash x expected x flags


@given(st.lists(st.tuples(st.sampled_from(KINDS), st.sampled_from([GOOD, OTHER, "X=", None])),
                max_size=8),
       st.sampled_from([None, GOOD]), st.booleans(), st.booleans())
def test_any_list_of_candidates(items: list, expected: str | None, au: bool, asub: bool) -> None:
    cands = [cand(i, *k, sha) for i, (k, sha) in enumerate(items)]
    check(expected, cands, au, asub)
