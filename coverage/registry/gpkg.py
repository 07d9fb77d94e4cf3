"""The registry in one GeoPackage file, written with the standard library's ``sqlite3``.

QGIS, GDAL and ``pyogrio.read_dataframe(path, layer="services")`` open it as an ordinary
point layer in EPSG:4326. Every write is one ``BEGIN IMMEDIATE`` transaction (WAL
journal, busy timeout), so writers take turns and a crash leaves all or nothing.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import stat
import struct
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from coverage import config
from coverage.registry.base import (
    ACTIONS,
    HISTORY,
    LAYER,
    SRS_ID,
    BaseServiceStore,
    StoreError,
    StoreURL,
    _Tx,
    _write_seed,
    seed_records,
    store_column_defs,
    store_location,
)

GPKG_APPLICATION_ID = 0x47504B47  # "GPKG"
GPKG_USER_VERSION = 10200  # GeoPackage 1.2.0
_WGS84_WKT = (
    'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,'
    'AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,'
    'AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],'
    'AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]'
)
_SQLITE_MAGIC = b"SQLite format 3\x00"
_SQLITE_HEADER_BYTES = 100
# --- GeoPackage encoding -------------------------------------------------------------------


def gpkg_point(lon: float, lat: float) -> bytes:
    """GeoPackage binary (header 'GP', version 0, little-endian, no envelope, srs 4326)
    followed by a little-endian WKB Point."""
    return b"GP" + struct.pack("<BBi", 0, 0x01, SRS_ID) + struct.pack("<BIdd", 1, 1, lon, lat)


_SQLITE_TYPES: Mapping[str, str] = {
    "real": "REAL NOT NULL", "bool": "BOOLEAN NOT NULL", "key": "TEXT NOT NULL UNIQUE",
    "text": "TEXT NOT NULL DEFAULT ''",
}


def _column_defs() -> str:
    defs = ["fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL", "geom POINT"]
    defs += store_column_defs(_SQLITE_TYPES)
    defs.append("updated_at TEXT NOT NULL")
    return ",\n  ".join(defs)


def _schema_sql() -> str:
    actions = ", ".join(f"'{a}'" for a in ACTIONS)
    return f"""
CREATE TABLE gpkg_spatial_ref_sys (
  srs_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL PRIMARY KEY,
  organization TEXT NOT NULL,
  organization_coordsys_id INTEGER NOT NULL,
  definition TEXT NOT NULL,
  description TEXT
);
CREATE TABLE gpkg_contents (
  table_name TEXT NOT NULL PRIMARY KEY,
  data_type TEXT NOT NULL,
  identifier TEXT UNIQUE,
  description TEXT DEFAULT '',
  last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE,
  srs_id INTEGER,
  CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id)
);
CREATE TABLE gpkg_geometry_columns (
  table_name TEXT NOT NULL,
  column_name TEXT NOT NULL,
  geometry_type_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL,
  z TINYINT NOT NULL,
  m TINYINT NOT NULL,
  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
  CONSTRAINT uk_gc_table_name UNIQUE (table_name),
  CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id)
);
INSERT INTO gpkg_spatial_ref_sys VALUES
  ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system'),
  ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system'),
  ('WGS 84 geodetic', {SRS_ID}, 'EPSG', 4326, '{_WGS84_WKT}', 'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid');
CREATE TABLE {LAYER} (
  {_column_defs()}
);
CREATE TABLE {HISTORY} (
  id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  service_id TEXT NOT NULL,
  action TEXT NOT NULL CHECK (action IN ({actions})),
  changed_by TEXT NOT NULL,
  changed_at TEXT NOT NULL,
  old_values TEXT,
  new_values TEXT
);
CREATE INDEX history_service_id ON {HISTORY}(service_id);
INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id)
  VALUES ('{LAYER}', 'features', '{LAYER}', 'Women''s crisis services registry (private: exact points)', {SRS_ID});
