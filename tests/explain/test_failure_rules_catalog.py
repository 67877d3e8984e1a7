"""Meta-tests of the rule catalog: ids, coverage of the taxonomy, examples, docs."""

from __future__ import annotations

import re

from recover.explain.classify import classify, explain_text
from recover.explain.rules import EXAMPLES, FALLBACK, RULES
from recover.explain.taxonomy import FailureMode
from tests.conftest import REPO


def test_rule_ids_are_unique_and_kebab_case() -> None:
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", i) for i in ids)


def test_every_failure_mode_but_unknown_has_a_rule() -> None:
    # unknown is only ever the answer "no rule matched", never a rule's guess
    assert {r.mode for r in RULES} == set(FailureMode) - {FailureMode.UNKNOWN}


def test_every_example_of_every_rule_classifies_to_that_rule() -> None:
    assert set(EXAMPLES) == {r.id for r in RULES}
    for rule in RULES:
        assert rule.examples, rule.id
        for example in rule.examples:
            c = classify(example)
            assert (c.rule, c.failure_mode, c.kind) == (rule.id, rule.mode, rule.kind), example
            assert c.family == rule.family and c.match in ("pattern", "code")


def test_every_rule_belongs_to_a_family_module_named_after_it() -> None:
    import recover.explain.rules as catalog

    for rule in RULES:
        module = getattr(catalog, rule.family)
        assert rule in (*getattr(module, "RULES", ()), *getattr(module, "RELAYS", ()),
                        *getattr(module, "LATE", ())), rule.id


def test_explanations_fill_with_no_fields_and_stay_one_paragraph() -> None:
    for rule in (*RULES, FALLBACK):
        text = explain_text(rule.explanation, {}, rule.defaults)
        assert "\n" not in text and "{" not in text and len(text) > 60, rule.id

    # With the example's own fields, nothing is left unnamed.
    for rule in RULES:
        assert "(not named in the message)" not in classify(EXAMPLES[rule.id]).explanation, rule.id


def test_confidences_and_ranks_are_valid() -> None:
    for rule in RULES:
        assert rule.confidence in ("high", "medium", "low")
        assert 0 < rule.rank <= 100


def test_every_rule_is_documented() -> None:
    doc = (REPO / "docs" / "reference" / "failure-modes.md").read_text(encoding="utf-8")
    missing = [r.id for r in RULES if f"`{r.id}`" not in doc]
    assert not missing
    assert all(f"`{m.value}`" in doc for m in FailureMode)


def test_rules_table_in_docs_is_generated_from_the_catalog() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("gen_doc", REPO / "scripts" / "gen_failure_rules_doc.py")
    assert spec and spec.loader
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    doc = gen.DOC.read_text(encoding="utf-8")
    assert gen.render(doc) == doc, "run: python scripts/gen_failure_rules_doc.py"
