"""`known-sdists.toml`: the sha256 of each FlowJAX sdist the kit has used, recorded on first use, verified after."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from kit.checkout.fetch import fetch_sdist, sha256_of
from kit.log import KitError, info
from kit.paths import Kit
from kit.series.pin import Pin

KNOWN_SDISTS = "known-sdists.toml"


def known_sdists(kit: Kit) -> dict[str, str]:
    """Version -> sha256 of every sdist the kit has fetched before (trusted on first use)."""
    path = kit.root / KNOWN_SDISTS
    if not path.is_file():
        return {}
    try:
        return {str(k): str(v) for k, v in tomllib.loads(path.read_text()).get("sha256", {}).items()}
    except tomllib.TOMLDecodeError as e:
        raise KitError(f"{path}: not valid TOML ({e})") from None


def _write_known(kit: Kit, known: dict[str, str]) -> None:
    key = _version_key
    lines = [
        "# sha256 of each FlowJAX sdist the kit has used, recorded the first time it was fetched",
        "# (by `make matrix` or `make bump`) and verified every time after. Keep it in git.",
        "[sha256]",
        *(f'"{v}" = "{known[v]}"' for v in sorted(known, key=key)),
    ]
    (kit.root / KNOWN_SDISTS).write_text("\n".join(lines) + "\n")


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(x) for x in version.split(".") if x.isdigit())


@dataclass(frozen=True)
class Checked:
    """An sdist whose hash matches the pin or known-sdists.toml (or is seen for the first time)."""

    path: Path
    version: str
    sha256: str
    first_use: bool  # not yet in known-sdists.toml: `record` writes it
    unlisted: bool  # the pin's own version, not yet listed


def check_sdist(kit: Kit, pin: Pin, version: str) -> Checked:
    """Fetch the sdist of ``version`` and check it against the pin or the known-sdists lock; write nothing.

    Raises:
        KitError: If the hash differs from the pinned or recorded one.
    """
    path = fetch_sdist(kit.index_url, pin.package, version, kit.cache)
    actual = sha256_of(path)
    known = known_sdists(kit)
    expected = pin.sha256 if version == pin.version else known.get(version)
    if expected is not None and actual != expected:
        raise KitError(
            f"sha256 mismatch for {path}: expected {expected}, got {actual} "
            f"(delete the cached file to download it again)"
        )
    return Checked(path, version, actual, expected is None, expected is not None and version not in known)


def record(kit: Kit, checked: Checked) -> None:
    """Add a checked sdist's hash to known-sdists.toml if it is not there (saying so on first use)."""
    if not (checked.first_use or checked.unlisted):
        return
    known = known_sdists(kit)
    known[checked.version] = checked.sha256
    _write_known(kit, known)
    if checked.first_use:
        info(f"recorded sha256 of {checked.path.name} in {KNOWN_SDISTS} (first use): {checked.sha256}")


def verified_sdist(kit: Kit, pin: Pin, version: str) -> tuple[Path, str]:
    """Fetch the sdist of ``version``, check it (see `check_sdist`) and record its hash on first use.

    Raises:
        KitError: If the hash differs from the pinned or recorded one.
    """
    checked = check_sdist(kit, pin, version)
    record(kit, checked)
    return checked.path, checked.sha256