INSERT INTO gpkg_contents (table_name, data_type, identifier, description)
  VALUES ('{HISTORY}', 'attributes', '{HISTORY}', 'Append-only edit history of the services registry');
INSERT INTO gpkg_geometry_columns VALUES ('{LAYER}', 'geom', 'POINT', {SRS_ID}, 0, 0);
CREATE TRIGGER services_never_deleted BEFORE DELETE ON {LAYER}
  BEGIN SELECT RAISE(ABORT, 'services are never deleted: close them (closed_date)'); END;
CREATE TRIGGER services_id_is_fixed BEFORE UPDATE OF service_id ON {LAYER}
  WHEN NEW.service_id IS NOT OLD.service_id
  BEGIN SELECT RAISE(ABORT, 'a service_id never changes'); END;
CREATE TRIGGER history_no_update BEFORE UPDATE ON {HISTORY}
  BEGIN SELECT RAISE(ABORT, 'history is append-only'); END;
CREATE TRIGGER history_no_delete BEFORE DELETE ON {HISTORY}
  BEGIN SELECT RAISE(ABORT, 'history is append-only'); END;
"""


class _SqliteTx(_Tx):
    """A transaction on the GeoPackage: points are GeoPackage binary blobs, and
    ``gpkg_contents`` keeps the layer's extent and last change."""

    def execute(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Cursor:
        return self.con.execute(sql, tuple(params))

    def executemany(self, sql: str, rows: list[list[Any]] | list[tuple]) -> None:
        self.con.executemany(sql, rows)

    def point_params(self, lon: float, lat: float) -> list[Any]:
        return [gpkg_point(lon, lat)]

    def touch(self, now: str) -> None:
        _touch_contents(self.con, now)

    def column_names(self, table: str) -> set[str]:
        return {r[1] for r in self.con.execute(f"PRAGMA table_info({table})")}

    id_column_sql = "INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL"

    def register_table(self, table: str, description: str) -> None:
        """A GeoPackage lists every table in ``gpkg_contents`` (GIS software reads it)."""
        self.con.execute("INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description) "
                         "VALUES (?, 'attributes', ?, ?)", (table, table, description))


def _file_location(path: str | os.PathLike[str] | None) -> Path:
    """The GeoPackage file :func:`store_location` names; a database URL is refused."""
    location = store_location(path)
    if isinstance(location, StoreURL):
        raise StoreError(f"{location.masked} is a database URL; open it with open_store()",
                         message_id="registry.url_not_file")
    return location


def _damaged(path: Path, reason: str) -> StoreError:
    return StoreError(f"{path}: the registry file is damaged ({reason}); it was not changed. Restore it from a "
                      f"backup, or move it aside to start a new registry", message_id="registry.damaged",
                      reason=reason)


def check_registry_file(path: Path) -> None:
    """Refuse a registry file that is not whole before anything opens it for writing.

    Checked in order, each with a :class:`StoreError` (``registry.not_a_file``,
    ``registry.damaged``, ``registry.not_a_registry``): a regular file; the SQLite
    header (magic string, page size, the GeoPackage ``application_id`` at byte 68, the
    file a whole number of pages and as long as its header says); then, on a read-only
    connection that cannot write to the file, ``PRAGMA quick_check`` and the registry's
    tables. A truncated, zeroed or random file, or another SQLite database, is refused
    and left byte-for-byte as it was.
    """
    try:
        info = os.stat(path)
    except OSError as err:
        raise StoreError(f"{path}: cannot read the registry ({err.strerror})", message_id="registry.unreadable",
                         reason=str(err.strerror)) from None
    if not stat.S_ISREG(info.st_mode):
        raise StoreError(f"{path}: the registry is not a regular file", message_id="registry.not_a_file")
    try:
        with open(path, "rb") as fh:
            header = fh.read(_SQLITE_HEADER_BYTES)
    except OSError as err:
        raise StoreError(f"{path}: cannot read the registry ({err.strerror})", message_id="registry.unreadable",
                         reason=str(err.strerror)) from None
    if len(header) < _SQLITE_HEADER_BYTES or not header.startswith(_SQLITE_MAGIC):
        raise _damaged(path, "not an SQLite database: truncated, overwritten or another kind of file")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    if page_size < 512 or page_size & (page_size - 1):
        raise _damaged(path, "bad page size in the header")
    if int.from_bytes(header[68:72], "big") != GPKG_APPLICATION_ID:
        raise StoreError(f"{path}: not a services registry GeoPackage", message_id="registry.not_a_registry")
    pages = int.from_bytes(header[28:32], "big")
    header_current = header[92:96] == header[24:28]  # the page count is valid only then
    if info.st_size % page_size or (header_current and info.st_size < pages * page_size):
        raise _damaged(path, "the file is truncated")
    try:
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None,
                              check_same_thread=False)
    except sqlite3.Error as err:
        raise _damaged(path, str(err)) from None
    try:
        problems = [r[0] for r in con.execute("PRAGMA quick_check(5)")]
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.OperationalError as err:
        if "locked" in str(err) or "busy" in str(err):
            return  # a writer holds it this instant: the file is a working database
        raise _damaged(path, str(err)) from None
    except sqlite3.DatabaseError as err:
        raise _damaged(path, str(err)) from None
    finally:
        con.close()
    if problems != ["ok"]:
        raise _damaged(path, "integrity check: " + "; ".join(map(str, problems))[:300])
    if not {LAYER, HISTORY, "gpkg_contents"} <= tables:
        raise StoreError(f"{path}: not a services registry GeoPackage", message_id="registry.not_a_registry")


