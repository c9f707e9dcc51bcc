"""The locked environment's tools: the bootstrapped uv, its pin, the tools cache."""

from __future__ import annotations

import os
from pathlib import Path

from kit import options
from kit.envs import venv
from kit.paths import load_kit, tools_cache


def test_bootstrapped_uv_is_shared_from_the_user_cache(monkeypatch, tmp_path):
    cache = tmp_path / "cache"
    monkeypatch.setenv("PATH", "/nonexistent")
    binary = cache / f"uv-{venv.uv_version()}" / "bin" / "uv"
    binary.parent.mkdir(parents=True)
    binary.write_text("#!/bin/sh\n")
    opts = options.parse({"KIT_TOOLS_CACHE": str(cache)})
    kit = load_kit(opts, tmp_path / "clone-a")
    other = load_kit(opts, tmp_path / "clone-b")
    # Found in the cache by every clone, without installing anything.
    assert venv.uv(kit) == venv.uv(other) == str(binary)
    assert not (tmp_path / "clone-a").exists()


def test_uv_is_pinned_by_version_and_hash():
    text = venv.UV_REQUIREMENTS.read_text()
    assert venv.uv_version() in text
    assert text.count("--hash=sha256:") >= 10  # one per platform's wheel: pip --require-hashes


def test_the_tools_cache_follows_xdg(tmp_path):
    here = {k: v for k, v in os.environ.items() if k not in ("KIT_TOOLS_CACHE", "XDG_CACHE_HOME")}
    assert tools_cache(options.parse(here | {"XDG_CACHE_HOME": str(tmp_path)})) == tmp_path / "flowjax-kit"
    assert tools_cache(options.parse(here)) == Path(os.path.expanduser("~")) / ".cache" / "flowjax-kit"
