"""What every registry database shares: validation, permissions, history, exports.

:class:`BaseServiceStore` holds the rules (see :mod:`coverage.registry.store` for the
whole picture); a subclass supplies connections and transactions
(:mod:`coverage.registry.gpkg`, :mod:`coverage.registry.postgis`), and a :class:`_Tx`
subclass the few SQL differences (placeholders, point encoding, bookkeeping).
This module imports neither back-end, so there is no import cycle.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from coverage import config
from coverage.data import services as svc
from coverage.errors import ConfigError, InputError, PermissionDenied, StoreError, UnknownService
from coverage.registry.permissions import Actor, can_edit, editable
from coverage.registry.permissions import actor as _actor
from coverage.registry.saved import SavedScenarios
from coverage.registry.uploads import check_upload
from coverage.views import privacy

LAYER = "services"
HISTORY = "history"
PRIVATE_COLUMNS: tuple[str, ...] = ("address", "owner_org")
STORE_COLUMNS: tuple[str, ...] = svc.ALL_COLUMNS + PRIVATE_COLUMNS
HISTORY_COLUMNS: tuple[str, ...] = (
    "id", "service_id", "action", "changed_by", "changed_at", "old_values", "new_values",
)
ACTIONS: tuple[str, ...] = ("seed", "create", "update", "close", "reopen", "import")
EXPORT_FORMATS: tuple[str, ...] = ("csv", "geojson", "gpkg")

SRS_ID = 4326
_ORG_KEY = re.compile(config.ORG_KEY_PATTERN)
_URL = re.compile(r"^[a-z][a-z0-9+.\-]*://", re.IGNORECASE)


# --- where the store lives ---------------------------------------------------------------

_PG_SCHEMES: tuple[str, ...] = ("postgresql", "postgres", "postgresql+psycopg", "postgis")


class StoreURL(str):
    """A PostgreSQL connection URL naming a registry database.

    ``str()`` is the whole URL (it is what connects); ``repr()`` and :attr:`masked`
    hide the password, and every message uses :attr:`masked`."""

    @property
    def masked(self) -> str:
        """The URL with its password (in the user part or a ``password=`` parameter) as ***."""
        return mask_url(self)

    @property
    def dsn(self) -> str:
        """The URL as libpq reads it (an SQLAlchemy-style ``postgresql+psycopg://`` or a
        ``postgis://`` scheme becomes ``postgresql://``)."""
        return "postgresql://" + self.split("://", 1)[1]

    def __repr__(self) -> str:
        return f"StoreURL({self.masked!r})"


def mask_url(url: str) -> str:
    """``url`` with any password replaced by ``***`` (safe for messages and logs)."""
    scheme, sep, rest = str(url).partition("://")
    if not sep:
        return str(url)
    location, query_sep, query = rest.partition("?")
    netloc, slash, path = location.partition("/")
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        if ":" in userinfo:
            netloc = userinfo.split(":", 1)[0] + ":***@" + host
    query = re.sub(r"(?i)(^|&)(password=)[^&]*", r"\1\2***", query)
    return f"{scheme}://{netloc}{slash}{path}{query_sep}{query}"


def store_location(explicit: str | os.PathLike[str] | None = None, *,
                   settings: config.Settings | None = None) -> Path | StoreURL:
    """The registry: the explicit argument, else ``settings.store`` (env ``COVERAGE_STORE``,
    else ``config.STORE_PATH``; ``settings`` default :func:`coverage.config.load_settings`).
    A file path gives a ``Path`` (GeoPackage); a ``postgresql://`` URL a :class:`StoreURL`;
    another URL scheme raises :class:`ConfigError` (``registry.unsupported_location``; the
    message names the scheme only, never the URL).

    Parameters
    ----------
    explicit : str or PathLike, optional
        A GeoPackage path or a PostgreSQL URL.
    settings : Settings, optional
        Used when ``explicit`` is None.

    Returns
    -------
    Path or StoreURL

    Raises
    ------
    ConfigError
        ``registry.unsupported_location`` for a URL that is not PostgreSQL.
    """
    raw = explicit if explicit is not None else (config.load_settings() if settings is None else settings).store
    if isinstance(raw, StoreURL):
        return raw
    text = os.fspath(raw)
    if _URL.match(text):
        scheme = text.split("://", 1)[0].lower()
        if scheme in _PG_SCHEMES:
            return StoreURL(text)
        raise ConfigError(f"registry location '{scheme}://…' is not supported; give a file path "
                          "or a postgresql:// URL", message_id="registry.unsupported_location", field="store",
                          scheme=scheme, supported=_PG_SCHEMES)
    return Path(text)


def store_column_defs(types: Mapping[str, str]) -> list[str]:
    """Definitions of the :data:`STORE_COLUMNS` in one database's types (keys ``real``,
    ``bool``, ``key`` and ``text``), so both databases hold the same columns.

    Parameters
    ----------
    types : Mapping of str to str
        The database's SQL type for each of ``real`` (``lon``/``lat``, degrees EPSG:4326),
        ``bool`` (``confidential``), ``key`` (``service_id``) and ``text``.

    Returns
    -------
    list of str
        ``'"column" TYPE'`` per column, in :data:`STORE_COLUMNS` order.
    """
    kinds = {"lon": "real", "lat": "real", "confidential": "bool", "service_id": "key"}
    return [f'"{column}" {types[kinds.get(column, "text")]}' for column in STORE_COLUMNS]


# --- small helpers --------------------------------------------------------------------------


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (float, np.floating)):
        return "" if math.isnan(value) else repr(float(value))
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return str(value)


