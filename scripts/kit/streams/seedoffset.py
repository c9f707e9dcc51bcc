"""A pytest plugin of the kit's that moves every test onto a fresh random stream.

It wraps ``jax.random.key`` and ``jax.random.PRNGKey`` (and so ``jr.key`` in a test that
did ``import jax.random as jr``) so that ``key(seed)`` becomes ``key(seed + offset)``. Keys
a test module makes at import (``KEY = jr.key(0)``, a key inside a case dict) are offset
too, because the module is imported under the plugin. Nothing of this reaches a patch.

Two ways to use it, both from the kit's ``scripts`` folder on ``PYTHONPATH``:

- ``KIT_SEED_OFFSET=30000 pytest -p kit.streams.seedoffset tests/...``: one stream, e.g. to rerun
  a failure `make flake` reported;
- ``python -m kit.streams.seedoffset --streams N --out FILE -- <pytest args>`` (`make flake`): one
  process runs the tests once per stream, importing the test modules afresh each time
  (jax, FlowJAX and JAX's caches of compiled primitives are kept), and writes each test
  case's outcome per stream to FILE as JSON.

This module imports no kit module and imports JAX only when it runs, so the kit's own
tests can check its logic without JAX.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

ENV = "KIT_SEED_OFFSET"
# Stream k offsets every seed by k * STRIDE: tests use small seeds (0, 1, ...), so no two
# streams share a key as long as a test's seeds stay below STRIDE.
STRIDE = 10_000
WRAPPED = ("key", "PRNGKey")


def offset_for(stream: int) -> int:
    """The seed offset of stream ``stream`` (stream 0 is the tests as written)."""
    if stream < 0:
        raise ValueError(f"a stream is a number >= 0, not {stream}")
    return stream * STRIDE


def offset_seed(seed: Any, offset: int) -> Any:
    """``seed + offset``; the seed itself, untouched, when the offset is 0."""
    return seed if offset == 0 else seed + offset


class SeedOffset:
    """The wrapper: keys made while installed are made from ``seed + self.offset``.

    Attributes:
        offset: Added to every seed; may change between runs.
        keys: How many keys were made through the wrapper so far.
    """

    def __init__(self, offset: int = 0) -> None:
        self.offset = offset
        self.keys = 0

    def wrap(self, make: Callable[..., Any]) -> Callable[..., Any]:
        """``make`` with its seed offset."""

        @functools.wraps(make)
        def offset_key(seed: Any, *args: Any, **kwargs: Any) -> Any:
            self.keys += 1
            return make(offset_seed(seed, self.offset), *args, **kwargs)

        offset_key.__kit_original__ = make  # type: ignore[attr-defined]
        return offset_key

    def install(self, random: ModuleType) -> None:
        """Replace ``key`` and ``PRNGKey`` in ``random`` (``jax.random``) by offset ones."""
        for name in WRAPPED:
            if hasattr(random, name):
                make = getattr(random, name)
                setattr(random, name, self.wrap(getattr(make, "__kit_original__", make)))

    @staticmethod
    def uninstall(random: ModuleType) -> None:
        """Put back the original functions."""
        for name in WRAPPED:
            make = getattr(random, name, None)
            if make is not None and hasattr(make, "__kit_original__"):
                setattr(random, name, make.__kit_original__)


def env_offset(environ: dict[str, str]) -> int:
    """The offset ``KIT_SEED_OFFSET`` asks for (0 when unset).

    Raises:
        ValueError: If it is not an integer.
    """
    text = environ.get(ENV, "").strip()
    try:
        return int(text) if text else 0
    except ValueError:
        raise ValueError(f"{ENV}={text!r} is not an integer") from None


def pytest_configure(config: Any) -> None:
    """Under ``-p kit.streams.seedoffset``: offset every seed by ``KIT_SEED_OFFSET``."""
    import jax.random

    offset = env_offset(dict(os.environ))
    SeedOffset(offset).install(jax.random)
    config.kit_seed_offset = offset


def pytest_report_header(config: Any) -> str:
    return (
        f"kit.streams.seedoffset: every jax.random.key/PRNGKey seed + {getattr(config, 'kit_seed_offset', 0)}"
    )


def outcome_of(phases: dict[str, str]) -> str:
    """One test case's outcome from its phases' outcomes (setup, call, teardown)."""
    if "failed" in phases.values():
        return "failed"
    if "skipped" in phases.values():
        return "skipped"
    return "passed" if phases.get("call") == "passed" else "failed"


class Recorder:
    """Pytest hooks that record each case's outcome, and the keys it made, in one run."""

    def __init__(self, wrapper: SeedOffset) -> None:
        self.wrapper = wrapper
        self.phases: dict[str, dict[str, str]] = {}
        self.messages: dict[str, str] = {}
        self.keys: dict[str, int] = {}
        self.seconds: dict[str, float] = {}
        self._before = 0

    def pytest_runtest_setup(self, item: Any) -> None:
        self._before = self.wrapper.keys

    def pytest_runtest_logreport(self, report: Any) -> None:
        self.phases.setdefault(report.nodeid, {})[report.when] = report.outcome
        self.seconds[report.nodeid] = self.seconds.get(report.nodeid, 0.0) + report.duration
        if report.failed and report.nodeid not in self.messages:
            crash = getattr(report.longrepr, "reprcrash", None)
            self.messages[report.nodeid] = (crash.message if crash else str(report.longrepr)).split("\n")[0]
        if report.when == "teardown":
            self.keys[report.nodeid] = self.wrapper.keys - self._before

    def cases(self) -> dict[str, dict[str, Any]]:
        """Each case: its outcome, the keys it made, and its failure message if any."""
        out = {}
        for nodeid, phases in self.phases.items():
            case: dict[str, Any] = {
                "outcome": outcome_of(phases),
                "keys": self.keys.get(nodeid, 0),
                "seconds": round(self.seconds.get(nodeid, 0.0), 3),
            }
            if nodeid in self.messages:
                case["message"] = self.messages[nodeid][:200]
            out[nodeid] = case
        return out


