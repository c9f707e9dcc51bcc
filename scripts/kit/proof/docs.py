"""Sphinx over the checkout's docs/: doctests, the HTML build, its warnings, and the new page."""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path

from kit.checkout.target import require_target
from kit.envs.venv import ensure_env
from kit.git import run as git
from kit.git.worktree import scratch_worktree
from kit.log import KitError, info, step
from kit.options import Options, child_env
from kit.paths import Kit
from kit.proof.tally import Tally
from kit.series.pin import Pin, Source

_SUMMARY = re.compile(r"^\s*(\d+) (tests?|failures? in [a-z ]+)$", re.M)


def sphinx(python: Path, repo: Path, builder: str, out: Path, *, pythonpath: Path | None = None) -> str:
    """Run ``sphinx-build -b builder`` on ``repo/docs`` into ``out``; return its warnings.

    The environment's bin/ (with pandoc) goes first on PATH. ``pythonpath`` makes
    ``import flowjax`` resolve there rather than to the installed checkout.

    Raises:
        KitError: If sphinx fails for a reason other than failing doctests.
    """
    out.mkdir(parents=True, exist_ok=True)
    warnings = out / "warnings.txt"
    env = child_env(path_first=python.parent)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    # -E: read every page afresh, so warnings of unchanged pages are reported too.
    cmd = [str(python), "-m", "sphinx", "-E", "-b", builder, "-q", "-w", str(warnings), "docs", str(out)]
    proc = subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True, check=False)
    if proc.returncode and not (builder == "doctest" and (out / "output.txt").is_file()):
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise KitError(f"sphinx-build -b {builder} failed in {repo}/docs: {tail[0]}")
    return warnings.read_text() if warnings.is_file() else ""


def read_doctest_summary(output: Path) -> Tally:
    """Doctest counts from sphinx's ``output.txt``.

    Raises:
        KitError: If the summary is missing or counts no tests.
    """
    text = output.read_text() if output.is_file() else ""
    # "1 test" / "2 tests", "1 failure in tests" / "0 failures in setup code", ...
    counts = {kind.replace("failures", "failure").rstrip("s"): int(n) for n, kind in _SUMMARY.findall(text)}
    if "test" not in counts:
        raise KitError(f"no doctest summary in {output}")
    if counts["test"] == 0:
        raise KitError(f"sphinx found no doctests ({output})")
    failed_tests = counts.get("failure in test", 0)
    failed_setup = counts.get("failure in setup code", 0) + counts.get("failure in cleanup code", 0)
    return Tally(passed=counts["test"] - failed_tests, failed=failed_tests + failed_setup)


def doctest(python: Path, repo: Path, out: Path, *, pythonpath: Path | None = None) -> Tally:
    """Run every doctest in ``repo``'s docs; print failures; return the counts.

    ``pythonpath`` makes ``import flowjax`` resolve there (a scratch worktree).
    """
    sphinx(python, repo, "doctest", out, pythonpath=pythonpath)
    tally = read_doctest_summary(out / "output.txt")
    if tally.failed:
        failures = [
            line for line in (out / "output.txt").read_text().splitlines() if line.startswith("File ")
        ]
        for line in failures[:10]:
            info(f"  failed: {line}")
    info(f"  doctests: {tally.passed} passed, {tally.failed} failed (details: {out / 'output.txt'})")
    return tally


def normalise(warnings: str, root: Path) -> Counter[str]:
    """Warning lines without the checkout's path or line numbers, which edits move."""
    lines = Counter()
    for line in warnings.splitlines():
        line = line.replace(str(root), "").strip()
        if line:
            lines[re.sub(r":\d+:", ":", line)] += 1
    return lines


def base_warnings(kit: Kit, python: Path, repo: Path, base: str) -> str:
    """Warnings of an HTML build of the unpatched base commit, cached per commit."""
    sha = git.rev(repo, base)
    cache = kit.build / "docs" / f"base-{sha[:12]}-warnings.txt"
    if cache.is_file():
        return cache.read_text()
    with scratch_worktree(repo, sha) as work, tempfile.TemporaryDirectory() as tmp:
        with step(f"build the unpatched docs ({base}) for their warnings"):
            text = sphinx(python, work, "html", Path(tmp) / "html", pythonpath=work)
        text = text.replace(str(work), str(repo))
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(text)
    return text


