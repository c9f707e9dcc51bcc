"""`patches/stack.toml` as text: the stack rendered, its header comments kept."""

from __future__ import annotations

from pathlib import Path

from kit.series.stack import STACK_FILE, Stack


def render(stack: Stack, header: str) -> str:
    """`stack.toml` text for ``stack`` (after the comment lines ``header``)."""
    lines = [header.rstrip("\n"), ""] if header else []
    for pr in stack.prs:
        lines += [
            "[[pr]]",
            f"name = {_toml(pr.name)}",
            f"branch = {_toml(pr.branch)}",
            f"title = {_toml(pr.title)}",
        ]
        lines.append(f"depends = [{', '.join(_toml(d) for d in pr.depends)}]")
        lines.append("patches = [")
        lines += [f"    {_toml(patch.name)}," for patch in pr.patches]
        lines.append("]")
        if pr.issue:
            lines.append(f"issue = {_toml(pr.issue)}")
        if pr.summary:
            lines += ['summary = """', pr.summary.replace("\\", "\\\\").replace('"""', '\\"""'), '"""']
        lines.append("")
    return "\n".join(lines)


def header_of(patches_dir: Path) -> str:
    """The comment lines at the top of `stack.toml`, kept when it is rewritten."""
    path = patches_dir / STACK_FILE
    if not path.is_file():
        return ""
    head = []
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        head.append(line)
    return "\n".join(head)


def _toml(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