def _plain(value: Any) -> Any:
    """NumPy scalars → Python (for JSON and sqlite)."""
    if isinstance(value, np.generic):
        return value.item()
    return value


def _to_json(values: Mapping[str, Any] | None) -> str | None:
    if values is None:
        return None
    return json.dumps({k: _plain(v) for k, v in values.items()}, ensure_ascii=False, sort_keys=True)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        try:
            return float(a) == float(b)
        except (TypeError, ValueError):
            return False
    return a == b


# --- transactions: the few SQL differences between the databases ---------------------------


class _Tx(ABC):
    """One open transaction. Shared code writes its SQL with ``?`` marks and asks the
    transaction for what differs between databases: how a point is written
    (:attr:`point_sql` and :meth:`point_params`), bookkeeping after a change
    (:meth:`touch`) and the columns of a table."""

    point_sql = "?"
    id_column_sql = "INTEGER PRIMARY KEY"  # an auto-numbered key column (saved scenarios)

    def __init__(self, con: Any) -> None:
        self.con = con

    @abstractmethod
    def execute(self, sql: str, params: Iterable[Any] = ()) -> Any:
        """Run one statement; returns a cursor (``fetchone``/``fetchall``)."""

    @abstractmethod
    def executemany(self, sql: str, rows: list[list[Any]] | list[tuple]) -> None:
        """Run one statement for many parameter rows (one round of the database's batch API)."""

    @abstractmethod
    def point_params(self, lon: float, lat: float) -> list[Any]:
        """The parameters that fill :attr:`point_sql` for one point."""

    def touch(self, now: str) -> None:  # noqa: B027 (optional hook: a no-op by default)
        """Bookkeeping after a write (nothing unless the database format asks for it)."""

    @abstractmethod
    def column_names(self, table: str) -> set[str]:
        """The columns ``table`` has now (empty when there is no such table)."""

    def register_table(self, table: str, description: str) -> None:  # noqa: B027 (optional hook)
        """Bookkeeping for a new non-spatial table (nothing unless the format asks for it)."""


# --- the store -----------------------------------------------------------------------------


