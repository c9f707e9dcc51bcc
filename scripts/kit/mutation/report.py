"""`make mutation-report`: which gradient-breaking mutations the new tests and upstream's catch."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kit.checkout.target import require_stack_branch, require_target
from kit.envs.venv import ensure_env
from kit.evidence.stamps import series_digest, write_result
from kit.log import KitError, info
from kit.mutation.catalogue import CATALOGUE, Mutation
from kit.options import Options, child_env
from kit.paths import Kit
from kit.proof import selection
from kit.proof.pytest import sentinel_args
from kit.proof.tally import first_failure, read_cases
from kit.series.pin import Pin

if TYPE_CHECKING:  # numpy is imported where it is used: every `make` target imports this module
    import numpy as np

PROBE = Path(__file__).with_name("probe.py")
IMPORT_LINE = "\nimport jax as _mut_jax  # added by the kit's mutation report\n"


def upstream_tests_for(path: str, full: bool, checkout: Path) -> list[str]:
    """Upstream's tests for a mutated file: those of its module, or the whole suite."""
    return ["tests"] if full else [selection.module_tests(path, checkout)]


def start_pytest(python: Path, copy: Path, args: list[str], xml: Path) -> subprocess.Popen[bytes]:
    """Start pytest on a copy (stopping at the first failure), writing junit xml."""
    cmd = [str(python), "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", f"--junitxml={xml}", *args]
    env = child_env(PYTHONPATH=str(copy))
    return subprocess.Popen(cmd, cwd=copy, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@dataclass
class Outcome:
    """What one pytest run made of a (mutated) copy."""

    failed: int
    total: int
    first: str

    @property
    def killed(self) -> bool:
        return self.failed > 0

    def cell(self) -> str:
        if self.killed:
            return f"**killed** ({self.first})"
        return f"survived ({self.total} passed)"


def copy_checkout(checkout: Path, dest: Path) -> None:
    """Copy the working tree (not .git, not caches) to ``dest``."""
    shutil.copytree(checkout, dest, ignore=shutil.ignore_patterns(".git", "__pycache__", "*.egg-info"))


def apply_mutation(copy: Path, mutation: Mutation) -> None:
    """Edit the copy; the edited text must occur exactly once.

    Raises:
        KitError: If it does not (the catalogue no longer fits this FlowJAX).
    """
    path = copy / mutation.path
    text = path.read_text()
    count = text.count(mutation.old)
    if count != 1:
        raise KitError(f"{mutation.name}: expected text found {count} times in {mutation.path}")
    path.write_text(text.replace(mutation.old, mutation.new) + IMPORT_LINE)


def error_line(stderr: str) -> str:
    """The exception line of a Python traceback (JAX appends a note after it)."""
    lines = stderr.strip().splitlines() or ["no output"]
    errors = [line for line in lines if re.match(r"[\w.]+(Error|Exception)\b", line)]
    return (errors or lines)[-1]


class Runs:
    """The probe and the two pytest runs on one copy, started together, awaited together.

    ``new`` are the series' own test cases (node ids); in ``upstream``'s run they are
    deselected, so it counts upstream's cases only.
    """

    def __init__(self, python: Path, copy: Path, new: list[str], upstream: list[str], out: Path) -> None:
        env = child_env(PYTHONPATH=str(copy))
        self.out = out
        out.mkdir(parents=True, exist_ok=True)

        probe = [str(python), str(PROBE), str(out / "values.npz")]
        self.probe = subprocess.Popen(
            probe, cwd=copy, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        self.new = start_pytest(python, copy, new, out / "new.xml")
        self.upstream = start_pytest(
            python, copy, [*upstream, *(f"--deselect={i}" for i in new)], out / "upstream.xml"
        )

    def outcome(self, proc: subprocess.Popen[bytes], name: str) -> Outcome:
        return wait_outcome(proc, self.out / f"{name}.xml")

    def values(self) -> dict[str, np.ndarray]:
        import numpy as np

        _, err = self.probe.communicate()
        if self.probe.returncode:
            raise KitError(f"sampling probe failed: {error_line(err.decode())}")
        with np.load(self.out / "values.npz") as data:
            return {k: data[k] for k in data.files}


def wait_outcome(proc: subprocess.Popen[bytes], xml: Path) -> Outcome:
    """Wait for a pytest run and count its failures."""
    code = proc.wait()
    if code not in (0, 1) or not xml.is_file():
        return Outcome(1, 0, f"pytest exited {code}")
    cases = read_cases(xml)
    failed = first_failure(cases)
    return Outcome(sum(c.outcome == "failed" for c in cases), len(cases), failed.name if failed else "")


def same_values(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> list[str]:
    """Names of the sampled outputs that differ (beyond float rounding) between two probes."""
    import numpy as np

    return sorted(k for k in a if k not in b or not np.allclose(a[k], b[k], rtol=1e-12, atol=1e-12))


def catalogue_problems(checkout: Path) -> list[str]:
    """Mutations whose text no longer occurs exactly once in the checkout (e.g. after a bump)."""
    problems = []
    for mutation in CATALOGUE:
        path = checkout / mutation.path
        count = path.read_text().count(mutation.old) if path.is_file() else 0
        if count != 1:
            problems.append(f"mutation {mutation.name}: its text occurs {count} times in {mutation.path}")
    return problems


def select(names: list[str]) -> tuple[Mutation, ...]:
    """The named mutations (all of them when ``names`` is empty).

    Raises:
        KitError: For a name not in the catalogue.
    """
    known = {m.name: m for m in CATALOGUE}
    if unknown := [n for n in names if n not in known]:
        raise KitError(f"no mutation named {unknown[0]!r}; see scripts/kit/mutation/catalogue.py")
    return tuple(known[n] for n in names) if names else CATALOGUE


def report(
    kit: Kit, pin: Pin, python: Path, checkout: Path, base: str, *, full: bool, names: list[str]
) -> int:
    """Run the catalogue; print progress and write build/results/mutation-report.md.

    Only the test cases the stack carries upstream count as "new tests" (node ids that do
    not exist at ``base``). The kit's sentinels run on the mutants the new tests miss: they
    guard, kit-side, the paths the upstream-bound tests leave out on purpose.
    """
    catalogue = select(names)
    digest = series_digest(kit)  # the series these results will be of
    base_ids = selection.base_node_ids(python, checkout, base, kit.build / "nodeids")
    ids = selection.collect(python, checkout, selection.touched_tests(checkout, base, "HEAD"))
    new = sorted(ids - base_ids)
    info(f"mutation report: {len(new)} test cases carried by the stack")
    subsets = sorted({t for m in catalogue for t in upstream_tests_for(m.path, full, checkout)})
    start = time.perf_counter()
    rows, killed_new, killed_upstream, killed_kit = [], 0, 0, 0
    with tempfile.TemporaryDirectory(prefix="flowjax-mutants-") as tmp:
        base = Path(tmp) / "unmutated"
        copy_checkout(checkout, base)
        t0 = time.perf_counter()
        info(f"mutation report: unmutated copy: new tests and {' '.join(subsets)} ...")
        runs = Runs(python, base, new, subsets, Path(tmp) / "out-unmutated")
        sentinels = sentinel_args(kit, pin, base)
        guard = start_pytest(python, base, sentinels, runs.out / "sentinels.xml")
        reference = runs.values()
        for name, proc in (("new", runs.new), ("upstream", runs.upstream), ("sentinels", guard)):
            outcome = runs.outcome(proc, name)
            if outcome.killed:
                raise KitError(
                    f"the unmutated checkout fails its {name} tests ({outcome.first}); fix that first"
                )
        info(f"mutation report: unmutated copy passes ({time.perf_counter() - t0:.0f}s)")
        for i, mutation in enumerate(catalogue, 1):
            t0 = time.perf_counter()
            copy = Path(tmp) / mutation.name
            copy_checkout(checkout, copy)
            upstream = upstream_tests_for(mutation.path, full, checkout)
            try:
                apply_mutation(copy, mutation)
            except KitError as e:
                rows.append((mutation, "does not apply", str(e), "-", "-", 0.0))
                info(f"[{i}/{len(catalogue)}] {mutation.name}: does not apply")
                continue
            runs = Runs(python, copy, new, upstream, Path(tmp) / f"out-{mutation.name}")
            changed = same_values(reference, runs.values())
            new_outcome = runs.outcome(runs.new, "new")
            kit_outcome = new_outcome
            if not new_outcome.killed:  # does a kit-side guard catch what the new tests miss?
                xml = runs.out / "sentinels.xml"
                kit_outcome = wait_outcome(
                    start_pytest(python, copy, sentinel_args(kit, pin, copy), xml), xml
                )
            up_outcome = runs.outcome(runs.upstream, "upstream")
            shutil.rmtree(copy)
            values = "unchanged" if not changed else f"CHANGED: {', '.join(changed[:3])}"
            killed_new += new_outcome.killed and not changed
            killed_upstream += up_outcome.killed and not changed
            killed_kit += kit_outcome.killed and not changed
            seconds = time.perf_counter() - t0
            kit_cell = "(new tests killed it)" if new_outcome.killed else kit_outcome.cell()
            rows.append(
                (
                    mutation,
                    values,
                    new_outcome.cell(),
                    kit_cell,
                    f"{up_outcome.cell()} [{' '.join(upstream)}]",
                    seconds,
                )
            )
            info(
                f"[{i}/{len(catalogue)}] {mutation.name}: values {values}; new tests "
                f"{'killed' if new_outcome.killed else 'SURVIVED'}; new tests or sentinels "
                f"{'killed' if kit_outcome.killed else 'SURVIVED'}; upstream "
                f"{'killed' if up_outcome.killed else 'survived'} ({seconds:.0f}s)"
            )
    total = time.perf_counter() - start
    text = _markdown(rows, killed_new, killed_kit, killed_upstream, full, total)
    write_result(
        kit,
        "mutation-report",
        text,
        series=digest,
        mutations=[m.name for m in catalogue],
        upstream_full=full,
    )
    print(text, end="", flush=True)
    info(f"mutation report: {len(catalogue)} mutations in {total / 60:.1f} min; written to {kit.results}")
    return 0


def _markdown(
    rows: list, killed_new: int, killed_kit: int, killed_upstream: int, full: bool, seconds: float
) -> str:
    n = len(rows)
    scope = "upstream's whole suite" if full else "upstream's tests of the mutated module"
    lines = [
        f"Each mutation is one source edit of FlowJAX that leaves every sample value unchanged "
        f"(checked on every case of the new tests, float64) and breaks a gradient: zeroed, "
        f"halved, doubled or flipped. For each, the test cases the stack's PRs add and {scope} "
        "ran on a copy of the patched checkout, and the kit's sentinels where the new tests "
        "missed it; the unmutated copy passes all three.",
        "",
        f"**New tests killed {killed_new}/{n}; new tests or kit sentinels {killed_kit}/{n}; "
        f"upstream's tests {killed_upstream}/{n}.** ({seconds / 60:.1f} min)",
        "",
        "| mutation | where | sample values | new tests | kit sentinels | upstream tests |",
        "|---|---|---|---|---|---|",
    ]
    for mutation, values, new, kit_cell, upstream, _ in rows:
        lines.append(f"| `{mutation.name}` | {mutation.what} | {values} | {new} | {kit_cell} | {upstream} |")
    return "\n".join(lines) + "\n"


def main(kit: Kit, pin: Pin, opts: Options) -> int:
    """`make mutation-report` (``MUTATIONS=``, ``MUTATION_UPSTREAM=full``), on the stack branch."""
    target = require_target(kit, pin, opts.upstream_ref)
    require_stack_branch(target, pin)
    python = ensure_env(kit)
    return report(
        kit, pin, python, target.repo, target.base, full=opts.upstream_full, names=list(opts.mutations)
    )
