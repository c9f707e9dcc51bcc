"""`make streams`: the series' own test cases under JAX's other random streams (and what `make flake` shares).

A test that passes only for ``jr.key(0)`` is a future red CI: a new JAX may change the
default PRNG or how threefry splits keys, and a new test case changes nothing but its key.

- `make streams` runs the test cases the series adds (node ids the pin lacks) under each of
  JAX's other PRNGs (``JAX_DEFAULT_PRNG_IMPL=rbg``, ``unsafe_rbg``) and with
  ``JAX_THREEFRY_PARTITIONABLE`` flipped from the installed jax's default.
- `make flake STREAMS=N` (`kit.streams.flake`) runs them on N fresh streams (every seed
  offset, by the kit's pytest plugin `kit.streams.seedoffset`, in one pytest process).

Both write a table to build/results/ with a stamp of the series; `make pr` reads them.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from kit.checkout.target import Target, require_stack_branch, require_target
from kit.envs.venv import ensure_env
from kit.evidence.stamps import series_digest, write_result
from kit.git import run as git
from kit.log import KitError, info
from kit.options import Options, child_env
from kit.paths import Kit
from kit.proof import selection
from kit.proof.pytest import run_pytest
from kit.proof.tally import Case, read_cases
from kit.series.pin import Pin

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
    base_ids = selection.base_node_ids(python, target.repo, target.base, kit.build / "nodeids")
    ids = selection.collect(python, target.repo, selection.touched_tests(target.repo, target.base, "HEAD"))
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


def main(kit: Kit, pin: Pin, opts: Options) -> int:
    """`make streams`."""
    return streams(kit, pin, require_target(kit, pin, opts.upstream_ref), ensure_env(kit))
