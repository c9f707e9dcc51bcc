"""`make streams`: the settings, the caller's stream variables dropped, cases by words, the table."""

from __future__ import annotations

from kit.streams import streams


def test_the_settings_flip_threefry_from_the_installed_default():
    names = [s.name for s in streams.settings(partitionable_default=True)]
    assert names == ["default", "rbg", "unsafe_rbg", "threefry partitionable=0"]
    flipped = streams.settings(partitionable_default=False)[-1]
    assert flipped.env == {"JAX_THREEFRY_PARTITIONABLE": "1"}
    assert streams.env_words(flipped.env) == "JAX_THREEFRY_PARTITIONABLE=1"
    assert streams.env_words({}) == "jax's defaults"


def test_clean_env_drops_the_callers_stream_settings(monkeypatch):
    monkeypatch.setenv("JAX_DEFAULT_PRNG_IMPL", "rbg")
    monkeypatch.setenv("KIT_SEED_OFFSET", "10")
    env = streams.clean_env({"JAX_THREEFRY_PARTITIONABLE": "0"})
    assert "JAX_DEFAULT_PRNG_IMPL" not in env
    assert "KIT_SEED_OFFSET" not in env
    assert env["JAX_THREEFRY_PARTITIONABLE"] == "0"


def test_select_cases_by_words():
    ids = ["t.py::test_a[x]", "t.py::test_b[y]", "u.py::test_a[z]"]
    assert streams.select(ids, "") == ids
    assert streams.select(ids, "test_b u.py") == ["t.py::test_b[y]", "u.py::test_a[z]"]
    assert streams.select(ids, "nothing") == []


def test_the_streams_table():
    row = streams.row_of(
        streams.settings(True)[1],
        ("0.10.2", "rbg", True),
        [],
        12.4,
    )
    assert (row["passed"], row["failed"], row["failures"]) == (0, 0, "-")
    table = streams.streams_markdown([row], "0.10.2")
    assert "| rbg | `JAX_DEFAULT_PRNG_IMPL=rbg` | rbg, partitionable=1 | 0 | 0 | 0 | - | 12s |" in table
