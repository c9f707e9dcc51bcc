"""`make bump VERSION=X`: move the pin to another release, re-apply the series, report what broke."""

from __future__ import annotations

from pathlib import Path

from kit.checkout import state
from kit.checkout.sdist import backup_name
from kit.checkout.target import require_clean, resolve_target
from kit.envs import venv
from kit.git import run as git
from kit.log import KitError, info
from kit.ops import apply
from kit.paths import Kit
from kit.proof.pytest import series_tests
from kit.releases.known import verified_sdist
from kit.series.pin import Pin, load_pin, set_pin


def _move_old_checkout(kit: Kit, pin: Pin) -> None:
    """Move the kit's checkout of the old pin aside, if it holds nothing but the series."""
    repo = kit.checkout
    if not repo.exists() or state.mode(repo) != "sdist":
        return  # nothing there, or a user's clone: the series branch is re-applied in place
    require_clean(repo, "commit and `make refresh` first")
    if git.out(repo, "rev-parse", "HEAD") != state.applied(repo, pin.branch):
        raise KitError(f"{repo} has commits not exported to patches/: run `make refresh` first")
    aside = repo.with_name(f"{repo.name}-{pin.version}")
    if aside.exists():
        aside = Path(backup_name(aside))
    repo.replace(aside)
    info(f"moved the checkout of FlowJAX {pin.version} to {aside}")


def bump(kit: Kit, pin: Pin, version: str) -> int:
    """Pin ``version``, re-apply the series to it and run the new tests; 1 if anything broke."""
    if version == pin.version:
        info(f"the pin is already FlowJAX {version}; nothing to do")
        return 0
    _, sha = verified_sdist(kit, pin, version)
    _move_old_checkout(kit, pin)
    set_pin(kit.pin_file, version, sha)
    info(f"pinned FlowJAX {version} (sha256 {sha}) in {kit.pin_file.name}; patches/ unchanged")
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
