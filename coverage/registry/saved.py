"""Saved what-if scenarios: their own table beside the registry, never the services table.

Table ``scenarios`` (made on the first save, in the same database as the registry: the
GeoPackage file, registered in ``gpkg_contents`` as attributes, or the PostGIS database):
``id``, ``name`` (unique), ``author`` (who saved it), ``created_at`` (UTC ISO 8601) and
``body`` (the scenario as JSON text: :meth:`coverage.analysis.scenarios.Scenario.to_dict`).

A body may hold a proposed shelter's exact point (a click on the map), so it lives in the
private store like the registry; what the pages and the command line show of it passes the
privacy edge (a proposed shelter at its town). The registry does not read the body: it
stores and returns JSON objects. Replacing or deleting a saved scenario is for its author
or an admin (a plain-string caller, the command line, has full rights).
"""

from __future__ import annotations

import json
from abc import abstractmethod
from collections.abc import Mapping
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from coverage import config
from coverage.errors import InputError, PermissionDenied, StoreError
from coverage.registry.permissions import Actor
from coverage.registry.permissions import actor as _actor

SCENARIOS = "scenarios"
SCENARIO_LIST_COLUMNS: tuple[str, ...] = ("name", "author", "created_at")


class SavedScenarios:
    """Save, list, load and delete scenarios in the registry's database (a mixin of
    :class:`coverage.registry.base.BaseServiceStore`, which supplies the transactions)."""

    @abstractmethod
    def _read(self) -> AbstractContextManager[Any]:
        """A read-only transaction (see the store)."""

    @abstractmethod
    def _write(self) -> AbstractContextManager[Any]:
        """One write transaction (see the store)."""

    def _scenarios_table_exists(self) -> bool:
        with self._read() as tx:
            return bool(tx.column_names(SCENARIOS))

    def save_scenario(self, name: str, body: Mapping[str, Any], user: str | Actor, *,
                      replace: bool = False) -> dict[str, Any]:
        """Save ``body`` under ``name`` with its author and the time.

        Parameters
        ----------
        name : str
            1 to :data:`coverage.config.MAX_SCENARIO_NAME_CHARS` characters (spaces at the
            ends dropped); unique.
        body : Mapping
            The scenario as JSON-ready values.
        user : str or Actor
            Who saves (the author).
        replace : bool
            Overwrite a scenario of that name (its author or an admin only).

        Returns
        -------
        dict
            ``name``, ``author``, ``created_at`` (UTC ISO 8601) and ``body``.

        Raises
        ------
        InputError
            ``registry.scenario_name`` (empty or too long), ``registry.scenario_body``
            (not JSON, or larger than :data:`coverage.config.MAX_SCENARIO_BODY_CHARS`).
        StoreError
            ``registry.scenario_exists`` when the name is taken and ``replace`` is False.
        PermissionDenied
            ``registry.permission_denied.scenario``: replacing someone else's scenario.
        """
        username, _organisation, full = _actor(user)
        name = _checked_name(name)
        try:
            text = json.dumps(dict(body), ensure_ascii=False, sort_keys=True, allow_nan=False)
        except (TypeError, ValueError) as err:
            raise InputError(f"scenario {name!r} cannot be saved: {err}", message_id="registry.scenario_body",
                             name=name) from None
        if len(text) > config.MAX_SCENARIO_BODY_CHARS:
            raise InputError(f"scenario {name!r} is too large to save ({len(text):,} characters; at most "
                             f"{config.MAX_SCENARIO_BODY_CHARS:,})", message_id="registry.scenario_body", name=name)
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        with self._write() as tx:
            if not tx.column_names(SCENARIOS):
                tx.execute(f"CREATE TABLE {SCENARIOS} (id {tx.id_column_sql}, name TEXT NOT NULL UNIQUE, "
                           "author TEXT NOT NULL, created_at TEXT NOT NULL, body TEXT NOT NULL)")
                tx.register_table(SCENARIOS, "Saved what-if scenarios (JSON); never services")
            row = tx.execute(f"SELECT author FROM {SCENARIOS} WHERE name = ?", (name,)).fetchone()
            if row is not None:
                if not replace:
                    raise StoreError(f"a scenario named {name!r} exists already (saved by {row[0]}); choose "
                                     "another name or replace it", message_id="registry.scenario_exists", name=name)
                if not full and row[0] != username:
                    raise PermissionDenied(f"{username} may not replace scenario {name!r}, saved by {row[0]}",
                                           message_id="registry.permission_denied.scenario", name=name,
                                           user=username)
                tx.execute(f"UPDATE {SCENARIOS} SET author = ?, created_at = ?, body = ? WHERE name = ?",
                           (username, now, text, name))
            else:
                tx.execute(f"INSERT INTO {SCENARIOS} (name, author, created_at, body) VALUES (?, ?, ?, ?)",
                           (name, username, now, text))
        return {"name": name, "author": username, "created_at": now, "body": json.loads(text)}

    def saved_scenarios(self) -> pd.DataFrame:
        """Every saved scenario, newest first.

        Returns
        -------
        DataFrame
            ``name``, ``author``, ``created_at`` (UTC ISO 8601); empty before the first save.
        """
        if not self._scenarios_table_exists():
            return pd.DataFrame({c: pd.Series(dtype=object) for c in SCENARIO_LIST_COLUMNS})
        with self._read() as tx:
            rows = tx.execute(f"SELECT name, author, created_at FROM {SCENARIOS} "
                              "ORDER BY created_at DESC, id DESC").fetchall()
        return pd.DataFrame([tuple(r) for r in rows], columns=list(SCENARIO_LIST_COLUMNS), dtype=object)

    def load_scenario(self, name: str) -> dict[str, Any]:
        """One saved scenario.

        Returns
        -------
        dict
            ``name``, ``author``, ``created_at`` and ``body`` (the JSON object saved).

        Raises
        ------
        StoreError
            ``registry.unknown_scenario`` when none has that name.
        """
        name = str(name).strip()
        row = None
        if self._scenarios_table_exists():
            with self._read() as tx:
                row = tx.execute(f"SELECT name, author, created_at, body FROM {SCENARIOS} WHERE name = ?",
                                 (name,)).fetchone()
        if row is None:
            raise StoreError(f"no saved scenario named {name!r}", message_id="registry.unknown_scenario", name=name)
        return {"name": row[0], "author": row[1], "created_at": row[2], "body": json.loads(row[3])}

    def delete_scenario(self, name: str, user: str | Actor) -> None:
        """Delete a saved scenario (its author or an admin only).

        Raises
        ------
        StoreError
            ``registry.unknown_scenario`` when none has that name.
        PermissionDenied
            ``registry.permission_denied.scenario`` for someone else's scenario.
        """
        username, _organisation, full = _actor(user)
        name = str(name).strip()
        if not self._scenarios_table_exists():
            raise StoreError(f"no saved scenario named {name!r}", message_id="registry.unknown_scenario", name=name)
        with self._write() as tx:
            row = tx.execute(f"SELECT author FROM {SCENARIOS} WHERE name = ?", (name,)).fetchone()
            if row is None:
                raise StoreError(f"no saved scenario named {name!r}", message_id="registry.unknown_scenario",
                                 name=name)
            if not full and row[0] != username:
                raise PermissionDenied(f"{username} may not delete scenario {name!r}, saved by {row[0]}",
                                       message_id="registry.permission_denied.scenario", name=name, user=username)
            tx.execute(f"DELETE FROM {SCENARIOS} WHERE name = ?", (name,))


def _checked_name(name: str) -> str:
    text = str(name or "").strip()
    if not text or len(text) > config.MAX_SCENARIO_NAME_CHARS:
        raise InputError(f"a scenario needs a name of 1 to {config.MAX_SCENARIO_NAME_CHARS} characters",
                         message_id="registry.scenario_name", field="name",
                         max_chars=config.MAX_SCENARIO_NAME_CHARS)
    return text
