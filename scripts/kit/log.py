"""Progress lines with timings, a plan's steps, and the kit's single error type."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager


class KitError(Exception):
    """An expected failure: the CLI prints its message as one line and exits non-zero."""


def info(message: str) -> None:
    """Print one progress line."""
    print(f"kit: {message}", flush=True)


def warn(message: str) -> None:
    """Print one warning line to stderr."""
    print(f"kit: warning: {message}", file=sys.stderr, flush=True)


@contextmanager
def step(what: str) -> Iterator[None]:
    """Announce a step, then report how long it took."""
    info(f"{what} ...")
    start = time.perf_counter()
    yield
    info(f"{what}: done in {time.perf_counter() - start:.1f}s")


def show_plan(steps: list[str]) -> None:
    """``DRY_RUN=1``: a plan, one line a step, and that it was not carried out."""
    for line in steps:
        info(f"plan: {line}")
    info("DRY_RUN=1: the plan above was not carried out")
