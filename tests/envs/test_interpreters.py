"""The interpreters: from KIT_PYTHONS, deduplicated, picked by version."""

from __future__ import annotations

import sys
from pathlib import Path

from kit import options
from kit.envs import interpreters

PY = Path(sys.executable)
HERE = tuple(sys.version_info[:2])


def test_interpreters_come_from_kit_pythons_and_are_picked_by_version():
    found = interpreters.find(options.parse({"KIT_PYTHONS": f"{PY} {PY} /no/such/python"}))
    assert [i.version[:2] for i in found] == [HERE]  # deduplicated, missing ones dropped
    assert interpreters.pick(found, f"{HERE[0]}.{HERE[1]}").path == PY
    assert interpreters.pick(found, f">={HERE[0]}.{HERE[1] + 1}") is None
