"""The target: a base described by its tag, or its ref, commit and date."""

from __future__ import annotations

from helpers import git, kit_of
from kit.checkout.target import require_target
from kit.series.pin import load_pin


def test_a_base_is_described_by_its_tag_or_its_ref_commit_and_date(upstream, clone):
    kit = kit_of(upstream)
    pin = load_pin(kit.pin_file)
    main = git(clone, "rev-parse", "main")
    day = git(clone, "log", "-1", "--format=%cs", "main")
    assert require_target(kit, pin, "v1.0.0").describe() == "v1.0.0"
    assert require_target(kit, pin, "main").describe() == f"main at {main[:7]}, {day}"
    assert require_target(kit, pin, main[:10]).describe() == f"{main[:7]}, {day}"
    facts = require_target(kit, pin, "main").facts()
    assert (facts["base_ref"], facts["base_commit"]) == ("main", main)
    assert facts["base_date"].startswith(day)
