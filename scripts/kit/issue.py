"""An upstream issue text kept in the kit, whose reproducer the kit runs as written.

The text (Markdown) has a `# title`, a first ```python block (the reproducer) and a first
plain ``` block (the error line the reproducer raises without the fix). With the fix, the
reproducer must run, and the values it prints as ``finite difference: ...`` and
``jax.grad: ...`` must agree within ``RTOL``. `make pr` fills ``{versions}``.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from kit.log import KitError
from kit.options import child_env

RTOL = 0.02  # as in the fix's own test: the default inverter's atol makes FD good to ~1%
_BLOCK = re.compile(r"^```(\w*)\n(.*?)^```$", re.M | re.S)
_PRINTED = re.compile(r"^(finite difference|jax\.grad): \[?\s*([-+0-9.eE]+)", re.M)


@dataclass(frozen=True)
class IssueText:
    """The parts of an issue text the kit checks."""

    path: Path
    title: str
    reproducer: str
    error: str


def load(path: Path) -> IssueText:
    """Parse an issue text.

    Raises:
        KitError: If the title, the python block or the error block is missing.
    """
    if not path.is_file():
        raise KitError(f"{path}: issue text not found")
    text = path.read_text()
    title = re.search(r"^# (.+)$", text, re.M)
    blocks = _BLOCK.findall(text)
    code = next((body for lang, body in blocks if lang == "python"), None)
    error = next((body.strip() for lang, body in blocks if lang == ""), None)
    if not title or code is None or not error:
        raise KitError(f"{path}: needs a `# title`, a ```python reproducer and a ``` error block")
    return IssueText(path, title.group(1).strip(), code, error)


def lines_of_code(issue: IssueText) -> int:
    """Non-blank lines of the reproducer."""
    return sum(1 for line in issue.reproducer.splitlines() if line.strip())


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


def render(issue: IssueText, versions: list[str]) -> str:
    """The issue text with ``{versions}`` filled in."""
    listed = "\n".join(f"- {v}" for v in versions) or "- (run `make envs` to record them)"
    return issue.path.read_text().replace("{versions}", listed)
