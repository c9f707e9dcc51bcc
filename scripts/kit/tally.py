"""Test counts of a run, read from pytest's JUnit XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Tally:
    """Test counts of one stage (or all of them)."""

    passed: int = 0
    failed: int = 0
    skipped: int = 0
    seconds_by_file: Counter[str] = field(default_factory=Counter)

    def __iadd__(self, other: Tally) -> Tally:
        self.passed += other.passed
        self.failed += other.failed
        self.skipped += other.skipped
        self.seconds_by_file += other.seconds_by_file
        return self


def read_junit(path: Path) -> Tally:
    """Counts and per-file time from a pytest JUnit XML file."""
    tally = Tally()
    for case in ET.parse(path).getroot().iter("testcase"):
        outcome = {child.tag for child in case}
        if outcome & {"failure", "error"}:
            tally.failed += 1
        elif "skipped" in outcome:
            tally.skipped += 1
        else:
            tally.passed += 1
        module = case.get("classname", "").split(".")
        name = next((m for m in module if m.startswith("test_")), module[0])
        tally.seconds_by_file[name] += float(case.get("time", 0))
    return tally
