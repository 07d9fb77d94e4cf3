"""The services registry: one GeoPackage file (or a PostGIS database), edited in transactions.

The registry is a GeoPackage (an SQLite database in OGC GeoPackage 1.2 form) written
with the standard library's ``sqlite3``: QGIS, GDAL and ``pyogrio.read_dataframe(path,
layer="services")`` open it as an ordinary point layer in EPSG:4326. It lives in the
git-ignored ``private/`` folder (``config.STORE_PATH``, or env ``COVERAGE_STORE``)
because it holds what no public view may show: exact shelter points and addresses.

An organisation that runs a server may keep the registry in PostgreSQL/PostGIS instead:
give a ``postgresql://user:password@host:port/database`` URL (argument or env
``COVERAGE_STORE``) and :func:`open_store` returns a
:class:`coverage.store_postgis.PostgisServiceStore` with the same methods and rules,
its tables created and seeded on first use. Messages show such a URL without its password.

Tables
    ``services``  every column of :data:`coverage.services.ALL_COLUMNS`, plus
                  ``address`` (staff only, may be empty), ``owner_org`` (key of the
                  organisation that owns the row), ``updated_at`` and the point ``geom``.
    ``history``   one row per change: ``id, service_id, action, changed_by, changed_at``
                  (UTC ISO 8601) and ``old_values`` / ``new_values`` (JSON of the fields
                  that changed; the whole row for seed/create/import). Append-only.
    ``scenarios`` saved what-if scenarios (``name``, ``author``, ``created_at``, JSON
                  ``body``), made on the first save; never services
                  (:mod:`coverage.registry.saved`).

Rules every write keeps
    * the row as it will be after the change passes :func:`services.validate_services`
      (and the private columns their own checks); new ids may not reuse any id in the
      store, open or closed;
    * one transaction per call, holding both the change and its history row, so a crash
      leaves all or nothing; writers take turns (SQLite: ``BEGIN IMMEDIATE``, WAL
      journal, busy timeout; PostgreSQL: a table lock that readers do not wait for);
    * nothing is deleted: a service that stops is closed (``closed_date``) and can be
      reopened; triggers refuse DELETE on ``services`` and any change to ``history``;
    * an upload that fails validation is rejected before any write transaction starts,
      so the file is left byte-for-byte as it was.

Who may change what: ``user`` is either a plain string (a trusted caller such as the
command line; full rights) or a signed-in user object with ``username``,
``organisation`` and ``role`` (see :class:`coverage.auth.User`). Staff may add and edit
only rows their organisation owns; admins may edit every row.

The history and staff exports hold exact points and addresses: staff only.

Code layout: :class:`BaseServiceStore` holds everything both databases share
(validation, permissions, history, exports); a subclass supplies connections and
transactions, and a :class:`_Tx` subclass the few SQL differences (placeholders, point
encoding, GeoPackage bookkeeping).
"""

from __future__ import annotations

import os
from pathlib import Path

from coverage import config
from coverage.registry.base import (
    ACTIONS,
    EXPORT_FORMATS,
    HISTORY,
    HISTORY_COLUMNS,
    LAYER,
    PRIVATE_COLUMNS,
    STORE_COLUMNS,
    Actor,
    BaseServiceStore,
    PermissionDenied,
    StoreError,
    StoreURL,
    UnknownService,
    mask_url,
    seed_records,
    store_location,
)
from coverage.registry.gpkg import ServiceStore

__all__ = [
    "ACTIONS", "EXPORT_FORMATS", "HISTORY", "HISTORY_COLUMNS", "LAYER", "PRIVATE_COLUMNS", "STORE_COLUMNS",
    "Actor", "BaseServiceStore", "PermissionDenied", "ServiceStore", "StoreError", "StoreURL", "UnknownService",
    "mask_url", "open_store", "seed_records", "store_location",
]


def open_store(path: str | os.PathLike[str] | None = None,
               seed_csv: Path | None = config.SERVICES_CSV) -> BaseServiceStore:
    """The registry at :func:`store_location` (GeoPackage file or PostGIS database),
    created and seeded on first use.

    Parameters
    ----------
    path : str or PathLike, optional
        A GeoPackage path or a PostgreSQL URL; default from the settings
        (``COVERAGE_STORE``, else ``config.STORE_PATH``).
    seed_csv : Path, optional
        Services to seed a new registry with (see :func:`seed_records`); None seeds nothing.

    Returns
    -------
    BaseServiceStore
        A ``ServiceStore`` (GeoPackage) or a ``PostgisServiceStore``; points in EPSG:4326.

    Raises
    ------
    ConfigError
        An unsupported location (:func:`store_location`).
    """
    location = store_location(path)
    if isinstance(location, StoreURL):
        from coverage.registry.postgis import PostgisServiceStore  # psycopg is needed only here

        return PostgisServiceStore.open_or_create(location, seed_csv=seed_csv)
    return ServiceStore.open_or_create(location, seed_csv=seed_csv)


