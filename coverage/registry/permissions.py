"""Who may change and see what in the registry.

A caller is either a plain string (a trusted caller such as the command line: full
rights, the string names who made the change) or a signed-in user object with
``username``, ``organisation`` and ``role`` (:class:`coverage.registry.auth.User`).
Admins may change every row; staff only the rows their organisation owns
(``owner_org``), and they see the history of those rows only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import numpy as np
import pandas as pd

from coverage.errors import StoreError


class Actor(Protocol):
    """A signed-in user as the registry sees one (:class:`coverage.registry.auth.User`).

    Attributes
    ----------
    username : str
        Who makes the change (recorded in the history).
    organisation : str
        Organisation key, compared with a service's ``owner_org``.
    role : str
        ``admin`` (every row) or ``staff`` (own organisation's rows).
    """

    username: str
    organisation: str
    role: str


def actor(user: str | Actor) -> tuple[str, str | None, bool]:
    """(username, organisation or None, has full rights) of a caller.

    Parameters
    ----------
    user : str or Actor
        A plain string (full rights, organisation None) or a user object (full rights
        only with role ``admin``; a missing role counts as ``staff``).

    Returns
    -------
    tuple of (str, str or None, bool)

    Raises
    ------
    StoreError
        ``registry.no_user`` when no username is given (every change names who made it).
    """
    if isinstance(user, str):
        name = user.strip()
        if not name:
            raise StoreError("every change needs the name of who made it", message_id="registry.no_user")
        return name, None, True
    username = str(getattr(user, "username", "")).strip()
    if not username:
        raise StoreError("every change needs the name of who made it", message_id="registry.no_user")
    role = str(getattr(user, "role", "staff"))
    return username, str(getattr(user, "organisation", "")), role == "admin"


def can_edit(user: str | Actor, row: Mapping[str, Any] | str) -> bool:
    """Whether ``user`` may change a service: ``row`` is the service (a mapping with
    ``owner_org``) or its owner organisation key."""
    _, organisation, full = actor(user)
    owner = row if isinstance(row, str) else str(row.get("owner_org", ""))
    return full or owner == organisation


def editable(user: str | Actor, services: pd.DataFrame) -> np.ndarray:
    """Boolean mask over the rows of ``services`` (with ``owner_org``) that ``user`` may change.

    Returns
    -------
    ndarray of bool
        One entry per row of ``services``, in order.

    Raises
    ------
    StoreError
        ``registry.no_user`` (see :func:`actor`).
    """
    _, organisation, full = actor(user)
    if full:
        return np.ones(len(services), dtype=bool)
    return (services["owner_org"].astype(str) == organisation).to_numpy()
