"""The trust check of an existing service role and the smallest change that fixes it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from recover.decide import trust_fix as tf

ACCOUNT = "123456789012"
CFN = {"Effect": "Allow", "Principal": {"Service": "cloudformation.amazonaws.com"},
       "Action": "sts:AssumeRole"}
CODEBUILD = {"Sid": "Build", "Effect": "Allow", "Principal": {"Service": "codebuild.amazonaws.com"},
             "Action": "sts:AssumeRole"}
PEOPLE = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
          "Action": ["sts:AssumeRole", "sts:TagSession"],
          "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def test_plain_allow_trusts() -> None:
    assert tf.assess_trust(doc(CFN), ACCOUNT).assumable
    assert tf.assess_trust(json.dumps(doc(CODEBUILD, CFN)), ACCOUNT).assumable
    single = {"Version": "2012-10-17", "Statement": dict(CFN, Principal={"Service": [
        "cloudformation.amazonaws.com", "lambda.amazonaws.com"]})}
    assert tf.assess_trust(single, ACCOUNT).assumable


def test_missing_principal_is_not_assumable() -> None:
    a = tf.assess_trust(doc(CODEBUILD, PEOPLE), ACCOUNT)
    assert a.verdict == tf.NO_STATEMENT and a.fixable and not a.assumable


def test_a_condition_that_cannot_hold_is_not_assumable() -> None:
    other = dict(CFN, Condition={"StringEquals": {"aws:SourceAccount": "999999999999"}})
    a = tf.assess_trust(doc(other), ACCOUNT)
    assert a.verdict == tf.CONDITION_FAILS
    assert "999999999999" in a.summary()
    mfa = dict(CFN, Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}})
    assert tf.assess_trust(doc(mfa), ACCOUNT).verdict == tf.CONDITION_FAILS


def test_a_condition_recover_cannot_judge_may_not_be_assumable_and_is_shown() -> None:
    cond = {"ArnLike": {"aws:SourceArn": f"arn:aws:cloudformation:*:{ACCOUNT}:stack/app/*"}}
    a = tf.assess_trust(doc(dict(CFN, Condition=cond)), ACCOUNT)
    assert a.verdict == tf.CONDITION_UNKNOWN and a.conditions == (cond,)
    assert "may not be assumable" in a.summary() and "aws:SourceArn" in a.summary()
    same_account = {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    assert tf.assess_trust(doc(dict(CFN, Condition=same_account)),
                           ACCOUNT).verdict == tf.CONDITION_UNKNOWN


def test_a_plain_allow_beside_a_conditioned_one_trusts() -> None:
    cond = dict(CFN, Condition={"StringLike": {"aws:SourceArn": "x"}})
    assert tf.assess_trust(doc(cond, CFN), ACCOUNT).assumable


def test_an_explicit_deny_wins_and_cannot_be_fixed_by_adding() -> None:
    deny = dict(CFN, Effect="Deny", Sid="NoCfn")
    a = tf.assess_trust(doc(CFN, deny), ACCOUNT)
    assert a.verdict == tf.DENIED and not a.fixable and "NoCfn" in a.summary()
    with pytest.raises(tf.TrustFixError, match="remove that statement by hand"):
        tf.fixed_trust(doc(CFN, deny), ACCOUNT)


def test_unreadable_document() -> None:
    assert tf.assess_trust("{not json", ACCOUNT).verdict == tf.UNREADABLE
    with pytest.raises(tf.TrustFixError):
        tf.fixed_trust("{not json", ACCOUNT)


def test_the_fix_adds_one_statement_and_keeps_every_other() -> None:
    narrowed = dict(CFN, Condition={"StringEquals": {"aws:SourceAccount": "999999999999"}})
    original = doc(CODEBUILD, PEOPLE, narrowed)
    before = json.dumps(original, sort_keys=True)
    fixed = tf.fixed_trust(original, ACCOUNT)
    assert json.dumps(original, sort_keys=True) == before  # the input is not changed
    assert fixed["Statement"][:3] == original["Statement"]
    assert fixed["Statement"][3] == tf.FIX_STATEMENT
    assert len(fixed["Statement"]) == 4 and fixed["Version"] == "2012-10-17"
    assert tf.assess_trust(fixed, ACCOUNT).assumable


def test_the_fix_of_a_single_statement_object_and_a_taken_sid() -> None:
    original = {"Version": "2012-10-17", "Statement": dict(CODEBUILD, Sid=tf.FIX_SID)}
    fixed = tf.fixed_trust(json.dumps(original), ACCOUNT)
    assert fixed["Statement"][0] == original["Statement"]
    assert fixed["Statement"][1]["Sid"] == tf.FIX_SID + "2"
    assert tf.assess_trust(fixed, ACCOUNT).assumable


def test_canonical_ignores_order_and_spacing() -> None:
    a = {"Version": "2012-10-17", "Statement": [CFN]}
    assert tf.canonical(a) == tf.canonical(json.dumps(a, indent=3))
