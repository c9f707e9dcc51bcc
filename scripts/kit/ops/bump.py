"""`make bump VERSION=X`: move the pin to another release, re-apply the series, report what broke.

Plan, then execute: `plan_bump` fetches and checks the new release's sdist and the old
checkout (clean, nothing left unexported) without moving anything; `execute` records the
hash, moves the old checkout aside, writes the pin, applies the series and runs its tests.
``DRY_RUN=1`` prints the plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kit.checkout import state
from kit.checkout.sdist import backup_name, move_aside
from kit.checkout.target import require_clean, resolve_target
from kit.envs import venv
from kit.git import run as git
from kit.log import KitError, info, show_plan
from kit.ops import apply
from kit.options import Options
from kit.paths import Kit
from kit.proof.pytest import series_tests
from kit.releases.known import Checked, check_sdist, record
from kit.series.pin import Pin, load_pin, set_pin


@dataclass(frozen=True)
class BumpPlan:
    """What `make bump` will do, every check made.

    Attributes:
        kit: The kit's paths.
        pin: The pin now.
        sdist: The new release's sdist, its hash checked.
        aside: Where the kit's checkout of the old pin goes (None: none, or a user's clone).
    """

    kit: Kit
    pin: Pin
    sdist: Checked
    aside: Path | None

    def steps(self) -> list[str]:
        lines = (
            [f"record the sha256 of {self.sdist.path.name} in known-sdists.toml"]
            if self.sdist.first_use
            else []
        )
        if self.aside is not None:
            lines.append(f"move the checkout of FlowJAX {self.pin.version} to {self.aside}")
        return [
            *lines,
            f"pin FlowJAX {self.sdist.version} (sha256 {self.sdist.sha256}) in {self.kit.pin_file.name}",
            f"apply the series to FlowJAX {self.sdist.version} (`make apply`)",
            "run the series' tests and the kit's sentinels on it",
        ]


def _aside(kit: Kit, pin: Pin) -> Path | None:
    """Where the kit's checkout of the old pin goes, if it holds nothing but the series.

    Raises:
        KitError: If it has local edits or commits not exported to patches/.
    """
    repo = kit.checkout
    if not repo.exists() or state.mode(repo) != "sdist":
        return None  # nothing there, or a user's clone: the series branch is re-applied in place
    require_clean(repo, "commit and `make refresh` first")
    if git.out(repo, "rev-parse", "HEAD") != state.applied(repo, pin.branch):
        raise KitError(f"{repo} has commits not exported to patches/: run `make refresh` first")
    aside = repo.with_name(f"{repo.name}-{pin.version}")
    return Path(backup_name(aside)) if aside.exists() else aside


def plan_bump(kit: Kit, pin: Pin, version: str) -> BumpPlan | None:
    """Check that the pin can move to ``version``; None when it is that release already.

    Raises:
        KitError: If no release is named, its sdist does not verify, or the old checkout
            holds work that is not in patches/. Nothing moves.
    """
    if not version:
        raise KitError("name the release to pin: make bump VERSION=X")
    if version == pin.version:
        return None
    checked = check_sdist(kit, pin, version)
    return BumpPlan(kit, pin, checked, _aside(kit, pin))


def execute(plan: BumpPlan) -> int:
    """Move the pin and the checkout, apply the series, run its tests; 1 if anything broke."""
    kit, version = plan.kit, plan.sdist.version
    record(kit, plan.sdist)
    if plan.aside is not None:
        move_aside(kit.checkout, plan.aside)
        info(f"moved the checkout of FlowJAX {plan.pin.version} to {plan.aside}")
    set_pin(kit.pin_file, version, plan.sdist.sha256)
    info(f"pinned FlowJAX {version} (sha256 {plan.sdist.sha256}) in {kit.pin_file.name}; patches/ unchanged")
    new_pin = load_pin(kit.pin_file)
    try:
        apply.apply(kit, new_pin, ref=new_pin.tag)
    except KitError as e:
        info(f"bump: the series does not apply to {version}: {e}")
        info("fix it in the checkout (edit, `git add`, `git am --continue` or commit), then `make refresh`")
        return 1
    python = venv.ensure_env(kit)
    target = resolve_target(kit, new_pin, new_pin.tag)
    assert target is not None
    tally = series_tests(kit, new_pin, python, target.repo, target.base, kit.results / "bump.xml")
    info(
        f"bump: series applies to {version}; the series' tests and the kit's sentinels: "
        f"{tally.passed} passed, {tally.failed} failed"
    )
    return 1 if tally.failed else 0


def main(kit: Kit, pin: Pin, opts: Options) -> int:
    """`make bump VERSION=X` (``DRY_RUN=1`` prints the plan)."""
    plan = plan_bump(kit, pin, opts.version)
    if plan is None:
        info(f"the pin is already FlowJAX {opts.version}; nothing to do")
        return 0
    if opts.dry_run:
        show_plan(plan.steps())
        return 0
    return execute(plan)
