"""Fetch a FlowJAX sdist from the package index into a cache, and verify its sha256."""

from __future__ import annotations

import hashlib
import re
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

from kit.log import KitError, info, step

# We read the index's Simple API (PEP 503) with the standard library rather than run
# `pip download`: pip would unpack and build the sdist's metadata (fetching hatchling) before
# the kit could check its hash, and that fails offline. The bytes come from the same index.


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href:
            name = urllib.parse.unquote(href.split("#", 1)[0].rsplit("/", 1)[-1])
            self.links[name] = href


def _open(url: str) -> bytes:
    if url.startswith("file:") and url.endswith("/"):
        url += "index.html"
    try:
        with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 (index URL)
            return response.read()
    except urllib.error.HTTPError as e:
        raise KitError(f"{url}: the index answered HTTP {e.code}") from None
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise KitError(f"cannot reach {url}: {reason} (no network?)") from None


def sdist_links(index_url: str, package: str) -> dict[str, str]:
    """Sdist file names offered for `package`, mapped to their absolute URLs."""
    page_url = f"{index_url}/{package}/"
    parser = _Links()
    parser.feed(_open(page_url).decode())
    return {
        name: urllib.parse.urljoin(page_url, href)
        for name, href in parser.links.items()
        if name.startswith(f"{package}-") and name.endswith(".tar.gz")
    }


def released_versions(index_url: str, package: str) -> list[str]:
    """Final-release versions with an sdist on the index, oldest first."""
    pattern = re.compile(rf"^{re.escape(package)}-(\d+(?:\.\d+)*)\.tar\.gz$")
    found = [m.group(1) for m in map(pattern.match, sdist_links(index_url, package)) if m]
    return sorted(found, key=lambda v: tuple(int(x) for x in v.split(".")))


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_sdist(index_url: str, package: str, version: str, cache: Path) -> Path:
    """Return the cached sdist of `package==version`, downloading it on first use.

    Raises:
        KitError: If the index cannot be reached or has no sdist for that version.
    """
    name = f"{package}-{version}.tar.gz"
    target = cache / name
    if target.is_file():
        info(f"download: {name} found in cache {cache}")
        return target
    with step(f"download {name} from {index_url}"):
        links = sdist_links(index_url, package)
        if name not in links:
            raise KitError(f"{package} {version}: unknown version, {index_url} has no {name}")
        cache.mkdir(parents=True, exist_ok=True)
        part = target.with_name(name + ".part")
        part.write_bytes(_open(links[name]))
        part.replace(target)
    return target


def verify(path: Path, expected: str) -> None:
    """Check a file's sha256 before anything reads it further.

    Raises:
        KitError: On a mismatch; the file is left where it is for inspection.
    """
    with step(f"verify sha256 of {path.name}"):
        actual = sha256_of(path)
        if actual != expected:
            raise KitError(
                f"sha256 mismatch for {path}: expected {expected}, got {actual} "
                "(fix the pin in upstream.toml, or delete the file to download it again)"
            )
