"""The issue text: its parts, its reproducer run as written, and what counts as reproduced."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from helpers import git
from kit.log import KitError
from kit.proof import reproducer
from kit.series import issue_text
from kit.series.patch import Patch

TEXT = """# Gradients raise

Some words.

```python
import sys
mode = sys.argv[0]
print("finite difference:", [0.0305])
print("jax.grad:", {GRAD})
```

```
ValueError: Received keyword tangent
```

{{versions}}
"""


def write(tmp_path: Path, grad: str) -> issue_text.IssueText:
    path = tmp_path / "issue.md"
    path.write_text(TEXT.format(GRAD=grad))
    return issue_text.load(path)


def test_parts_of_the_text(tmp_path):
    text = write(tmp_path, "[0.0306]")
    assert text.title == "Gradients raise"
    assert text.reproducer.startswith("import sys\n")
    assert text.error == "ValueError: Received keyword tangent"
    assert issue_text.lines_of_code(text) == 4
    assert issue_text.render(text, ["env a: x"]).endswith("- env a: x\n")


def test_a_text_without_its_parts_is_refused(tmp_path):
    path = tmp_path / "issue.md"
    path.write_text("# Title\n\nNo code.\n")
    with pytest.raises(KitError, match="needs a `# title`, a ```python reproducer"):
        issue_text.load(path)


def test_reproduced_on_the_pin_and_fixed(tmp_path):
    raising = write(tmp_path, "(_ for _ in ()).throw(ValueError('Received keyword tangent'))")
    before = reproducer.run(Path(sys.executable), tmp_path, raising)
    assert before.error_line == "ValueError: Received keyword tangent"
    assert reproducer.problems_on_pin(before, raising) == []
    assert "still fails" in reproducer.problems_with_fix(before, raising)[0]

    fixed = write(tmp_path, "[0.0306]")
    after = reproducer.run(Path(sys.executable), tmp_path, fixed)
    assert after.printed == {"finite difference": 0.0305, "jax.grad": 0.0306}
    assert reproducer.problems_with_fix(after, fixed) == []
    assert "ran without error on the pin" in reproducer.problems_on_pin(after, fixed)[0]
    assert reproducer.summary(after) == "finite difference 0.0305, jax.grad 0.0306"


@pytest.mark.parametrize(
    ("grad", "problem"),
    [
        ("[0.061]", "jax.grad gives 0.061, finite differences 0.0305"),
        ("(_ for _ in ()).throw(TypeError('other'))", "still fails: TypeError: other"),
    ],
    ids=["doubled", "another-error"],
)
def test_a_wrong_fix_is_named(tmp_path, grad, problem):
    text = write(tmp_path, grad)
    outcome = reproducer.run(Path(sys.executable), tmp_path, text)
    assert problem in reproducer.problems_with_fix(outcome, text)[0]


def test_another_error_on_the_pin_is_not_the_issue(tmp_path):
    text = write(tmp_path, "(_ for _ in ()).throw(TypeError('other'))")
    outcome = reproducer.run(Path(sys.executable), tmp_path, text)
    assert (
        "raised 'TypeError: other', not 'ValueError: Received keyword tangent'"
        in reproducer.problems_on_pin(outcome, text)[0]
    )


REPRODUCER = """# Gradients raise

```python
import flowjax
if flowjax.GRAD is None:
    raise ValueError("Received keyword tangent")
print("finite difference:", [0.0305])
print("jax.grad:", [flowjax.GRAD])
```

```
ValueError: Received keyword tangent
```
"""


def test_one_reproduce_for_make_test_make_envs_and_make_matrix(tmp_path):
    repo = tmp_path / "repo"
    (repo / "flowjax").mkdir(parents=True)
    (repo / "flowjax/__init__.py").write_text("GRAD = None\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "release")
    (repo / "flowjax/__init__.py").write_text("GRAD = 0.0306\n")
    git(repo, "commit", "-qam", "fix")
    git(repo, "format-patch", "-q", "-1", "-o", str(tmp_path / "patches"))
    fix = Patch(next((tmp_path / "patches").glob("*.patch")))
    (tmp_path / "issue.md").write_text(REPRODUCER)
    text = issue_text.load(tmp_path / "issue.md")
    python = Path(sys.executable)
    # make test: on the release, then with the PR's patches, in one scratch worktree.
    found = reproducer.reproduce(python, text, repo, "HEAD~1", patches=[fix])
    assert found.problems == []
    assert found.line("v1") == "on v1: ValueError: Received keyword tangent; with this PR: " + (
        "finite difference 0.0305, jax.grad 0.0306"
    )
    # make envs: with the stack as it is in the checkout.
    assert reproducer.reproduce(python, text, repo, "HEAD~1", fixed=repo).problems == []
    # make matrix: on the release only.
    release = reproducer.reproduce(python, text, repo, "HEAD~1")
    assert (release.after, release.problems) == (None, [])
    # A release that does not raise the issue's error does not reproduce it.
    assert "ran without error on the pin" in reproducer.reproduce(python, text, repo, "HEAD").problems[0]
    assert git(repo, "status", "--porcelain") == ""
