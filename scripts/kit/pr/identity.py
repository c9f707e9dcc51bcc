"""The contributor the PR commits are made as: AUTHOR, else git's user.name and user.email."""

from __future__ import annotations

import re
from pathlib import Path

from kit.git import run as git
from kit.git.run import Identity
from kit.log import KitError
from kit.options import child_env
from kit.series.pin import Pin

_IDENTITY = re.compile(r"^\s*(?P<name>[^<>]+?)\s*<(?P<email>[^<>@\s]+@[^<>\s]+)>\s*$")


def identity(repo: Path, pin: Pin, author: str) -> Identity:
    """The contributor: ``AUTHOR="Name <mail>"`` (``author``), else git's user.name and user.email.

    Raises:
        KitError: If there is none, it is malformed, or it is the kit's own placeholder.
    """
    if author:
        found = _IDENTITY.match(author)
        if not found:
            raise KitError(f'AUTHOR={author!r} is not of the form "Name <mail@example.com>"')
        name, email = found.group("name"), found.group("email")
    else:
        name = git.run(repo, "config", "--get", "user.name", check=False, env=child_env()).stdout.strip()
        email = git.run(repo, "config", "--get", "user.email", check=False, env=child_env()).stdout.strip()
        if not (name and email):
            raise KitError(
                'no contributor identity: set AUTHOR="Name <mail>" or git config user.name and user.email; '
                "PR commits carry your name, never the kit's"
            )
    kit_emails = {
        git.KIT_EMAIL,
        _IDENTITY.match(pin.author).group("email") if _IDENTITY.match(pin.author) else "",
    }
    if email in kit_emails:
        raise KitError(f'{email} is the kit\'s placeholder, not a contributor: set AUTHOR="Name <mail>"')
    return Identity(name, email)
