"""The registry is the one list of runbooks: every declaration holds, and everything that lists
runbooks agrees with it (the YAML documents, the failure modes, the sandbox scenarios, the CLI)."""

from __future__ import annotations

import pytest
import yaml

from recover.cli import ALIASES, COMMANDS, TOOLS
from recover.explain.taxonomy import RUNBOOK_FOR_MODE, FailureMode
from recover.runbooks import canonical, find, for_mode, for_scenario, ids, registry
from recover.runbooks.document.catalog import load_catalog
from recover.runbooks.spec import RunbookSpec, load
from recover.sandbox.scenarios import SCENARIOS
from tests.conftest import REPO

SPECS = registry()
# Scenarios that exist to show something other than a recovery.
# custom-resource-silent: the handler logged nothing, so the runbook can only say so.
# hook-failed: a template to change (advice), no runbook recovers it
NOT_RECOVERIES = {"healthy", "degap-before", "ecr-expired", "custom-resource-silent", "hook-failed"}


@pytest.mark.parametrize("spec", SPECS, ids=[s.id for s in SPECS])
def test_a_spec_loads_everything_it_names(spec: RunbookSpec) -> None:
    assert spec.load_command().name == spec.id
    assert spec.load_chooser() is not None
    if spec.applier:
        assert callable(spec.load_applier())
        # the settings a plan carries are checked by the runbook's own table
        assert spec.plan_settings, f"{spec.id} has an applier but no plan_settings"
        table = load(spec.plan_settings)
        assert table and all(callable(check) for check in table.values())
    if spec.scenarios:
        assert callable(spec.load_demo())
    for path in spec.builders:
        assert (REPO / path).is_file(), path


@pytest.mark.parametrize("spec", SPECS, ids=[s.id for s in SPECS])
def test_a_spec_agrees_with_its_yaml_document(spec: RunbookSpec) -> None:
    raw = yaml.safe_load((REPO / "runbooks" / f"{spec.id}.yaml").read_text(encoding="utf-8"))
    assert raw["id"] == spec.id
    assert tuple(raw["failure_modes"]) == spec.failure_modes + spec.also_handles
    handovers = {target for step in raw["steps"] for target in (step.get("handover") or {}).values()}
    assert handovers == set(spec.hands_over_to)
    # the actions a spec declares as its own are ones its document's steps name
    named = {step.get("action") for step in raw["steps"]}
    assert {a.id for a in spec.actions} <= named


def test_an_action_declared_twice_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from recover.runbooks.document import actions

    twin = SPECS[0].actions[0]
    monkeypatch.setattr(actions, "_COMMON", (*actions._COMMON, twin))
    with pytest.raises(ValueError, match=f"{twin.id} declared twice"):
        actions._table()


def test_the_yaml_documents_are_the_registered_runbooks() -> None:
    assert sorted(load_catalog().ids()) == sorted(ids())


def test_names_are_unique_and_never_shadow_a_command() -> None:
    names = [n for s in SPECS for n in s.names]
    assert len(names) == len(set(names))
    assert not set(names) & set(TOOLS)
    assert set(ids()) <= set(COMMANDS) and set(ALIASES) == {a for s in SPECS for a in s.aliases}


def test_old_ids_still_name_their_runbook() -> None:
    assert canonical("execution-role-missing") == "bootstrap-role"
    assert canonical("missing-artifact") == "artifacts"
    assert canonical("no-such") == "no-such"
    assert find("missing-artifact") is find("artifacts")
    assert load_catalog().get("execution-role-missing").id == "bootstrap-role"


def test_failure_modes_are_real_and_each_answered_once() -> None:
    declared = [m for s in SPECS for m in s.failure_modes]
    assert {*declared, *(m for s in SPECS for m in s.also_handles)} <= {m.value for m in FailureMode}
    assert len(declared) == len(set(declared))
    for spec in SPECS:
        for mode in spec.failure_modes:
            assert for_mode(mode) == spec.id == RUNBOOK_FOR_MODE[FailureMode(mode)]


def test_every_scenario_is_recovered_by_one_runbook_or_is_not_a_recovery() -> None:
    claimed = [name for s in SPECS for name in s.scenarios]
    assert len(claimed) == len(set(claimed))
    assert set(claimed) <= set(SCENARIOS)
    assert set(SCENARIOS) - set(claimed) == NOT_RECOVERIES
    for name in claimed:
        assert for_scenario(name) is not None


def test_hand_overs_name_registered_runbooks() -> None:
    for spec in SPECS:
        assert set(spec.hands_over_to) <= set(ids())
