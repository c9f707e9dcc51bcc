"""PR_BODY.md's lines: fixed tests, other PRNGs, random streams, folded blocks, the kit's words."""

from __future__ import annotations

import dataclasses
import json

from helpers import BASE_IDS, kit_of, ready
from kit.evidence.stamps import write_stamp
from kit.pr import body as prbody
from kit.series.pin import load_pin
from kit.series.stack import load_stack


def test_body_lines_for_fixed_tests_other_prngs_and_random_streams(upstream):
    ready(upstream)
    kit = kit_of(upstream)
    pin = load_pin(kit.pin_file)
    stack = load_stack(kit.patches, pin.branch)
    envs_stamp = json.loads((kit.results / "envs.json").read_text())
    facts = prbody.facts(kit, pin, stack, stack.get("tests"), set(BASE_IDS.split()), envs_stamp, {})
    # test_upstream fails on the release under pytest 9.2 and passes with every PR: that is this
    # PR's evidence only where no other PR edits the file.
    assert prbody.fixed_line(facts) is None
    mine = dataclasses.replace(facts, only_mine={"tests/test_upstream.py"})
    assert prbody.fixed_line(mine) == (
        "Under pytest 9.2.0 on Python 3.13.0 / jax 0.12.0: 1 failure on main, 0 with this PR"
        " (run together with my other open PRs, which do not edit these files)."
    )
    new = "tests/test_new.py::test_new"
    results = kit.results
    assert prbody.streams_line(facts) is None
    assert prbody.flake_line(facts) is None
    rows = [
        {"setting": "default", "env": "jax's defaults", "failed_ids": []},
        {"setting": "rbg", "env": "JAX_DEFAULT_PRNG_IMPL=rbg", "failed_ids": []},
        {"setting": "unsafe_rbg", "env": "JAX_DEFAULT_PRNG_IMPL=unsafe_rbg", "failed_ids": [new]},
    ]
    write_stamp(results / "streams.json", kit, rows=rows, cases=[new])
    assert (
        prbody.streams_line(facts) == "Some of its new tests fail under `JAX_DEFAULT_PRNG_IMPL=unsafe_rbg`."
    )
    rows[2]["failed_ids"] = []
    write_stamp(results / "streams.json", kit, rows=rows, cases=[new])
    assert prbody.streams_line(facts) == (
        "Its new tests also pass with JAX's other random number generators: "
        "`JAX_DEFAULT_PRNG_IMPL=rbg` and `JAX_DEFAULT_PRNG_IMPL=unsafe_rbg`."
    )
    write_stamp(results / "flake.json", kit, rates={new: {"runs": 100, "failures": 0}})
    assert prbody.flake_line(facts) == (
        "Its new tests: 0 failures in 100 random streams per test (every `jax.random.key` seed offset)."
    )
    write_stamp(results / "flake.json", kit, rates={new: {"runs": 100, "failures": 3}})
    assert prbody.flake_line(facts) == (
        "Its new tests over 100 random streams per test: 1 test failed at least once (worst: `test_new`, 3 of 100)."
    )
    # Results of another version of the patches say nothing about this one.
    write_stamp(results / "flake.json", kit, series="0" * 64, rates={new: {"runs": 100, "failures": 0}})
    write_stamp(results / "streams.json", kit, series="0" * 64, rows=rows, cases=[new])
    assert prbody.flake_line(facts) is None
    assert prbody.streams_line(facts) is None


def test_a_folded_block_counts_as_one_line():
    assert prbody.line_count("a\n\n<details><summary>x</summary>\n\n| t |\n|---|\n\n</details>\n") == 3


def test_kit_words_are_found_as_words():
    assert prbody.kit_words("The series' tests and a sentinel, on the pin") == ["series", "sentinel", "pin"]
    assert prbody.kit_words("Pinned versions; a spinning top; stacked bars") == []
