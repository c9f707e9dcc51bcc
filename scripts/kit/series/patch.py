"""One patch of the series: its file, name and subject."""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Patch:
    """One patch of the series."""

    path: Path

    @property
    def name(self) -> str:
        """File name, as listed in `series`."""
        return self.path.name

    @property
    def subject(self) -> str:
        """Commit subject, without the `[PATCH]` prefix."""
        header = self.path.read_text().split("\n\n", 1)[0]
        subject = email.message_from_string(header, policy=email.policy.default)["Subject"]
        text = " ".join(str(subject or "").split())
        return text.removeprefix("[PATCH] ")
