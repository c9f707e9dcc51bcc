"""An upstream issue text kept in the kit: its title, its reproducer and its error line.

The text (Markdown) has a `# title`, a first ```python block (the reproducer) and a first
plain ``` block (the error line the reproducer raises without the fix). `make pr` fills
``{versions}``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from kit.log import KitError

_BLOCK = re.compile(r"^```(\w*)\n(.*?)^```$", re.M | re.S)


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


def render(issue: IssueText, versions: list[str]) -> str:
    """The issue text with ``{versions}`` filled in."""
    listed = "\n".join(f"- {v}" for v in versions) or "- (run `make envs` to record them)"
    return issue.path.read_text().replace("{versions}", listed)
