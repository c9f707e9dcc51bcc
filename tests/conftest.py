"""Fixtures over the fake FlowJAX upstream of `helpers`: one world per session, a copy per test."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import Upstream, _build_world, copy_world, make_clone


@pytest.fixture(scope="session")
def _world(tmp_path_factory: pytest.TempPathFactory) -> Upstream:
    """The fake world, built once per session (sdists, index, patches: all deterministic)."""
    return _build_world(tmp_path_factory.mktemp("world"))


@pytest.fixture
def upstream(_world: Upstream, tmp_path: Path) -> Upstream:
    """A private copy of the fake world for one test."""
    return copy_world(_world, tmp_path / "world")


@pytest.fixture
def clone(upstream: Upstream) -> Path:
    """A user's upstream clone: tag v1.0.0, then a later commit on their main branch."""
    return make_clone(upstream)
