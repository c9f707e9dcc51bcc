"""Drift: each source must equal the block its patch adds (read from the patch text, no checkout)."""

from __future__ import annotations

import sys

from kit.log import info
from kit.options import Options
from kit.paths import Kit
from kit.series.pin import Pin
from kit.series.sources import block_of, owning_patch, place
from kit.series.stack import load_stack


def drift(kit: Kit, pin: Pin) -> list[str]:
    """One line per source that differs from what its patch adds; empty when all agree."""
    stack = load_stack(kit.patches, pin.branch)
    problems = []
    for source in pin.sources:
        patch = owning_patch(stack, source)
        text = block_of(patch, source)
        path = kit.root / source.path
        mine = path.read_text() if path.is_file() else ""
        if text is None:
            problems.append(f"{patch.name} adds no block {place(source)} (source {source.path})")
        elif mine != text:
            a, b = mine.splitlines(), text.splitlines()
            n = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
            problems.append(
                f"{source.path} differs from what {patch.name} adds {place(source)} "
                f"(first at line {n + 1}); run `make patches` to rebuild the patch from it"
            )
    return problems


def main(kit: Kit, pin: Pin, opts: Options) -> int:
    """`make drift`: one line per source that differs from its patch; 1 if any does."""
    problems = drift(kit, pin)
    for problem in problems:
        print(f"kit: drift: {problem}", file=sys.stderr)
    if not problems:
        info(f"no drift: {len(pin.sources)} source(s) match the series")
    return 1 if problems else 0
