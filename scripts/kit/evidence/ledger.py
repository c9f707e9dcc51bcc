"""Which bases the series was proven on: one entry per base commit, kept across `make test` runs.

`build/results/` holds the last run's details; this ledger (``proofs.json``) remembers, for the
same series, every base a full green `make test` ran on (the release, ``main`` at a commit), so
that a PR body can say "proven on v19.1.2 and on main at abc1234, 2026-11-20".
"""

from __future__ import annotations

import json
from typing import Any

from kit.paths import Kit

LEDGER = "proofs.json"


def _read(kit: Kit) -> dict[str, Any]:
    try:
        return json.loads((kit.results / LEDGER).read_text())
    except (OSError, ValueError):
        return {}


def record(kit: Kit, series: str, facts: dict[str, Any]) -> None:
    """Add one `make test` run on a base; entries of another series are dropped."""
    ledger = _read(kit)
    runs = ledger.get("runs", {}) if ledger.get("series") == series else {}
    runs[facts["base_commit"]] = facts
    kit.results.mkdir(parents=True, exist_ok=True)
    (kit.results / LEDGER).write_text(
        json.dumps({"series": series, "runs": runs}, indent=2, sort_keys=True) + "\n"
    )


def proven(kit: Kit, series: str) -> list[dict[str, Any]]:
    """The full, green runs of ``series``, releases first, then by date."""
    ledger = _read(kit)
    if ledger.get("series") != series:
        return []
    runs = [r for r in ledger.get("runs", {}).values() if r.get("upstream_suite") and r.get("exit_code") == 0]
    return sorted(runs, key=lambda r: (r.get("base_label") != r.get("base_ref"), r.get("base_date", "")))


def proven_line(runs: list[dict[str, Any]]) -> str:
    """``proven on v19.1.2 and on main at abc1234, 2026-11-20`` (empty when there is none)."""
    labels = [str(r.get("base_label") or r.get("base_ref")) for r in runs]
    return "proven on " + " and on ".join(labels) if labels else ""


def add_bases(body: str, runs: list[dict[str, Any]]) -> str:
    """``body`` with one closing line naming the bases the change was proven on (none: unchanged)."""
    line = proven_line(runs)
    if not line:
        return body
    said = f"{line[0].upper()}{line[1:]}: the full test suite passes on each with this PR and the others applied."
    return f"{body.rstrip()}\n\n{said}\n"
