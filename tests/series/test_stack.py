"""The stack of PRs: reading and checking `stack.toml`, dependencies, and regrouping on refresh."""

from __future__ import annotations

from pathlib import Path

import pytest
from kit.log import KitError
from kit.series.patch import Patch
from kit.series.stack import assign, load_stack, regroup
from kit.series.stack_toml import header_of, render

PATCHES = ["0001-a.patch", "0002-b.patch", "0003-c.patch"]


def stack_dir(tmp_path: Path, toml: str, patches: list[str] = PATCHES) -> Path:
    folder = tmp_path / "patches"
    folder.mkdir()
    for name in patches:
        (folder / name).write_text(f"Subject: [PATCH] {name}\n\n")
    (folder / "series").write_text("".join(f"{n}\n" for n in patches))
    (folder / "stack.toml").write_text(toml)
    return folder


def pr(name: str, patches: list[str], depends: str = "[]", extra: str = "") -> str:
    listed = ", ".join(f'"{p}"' for p in patches)
    return (
        f'[[pr]]\nname = "{name}"\ntitle = "T {name}"\ndepends = {depends}\npatches = [{listed}]\n{extra}\n'
    )


THREE = "# header\n\n" + pr("a", PATCHES[:1]) + pr("b", PATCHES[1:2]) + pr("c", PATCHES[2:], '["a"]')


def test_closure_and_what_is_provable_alone(tmp_path):
    stack = load_stack(stack_dir(tmp_path, THREE), "series")
    assert stack.names == ["a", "b", "c"]
    assert [p.name for p in stack.patches_for("c")] == ["0001-a.patch", "0003-c.patch"]
    assert [p.name for p in stack.patches_for("b")] == ["0002-b.patch"]
    assert [p.name for p in stack.provable_alone()] == ["a", "b", "c"]
    assert stack.get("c").branch == "c"  # the branch defaults to the name


def test_a_pr_whose_closure_is_the_whole_stack_is_proven_by_the_stack(tmp_path):
    toml = pr("a", PATCHES[:1]) + pr("b", PATCHES[1:], '["a"]')
    stack = load_stack(stack_dir(tmp_path, toml), "series")
    assert [p.name for p in stack.provable_alone()] == ["a"]


def test_without_stack_toml_the_series_is_one_pr(tmp_path):
    folder = stack_dir(tmp_path, "")
    (folder / "stack.toml").unlink()
    stack = load_stack(folder, "series-branch")
    assert stack.names == ["series-branch"]
    assert len(stack.patches) == 3
    assert stack.provable_alone() == []


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (pr("a", PATCHES[:1]) + pr("b", PATCHES[1:2]), "0003-c.patch is in patches/series but in no PR"),
        (
            pr("a", PATCHES[1:2]) + pr("b", PATCHES[:1]) + pr("c", PATCHES[2:]),
            "another order than patches/series",
        ),
        (
            pr("a", PATCHES[:1]) + pr("b", PATCHES[1:], '["c"]'),
            "depends on 'c', which is unknown or comes later",
        ),
        (pr("a", PATCHES[:1], '["a"]') + pr("b", PATCHES[1:]), "depends on 'a', which is the PR itself"),
        (pr("a", PATCHES[:1]) + pr("a", PATCHES[1:]), "two PRs are named a"),
        (pr("a", PATCHES) + pr("b", []), "PR b has no patches"),
        (pr("A B", PATCHES), "must be lower-case"),
        (pr("a", [*PATCHES[:2], "0009-x.patch"]), "lists 0009-x.patch, which is not in patches/series"),
        ('[[pr]]\nname = "a"\npatches = []\n', "missing or has a malformed field 'title'"),
        ("[[pr]\n", "not valid TOML"),
        (
            pr("a", PATCHES[:1], extra='branch = "series"') + pr("b", PATCHES[1:]),
            "is the branch of the whole stack",
        ),
    ],
    ids=[
        "unassigned",
        "order",
        "later-dep",
        "self-dep",
        "duplicate",
        "empty",
        "name",
        "unknown-patch",
        "field",
        "toml",
        "stack-branch",
    ],
)
def test_a_bad_stack_is_one_error(tmp_path, toml, message):
    with pytest.raises(KitError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_stack(stack_dir(tmp_path, toml), "series")


def test_refresh_keeps_each_patch_in_its_pr(tmp_path):
    stack = load_stack(stack_dir(tmp_path, THREE), "series")
    old_ids = {"0001-a.patch": "id-a", "0002-b.patch": "id-b", "0003-c.patch": "id-c"}
    # 0002 was reworded (new name, same change); a new commit follows it; 0003 is unchanged.
    new = ["0001-a.patch", "0002-b-reworded.patch", "0003-new.patch", "0004-c.patch"]
    ids = {
        "0001-a.patch": "id-a",
        "0002-b-reworded.patch": "id-b",
        "0003-new.patch": "id-new",
        "0004-c.patch": "id-c",
    }
    owners = assign(stack, new, ids, old_ids)
    assert owners == {
        "a": ["0001-a.patch"],
        "b": ["0002-b-reworded.patch", "0003-new.patch"],
        "c": ["0004-c.patch"],
    }
    regrouped = regroup(stack, owners, [Patch(tmp_path / n) for n in new])
    text = render(regrouped, header_of(tmp_path / "patches"))
    assert text.startswith('# header\n\n[[pr]]\nname = "a"')
    assert '    "0002-b-reworded.patch",\n    "0003-new.patch",\n]' in text


def test_commits_moved_across_prs_are_refused_before_anything_is_written(tmp_path):
    stack = load_stack(stack_dir(tmp_path, THREE), "series")
    new = ["0001-c.patch", "0002-a.patch", "0003-b.patch"]  # c's commit moved first
    owners = {"a": ["0002-a.patch"], "b": ["0003-b.patch"], "c": ["0001-c.patch"]}
    with pytest.raises(KitError, match="no longer keep each PR's patches together"):
        regroup(stack, owners, [Patch(tmp_path / n) for n in new])


def test_a_commit_reworded_and_amended_in_place_keeps_its_pr(tmp_path):
    stack = load_stack(stack_dir(tmp_path, THREE), "series")
    old_ids = {"0001-a.patch": "id-a", "0002-b.patch": "id-b", "0003-c.patch": "id-c"}
    new = ["0001-a.patch", "0002-b-new-subject.patch", "0003-c.patch"]
    ids = {"0001-a.patch": "id-a", "0002-b-new-subject.patch": "id-changed", "0003-c.patch": "id-c"}
    assert assign(stack, new, ids, old_ids)["b"] == ["0002-b-new-subject.patch"]


def test_render_round_trips_the_file(tmp_path):
    toml = (
        "# Comment.\n\n"
        + pr("a", PATCHES[:1], extra='summary = """\nLine one.\n"""\n')
        + pr("b", PATCHES[1:], '["a"]', 'issue = "issues/x.md"\n')
    )
    folder = stack_dir(tmp_path, toml)
    stack = load_stack(folder, "series")
    text = render(stack, header_of(folder))
    (folder / "stack.toml").write_text(text)
    again = load_stack(folder, "series")
    assert again == stack
    assert render(again, header_of(folder)) == text
    assert again.get("b").issue == "issues/x.md"
    assert again.get("a").summary == "Line one."
