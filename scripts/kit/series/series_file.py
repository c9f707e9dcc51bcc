"""`patches/series`: the patches in order, read and written."""

from __future__ import annotations

from pathlib import Path

from kit.log import KitError
from kit.series.patch import Patch


def read_series(patches: Path) -> list[Patch]:
    """The patches named in `patches/series`, in order.

    Blank lines and `#` comments are ignored.

    Raises:
        KitError: If `series` is missing, names a patch twice, names a file that does not
            exist, or a `*.patch` file in the directory is not named in it.
    """
    series = patches / "series"
    if not series.is_file():
        raise KitError(f"{series}: not found (it lists the patches in order)")
    names: list[str] = []
    for n, raw in enumerate(series.read_text().splitlines(), 1):
        name = raw.split("#", 1)[0].strip()
        if not name:
            continue
        if name in names:
            raise KitError(f"{series}:{n}: {name} is listed twice")
        if not (patches / name).is_file():
            raise KitError(f"{series}:{n}: {name} is listed but {patches / name} does not exist")
        names.append(name)
    unlisted = sorted({p.name for p in patches.glob("*.patch")} - set(names))
    if unlisted:
        raise KitError(f"{series}: {unlisted[0]} is in {patches} but not listed in series")
    return [Patch(patches / name) for name in names]


def write_series(patches: Path, names: list[str]) -> None:
    """Write `patches/series` listing `names` in order."""
    (patches / "series").write_text("".join(f"{name}\n" for name in names))
