"""The kit's options, read once from its environment, and the environment of its child processes.

The only module that reads ``os.environ``. The Makefile passes its variables (``make apply
PR=docs``) to the kit in the environment; `parse` reads them into one frozen `Options`, which
`cli.main` makes once and passes down. `child_env` is the environment a subprocess (git, uv,
pytest, sphinx) runs with: this process's, changed only where the caller says.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from kit.log import KitError

# Every variable the kit reads (make's command line, or the environment).
NAMES = (
    "FLOWJAX_DIR",
    "PR",
    "FORCE",
    "UPSTREAM_REF",
    "UPSTREAM_TAG",
    "ORDER",
    "ENVS",
    "KIT_PYTHONS",
    "VERSIONS",
    "VERSION",
    "AUTHOR",
    "ISSUE",
    "MUTATIONS",
    "MUTATION_UPSTREAM",
    "STREAMS",
    "CASES",
    "FLAKE_MINUTES",
    "DRY_RUN",
    "KIT_ROOT",
    "KIT_CACHE",
    "KIT_INDEX_URL",
    "KIT_VENV",
    "KIT_PYTHON",
    "KIT_TOOLS_CACHE",
    "PATH",
    "PYENV_ROOT",
    "HOME",
    "XDG_CACHE_HOME",
)


@dataclass(frozen=True)
class Options:
    """What the user asked for, as read from the environment once (see the README's "Targets").

    Text that only one target interprets (a number of streams, an issue number) is kept as
    given and checked by that target's property, so that a value meant for another target
    never stops this one.
    """

    flowjax_dir: str = ""
    pr: str | None = None
    force: bool = False
    upstream_ref: str | None = None  # UPSTREAM_REF, or its old name UPSTREAM_TAG
    order: str = "natural"
    envs: tuple[str, ...] = ()
    kit_pythons: tuple[str, ...] = ()
    versions: tuple[str, ...] = ()
    version: str = ""
    author: str = ""
    issue: str = ""
    mutations: tuple[str, ...] = ()
    mutation_upstream: str = ""
    streams: str = ""
    cases: str = ""
    flake_minutes: str = ""
    dry_run: bool = False
    kit_root: str = ""
    kit_cache: str = ""
    kit_index_url: str = ""
    kit_venv: str = ""
    kit_python: str = ""
    kit_tools_cache: str = ""
    path: str = ""
    pyenv_root: str = ""
    home: str = ""
    xdg_cache_home: str = ""

    @property
    def stream_count(self) -> int:
        """``STREAMS`` for `make flake` (default 100).

        Raises:
            KitError: If it is not a number.
        """
        text = self.streams or "100"
        if not text.isdigit():
            raise KitError(f"STREAMS={text!r} is not a number of streams")
        return int(text)

    @property
    def flake_budget(self) -> float:
        """``FLAKE_MINUTES`` for `make flake` (0: no budget).

        Raises:
            KitError: If it is not a number.
        """
        minutes = self.flake_minutes or "0"
        try:
            return float(minutes)
        except ValueError:
            raise KitError(f"FLAKE_MINUTES={minutes!r} is not a number of minutes") from None

    @property
    def issue_number(self) -> str | None:
        """``ISSUE=<number>``: the upstream issue filed from ISSUE.md, once it exists.

        Raises:
            KitError: If it is not a number.
        """
        raw = self.issue.removeprefix("#")
        if raw and not raw.isdigit():
            raise KitError(
                f"ISSUE={raw!r} is not an issue number: file ISSUE.md, then `make pr ISSUE=<its number>`"
            )
        return raw or None

    @property
    def upstream_full(self) -> bool:
        """``MUTATION_UPSTREAM=full``: upstream's whole suite on every mutant."""
        return self.mutation_upstream == "full"


def parse(environ: Mapping[str, str] | None = None) -> Options:
    """Read the options from ``environ`` (this process's environment by default)."""
    env = os.environ if environ is None else environ

    def text(name: str) -> str:
        return env.get(name, "").strip()

    return Options(
        flowjax_dir=text("FLOWJAX_DIR"),
        pr=text("PR") or None,
        force=text("FORCE") == "1",
        upstream_ref=text("UPSTREAM_REF") or text("UPSTREAM_TAG") or None,
        order=text("ORDER") or "natural",
        envs=tuple(text("ENVS").split()),
        kit_pythons=tuple(text("KIT_PYTHONS").split()),
        versions=tuple(text("VERSIONS").split()),
        version=text("VERSION"),
        author=text("AUTHOR"),
        issue=text("ISSUE"),
        mutations=tuple(text("MUTATIONS").split()),
        mutation_upstream=text("MUTATION_UPSTREAM"),
        streams=text("STREAMS"),
        cases=env.get("CASES", ""),
        flake_minutes=text("FLAKE_MINUTES"),
        dry_run=text("DRY_RUN") == "1",
        kit_root=text("KIT_ROOT"),
        kit_cache=text("KIT_CACHE"),
        kit_index_url=text("KIT_INDEX_URL"),
        kit_venv=text("KIT_VENV"),
        kit_python=text("KIT_PYTHON"),
        kit_tools_cache=text("KIT_TOOLS_CACHE"),
        path=env.get("PATH", ""),
        pyenv_root=text("PYENV_ROOT"),
        home=text("HOME"),
        xdg_cache_home=text("XDG_CACHE_HOME"),
    )


def child_env(*, drop: Iterable[str] = (), path_first: Path | None = None, **extra: str) -> dict[str, str]:
    """The environment for a subprocess: this process's, without ``drop``, with ``extra`` set.

    ``path_first`` goes first on ``PATH`` (an environment's ``bin/``).
    """
    dropped = set(drop)
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    if path_first is not None:
        env["PATH"] = f"{path_first}{os.pathsep}{env.get('PATH', '')}"
    return env | extra
