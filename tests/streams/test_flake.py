"""`make flake`'s rates and table, with no JAX."""

from __future__ import annotations

from kit.streams import flake


def _run(outcomes: dict[str, list[str]], seconds: list[float]) -> dict:
    return {
        "stride": 10_000,
        "streams": [
            {
                "stream": i + 1,
                "seconds": s,
                "cases": {
                    n: {"outcome": o[i], "keys": 2, "message": "assert 1 == 2"} for n, o in outcomes.items()
                },
            }
            for i, s in enumerate(seconds)
        ],
    }


def test_rates_and_the_flake_table():
    run = _run(
        {"t.py::test_a": ["passed", "failed", "passed", "failed"], "t.py::test_b": ["passed"] * 4},
        [30.0, 10.0, 12.0, 11.0],
    )
    found = flake.rates(run)
    assert [(r.nodeid, r.runs, r.failures, r.rate) for r in found] == [
        ("t.py::test_a", 4, 2, 0.5),
        ("t.py::test_b", 4, 0, 0.0),
    ]
    table = flake.flake_markdown(found, run)
    assert "run on 4 fresh random streams (streams 1-4" in table
    assert "30.0s for the first (imports), median 11.0s after; 63s in all" in table
    assert "| `t.py::test_a` | 4 | 2 | 50.0% | 2 | stream 2: assert 1 == 2 |" in table
    assert "| `t.py::test_b` | 4 | 0 | 0.0% | 2 | - |" in table
    assert "2 failures in 8 runs; 1 of 2 cases failed at least once." in table


def test_a_skipped_run_is_not_a_stream_the_case_passed():
    run = _run({"t.py::test_a": ["skipped", "passed"]}, [1.0, 1.0])
    (rate,) = flake.rates(run)
    assert (rate.runs, rate.failures, rate.skipped) == (1, 0, 1)


def test_a_table_of_fewer_streams_than_asked_says_so():
    run = _run({"t.py::test_a": ["passed", "passed"]}, [3.0, 1.0]) | {"asked": 20, "budget": 300.0}
    table = flake.flake_markdown(flake.rates(run), run)
    assert "run on 2 of the 20 asked (time budget 300s) fresh random streams" in table
