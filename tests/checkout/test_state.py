"""The kit's recorded state: per-branch refs written with a reason, an older kit's records still read."""

from __future__ import annotations

from helpers import Upstream, git

BRANCH = "reparameterized-gradients"


def edit_first_patch(upstream: Upstream) -> None:
    patch = next((upstream.kit / "patches").glob("0001-*.patch"))
    patch.write_text(patch.read_text().replace("+    assert 1 + 1 == 2", "+    assert 2 + 2 == 4"))


def test_each_branch_has_its_applied_and_previous_ref_with_a_reason_kept_from_gc(upstream: Upstream):
    assert upstream.kit_run("apply").returncode == 0
    assert upstream.kit_run("apply", PR="tests").returncode == 0
    repo = upstream.checkout
    for branch in (BRANCH, "add-tests"):
        assert git(repo, "rev-parse", f"refs/flowjax-kit/applied/{branch}") == git(repo, "rev-parse", branch)
    assert git(repo, "reflog", "show", "--format=%gs", f"refs/flowjax-kit/applied/{BRANCH}") == (
        "flowjax-kit: apply: 2 patch(es) on upstream/1.0.0"
    )
    assert upstream.kit_run("apply").returncode == 0
    old = git(repo, "rev-parse", BRANCH)
    edit_first_patch(upstream)
    assert upstream.kit_run("apply").returncode == 0
    assert git(repo, "rev-parse", f"refs/flowjax-kit/previous/{BRANCH}") == old
    assert git(repo, "reflog", "show", "--format=%gs", f"refs/flowjax-kit/previous/{BRANCH}") == (
        "flowjax-kit: apply: the tip before re-applying on upstream/1.0.0"
    )
    git(repo, "reflog", "expire", "--expire=now", "--all")
    git(repo, "gc", "--quiet", "--prune=now")
    assert git(repo, "cat-file", "-t", old) == "commit"  # the old tip survives gc


def test_a_checkout_recorded_by_an_older_kit_is_still_the_kits(upstream: Upstream):
    assert upstream.kit_run("apply").returncode == 0
    repo = upstream.checkout
    tip = git(repo, "rev-parse", BRANCH)
    # What an older kit left: the applied tip in the config, one previous ref for every branch.
    git(repo, "update-ref", "-d", f"refs/flowjax-kit/applied/{BRANCH}")
    git(repo, "config", f"flowjax-kit.{BRANCH}.applied", tip)
    git(repo, "update-ref", "refs/flowjax-kit/previous", f"{tip}~1")
    older = git(repo, "rev-parse", f"{tip}~1")
    edit_first_patch(upstream)
    proc = upstream.kit_run("apply")
    assert proc.returncode == 0, proc.stderr
    assert "re-applying" in proc.stdout
    assert git(repo, "rev-parse", f"refs/flowjax-kit/previous/{BRANCH}") == tip
    assert git(repo, "rev-parse", "refs/flowjax-kit/legacy-previous") == older
    assert git(repo, "rev-parse", f"refs/flowjax-kit/applied/{BRANCH}") == git(repo, "rev-parse", BRANCH)
