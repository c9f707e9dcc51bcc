"""Where the kit's inputs live and where it writes: the `Kit` paths object, resolved from the options."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kit.options import Options

KIT_ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = KIT_ROOT / "scripts"  # on PYTHONPATH for `python -m kit...` and the kit's pytest plugin
DEFAULT_INDEX = "https://pypi.org/simple"


@dataclass(frozen=True)
class Kit:
    """Where the kit's inputs live and where it writes.

    Attributes:
        root: The kit's repository.
        checkout: The FlowJAX checkout (``FLOWJAX_DIR``, default ``build/flowjax``).
        cache: Where downloaded sdists are kept (``KIT_CACHE``).
        index_url: The package index (``KIT_INDEX_URL``).
        named_checkout: The user named the checkout (not the default): it must already exist.
        venv: The locked environment (``KIT_VENV``; None: ``.venv``).
        python: An interpreter to use instead of the environment's (``KIT_PYTHON``).
        tools_cache: Where a bootstrapped uv is kept (``KIT_TOOLS_CACHE``; None: the user's cache).
    """

    root: Path
    checkout: Path
    cache: Path
    index_url: str
    named_checkout: bool = False
    venv: Path | None = None
    python: Path | None = None
    tools_cache: Path | None = None

    @property
    def pin_file(self) -> Path:
        """The pin."""
        return self.root / "upstream.toml"

    @property
    def patches(self) -> Path:
        """The patch series directory."""
        return self.root / "patches"

    @property
    def build(self) -> Path:
        """Generated output (git-ignored)."""
        return self.root / "build"

    @property
    def results(self) -> Path:
        """JUnit XML and reports written by test runs."""
        return self.build / "results"

    @property
    def venv_dir(self) -> Path:
        """The locked environment's directory."""
        return self.venv or self.root / ".venv"

    @property
    def tools_dir(self) -> Path:
        """Per-user cache for bootstrapped tools, shared by every clone of the kit."""
        return self.tools_cache or Path.home() / ".cache" / "flowjax-kit"


def tools_cache(options: Options) -> Path:
    """``KIT_TOOLS_CACHE``, else ``$XDG_CACHE_HOME/flowjax-kit``, else ``~/.cache/flowjax-kit``."""
    if options.kit_tools_cache:
        return Path(options.kit_tools_cache)
    home = Path(options.home) if options.home else Path.home()
    return Path(options.xdg_cache_home or home / ".cache") / "flowjax-kit"


def load_kit(options: Options, root: Path | None = None) -> Kit:
    """Resolve the kit's paths from the options (FLOWJAX_DIR, KIT_ROOT, KIT_CACHE, KIT_INDEX_URL, ...)."""
    root = (root or Path(options.kit_root or KIT_ROOT)).resolve()
    default = root / "build" / "flowjax"
    checkout = Path(options.flowjax_dir or default).expanduser().resolve()
    cache = Path(options.kit_cache or root / "build" / "cache")
    index = options.kit_index_url or DEFAULT_INDEX
    return Kit(
        root,
        checkout,
        cache.resolve(),
        index.rstrip("/"),
        named_checkout=checkout != default,
        venv=Path(options.kit_venv) if options.kit_venv else None,
        python=Path(options.kit_python) if options.kit_python else None,
        tools_cache=tools_cache(options),
    )