def _store_error(path: Path, err: sqlite3.DatabaseError) -> StoreError | None:
    """The StoreError for a failed SQLite call that is the file's or the disk's fault,
    or None when the error is the caller's (a trigger, a constraint, a lock)."""
    text = str(err).lower()
    if "full" in text:
        return StoreError(f"{path}: the disk is full; the change was not saved", message_id="registry.disk_full")
    if "disk i/o" in text or "readonly" in text or "read-only" in text:
        return StoreError(f"{path}: the registry could not be written ({err}); the change was not saved",
                          message_id="registry.write_failed", reason=str(err))
    if "malformed" in text or "not a database" in text:
        return _damaged(path, str(err))
    return None


class ServiceStore(BaseServiceStore):
    """The services registry in one GeoPackage file (see the module docstring).

    Each call opens its own SQLite connection, so one store object may be shared by
    threads, and several processes may use the same file at once.
    """

    def __init__(self, path: str | os.PathLike[str], busy_timeout_ms: int = config.STORE_BUSY_TIMEOUT_MS):
        self.path = _file_location(path)
        self.busy_timeout_ms = int(busy_timeout_ms)
        if not self.path.exists():
            raise StoreError(f"{self.path}: no registry here; create one with ServiceStore.open_or_create",
                             message_id="registry.missing")
        check_registry_file(self.path)  # a damaged file is refused before any connection that may write
        self._add_missing_columns()

    # -- creating ------------------------------------------------------------------------

    @classmethod
    def open_or_create(cls, path: str | os.PathLike[str] | None = None,
                       seed_csv: Path | None = config.SERVICES_CSV) -> ServiceStore:
        """Open the registry, creating it first (seeded from ``seed_csv``, history
        action ``seed``) when the file does not exist yet. Creation builds a temporary
        file and links it into place, so two processes starting at once cannot both
        seed, and a crash during seeding leaves no half-made registry."""
        path = _file_location(path)
        if not path.exists():
            cls._create(path, seed_csv)
        return cls(path)

    @classmethod
    def _create(cls, path: Path, seed_csv: Path | None) -> None:
        seed = seed_records(seed_csv)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        try:
            con = sqlite3.connect(tmp, isolation_level=None)
            try:
                con.execute(f"PRAGMA application_id = {GPKG_APPLICATION_ID}")
                con.execute(f"PRAGMA user_version = {GPKG_USER_VERSION}")
                con.execute("PRAGMA journal_mode = WAL")
                con.execute("BEGIN IMMEDIATE")
                for statement in _split_sql(_schema_sql()):
                    con.execute(statement)
                _write_seed(_SqliteTx(con), seed)
                con.execute("COMMIT")
                ok = con.execute("PRAGMA integrity_check").fetchone()[0]
                if ok != "ok":
                    raise StoreError(f"new registry failed its integrity check: {ok}",
                                     message_id="registry.create_failed", reason=str(ok))
            finally:
                con.close()
            os.chmod(tmp, 0o600)
            try:
                os.link(tmp, path)  # atomic "create if absent"
            except FileExistsError:
                pass  # another process created it first; use theirs
            except OSError:  # filesystem without hard links
                if not path.exists():
                    os.replace(tmp, path)
        finally:
            for leftover in (tmp, tmp.with_name(tmp.name + "-wal"), tmp.with_name(tmp.name + "-shm")):
                leftover.unlink(missing_ok=True)

    # -- connections -------------------------------------------------------------------

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A connection; a full disk, an I/O error or a damaged file met on the way is
        a :class:`StoreError` (the transaction is rolled back, nothing saved)."""
        try:
            con = sqlite3.connect(self.path, timeout=self.busy_timeout_ms / 1000, isolation_level=None,
                                  check_same_thread=False)
        except sqlite3.DatabaseError as err:
            raise (_store_error(self.path, err) or err) from None
        try:
            con.execute(f"PRAGMA busy_timeout = {self.busy_timeout_ms}")
            con.execute("PRAGMA synchronous = FULL")
            yield con
        except sqlite3.DatabaseError as err:
            mapped = _store_error(self.path, err)
            if mapped is None:
                raise
            raise mapped from None
        finally:
            con.close()

    @contextmanager
    def _read(self) -> Iterator[_Tx]:
        with self._connect() as con:
            con.execute("PRAGMA query_only = ON")
            con.execute("BEGIN")  # one consistent snapshot for all reads in the block
            try:
                yield _SqliteTx(con)
            finally:
                con.execute("ROLLBACK")

    @contextmanager
    def _write(self) -> Iterator[_Tx]:
        """BEGIN IMMEDIATE takes the write lock up front (waiting up to the busy timeout
        for another writer), so reads inside see the latest committed state."""
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                yield _SqliteTx(con)
            except BaseException:
                try:
                    con.execute("ROLLBACK")
                except sqlite3.OperationalError:
                    pass  # SQLite already rolled back (a full disk, an I/O error)
                raise
            con.execute("COMMIT")
            try:
                con.execute("PRAGMA wal_checkpoint(PASSIVE)")  # keep the main file current
            except sqlite3.OperationalError:
                pass


def _split_sql(script: str) -> list[str]:
    """Statements of the schema script (triggers hold ';' inside BEGIN … END)."""
    out, buf = [], []
    for line in script.strip().splitlines():
        buf.append(line)
        text = "\n".join(buf).strip()
        if text.endswith(";") and (not text.upper().startswith("CREATE TRIGGER") or text.upper().endswith("END;")):
            out.append(text)
            buf = []
    if "\n".join(buf).strip():
        out.append("\n".join(buf).strip())
    return out


def _touch_contents(con: sqlite3.Connection, now: str) -> None:
    """Keep gpkg_contents' extent and last_change current (GIS software reads them)."""
    con.execute(
        "UPDATE gpkg_contents SET last_change = ?, "
        f"min_x = (SELECT min(lon) FROM {LAYER}), min_y = (SELECT min(lat) FROM {LAYER}), "
        f"max_x = (SELECT max(lon) FROM {LAYER}), max_y = (SELECT max(lat) FROM {LAYER}) "
        "WHERE table_name = ?",
        (now, LAYER),
    )
    con.execute("UPDATE gpkg_contents SET last_change = ? WHERE table_name = ?", (now, HISTORY))


