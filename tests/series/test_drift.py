"""Drift: every source equals the block its patch adds."""

from __future__ import annotations


def test_no_drift_on_a_consistent_kit(upstream):
    proc = upstream.kit_run("drift")
    assert proc.returncode == 0, proc.stderr
    assert "2 source(s) match" in proc.stdout