class BaseServiceStore(SavedScenarios, ABC):
    """Everything the registry does, whatever database holds it (see the module
    docstring). A subclass supplies :meth:`_read` and :meth:`_write` (each yields a
    :class:`_Tx` in its own connection, so one store object may be shared by threads)
    plus ``open_or_create``; ``path`` is where the registry lives."""

    path: Path | StoreURL
    busy_timeout_ms: int

    @abstractmethod
    def _read(self) -> AbstractContextManager[_Tx]:
        """A read-only transaction: one consistent snapshot for every read in the block."""

    @abstractmethod
    def _write(self) -> AbstractContextManager[_Tx]:
        """One write transaction that no other writer overlaps: reads inside it see the
        latest committed state, and nothing can change between check and write.
        Committed when the block ends, rolled back if it raises."""

    def _add_missing_columns(self) -> None:
        """A registry made before a new optional column was added to services.py gets
        the column (empty text) on open."""
        with self._read() as tx:
            have = tx.column_names(LAYER)
        if all(c in have for c in STORE_COLUMNS):
            return
        with self._write() as tx:
            have = tx.column_names(LAYER)
            for column in (c for c in STORE_COLUMNS if c not in have):
                tx.execute(f"ALTER TABLE {LAYER} ADD COLUMN \"{column}\" TEXT NOT NULL DEFAULT ''")

    # -- reading --------------------------------------------------------------------------

    def services(self, include_closed: bool = False) -> gpd.GeoDataFrame:
        """The registry as a GeoDataFrame: the columns of ``services.load_services``
        (ALL_COLUMNS + geometry) plus ``address`` and ``owner_org``. Staff only.

        Parameters
        ----------
        include_closed : bool
            Also rows with a ``closed_date``.

        Returns
        -------
        GeoDataFrame
            :data:`STORE_COLUMNS` + ``geometry``, exact points in EPSG:4326 (``lon``,
            ``lat`` in degrees), in insertion order; every shelter ``confidential``.
        """
        where = "" if include_closed else "WHERE closed_date = ''"
        with self._read() as tx:
            rows = tx.execute(f"SELECT {_select()} FROM {LAYER} {where} ORDER BY fid").fetchall()
        return _frame(rows)

    def version(self) -> int:
        """A number that grows with every change (the last history id): cheap to ask on
        every page run, so caches keyed by it refresh after any edit, from any process."""
        with self._read() as tx:
            return int(tx.execute(f"SELECT coalesce(max(id), 0) FROM {HISTORY}").fetchone()[0])

    def ids(self) -> set[str]:
        """Every service id in the registry, open or closed."""
        with self._read() as tx:
            return _ids(tx)

    def get(self, service_id: str) -> dict[str, Any]:
        """One service (open or closed) as a dict of its columns and ``updated_at``.

        Returns
        -------
        dict
            :data:`STORE_COLUMNS` (``lon``/``lat`` as float degrees, EPSG:4326) and
            ``updated_at`` (ISO 8601 UTC text).

        Raises
        ------
        UnknownService
            ``registry.unknown_service`` when no service has that id.
        """
        with self._read() as tx:
            return _get(tx, service_id)

    def history(self, user: str | Actor, *, service_id: str | None = None) -> pd.DataFrame:
        """The edit history ``user`` may see, oldest first (columns
        :data:`HISTORY_COLUMNS`; ``old_values``/``new_values`` are JSON text): admins and
        plain-string callers every service's, staff the history of the services their
        organisation owns now. ``service_id``: that service's only. Holds exact points
        and addresses: staff only.

        Returns
        -------
        DataFrame
            :data:`HISTORY_COLUMNS` (object dtype): ``id``, ``service_id``, ``action``
            (one of :data:`ACTIONS`), ``changed_by``, ``changed_at`` (ISO 8601 UTC),
            ``old_values``, ``new_values``.

        Raises
        ------
        StoreError
            ``registry.no_user`` when ``user`` names no one.
        """
        _, organisation, full = _actor(user)
        sql = f"SELECT {', '.join(HISTORY_COLUMNS)} FROM {HISTORY}"
        where, params = [], []
        if service_id is not None:
            where.append("service_id = ?")
            params.append(str(service_id))
        if not full:
            where.append(f"service_id IN (SELECT service_id FROM {LAYER} WHERE owner_org = ?)")
            params.append(organisation)
        if where:
            sql += " WHERE " + " AND ".join(where)
        with self._read() as tx:
            rows = tx.execute(sql + " ORDER BY id", params).fetchall()
        return pd.DataFrame(rows, columns=list(HISTORY_COLUMNS), dtype=object)

    def editable_ids(self, user: str | Actor) -> set[str]:
        """Ids of the services (open or closed) ``user`` may change (:func:`can_edit`)."""
        frame = self.services(include_closed=True)
        return set(frame.loc[editable(user, frame), "service_id"])

    def services_for(self, user: str | Actor, places: gpd.GeoDataFrame | None = None,
                     include_closed: bool = False) -> gpd.GeoDataFrame:
        """The registry as one signed-in user may see it: admins (and plain-string
        callers) see everything; staff see their own organisation's rows in full and
        every other row as the public does (confidential points moved to a settlement
        by :func:`privacy.public_services`, no address, no note).

        Parameters
        ----------
        user : str or Actor
            Who asks.
        places : GeoDataFrame, optional
            Public points (:func:`coverage.views.privacy.settlement_points`); without
            them other organisations' confidential rows are left out.
        include_closed : bool
            Also closed services.

        Returns
        -------
        GeoDataFrame
            :data:`STORE_COLUMNS` + ``geometry`` in EPSG:4326, in registry order.
        """
        frame = self.services(include_closed=include_closed)
        _, organisation, full = _actor(user)
        if full:
            return frame
        own = frame["owner_org"] == organisation
        others = frame[~own].reset_index(drop=True)
        if others.empty:
            return frame
        shown = privacy.public_services(others, places)
        keep = others.set_index("service_id")
        shown = shown.set_index("service_id")
        for column in STORE_COLUMNS:
            if column == "service_id":
                continue
            if column in ("address", "note"):
                shown[column] = ""
            elif column not in shown.columns:
                shown[column] = keep.loc[shown.index, column]
        shown = shown.reset_index()
        out = pd.concat([frame[own], shown[list(STORE_COLUMNS) + ["geometry"]]], ignore_index=True)
        order = {sid: i for i, sid in enumerate(frame["service_id"])}
        out = out.iloc[np.argsort(out["service_id"].map(order).to_numpy(), kind="stable")]
        return gpd.GeoDataFrame(out.reset_index(drop=True), geometry="geometry", crs=config.CRS_STORE)

    # -- writing ------------------------------------------------------------------------

    def add(self, row: Mapping[str, Any], user: str | Actor) -> dict[str, Any]:
        """Add one new service (``owner_org`` defaults to the user's organisation);
        returns the stored row.

        Parameters
        ----------
        row : Mapping
            Services columns (``lon``/``lat`` in degrees, EPSG:4326), optionally
            ``address`` and ``owner_org``.
        user : str or Actor
            Who adds it; staff only for their own organisation.

        Returns
        -------
        dict
            As :meth:`get`.

        Raises
        ------
        PermissionDenied
            ``registry.permission_denied.add`` for another organisation's row.
        ServicesError
            Every problem of the row (including a duplicate id).
        """
        username, organisation, full = _actor(user)
        record = dict(row)
        record["owner_org"] = _as_text(record.get("owner_org")) or organisation or config.DEFAULT_OWNER_ORG
        if not can_edit(user, record):
            raise PermissionDenied(f"{username} may add services only for {organisation}",
                                   message_id="registry.permission_denied.add", user=username,
                                   organisation=organisation, owner_org=record["owner_org"])
        with self._write() as tx:
            (stored,) = _checked([record], "new service", _ids(tx), first_row=1)
            now = _now()
            _insert_created(tx, [stored], "create", username, now)
            tx.touch(now)
        return self.get(stored["service_id"])

    def update(self, service_id: str, changes: Mapping[str, Any], user: str | Actor) -> dict[str, Any]:
        """Change fields of one service; returns the stored row. ``service_id`` never
        changes; ``closed_date`` changes only through :meth:`close` / :meth:`reopen`;
        ``owner_org`` only by an admin. A call that changes nothing writes nothing.

        Parameters
        ----------
        service_id : str
            The service to change.
        changes : Mapping
            New values by column of :data:`STORE_COLUMNS`.
        user : str or Actor
            Who changes it.

        Returns
        -------
        dict
            As :meth:`get`.

        Raises
        ------
        StoreError
            ``registry.service_id_fixed`` or ``registry.closed_date_by_close``.
        ServicesError
            An unknown column or an invalid merged row.
        PermissionDenied
            ``user`` may not change this service or its owner.
        UnknownService
            No service has that id.
        """
        changes = dict(changes)
        if "service_id" in changes and _as_text(changes["service_id"]).strip() != service_id:
            raise StoreError("a service_id never changes; close this service and add a new one",
                             message_id="registry.service_id_fixed", field="service_id", service_id=service_id)
        changes.pop("service_id", None)
        if "closed_date" in changes:
            raise StoreError("use close() or reopen() to change closed_date", message_id="registry.closed_date_by_close",
                             field="closed_date", service_id=service_id)
        unknown = [c for c in changes if c not in STORE_COLUMNS]
        if unknown:
            raise svc.ServicesError(f"changes to {service_id}", [
                svc.Problem(0, c, f"unknown column (known: {', '.join(STORE_COLUMNS)})", service_id,
                            message_id="registry.unknown_column", params={"column": c, "known": STORE_COLUMNS})
                for c in unknown])
        return self._change(service_id, changes, user, "update")

    def close(self, service_id: str, closed_date: str | date, user: str | Actor) -> dict[str, Any]:
        """Mark a service closed from ``closed_date`` (YYYY-MM-DD, not in the future).

        Returns
        -------
        dict
            As :meth:`get`.

        Raises
        ------
        ServicesError
            ``registry.closed_date_invalid`` or ``registry.closed_date_future``
            (more than one day after today, UTC).
        StoreError
            ``registry.already_closed``.
        PermissionDenied, UnknownService
            As :meth:`update`.
        """
        text = closed_date.isoformat() if isinstance(closed_date, date) else str(closed_date).strip()
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise svc.ServicesError(f"closing {service_id}", [
                svc.Problem(0, "closed_date", f"'{text}' is not a date (YYYY-MM-DD)", service_id,
                            message_id="registry.closed_date_invalid", params={"value": text})]) from None
        if day > datetime.now(UTC).date() + timedelta(days=1):
            raise svc.ServicesError(f"closing {service_id}", [
                svc.Problem(0, "closed_date", f"{text} is in the future; close a service once it has closed",
                            service_id, message_id="registry.closed_date_future", params={"value": text})])
        return self._change(service_id, {"closed_date": day.isoformat()}, user, "close")

    def reopen(self, service_id: str, user: str | Actor) -> dict[str, Any]:
        """Clear ``closed_date`` of a closed service.

        Returns
        -------
        dict
            As :meth:`get`.

        Raises
        ------
        StoreError
            ``registry.not_closed``.
        PermissionDenied, UnknownService
            As :meth:`update`.
        """
        return self._change(service_id, {"closed_date": ""}, user, "reopen")

    def _change(self, service_id: str, changes: dict[str, Any], user: str | Actor, action: str) -> dict[str, Any]:
        username, organisation, full = _actor(user)
        with self._write() as tx:
            current = _get(tx, service_id)
            if not can_edit(user, current):
                raise PermissionDenied(f"{service_id} belongs to {current['owner_org']}; "
                                       f"{username} ({organisation}) may not change it",
                                       message_id="registry.permission_denied.change", service_id=service_id,
                                       owner_org=current["owner_org"], user=username, organisation=organisation)
            if not full and "owner_org" in changes and _as_text(changes["owner_org"]) != current["owner_org"]:
                raise PermissionDenied("only an admin may hand a service to another organisation",
                                       message_id="registry.permission_denied.owner", field="owner_org",
                                       service_id=service_id, user=username)
            if action == "close" and current["closed_date"]:
                raise StoreError(f"{service_id} is already closed (since {current['closed_date']})",
                                 message_id="registry.already_closed", service_id=service_id,
                                 closed_date=current["closed_date"])
            if action == "reopen" and not current["closed_date"]:
                raise StoreError(f"{service_id} is not closed", message_id="registry.not_closed",
                                 service_id=service_id)
            merged = {c: current[c] for c in STORE_COLUMNS}
            merged.update(changes)
            (stored,) = _checked([merged], f"{action} {service_id}", (), first_row=1)
            old = {c: current[c] for c in STORE_COLUMNS if not _same(current[c], stored[c])}
            if not old:
                return current
            new = {c: stored[c] for c in old}
            now = _now()
            assignments = ", ".join(f'"{c}" = ?' for c in new)
            tx.execute(
                f"UPDATE {LAYER} SET {assignments}, geom = {tx.point_sql}, updated_at = ? WHERE service_id = ?",
                [_db_value(c, v) for c, v in new.items()]
                + tx.point_params(stored["lon"], stored["lat"]) + [now, service_id],
            )
            _insert_history(tx, service_id, action, username, now, old, new)
            tx.touch(now)
        return self.get(service_id)

    def import_rows(self, rows: pd.DataFrame, user: str | Actor, source_name: str = "import",
                    first_row: int = 2) -> int:
        """Add every row of a validated services table (e.g. from
        :func:`services.read_services`) in one transaction; all or nothing. Rows are
        checked again inside the transaction, against the ids in the store at that
        moment. Optional ``address``/``owner_org`` columns are kept. Returns the count.

        Parameters
        ----------
        rows : DataFrame
            Services columns (``lon``/``lat`` in degrees, EPSG:4326); ``geometry`` ignored.
        user : str or Actor
            Who imports; staff only for their own organisation.
        source_name : str
            Names the source in error messages.
        first_row : int
            File line of ``rows``' first row, for error messages.

        Returns
        -------
        int
            Number of services added.

        Raises
        ------
        ServicesError
            No rows, or every problem of every row; nothing is written.
        PermissionDenied
            ``registry.permission_denied.import`` for another organisation's rows.
        """
        username, organisation, full = _actor(user)
        if rows is None or len(rows) == 0:
            raise svc.ServicesError(source_name, [svc.Problem(0, "", "there are no rows to import",
                                                              message_id="registry.nothing_to_import")])
        records = []
        for record in rows.drop(columns=["geometry"], errors="ignore").to_dict("records"):
            record["owner_org"] = _as_text(record.get("owner_org")) or organisation or config.DEFAULT_OWNER_ORG
            records.append(record)
        if not full:
            foreign = sorted({r["owner_org"] for r in records} - {organisation})
            if foreign:
                raise PermissionDenied(f"{username} may import services only for {organisation}, not {foreign}",
                                       message_id="registry.permission_denied.import", field="owner_org",
                                       user=username, organisation=organisation, foreign=tuple(foreign))
        with self._write() as tx:
            stored = _checked(records, source_name, _ids(tx), first_row=first_row)
            now = _now()
            _insert_created(tx, stored, "import", username, now)
            tx.touch(now)
        return len(stored)

    def import_bytes(self, data: bytes, filename: str, user: str | Actor, *, swap_rows: Iterable[int] = ()) -> int:
        """An uploaded CSV/XLSX/GeoJSON file → checked (:func:`uploads.check_upload`:
        ids may not collide with the registry, ``swap_rows`` get lat/lon swapped) →
        imported. Raises ``ServicesError`` naming every bad row before any write
        starts: a rejected file changes nothing.

        Returns
        -------
        int
            Number of services added.

        Raises
        ------
        ServicesError
            A file that cannot be read (``table.*``) or a bad row.
        PermissionDenied
            As :meth:`import_rows`.
        """
        _actor(user)
        checked = check_upload(data, filename, existing_ids=self.ids(), swap_rows=swap_rows)
        return self.import_rows(checked.table, user, source_name=filename, first_row=checked.first_row)

    # -- exporting ----------------------------------------------------------------------

    def export(self, fmt: str, public: bool, places: gpd.GeoDataFrame | None = None,
               user: str | Actor | None = None) -> bytes:
        """The registry as file bytes: ``csv``, ``geojson`` or ``gpkg`` (layer ``services``).

        ``public=True``: open services only, through :func:`privacy.public_services`
        (confidential points moved to the nearest settlement in ``places``; without
        ``places`` exact confidential points are left out), public columns only (no
        address, owner, note). ``public=False``: the staff copy with every column and
        closed services, seen as ``user`` may see it (:meth:`services_for`).
        CSV cells are always passed through ``services.neutralise_formulas``.

        Parameters
        ----------
        fmt : str
            One of :data:`EXPORT_FORMATS` (a leading dot and case are ignored).
        public : bool
            The public copy (see above) or the staff copy.
        places : GeoDataFrame, optional
            Public points (:func:`coverage.views.privacy.settlement_points`).
        user : str or Actor, optional
            For the staff copy: whose view; None gives every row in full.

        Returns
        -------
        bytes
            UTF-8 CSV (``lon``/``lat`` in degrees), GeoJSON (EPSG:4326) or a GeoPackage
            file with layer ``services`` (EPSG:4326).

        Raises
        ------
        InputError
            ``registry.unknown_export_format``.
        """
        fmt = fmt.lower().lstrip(".")
        if fmt not in EXPORT_FORMATS:
            raise InputError(f"unknown export format '{fmt}' (one of {', '.join(EXPORT_FORMATS)})",
                             message_id="registry.unknown_export_format", field="format", format=fmt,
                             known=EXPORT_FORMATS)
        if public:
            frame = privacy.public_services(self.services(include_closed=False), places)
        elif user is not None:
            frame = self.services_for(user, places, include_closed=True)
        else:
            frame = self.services(include_closed=True)
        return _encode(frame, fmt)


