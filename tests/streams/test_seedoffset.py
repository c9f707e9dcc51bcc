"""The seed-offset pytest plugin, with no JAX: offsets, outcomes, one process, the budget.

A fake ``random`` module stands for ``jax.random``: its keys are ``("key", seed)`` tuples,
so what the plugin did to a seed can be read off exactly.
"""

from __future__ import annotations

import json
import subprocess
import sys
import types

import pytest
from helpers import SCRIPTS
from kit.streams import flake, seedoffset
from kit.streams.seedoffset import SeedOffset

FAKE_RANDOM = """
def key(seed, impl=None):
    return ("key", seed)

def PRNGKey(seed):
    return ("PRNGKey", seed)

def uniform(key):
    return (key[1] * 0.6180339887) % 1
"""


def fake_random() -> types.ModuleType:
    module = types.ModuleType("fake_random")
    exec(FAKE_RANDOM, module.__dict__)  # noqa: S102 (the test's own fixed text)
    return module


def test_stream_offsets_are_disjoint_for_small_seeds():
    assert seedoffset.offset_for(0) == 0
    assert seedoffset.offset_for(3) == 3 * seedoffset.STRIDE
    # Stream 1's key(0) is not stream 0's key(1), ... for every seed a test is likely to use.
    seeds = range(100)
    keys = [{seedoffset.offset_seed(s, seedoffset.offset_for(k)) for s in seeds} for k in range(5)]
    assert all(len(a & b) == 0 for i, a in enumerate(keys) for b in keys[i + 1 :])
    with pytest.raises(ValueError, match="not -1"):
        seedoffset.offset_for(-1)


def test_offset_zero_leaves_the_seed_object_untouched():
    seed = object()  # no `+`: offset 0 must not even try
    assert seedoffset.offset_seed(seed, 0) is seed
    assert seedoffset.offset_seed(7, 20_000) == 20_007


def test_the_wrapper_offsets_key_and_prngkey_and_reads_the_offset_at_call_time():
    random = fake_random()
    wrapper = SeedOffset(10_000)
    wrapper.install(random)
    assert random.key(0) == ("key", 10_000)
    assert random.key(2, impl="rbg") == ("key", 10_002)  # other arguments pass through
    assert random.PRNGKey(1) == ("PRNGKey", 10_001)
    wrapper.offset = 30_000
    assert random.key(0) == ("key", 30_000)
    assert wrapper.keys == 4
    assert random.key.__name__ == "key"  # functools.wraps: tracebacks still say key
    # Installing again wraps the original, not the wrapper: the offset is added once.
    SeedOffset(5).install(random)
    assert random.key(0) == ("key", 5)
    SeedOffset.uninstall(random)
    assert random.key(0) == ("key", 0)
    assert random.PRNGKey(0) == ("PRNGKey", 0)


def test_keys_made_at_import_follow_the_stream_after_a_purge(tmp_path, monkeypatch):
    random = fake_random()
    monkeypatch.setitem(sys.modules, "fake_random", random)
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "mod_with_key.py").write_text(
        "import fake_random as jr\nfrom fake_random import key\nKEY = jr.key(0)\nCASES = {'key': key(1)}\n"
    )
    monkeypatch.syspath_prepend(str(tests))
    wrapper = SeedOffset(0)
    wrapper.install(random)
    import mod_with_key  # noqa: PLC0415 (imported under the wrapper, on purpose)

    assert (mod_with_key.KEY, mod_with_key.CASES["key"]) == (("key", 0), ("key", 1))
    wrapper.offset = seedoffset.offset_for(2)
    assert seedoffset.purge(sys.modules, tests) == ["mod_with_key"]
    import mod_with_key as again  # noqa: PLC0415

    assert again is not mod_with_key
    assert (again.KEY, again.CASES["key"]) == (("key", 20_000), ("key", 20_001))
    assert seedoffset.purge(sys.modules, tests) == ["mod_with_key"]
    assert seedoffset.purge(sys.modules, tests) == []


def test_the_offset_from_the_environment():
    assert seedoffset.env_offset({}) == 0
    assert seedoffset.env_offset({"KIT_SEED_OFFSET": " 30000 "}) == 30_000
    with pytest.raises(ValueError, match="'x' is not an integer"):
        seedoffset.env_offset({"KIT_SEED_OFFSET": "x"})


def test_a_case_outcome_from_its_phases():
    assert seedoffset.outcome_of({"setup": "passed", "call": "passed", "teardown": "passed"}) == "passed"
    assert seedoffset.outcome_of({"setup": "passed", "call": "failed", "teardown": "passed"}) == "failed"
    assert seedoffset.outcome_of({"setup": "failed", "teardown": "passed"}) == "failed"
    assert seedoffset.outcome_of({"setup": "skipped", "teardown": "passed"}) == "skipped"
    assert seedoffset.outcome_of({"setup": "passed", "call": "passed", "teardown": "failed"}) == "failed"


def test_the_driver_runs_every_stream_in_one_process_and_records_each_case(tmp_path):
    """`python -m kit.streams.seedoffset` end to end, on the fake random module (no JAX)."""
    (tmp_path / "fake_random.py").write_text(FAKE_RANDOM)
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "test_fake.py").write_text(
        "import os\nimport fake_random as jr\n\nKEY = jr.key(0)\n\n"
        "def test_only_stream_zero():\n    assert KEY == ('key', 0)\n\n"
        "def test_any_stream():\n    assert jr.key(3)[1] % 10_000 == 3\n\n"
        "def test_one_process():\n"
        "    with open('pids', 'a') as f:\n        f.write(f'{os.getpid()}\\n')\n"
    )
    out = tmp_path / "runs.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "kit.streams.seedoffset",
            "--random",
            "fake_random",
            "--first",
            "0",
            "--streams",
            "3",
        ]
        + ["--out", str(out), "--", "-p", "no:xdist", "tests"],
        cwd=tmp_path,
        env={"PYTHONPATH": f"{SCRIPTS}:{tmp_path}", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "stream 2 (seeds + 20000): 2 passed, 1 failed" in proc.stdout
    assert len(set((tmp_path / "pids").read_text().split())) == 1  # three runs, one process
    run = json.loads(out.read_text())
    assert [s["offset"] for s in run["streams"]] == [0, 10_000, 20_000]
    rates = {r.nodeid.split("::")[1]: r for r in flake.rates(run)}
    assert (rates["test_only_stream_zero"].runs, rates["test_only_stream_zero"].failures) == (3, 2)
    assert rates["test_only_stream_zero"].first_failure.startswith("stream 1: ")
    assert (rates["test_any_stream"].runs, rates["test_any_stream"].failures) == (3, 0)
    assert rates["test_any_stream"].keys == 1  # made in its body: a key per run
    assert rates["test_only_stream_zero"].keys == 0  # its key was made at import


def test_the_time_budget_starts_no_stream_that_would_end_after_it():
    assert not seedoffset.over_budget([], 0.0, 10.0)  # the first stream always runs
    assert not seedoffset.over_budget([30.0, 4.0], 34.0, 0.0)  # no budget
    # The first stream pays the imports; the slowest later one is the estimate.
    assert not seedoffset.over_budget([30.0, 4.0, 5.0], 39.0, 44.0)
    assert seedoffset.over_budget([30.0, 4.0, 5.0], 39.5, 44.0)
    assert seedoffset.over_budget([50.0], 50.0, 60.0)
