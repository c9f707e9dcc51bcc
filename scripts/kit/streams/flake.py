"""`make flake`: each new test case's failure rate over N fresh random streams.

The streams are made by the kit's pytest plugin `kit.streams.seedoffset` (every seed offset),
all in one pytest process; the table and its stamp go to build/results/ (`make pr` reads them).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kit.checkout.target import Target, require_stack_branch, require_target
from kit.envs.venv import ensure_env
from kit.evidence.stamps import series_digest, write_result
from kit.git import run as git
from kit.log import KitError, info
from kit.options import Options
from kit.paths import SCRIPTS, Kit
from kit.series.pin import Pin
from kit.streams.streams import clean_env, new_case_ids, select


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
    """Each case's failures over the streams of a `python -m kit.streams.seedoffset` result."""
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
        [str(python), "-m", "kit.streams.seedoffset", "--streams", str(count), "--budget", str(60 * minutes)]
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


def main(kit: Kit, pin: Pin, opts: Options) -> int:
    """`make flake` (``STREAMS=N``, ``CASES=words``, ``FLAKE_MINUTES=budget``)."""
    count = opts.stream_count
    target = require_target(kit, pin, opts.upstream_ref)
    budget = opts.flake_budget
    return flake(kit, pin, target, ensure_env(kit), count, opts.cases, budget)