# --- module-level pieces used inside transactions ---------------------------------------------


def _select() -> str:
    return ", ".join(f'"{c}"' for c in STORE_COLUMNS) + ", updated_at"


def _row_dict(row: tuple) -> dict[str, Any]:
    record = dict(zip(STORE_COLUMNS + ("updated_at",), row))
    # Every shelter is confidential, also a row stored before validation said so.
    record["confidential"] = bool(record["confidential"]) or str(record["type"]).strip().lower() == "shelter"
    record["lon"] = float(record["lon"])
    record["lat"] = float(record["lat"])
    return record


def _frame(rows: list[tuple]) -> gpd.GeoDataFrame:
    frame = pd.DataFrame([_row_dict(r) for r in rows], columns=list(STORE_COLUMNS) + ["updated_at"])
    frame = frame.drop(columns=["updated_at"])
    for column in STORE_COLUMNS:
        if column in ("lon", "lat"):
            frame[column] = frame[column].astype(float)
        elif column == "confidential":
            frame[column] = frame[column].astype(bool)
        elif column == "places":  # stored as digits text, "" = unknown; typed as services.validate_services
            frame[column] = pd.array(svc.places_values(frame[column]), dtype="Int64")
        else:
            frame[column] = frame[column].astype(object)
    geometry = gpd.points_from_xy(frame["lon"], frame["lat"])
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=config.CRS_STORE)