class _Sections(HTMLParser):
    """Collects, for the element with a given id, its heading text and code blocks."""

    def __init__(self, anchor: str) -> None:
        super().__init__()
        self.anchor = anchor
        self.depth = 0  # open tags inside the anchored element; 0 when outside
        self.found = False
        self.heading: list[str] = []
        self.blocks: list[list[str]] = []
        self._in_heading = self._in_pre = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.depth:
            self.depth += 1
        elif dict(attrs).get("id") == self.anchor:
            self.found, self.depth = True, 1
            return
        if not self.depth:
            return
        if tag in {"h1", "h2", "h3", "h4"} and not self.heading:
            self._in_heading = True
        elif tag == "pre":
            self._in_pre = True
            self.blocks.append([])

    def handle_endtag(self, tag: str) -> None:
        if not self.depth:
            return
        self.depth -= 1
        if tag in {"h1", "h2", "h3", "h4"}:
            self._in_heading = False
        elif tag == "pre":
            self._in_pre = False

    def handle_data(self, data: str) -> None:
        if self._in_heading:
            self.heading.append(data)
        elif self._in_pre and self.blocks:
            self.blocks[-1].append(data)


def expected_blocks(rst: str) -> list[str]:
    """The first ``>>>`` line of each ``.. doctest::`` block in ``rst``."""
    firsts, waiting = [], False
    for line in rst.splitlines():
        if re.match(r"^\s*\.\. doctest\s*::", line):
            waiting = True
        elif waiting and line.strip().startswith(">>>"):
            firsts.append(line.strip())
            waiting = False
    return firsts


def check_html(html: Path, source: Source, rst: str) -> list[str]:
    """Problems with the built page for ``source``.

    Every code block must be on the page; with a ``.. _label:``, also the anchor and heading.
    """
    page = html / Path(source.target).relative_to("docs").with_suffix(".html")
    if not page.is_file():
        return [f"{page} was not built"]
    label = re.search(r"^\.\. _([\w-]+):", rst, re.M)
    problems = []
    if label:
        title = re.search(r"^(\S.*)\n([\^=~\-\"'*+#])\2+$", rst, re.M)
        parser = _Sections(label.group(1))
        parser.feed(page.read_text())
        if not parser.found:
            return [f"{page.name}: no element with id {label.group(1)!r}"]
        heading = "".join(parser.heading).strip().rstrip("#¶").strip()
        if title and heading != title.group(1).strip():
            problems.append(f"{page.name}#{label.group(1)}: heading {heading!r}, expected {title.group(1)!r}")
        blocks = ["".join(b) for b in parser.blocks]
    else:
        blocks = _pre_blocks(page.read_text())
    for first in expected_blocks(rst):
        if not any(first in " ".join(b.split()) for b in blocks):
            problems.append(f"{page.name}: no code block shows {first!r}")
    return problems


def _pre_blocks(page: str) -> list[str]:
    """Text of every ``<pre>`` element of a page."""
    parser = _Sections("")
    parser.found, parser.depth = True, 10**6  # the whole page counts as inside
    parser.feed(page)
    return ["".join(b) for b in parser.blocks]


def build(kit: Kit, python: Path, repo: Path, base: str, sources: tuple[Source, ...]) -> list[str]:
    """Build the HTML docs into build/docs/html; return new warnings and page problems."""
    out = kit.build / "docs" / "html"
    # The base's build (once per base commit) runs beside the patched one: one core each.
    with ThreadPoolExecutor(max_workers=1) as pool:
        unpatched = pool.submit(base_warnings, kit, python, repo, base)
        with step(f"build the patched docs into {out}"):
            patched = sphinx(python, repo, "html", out)
        new = normalise(patched, repo) - normalise(unpatched.result(), repo)
    problems = [f"new sphinx warning: {line}" for line in sorted(new.elements())]
    for source in sources:
        if source.target.startswith("docs/") and source.target.endswith(".rst"):
            problems += check_html(out, source, (kit.root / source.path).read_text())
    return problems


def main(kit: Kit, pin: Pin, opts: Options) -> int:
    """`make docs`: the patched HTML docs; 1 on a new warning or a missing section."""
    target = require_target(kit, pin, opts.upstream_ref)
    problems = build(kit, ensure_env(kit), target.repo, target.base, pin.sources)
    for problem in problems:
        print(f"kit: docs: {problem}", file=sys.stderr)
    if problems:
        return 1
    info(f"docs built into {kit.build / 'docs' / 'html'}: no new warnings; new sections present")
    return 0
