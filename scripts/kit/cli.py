"""Command-line interface: one subcommand per Makefile target, each one line into its folder."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from kit.envs import ci, venv
from kit.log import KitError
from kit.mutation import report
from kit.ops import apply, bump, patches, refresh
from kit.options import Options, parse
from kit.paths import Kit, load_kit
from kit.pr import make
from kit.proof import bench, docs, test
from kit.releases import matrix
from kit.series import drift
from kit.series.pin import Pin, load_pin
from kit.streams import flake, streams

Command = Callable[[Kit, Pin, Options], int]

COMMANDS: dict[str, tuple[Command, str]] = {
    "apply": (apply.main, "fetch and verify the pinned sdist, make the checkout, apply the series"),
    "drift": (drift.main, "check the patches add exactly flowjax_tests/ and docs_additions/"),
    "patches": (patches.main, "rebuild the patches from flowjax_tests/ and docs_additions/"),
    "refresh": (refresh.main, "export the checkout's commits to patches/ and the sources"),
    "env": (venv.main, "create or update .venv from requirements.lock"),
    "bench": (bench.main, "time the kit's tests, and a fresh clone's `make env` against uv alone"),
    "test": (test.main, "run every stage that proves the patches (--fast: the edit loop's)"),
    "test-fast": (test.main_fast, "the edit loop: the series' own tests, sentinels, reproducer, doctests"),
    "matrix": (matrix.main, "apply the series to several releases (VERSIONS=) and run the new tests"),
    "envs": (ci.main, "prove the stack in upstream's CI environments; write build/results/envs.md"),
    "streams": (
        streams.main,
        "the series' tests under rbg, unsafe_rbg, threefry flipped; build/results/streams.md",
    ),
    "flake": (
        flake.main,
        "each new test case's failures over STREAMS=N fresh streams; build/results/flake.md",
    ),
    "bump": (bump.main, "move the pin to VERSION=X, re-apply the series and report what broke"),
    "pr": (make.main, "write build/pr/<pr>/ for every PR: branch, patches, PR_BODY.md (and ISSUE.md)"),
    "mutation-report": (report.main, "run the mutation catalogue; write build/results/mutation-report.md"),
    "docs": (docs.main, "build the patched HTML docs; fail on new warnings or a missing section"),
}


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand; an expected failure becomes one `kit: error:` line and exit 1."""
    parser = argparse.ArgumentParser(prog="kit", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (_, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text)
        if name == "test":
            p.add_argument("--fast", action="store_true", help="the same as `test-fast`")
    args = parser.parse_args(argv)
    command = "test-fast" if getattr(args, "fast", False) else args.command
    try:
        opts = parse()
        kit = load_kit(opts)
        return COMMANDS[command][0](kit, load_pin(kit.pin_file), opts)
    except (KitError, OSError) as e:
        print(f"kit: error: {e}", file=sys.stderr)
        return 1
