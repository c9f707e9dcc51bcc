"""The pin (`upstream.toml`): the upstream release, the series branch, the sources; read and moved."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from kit.log import KitError

_VERSION = re.compile(r"^\d+(\.\d+)*([a-z]+\d+)?$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Source:
    """What one PR's patch adds to an upstream file, kept in the kit as the source of truth.

    Attributes:
        path: Path in the kit, e.g. ``flowjax_tests/gradient-tests/test_flows.py``.
        target: Path in upstream, e.g. ``tests/test_flows.py``.
        before: For an insertion into an existing file, the line the block goes directly
            above; None for a block at the end of the file, or a file the patch creates.
        pr: The PR whose patch carries it (needed when several PRs touch ``target``).
    """

    path: str
    target: str
    before: str | None = None
    pr: str | None = None


@dataclass(frozen=True)
class Pin:
    """The pinned upstream release and how the series is applied to it."""

    package: str
    version: str
    sha256: str
    tag_format: str
    branch: str
    author: str
    sources: tuple[Source, ...]
    github: str = "danielward27/flowjax"
    sentinels: str | None = None

    @property
    def tag(self) -> str:
        """Release tag in an upstream git clone."""
        return self.tag_format.format(version=self.version)

    @property
    def base_tag(self) -> str:
        """Tag of the base commit in a checkout made from the sdist."""
        return f"upstream/{self.version}"

    @property
    def sdist_name(self) -> str:
        """File name of the sdist on the registry."""
        return f"{self.package}-{self.version}.tar.gz"


def load_pin(path: Path) -> Pin:
    """Read and validate the pin file.

    Raises:
        KitError: If the file is missing, not TOML, or a field is missing or malformed.
    """
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise KitError(f"{path}: pin file not found") from None
    except tomllib.TOMLDecodeError as e:
        raise KitError(f"{path}: not valid TOML ({e})") from None
    try:
        up, series = data["upstream"], data["series"]
        pin = Pin(
            package=up["package"],
            version=str(up["version"]),
            sha256=str(up["sha256"]).lower(),
            tag_format=up.get("tag", "v{version}"),
            branch=series["branch"],
            author=series["author"],
            sources=tuple(Source(**s) for s in data.get("sources", [])),
            github=up.get("github", Pin.github),
            sentinels=data.get("kit", {}).get("sentinels"),
        )
    except (KeyError, TypeError) as e:
        raise KitError(f"{path}: missing or malformed field {e}") from None
    if not _VERSION.match(pin.version):
        raise KitError(f"{path}: version {pin.version!r} is not a release number")
    if not _SHA256.match(pin.sha256):
        raise KitError(f"{path}: sha256 must be 64 hex digits, got {pin.sha256!r}")
    return pin


def set_pin(path: Path, version: str, sha256: str) -> None:
    """Rewrite `version` and `sha256` of [upstream] in the pin file, keeping everything else."""
    text = path.read_text()
    for key, value in (("version", version), ("sha256", sha256)):
        text, n = re.subn(rf'^{key} = "[^"]*"$', f'{key} = "{value}"', text, count=1, flags=re.M)
        if n != 1:
            raise KitError(f'{path}: no `{key} = "..."` line to update')
    path.write_text(text)
