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


@dataclass(frozen=True)
class Case:
    """One test case from a JUnit file."""

    file: str
    function: str
    param: str | None
    outcome: str  # passed, failed, skipped or xfailed
    seconds: float
    message: str = ""  # first line of the failure message, or the skip/xfail reason

    path: str = ""  # the test file, relative to the rootdir, e.g. tests/test_flows.py

    @property
    def name(self) -> str:
        return self.function + (f"[{self.param}]" if self.param is not None else "")

    @property
    def collection_error(self) -> bool:
        """Whether this is a whole file that failed to collect (e.g. an import error)."""
        return self.function == ""

    @property
    def nodeid(self) -> str:
        """Pytest's node id, e.g. ``tests/test_flows.py::test_flow_sample[2-BNAF]``."""
        return f"{self.path}::{self.name}"


def read_cases(path: Path) -> list[Case]:
    """Every test case in a pytest JUnit XML file."""
    cases = []
    for tc in ET.parse(path).getroot().iter("testcase"):
        children = {child.tag: child for child in tc}
        problem = children.get("failure", children.get("error"))
        skipped = children.get("skipped")
        if problem is not None:
            outcome, message = "failed", (problem.get("message") or "").strip().split("\n", 1)[0]
            if message == "collection failure":  # the reason is the last `E   ` line
                reasons = [ln[1:].strip() for ln in (problem.text or "").splitlines() if ln.startswith("E ")]
                message = reasons[-1] if reasons else message
        elif skipped is not None:
            outcome = "xfailed" if skipped.get("type") == "pytest.xfail" else "skipped"
            message = (skipped.get("message") or "").removeprefix("reason: ")
        else:
            outcome, message = "passed", ""
        function, _, param = tc.get("name", "").partition("[")
        module = tc.get("classname", "").split(".")
        if module == [""]:  # a file that failed to collect: its module is the name
            module, function, param = function.split("."), "", ""
        cases.append(
            Case(
                file=module[-1],
                function=function,
                param=param[:-1] if param else None,
                outcome=outcome,
                seconds=float(tc.get("time", 0)),
                message=message,
                path="/".join(module) + ".py",
            )
        )
    return cases


def first_failure(cases: list[Case]) -> Case | None:
    """The first failing case, if any."""
    return next((c for c in cases if c.outcome == "failed"), None)


def read_junit(path: Path) -> Tally:
    """Counts and per-file time from a pytest JUnit XML file."""
    tally = Tally()
    for case in read_cases(path):
        tally.passed += case.outcome == "passed"
        tally.failed += case.outcome == "failed"
        tally.skipped += case.outcome in ("skipped", "xfailed")
        tally.seconds_by_file[case.file] += case.seconds
    return tally
