"""Running an issue's reproducer as written: on the release it raises the issue's error; with the fix it runs.

With the fix, the values it prints as ``finite difference: ...`` and ``jax.grad: ...``
must agree within ``RTOL``.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from kit.checkout.target import Target
from kit.git.patch import commit_patches
from kit.git.worktree import scratch_worktree
from kit.log import info
from kit.options import child_env
from kit.paths import Kit
from kit.series import issue_text
from kit.series.issue_text import IssueText
from kit.series.patch import Patch
from kit.series.stack import PR, Stack

RTOL = 0.02  # as in the fix's own test: the default inverter's atol makes FD good to ~1%
_PRINTED = re.compile(r"^(finite difference|jax\.grad): \[?\s*([-+0-9.eE]+)", re.M)


@dataclass(frozen=True)
class Outcome:
    """One run of the reproducer."""

    code: int
    stdout: str
    error_line: str

    @property
    def printed(self) -> dict[str, float]:
        return {name: float(value) for name, value in _PRINTED.findall(self.stdout)}


def run(python: Path, repo: Path, issue: IssueText, env: dict[str, str] | None = None) -> Outcome:
    """Run the reproducer as written, with ``import flowjax`` resolving to ``repo``."""
    env = (env or child_env()) | {"PYTHONPATH": str(repo)}
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(issue.reproducer)
    try:
        proc = subprocess.run(
            [str(python), f.name], cwd=repo, env=env, capture_output=True, text=True, check=False
        )
    finally:
        Path(f.name).unlink()
    errors = [line for line in proc.stderr.splitlines() if re.match(r"[\w.]+(Error|Exception)\b", line)]
    return Outcome(proc.returncode, proc.stdout, errors[-1] if errors else "")


def problems_on_pin(outcome: Outcome, issue: IssueText) -> list[str]:
    """Without the fix the reproducer must fail with the issue's error line."""
    if outcome.code == 0:
        return [f"{issue.path.name}: the reproducer ran without error on the pin; the issue says it raises"]
    if outcome.error_line != issue.error:
        return [
            f"{issue.path.name}: on the pin the reproducer raised {outcome.error_line!r}, not {issue.error!r}"
        ]
    return []


def problems_with_fix(outcome: Outcome, issue: IssueText) -> list[str]:
    """With the fix it must run, and its gradient must match its finite difference."""
    if outcome.code != 0:
        why = outcome.error_line or f"exit {outcome.code}"
        return [f"{issue.path.name}: with the fix the reproducer still fails: {why}"]
    printed = outcome.printed
    if set(printed) != {"finite difference", "jax.grad"}:
        return [f"{issue.path.name}: the reproducer must print `finite difference:` and `jax.grad:`"]
    fd, grad = printed["finite difference"], printed["jax.grad"]
    if abs(grad - fd) > RTOL * abs(fd):
        return [f"{issue.path.name}: with the fix jax.grad gives {grad}, finite differences {fd}"]
    return []


def summary(outcome: Outcome) -> str:
    """A short cell for tables: the error line, or the printed values."""
    if outcome.code:
        return outcome.error_line or f"exit {outcome.code}"
    return ", ".join(f"{k} {v:.6g}" for k, v in outcome.printed.items()) or "ran"


@dataclass(frozen=True)
class Reproduction:
    """An issue's reproducer run on the release, and with the fix (None: not asked for)."""

    text: IssueText
    before: Outcome
    after: Outcome | None = None

    @property
    def problems(self) -> list[str]:
        """It must raise the issue's error on the release and, with the fix, run and agree."""
        fixed = problems_with_fix(self.after, self.text) if self.after is not None else []
        return problems_on_pin(self.before, self.text) + fixed

    def line(self, base_name: str) -> str:
        """``on <base>: <error>; with this PR: <what it printed>`` (as `make pr` reads it back)."""
        after = f"; with this PR: {summary(self.after)}" if self.after is not None else ""
        return f"on {base_name}: {summary(self.before)}{after}"


def issue_texts(kit: Kit, prs: Iterable[PR]) -> list[tuple[PR, IssueText]]:
    """Each of ``prs`` that fixes an upstream issue, with that issue's text."""
    return [(pr, issue_text.load(kit.root / pr.issue)) for pr in prs if pr.issue]


def reproduce(
    python: Path,
    text: IssueText,
    repo: Path,
    base: str,
    *,
    patches: list[Patch] | None = None,
    fixed: Path | None = None,
    env: dict[str, str] | None = None,
) -> Reproduction:
    """Run the reproducer as written on the release (``base`` of ``repo``, in a scratch worktree).

    With ``patches`` it runs again there once they are applied; with ``fixed`` it runs again in
    that checkout (the stack). Used by `make test`, `make envs` and `make matrix`.

    Raises:
        KitError: If one of ``patches`` does not apply.
    """
    with scratch_worktree(repo, base) as work:
        before = run(python, work, text, env)
        after = None
        if patches is not None:
            commit_patches(work, [p.path for p in patches], "the reproducer's fix")
            after = run(python, work, text, env)
    if fixed is not None:
        after = run(python, fixed, text, env)
    return Reproduction(text, before, after)


def stage(kit: Kit, python: Path, target: Target, stack: Stack, pr: PR) -> list[str]:
    """`make test`'s reproducer stage for ``pr``: fails on the release, passes with the PR.

    What it printed goes to ``results/reproducer-<pr>.txt`` (empty when it did not reproduce),
    which `make pr` puts into the body.
    """
    text = issue_text.load(kit.root / str(pr.issue))
    found = reproduce(python, text, target.repo, target.base, patches=stack.patches_for(pr.name))
    line = found.line(target.base_name)
    info(f"  {line}")
    log = kit.results / f"reproducer-{pr.name}.txt"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(line + "\n" if not found.problems else "")
    return found.problems
