"""`make streams` and `make flake`: the series' own test cases on other random streams.

A test that passes only for ``jr.key(0)`` is a future red CI: a new JAX may change the
default PRNG or how threefry splits keys, and a new test case changes nothing but its key.

- `make streams` runs the test cases the series adds (node ids the pin lacks) under each of
  JAX's other PRNGs (``JAX_DEFAULT_PRNG_IMPL=rbg``, ``unsafe_rbg``) and with
  ``JAX_THREEFRY_PARTITIONABLE`` flipped from the installed jax's default.
- `make flake STREAMS=N` runs them on N fresh streams (every seed offset, by the kit's
  pytest plugin `kit.seedoffset`, in one pytest process) and tables each case's failures.

Both write a table to build/results/ with a stamp of the series; `make pr` reads them.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kit import carried
from kit.config import Pin
from kit.git import run as git
from kit.log import KitError, info
from kit.options import child_env
from kit.paths import SCRIPTS, Kit
from kit.pytest_run import run_pytest
from kit.stamp import read_stamp, series_digest, write_result
from kit.state import Target, require_stack_branch
from kit.tally import Case, read_cases

JAX_STREAM_VARS = ("JAX_DEFAULT_PRNG_IMPL", "JAX_THREEFRY_PARTITIONABLE", "KIT_SEED_OFFSET")
_PROBE = (
    "import jax; print(jax.__version__, jax.config.jax_default_prng_impl, "
    "int(jax.config.jax_threefry_partitionable))"
)


@dataclass(frozen=True)
class Setting:
    """One random stream setting: a name and the environment variables that make it."""

    name: str
    env: dict[str, str]


def settings(partitionable_default: bool) -> list[Setting]:
    """The installed jax's defaults, then each other stream: rbg, unsafe_rbg, threefry flipped."""
    flipped = "0" if partitionable_default else "1"
    return [
        Setting("default", {}),
        Setting("rbg", {"JAX_DEFAULT_PRNG_IMPL": "rbg"}),
        Setting("unsafe_rbg", {"JAX_DEFAULT_PRNG_IMPL": "unsafe_rbg"}),
        Setting(f"threefry partitionable={flipped}", {"JAX_THREEFRY_PARTITIONABLE": flipped}),
    ]


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    """This process's environment without any stream setting of the caller's, plus ``extra``."""
    return child_env(drop=JAX_STREAM_VARS, **extra)


