"""The options: read once from the environment into one frozen value; checked by the target that reads them."""

from __future__ import annotations

import dataclasses

import pytest
from kit import options
from kit.log import KitError


def test_the_variables_are_read_once_into_a_frozen_value():
    opts = options.parse(
        {"PR": " docs ", "FORCE": "1", "UPSTREAM_TAG": "v1", "ENVS": "a  b", "DRY_RUN": "1", "ORDER": ""}
    )
    assert (opts.pr, opts.force, opts.upstream_ref, opts.envs, opts.dry_run) == (
        "docs",
        True,
        "v1",
        ("a", "b"),
        True,
    )
    assert opts.order == "natural"
    assert options.parse({"UPSTREAM_REF": "main", "UPSTREAM_TAG": "v1"}).upstream_ref == "main"
    assert options.parse({"FORCE": "yes"}).force is False
    with pytest.raises(dataclasses.FrozenInstanceError):
        opts.pr = "tests"  # type: ignore[misc]


def test_a_target_checks_the_text_it_reads_and_only_then():
    bad = options.parse({"STREAMS": "many", "FLAKE_MINUTES": "soon", "ISSUE": "abc"})
    with pytest.raises(KitError, match="STREAMS='many' is not a number of streams"):
        _ = bad.stream_count
    with pytest.raises(KitError, match="FLAKE_MINUTES='soon' is not a number of minutes"):
        _ = bad.flake_budget
    with pytest.raises(KitError, match="ISSUE='abc' is not an issue number"):
        _ = bad.issue_number
    good = options.parse({"ISSUE": "#245"})
    assert (good.stream_count, good.flake_budget, good.issue_number) == (100, 0.0, "245")


def test_every_field_is_a_variable_the_kit_names():
    names = {f.name.upper() for f in dataclasses.fields(options.Options)}
    assert names - set(options.NAMES) == set()
    assert set(options.NAMES) - names == {"UPSTREAM_TAG"}  # the old name of UPSTREAM_REF


def test_a_child_environment_changes_only_what_it_is_told(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", "/usr/bin")
    monkeypatch.setenv("KIT_PYTHON", "/x/python")
    env = options.child_env(drop=("KIT_PYTHON",), path_first=tmp_path, EXTRA="1")
    assert env["PATH"] == f"{tmp_path}:/usr/bin"
    assert "KIT_PYTHON" not in env
    assert env["EXTRA"] == "1"