def purge(modules: dict[str, ModuleType], folder: Path) -> list[str]:
    """Forget (from ``modules``, i.e. sys.modules) every module imported from under ``folder``.

    The next pytest run imports the test modules again, so their module-level keys are made
    under the new offset.
    """
    root = folder.resolve()
    gone = []
    for name, module in list(modules.items()):
        path = getattr(module, "__file__", None)
        if path and Path(path).resolve().is_relative_to(root):
            del modules[name]
            gone.append(name)
    return gone


def over_budget(spent: list[float], elapsed: float, budget: float) -> bool:
    """Whether another stream, as long as the slowest after the first, would end after ``budget``."""
    if budget <= 0 or not spent:
        return False
    expected = max(spent[1:] or spent)
    return elapsed + expected > budget


def _check_stream_changes(random: ModuleType, wrapper: SeedOffset, stream: int, first: Any) -> Any:
    """A key-dependent value under this stream; it must differ from stream 0's."""
    before = wrapper.keys
    value = float(random.uniform(random.key(0)))
    wrapper.keys = before
    if first is not None and stream != 0 and value == first:
        raise SystemExit(
            f"kit.streams.seedoffset: stream {stream} gives the same draw as stream 0: not offset"
        )
    return value


def main(argv: list[str] | None = None) -> int:
    """Run pytest once per stream in this one process; write every case's outcome as JSON."""
    parser = argparse.ArgumentParser(prog="python -m kit.streams.seedoffset", description=main.__doc__)
    parser.add_argument("--streams", type=int, required=True, help="how many streams")
    parser.add_argument("--first", type=int, default=1, help="the first stream (0: the tests as written)")
    parser.add_argument("--out", type=Path, required=True, help="the JSON file to write")
    parser.add_argument("--tests", type=Path, default=Path("tests"), help="folder of the test modules")
    parser.add_argument(
        "--budget",
        type=float,
        default=0.0,
        help="seconds: start no stream expected to end after them (0: none)",
    )
    parser.add_argument(
        "--random",
        default="jax.random",
        help="the module whose key and PRNGKey to wrap (the kit's tests fake it)",
    )
    parser.add_argument("pytest_args", nargs="*")
    args = parser.parse_args(argv)

    import pytest

    random = importlib.import_module(args.random)
    wrapper = SeedOffset()
    wrapper.install(random)
    reference = _check_stream_changes(random, wrapper, 0, None)
    result: dict[str, Any] = {"stride": STRIDE, "streams": [], "asked": args.streams, "budget": args.budget}
    began = time.perf_counter()
    for stream in range(args.first, args.first + args.streams):
        spent = [s["seconds"] for s in result["streams"]]
        if over_budget(spent, time.perf_counter() - began, args.budget):
            print(
                f"kit: flake: stopping after {len(spent)} of {args.streams} streams: the next would end "
                f"after the budget of {args.budget:.0f}s",
                flush=True,
            )
            result["stopped"] = "budget"
            args.out.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
            break
        wrapper.offset = offset_for(stream)
        _check_stream_changes(random, wrapper, stream, reference)
        purge(sys.modules, args.tests)
        recorder = Recorder(wrapper)
        keys_before, start = wrapper.keys, time.perf_counter()
        # FlowJAX is imported once, in the first run, under the repo's addopts (jaxtyping's
        # import hook for it included); later runs keep those modules and must not ask
        # jaxtyping to hook a package already imported.
        again = ["-o", "addopts="] if stream != args.first else []
        code = pytest.main(
            ["-p", "no:cacheprovider", "-qq", "--tb=no", *again, *args.pytest_args], plugins=[recorder]
        )
        seconds = time.perf_counter() - start
        cases = recorder.cases()
        made = wrapper.keys - keys_before
        result["streams"].append(
            {
                "stream": stream,
                "offset": wrapper.offset,
                "seconds": seconds,
                "exit": int(code),
                "keys": made,
                "cases": cases,
            }
        )
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
        failed = sum(c["outcome"] == "failed" for c in cases.values())
        passed = sum(c["outcome"] == "passed" for c in cases.values())
        in_tests = sum(c["seconds"] for c in cases.values())
        print(
            f"kit: flake: stream {stream} (seeds + {wrapper.offset}): {passed} passed, "
            f"{failed} failed, {len(cases) - passed - failed} skipped, {made} keys made, "
            f"{seconds:.1f}s ({in_tests:.1f}s in the tests)",
            flush=True,
        )
        if int(code) not in (0, 1):  # 0: passed, 1: some failed; anything else is no run
            print(f"kit: flake: pytest exited {int(code)} in stream {stream}; stopping", flush=True)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
