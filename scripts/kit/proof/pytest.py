"""Running pytest: one call with JUnit results, the suite in an order, the series' own cases."""

from __future__ import annotations

import contextlib
import subprocess
from pathlib import Path

from kit.log import KitError
from kit.paths import Kit
from kit.proof import selection
from kit.proof.tally import Tally, read_junit
from kit.series.pin import Pin


def run_pytest(
    python: Path,
    args: list[str],
    cwd: Path,
    xml: Path,
    env: dict[str, str] | None = None,
    *,
    log: Path | None = None,
) -> Tally:
    """Run pytest (output streamed, or written to ``log``), then read its JUnit XML.

    Raises:
        KitError: If pytest collected no tests (exit 5) or crashed before writing results.
    """
    xml.parent.mkdir(parents=True, exist_ok=True)
    xml.unlink(missing_ok=True)
    with open(log, "w") if log else contextlib.nullcontext() as out:
        code = subprocess.run(
            [str(python), "-m", "pytest", "-p", "no:cacheprovider", f"--junitxml={xml}", *args],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT if log else None,
            check=False,
        ).returncode
    if log and code not in (0, 5):
        text = log.read_text().splitlines()
        summary = next((i for i, line in enumerate(text) if "short test summary info" in line), len(text) - 5)
        for line in text[max(summary, 0) :][:20]:
            print(f"  {line}", flush=True)
        print(f"  (pytest output: {log})", flush=True)
    if code == 5:
        raise KitError(f"pytest collected no tests in {cwd} ({' '.join(args)[:200]})")
    if not xml.is_file():
        raise KitError(f"pytest exited {code} without results in {cwd}")
    tally = read_junit(xml)
    if code != 0 and tally.failed == 0:
        raise KitError(f"pytest exited {code} in {cwd} with no failing test recorded")
    return tally


ORDERS = ("natural", "new-first", "upstream-first")


def ordered_args(order: str, new: list[str], upstream: list[str]) -> list[str]:
    """Pytest arguments for the whole suite in ``order``.

    ``natural`` is how upstream's CI runs it (``pytest tests``: the series' tests in their
    place); the other two run every case of the series before, or after, all of upstream's.
    """
    if order == "natural":
        return ["tests"]
    return [*new, *upstream] if order == "new-first" else [*upstream, *new]


def sentinel_args(kit: Kit, pin: Pin, repo: Path) -> list[str]:
    """Pytest arguments that run the kit's sentinels against ``repo`` under its pytest config."""
    if not pin.sentinels:
        return []
    return [f"--rootdir={repo}", "-c", str(repo / "pyproject.toml"), str(kit.root / pin.sentinels)]


def series_tests(
    kit: Kit, pin: Pin, python: Path, repo: Path, base: str, xml: Path, env: dict[str, str] | None = None
) -> Tally:
    """The series' own test cases in ``repo`` (new node ids since ``base``), then the sentinels."""
    base_ids = selection.base_node_ids(python, repo, base, kit.build / "nodeids")
    ids = selection.collect(python, repo, selection.touched_tests(repo, base, "HEAD"), env)
    tally = run_pytest(python, ["-q", *sorted(ids - base_ids)], repo, xml, env)
    sentinels = xml.with_name(f"{xml.stem}-sentinels.xml")
    sentinels.unlink(missing_ok=True)
    if args := sentinel_args(kit, pin, repo):
        tally += run_pytest(python, ["-q", *args], repo, sentinels, env)
    return tally
