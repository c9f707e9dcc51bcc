"""`git format-patch` and `git patch-id`: patch files whose bytes depend only on the commits."""

from __future__ import annotations

import subprocess
from pathlib import Path

from kit.git.run import clean_config_env, run

# `git format-patch` whose output depends only on the commits: no hashes, dates of now,
# git version signature or user `format.*` settings (with `clean_config_env`).
FORMAT_PATCH = (
    "format-patch",
    "--no-numbered",
    "--zero-commit",
    "--full-index",
    "--no-signature",
    "--subject-prefix=PATCH",
)


def export(repo: Path, base: str, head: str, out: Path, *, start_number: int = 1) -> list[Path]:
    """`git format-patch base..head` into ``out``, one file per commit numbered from ``start_number``."""
    before = set(out.glob("*.patch"))
    run(
        repo,
        *FORMAT_PATCH,
        f"--start-number={start_number}",
        "-o",
        str(out),
        f"{base}..{head}",
        env=clean_config_env(),
    )
    return sorted(set(out.glob("*.patch")) - before)


def for_review(repo: Path, start: str, tip: str, out: Path) -> None:
    """`git format-patch start..tip` into ``out`` as the contributor sends them (their git config)."""
    run(repo, "format-patch", "--quiet", "--no-signature", "-o", str(out), f"{start}..{tip}")


def patch_id(path: Path) -> str:
    """`git patch-id --stable` of a patch file: equal for the same change."""
    proc = subprocess.run(
        ["git", "patch-id", "--stable"], input=path.read_bytes(), capture_output=True, check=False
    )
    return proc.stdout.decode().split(" ", 1)[0] if proc.returncode == 0 else ""
