"""Whether results are current: the one place that answers it.

For `make pr` (the last `make test`: full, green, of this series, this tree, this base; the
environment matrix), for `make test`'s closing line on `make envs`, for the PR body's
streams and flake lines, for the edit loop's skip of the kit's own tests, and for the bases
the series was proven on. A result is of this series when its stamp's digest is the
series' now (`evidence.stamps.series_digest`).
"""

from __future__ import annotations

from typing import Any

from kit.checkout.target import Target
from kit.envs import ci
from kit.envs.ci import fault
from kit.evidence import ledger
from kit.evidence.stamps import KIT_TESTS, read_stamp, series_digest
from kit.git import run as git
from kit.log import KitError
from kit.paths import Kit


def check_base(kit: Kit, target: Target) -> None:
    """The last `make test` ran on the checkout's base, and that ref has not moved since.

    Raises:
        KitError: If the results name no base, another base, or a ref that has moved.
    """
    stamp = read_stamp(kit.results / "stamp.json")
    if stamp is None:
        return  # check_results says what is missing
    ref, proven = stamp.get("base_ref"), stamp.get("base_commit")
    if not (ref and proven):
        raise KitError("the test results name no base (an older kit made them): run `make test`")
    if target.mode == "clone" and (now := git.rev(target.repo, ref)) != proven:
        raise KitError(
            f"{ref} has moved since its proof ({proven[:7]} -> {now[:7] if now else 'gone'}): "
            f"run `make apply UPSTREAM_REF={ref}` and `make test`, then `make pr`"
        )
    if proven != target.base:
        raise KitError(
            f"the test results were proven on {stamp.get('base_label', ref)}, but the checkout's base is "
            f"{target.describe()}: run `make test`"
        )


def check_results(kit: Kit, target: Target) -> dict:
    """The stamp of the last `make test`, if it is full, green and of this series.

    Raises:
        KitError: Saying which of these it is not.
    """
    stamp = read_stamp(kit.results / "stamp.json")
    if stamp is None or not (kit.results / "flowjax.xml").is_file():
        raise KitError(
            f"no test results in {kit.results}: run `make test` first; the PR bodies are built from them"
        )
    if stamp.get("series") != series_digest(kit):
        raise KitError(
            "the test results are older than the patches (the series changed since): run `make test`"
        )
    if stamp.get("tree") != git.tree(target.repo):
        raise KitError(f"the test results were not made from {target.repo} as it is now: run `make test`")
    if not stamp.get("upstream_suite"):
        raise KitError("the last results come from `make test-fast` (no upstream suite): run `make test`")
    if stamp.get("exit_code") != 0:
        raise KitError("the last `make test` failed: fix it and run it again before `make pr`")
    return stamp


def check_envs(kit: Kit) -> dict:
    """The environment matrix's stamp, if present, current, and clean.

    Raises:
        KitError: If it is missing, stale, or has a row where the series fails while
            upstream's own tests of the same modules pass (or the fix's reproducer fails).
    """
    stamp = read_stamp(kit.results / "envs.json")
    if stamp is None or not (kit.results / "envs.md").is_file():
        raise KitError("no environment matrix: run `make envs` (the PR bodies show it)")
    if stamp.get("series") != series_digest(kit):
        raise KitError(
            "the environment matrix is stale (made for another version of the series): run `make envs`"
        )
    for row in stamp.get("rows", []):
        problem = ci.fault(row)
        if problem:
            raise KitError(problem)
    return stamp


def envs_note(kit: Kit) -> str:
    """One line on the environment matrix (`make envs`): missing, stale, or current."""
    stamp = read_stamp(kit.results / "envs.json")
    if stamp is None:
        return "env matrix: not run; `make envs` proves the stack in upstream's CI environments"
    if stamp.get("series") != series_digest(kit):
        return "env matrix: STALE (made for another version of the series); run `make envs`"
    rows = stamp.get("rows", [])
    bad = [row["env"] for row in rows if fault(row)]
    state = f"the stack is at fault in {', '.join(bad)}" if bad else "no env where the stack is at fault"
    return f"env matrix: current ({len(stamp.get('rows', []))} envs, {state}); see {kit.results / 'envs.md'}"


def series_stamp(kit: Kit, name: str) -> dict | None:
    """The stamp of ``name`` (streams, flake) if it was made for this very series."""
    stamp = read_stamp(kit.results / f"{name}.json")
    return stamp if stamp and stamp.get("series") == series_digest(kit) else None


def kit_tests_green(kit: Kit, code: str) -> bool:
    """Whether the kit's own tests last ran green on this very kit code (``code``: its digest)."""
    stamp = read_stamp(kit.results / KIT_TESTS)
    return bool(stamp) and stamp.get("kit_code") == code and stamp.get("failed") == 0


def proven_runs(kit: Kit) -> list[dict[str, Any]]:
    """The full, green `make test` runs of this very series, one per base (see `evidence.ledger`)."""
    return ledger.proven(kit, series_digest(kit))