def probe(python: Path, env: dict[str, str]) -> tuple[str, str, bool]:
    """(jax version, default PRNG, threefry partitionable) as jax reads them under ``env``.

    Raises:
        KitError: If jax cannot be imported there (e.g. an unknown PRNG name).
    """
    proc = subprocess.run([str(python), "-c", _PROBE], env=env, capture_output=True, text=True, check=False)
    parts = proc.stdout.split()
    if proc.returncode or len(parts) != 3:
        tail = (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
        raise KitError(f"jax does not start under {env_words(env)}: {tail}")
    return parts[0], parts[1], parts[2] == "1"


def env_words(env: dict[str, str]) -> str:
    """The stream variables set in ``env``, as a shell would write them."""
    words = [f"{k}={env[k]}" for k in JAX_STREAM_VARS if k in env]
    return " ".join(words) or "jax's defaults"


def select(ids: list[str], cases: str) -> list[str]:
    """The node ids that contain any of the words of ``cases`` (all of them when it is empty)."""
    words = cases.split()
    return [i for i in ids if not words or any(w in i for w in words)]


def new_case_ids(kit: Kit, python: Path, target: Target) -> list[str]:
    """The test cases the series adds: node ids of the tests it touches that the base lacks.

    Raises:
        KitError: If it adds none.
    """
    base_ids = carried.base_node_ids(python, target.repo, target.base, kit.build / "nodeids")
    ids = carried.collect(python, target.repo, carried.touched_tests(target.repo, target.base, "HEAD"))
    new = sorted(ids - base_ids)
    if not new:
        raise KitError("the series adds no test case: nothing to run on other random streams")
    return new


def _first_failures(cases: list[Case], n: int = 2) -> str:
    failed = [c for c in cases if c.outcome == "failed"]
    shown = "; ".join(f"`{c.name}`: {c.message[:80]}" for c in failed[:n])
    more = f"; and {len(failed) - n} more" if len(failed) > n else ""
    return (shown + more) or "-"


def row_of(setting: Setting, jax_says: tuple[str, str, bool], cases: list[Case], seconds: float) -> dict:
    """One row of the streams table."""
    return {
        "setting": setting.name,
        "env": env_words(setting.env),
        "prng": jax_says[1],
        "partitionable": jax_says[2],
        "passed": sum(c.outcome == "passed" for c in cases),
        "failed": sum(c.outcome == "failed" for c in cases),
        "skipped": sum(c.outcome in ("skipped", "xfailed") for c in cases),
        "failures": _first_failures(cases),
        "failed_ids": [c.nodeid for c in cases if c.outcome == "failed"],
        "seconds": seconds,
    }


def streams_markdown(rows: list[dict], jax_version: str) -> str:
    """The streams table."""
    lines = [
        f"The series' own test cases under each of JAX's random streams (jax {jax_version}; "
        "*jax says*: the default PRNG and threefry partitioning as jax read them).",
        "",
        "| stream | environment | jax says | passed | failed | skipped | failures | time |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        says = f"{r['prng']}, partitionable={int(r['partitionable'])}"
        env = f"`{r['env']}`" if "=" in r["env"] else r["env"]
        cells = [r["setting"], env, says, r["passed"], r["failed"], r["skipped"], r["failures"]]
        cells.append(f"{r['seconds']:.0f}s")
        lines.append("| " + " | ".join(str(c).replace("|", "/") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def streams(kit: Kit, pin: Pin, target: Target, python: Path) -> int:
    """Run the series' cases under each stream setting; print and write build/results/streams.md."""
    require_stack_branch(target, pin)
    digest = series_digest(kit)
    start = time.perf_counter()
    ids = new_case_ids(kit, python, target)
    version, _, partitionable = probe(python, clean_env({}))
    info(
        f"streams: {len(ids)} test cases the series adds; jax {version} (threefry partitionable={partitionable})"
    )
    rows = []
    for setting in settings(partitionable):
        env = clean_env(setting.env)
        t0 = time.perf_counter()
        says = probe(python, env)
        xml = kit.results / "streams" / f"{setting.name.split()[0].replace('=', '-')}.xml"
        run_pytest(python, ["-q", *ids], target.repo, xml, env)
        row = row_of(setting, says, read_cases(xml), time.perf_counter() - t0)
        info(
            f"streams: {setting.name}: {row['passed']} passed, {row['failed']} failed in {row['seconds']:.0f}s"
        )
        rows.append(row)
    table = streams_markdown(rows, version)
    write_result(
        kit,
        "streams",
        table,
        series=digest,
        rows=rows,
        jax=version,
        cases=ids,
        tree=git.out(target.repo, "rev-parse", "HEAD^{tree}"),
        made=time.strftime("%Y-%m-%d %H:%M"),
    )
    print(table, end="", flush=True)
    info(
        f"streams: {len(rows)} settings in {time.perf_counter() - start:.0f}s; written to {kit.results / 'streams.md'}"
    )
    return 1 if any(r["failed"] or not r["passed"] for r in rows) else 0


@dataclass(frozen=True)
class Rate:
    """One test case over the streams it ran on."""

    nodeid: str
    runs: int
    failures: int
    skipped: int
    keys: int  # fewest keys it made during one run (0: its own body made none)
    first_failure: str = ""

    @property
    def rate(self) -> float:
        return self.failures / self.runs if self.runs else 0.0


def rates(run: dict[str, Any]) -> list[Rate]:
    """Each case's failures over the streams of a `python -m kit.seedoffset` result."""
    runs: dict[str, list[dict]] = {}
    for stream in run.get("streams", []):
        for nodeid, case in stream.get("cases", {}).items():
            runs.setdefault(nodeid, []).append(case | {"stream": stream["stream"]})
    out = []
    for nodeid, cases in sorted(runs.items()):
        failed = [c for c in cases if c["outcome"] == "failed"]
        first = f"stream {failed[0]['stream']}: {failed[0].get('message', '')}" if failed else ""
        out.append(
            Rate(
                nodeid,
                runs=sum(c["outcome"] != "skipped" for c in cases),
                failures=len(failed),
                skipped=sum(c["outcome"] == "skipped" for c in cases),
                keys=min(c.get("keys", 0) for c in cases),
                first_failure=first,
            )
        )
    return out


def stream_seconds(run: dict[str, Any]) -> list[float]:
    """Seconds per stream, in order."""
    return [s["seconds"] for s in run.get("streams", [])]


def flake_markdown(found: list[Rate], run: dict[str, Any], cases: str = "") -> str:
    """The flake table, with the streams run and the time per stream (``cases``: CASES's words)."""
    streams = [s["stream"] for s in run.get("streams", [])]
    seconds = stream_seconds(run)
    span = f"streams {streams[0]}-{streams[-1]}" if streams else "no stream"
    timing = (
        f"{seconds[0]:.1f}s for the first (imports), median {statistics.median(seconds[1:]):.1f}s after"
        if len(seconds) > 1
        else f"{seconds[0]:.1f}s, imports included"
        if seconds
        else ""
    )
    asked = run.get("asked", len(streams))
    budget = (
        f" of the {asked} asked (time budget {run.get('budget', 0):.0f}s)" if len(streams) < asked else ""
    )
    which = f" whose node id contains {' or '.join(f'`{w}`' for w in cases.split())}" if cases.split() else ""
    lines = [
        f"Each test case the series adds{which}, run on {len(streams)}{budget} fresh random streams ({span}: "
        f"every seed a test passes to `jax.random.key`/`PRNGKey` + stream x {run.get('stride')}), "
        f"in one pytest process. Time per stream: {timing}; {sum(seconds):.0f}s in all."
        if seconds
        else "No stream ran.",
        "",
        "| test case | streams | failures | failure rate | keys made in its run | first failure |",
        "|---|---|---|---|---|---|",
    ]
    for r in found:
        keys = str(r.keys) if r.keys else "0 (keys from import only, or none)"
        first = r.first_failure.replace("|", "/")[:120] or "-"
        lines.append(f"| `{r.nodeid}` | {r.runs} | {r.failures} | {r.rate:.1%} | {keys} | {first} |")
    total = sum(r.failures for r in found)
    flaky = sum(r.failures > 0 for r in found)
    lines += [
        "",
        f"{total} failures in {sum(r.runs for r in found)} runs; {flaky} of {len(found)} cases failed at least once.",
    ]
    return "\n".join(lines) + "\n"


def flake(
    kit: Kit, pin: Pin, target: Target, python: Path, count: int, cases: str, minutes: float = 0.0
) -> int:
    """Run the series' cases on ``count`` fresh streams; print and write build/results/flake.md."""
    require_stack_branch(target, pin)
    if count < 1:
        raise KitError(f"STREAMS={count}: run at least one stream")
    digest = series_digest(kit)
    ids = select(new_case_ids(kit, python, target), cases)
    if not ids:
        raise KitError(f"CASES={cases!r} matches none of the test cases the series adds")
    out = kit.results / "flake-runs.json"
    out.unlink(missing_ok=True)
    info(f"flake: {len(ids)} test cases x {count} streams, one pytest process; time per stream below")
    env = clean_env({"PYTHONPATH": str(SCRIPTS)})
    start = time.perf_counter()
    code = subprocess.run(
        [str(python), "-m", "kit.seedoffset", "--streams", str(count), "--budget", str(60 * minutes)]
        + ["--out", str(out), "--", *ids],
        cwd=target.repo,
        env=env,
        check=False,
    ).returncode
    run = json.loads(out.read_text()) if out.is_file() else {}
    if not run.get("streams"):
        raise KitError(f"the flake run wrote no results (exit {code})")
    found = rates(run)
    table = flake_markdown(found, run, cases)
    done = len(run["streams"])
    write_result(
        kit,
        "flake",
        table,
        series=digest,
        streams=done,
        asked=count,
        cases_filter=cases,
        minutes=minutes,
        rates={r.nodeid: {"runs": r.runs, "failures": r.failures, "skipped": r.skipped} for r in found},
        seconds=stream_seconds(run),
        tree=git.out(target.repo, "rev-parse", "HEAD^{tree}"),
        made=time.strftime("%Y-%m-%d %H:%M"),
    )
    print(table, end="", flush=True)
    info(
        f"flake: {done} of {count} streams in {time.perf_counter() - start:.0f}s; written to {kit.results / 'flake.md'}"
    )
    if done < count and run.get("stopped") == "budget":
        info(f"flake: {done} of {count} streams ran within FLAKE_MINUTES={minutes:g}; the table says so")
    stopped = done < count and run.get("stopped") != "budget"
    return 1 if code or stopped or any(r.failures for r in found) else 0


def current(kit: Kit, name: str) -> dict | None:
    """The stamp of ``name`` (streams, flake) if it was made for this very series."""
    stamp = read_stamp(kit.results / f"{name}.json")
    return stamp if stamp and stamp.get("series") == series_digest(kit) else None