def _ids(tx: _Tx) -> set[str]:
    return {r[0] for r in tx.execute(f"SELECT service_id FROM {LAYER}").fetchall()}


def _get(tx: _Tx, service_id: str) -> dict[str, Any]:
    row = tx.execute(f"SELECT {_select()} FROM {LAYER} WHERE service_id = ?", (str(service_id),)).fetchone()
    if row is None:
        raise UnknownService(f"no service with id '{service_id}' in the registry",
                             message_id="registry.unknown_service", service_id=str(service_id))
    return _row_dict(row)


def _records(table: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    """Validated services rows → storable dicts (text, floats, bool)."""
    out = []
    for record in table.drop(columns=["geometry"], errors="ignore").to_dict("records"):
        stored: dict[str, Any] = {}
        for column in svc.ALL_COLUMNS:
            value = record.get(column, "")
            if column in ("lon", "lat"):
                stored[column] = float(value)
            elif column == "confidential":
                stored[column] = bool(value)
            else:
                stored[column] = _as_text(value)
        out.append(stored)
    return out


def _checked(records: list[Mapping[str, Any]], source: str, existing_ids: Iterable[str],
             first_row: int) -> list[dict[str, Any]]:
    """Validate rows as they will be stored: the public columns through
    ``services.validate_services``, ``address``/``owner_org`` here. Raises one
    ServicesError listing every problem."""
    problems: list[svc.Problem] = []
    for i, record in enumerate(records):
        row_no = i + first_row
        sid = _as_text(record.get("service_id")).strip()
        address = _as_text(record.get("address"))
        if len(address) > config.MAX_ADDRESS_CHARS:
            problems.append(svc.Problem(row_no, "address", f"is longer than {config.MAX_ADDRESS_CHARS} characters", sid,
                                        message_id="registry.address_too_long",
                                        params={"max_chars": config.MAX_ADDRESS_CHARS}))
        if address.lstrip()[:1] in svc.FORMULA_PREFIXES:
            problems.append(svc.Problem(row_no, "address",
                                        "starts with =, +, - or @, which a spreadsheet would run as a formula", sid,
                                        message_id="services.formula"))
        owner = _as_text(record.get("owner_org"))
        if not _ORG_KEY.match(owner):
            problems.append(svc.Problem(row_no, "owner_org",
                                        f"'{owner}' is not an organisation key (lower-case letters, digits, '-', '_')", sid,
                                        message_id="registry.owner_org_invalid", params={"value": owner}))
    text = pd.DataFrame(
        [{c: _as_text(r[c]) for c in r if c not in PRIVATE_COLUMNS and c != "geometry"} for r in records]
    )
    try:
        validated = svc.validate_services(text, source, first_row=first_row, existing_ids=existing_ids)
    except svc.ServicesError as err:
        problems = sorted(problems + list(err.problems), key=lambda p: (p.row, p.column))
        raise svc.ServicesError(source, problems) from None
    if problems:
        raise svc.ServicesError(source, problems)
    stored = _records(validated)
    for record, original in zip(stored, records):
        record["address"] = _as_text(original.get("address"))
        record["owner_org"] = _as_text(original.get("owner_org"))
    return stored


def _db_value(column: str, value: Any) -> Any:
    if column == "confidential":
        return bool(value)  # sqlite3 stores it as 1/0, PostgreSQL as boolean
    return _plain(value)


def _insert_created(tx: _Tx, records: list[Mapping[str, Any]], action: str, who: str, when: str) -> None:
    """New services (seed/create/import) and one history row each holding the whole row:
    two batched statements, history ids in the order of ``records``."""
    columns = ", ".join(f'"{c}"' for c in STORE_COLUMNS)
    marks = ", ".join("?" for _ in STORE_COLUMNS)
    tx.executemany(
        f"INSERT INTO {LAYER} (geom, {columns}, updated_at) VALUES ({tx.point_sql}, {marks}, ?)",
        [tx.point_params(r["lon"], r["lat"]) + [_db_value(c, r[c]) for c in STORE_COLUMNS] + [when]
         for r in records],
    )
    tx.executemany(_INSERT_HISTORY, [(r["service_id"], action, who, when, None, _to_json(r)) for r in records])


_INSERT_HISTORY = (f"INSERT INTO {HISTORY} (service_id, action, changed_by, changed_at, old_values, new_values) "
                   "VALUES (?, ?, ?, ?, ?, ?)")


def _insert_history(tx: _Tx, service_id: str, action: str, who: str, when: str,
                    old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> None:
    tx.execute(_INSERT_HISTORY, (service_id, action, who, when, _to_json(old), _to_json(new)))


def seed_records(seed_csv: Path | None) -> list[dict[str, Any]]:
    """The shipped services list as registry rows: no address, owner by id prefix.

    Parameters
    ----------
    seed_csv : Path or None
        The services CSV; None gives no rows.

    Returns
    -------
    list of dict
        ``services.ALL_COLUMNS`` (``lon``/``lat`` float degrees, ``confidential`` bool,
        the rest text) plus ``address`` ("") and ``owner_org`` (from
        :data:`coverage.config.SEED_OWNERS`).

    Raises
    ------
    ServicesError
        The seed file is invalid.
    """
    if seed_csv is None:
        return []
    records = _records(svc.read_services(Path(seed_csv).read_bytes(), str(seed_csv)))
    for record in records:
        record["address"] = ""
        record["owner_org"] = _seed_owner(record["service_id"])
    return records


def _write_seed(tx: _Tx, records: list[dict[str, Any]]) -> None:
    """Seed a new registry (history action ``seed``) inside its creating transaction."""
    if records:
        now = _now()
        _insert_created(tx, records, "seed", "seed", now)
        tx.touch(now)


def _seed_owner(service_id: str) -> str:
    for prefix, owner in config.SEED_OWNERS.items():
        if service_id.startswith(prefix):
            return owner
    return config.DEFAULT_OWNER_ORG


def _encode(frame: gpd.GeoDataFrame, fmt: str) -> bytes:
    frame = frame.reset_index(drop=True)
    if fmt == "csv":
        table = pd.DataFrame(frame.drop(columns=["geometry"]))
        if "confidential" in table:
            table["confidential"] = np.where(table["confidential"].astype(bool), "true", "false")
        table = svc.neutralise_formulas(table.astype({c: object for c in table.columns if c not in ("lon", "lat")}))
        return table.to_csv(index=False, lineterminator="\n").encode("utf-8")
    if fmt == "geojson":
        return frame.to_json(na="null", drop_id=True, ensure_ascii=False).encode("utf-8")
    import pyogrio

    with tempfile.TemporaryDirectory(prefix="coverage-export-") as tmp:
        target = Path(tmp) / "services.gpkg"
        pyogrio.write_dataframe(frame, target, layer=LAYER, driver="GPKG", geometry_type="Point")
        return target.read_bytes()
