"""Pytest arguments for the whole suite in an order."""

from __future__ import annotations

from kit.proof.pytest import ordered_args


def test_orders_put_the_series_first_or_last():
    assert ordered_args("natural", ["n"], ["u"]) == ["tests"]
    assert ordered_args("new-first", ["n"], ["u"]) == ["n", "u"]
    assert ordered_args("upstream-first", ["n"], ["u"]) == ["u", "n"]
