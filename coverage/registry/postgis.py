"""The services registry in a PostgreSQL/PostGIS database (psycopg 3).

Same methods, rules and history as the GeoPackage :class:`coverage.store.ServiceStore`;
everything but the database plumbing lives in :class:`coverage.store.BaseServiceStore`.
Open it with ``store.open_store("postgresql://user:password@host:port/database")`` (or
env ``COVERAGE_STORE``).

Tables (in the connection's current schema, created and seeded on first use in one
transaction, so a crash while creating leaves nothing half-made)
    ``services``  ``fid`` (identity key), ``geom geometry(Point, 4326)`` (GiST index),
                  the registry columns and ``updated_at`` – QGIS opens it as a point layer.
    ``history``   as in the GeoPackage; JSON as text.

Triggers refuse DELETE and TRUNCATE on ``services``, any change of a ``service_id``, and
UPDATE, DELETE and TRUNCATE on ``history``.

Transactions: reads run in one REPEATABLE READ snapshot; each write takes
``LOCK TABLE services, history IN SHARE ROW EXCLUSIVE MODE`` first – writers take turns
(waiting up to the busy timeout, like SQLite's ``BEGIN IMMEDIATE``) while readers go on.
A client killed mid-write loses its connection, and the server rolls the transaction back.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
from psycopg import errors as pg_errors

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

_PG_TYPES = {
    "real": "double precision NOT NULL", "bool": "boolean NOT NULL", "key": "text NOT NULL UNIQUE",
    "text": "text NOT NULL DEFAULT ''",
}
# Serialises first-time creation between processes (any constant shared by all of them).
_CREATE_LOCK_KEY = 0x636F766572616765  # "coverage" in ASCII
_REFUSE_FUNCTION = "coverage_registry_refuse"


def _schema_statements() -> list[str]:
    """The registry's tables, index and rule triggers, one statement each."""
    columns = ",\n  ".join(
        ["fid bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY", f"geom geometry(Point, {SRS_ID}) NOT NULL"]
        + store_column_defs(_PG_TYPES) + ["updated_at text NOT NULL"]
    )
    actions = ", ".join(f"'{a}'" for a in ACTIONS)

    def refuse(name: str, when: str, table: str, message: str, level: str = "ROW", condition: str = "") -> str:
        return (f"CREATE TRIGGER {name} BEFORE {when} ON {table} FOR EACH {level} {condition} "
                f"EXECUTE FUNCTION {_REFUSE_FUNCTION}('{message}')")

    never_deleted = "services are never deleted: close them (closed_date)"
    return [
        f"CREATE TABLE {LAYER} (\n  {columns}\n)",
        f"CREATE INDEX {LAYER}_geom ON {LAYER} USING gist (geom)",
        f"""CREATE TABLE {HISTORY} (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  service_id text NOT NULL,
  action text NOT NULL CHECK (action IN ({actions})),
  changed_by text NOT NULL,
  changed_at text NOT NULL,
  old_values text,
  new_values text
)""",
        f"CREATE INDEX {HISTORY}_service_id ON {HISTORY} (service_id)",
        f"COMMENT ON TABLE {LAYER} IS 'Women''s crisis services registry (private: exact points)'",
        f"COMMENT ON TABLE {HISTORY} IS 'Append-only edit history of the services registry'",
        # The message comes from the trigger's argument, so one function serves every rule.
        f"""CREATE OR REPLACE FUNCTION {_REFUSE_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'restrict_violation';
END $$""",
        refuse("services_never_deleted", "DELETE", LAYER, never_deleted),
        refuse("services_never_truncated", "TRUNCATE", LAYER, never_deleted, level="STATEMENT"),
        refuse("services_id_is_fixed", "UPDATE OF service_id", LAYER, "a service_id never changes",
               condition="WHEN (NEW.service_id IS DISTINCT FROM OLD.service_id)"),
        refuse("history_no_change", "UPDATE OR DELETE", HISTORY, "history is append-only"),
        refuse("history_no_truncate", "TRUNCATE", HISTORY, "history is append-only", level="STATEMENT"),
    ]


class _PgTx(_Tx):
    """A transaction on PostgreSQL: ``?`` marks become psycopg's ``%s``; points are
    built by PostGIS from two float parameters."""

    point_sql = f"ST_SetSRID(ST_MakePoint(?, ?), {SRS_ID})"
    id_column_sql = "bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY"

    @staticmethod
    def _sql(sql: str) -> str:
        # Shared SQL holds no literal '%' (psycopg would read it as a placeholder).
        return sql.replace("?", "%s")

    def execute(self, sql: str, params: Iterable[Any] = ()) -> psycopg.Cursor:
        params = tuple(params)
        return self.con.execute(self._sql(sql), params or None)

    def executemany(self, sql: str, rows: list[list[Any]] | list[tuple]) -> None:
        if rows:
            with self.con.cursor() as cur:
                cur.executemany(self._sql(sql), rows)  # pipelined: one round trip per batch

    def point_params(self, lon: float, lat: float) -> list[Any]:
        return [float(lon), float(lat)]

    def column_names(self, table: str) -> set[str]:
        rows = self.execute("SELECT column_name FROM information_schema.columns "
                            "WHERE table_schema = current_schema() AND table_name = ?", (table,)).fetchall()
        return {r[0] for r in rows}


def _scrub(err: BaseException, url: StoreURL) -> str:
    """An error's text with the URL's password masked (libpq may echo parts of a URL)."""
    text = str(err).strip().replace(str(url), url.masked)
    for password in _passwords(url):
        text = text.replace(password, "***")
    return text


def _passwords(url: StoreURL) -> set[str]:
    """The URL's password as written (percent-encoded) and as libpq reads it."""
    found = {urlsplit(url.dsn).password or ""}
    try:
        found.add(str(psycopg.conninfo.conninfo_to_dict(url.dsn).get("password") or ""))
    except psycopg.Error:
        pass
    return found - {""}


class _Database:
    """Connections and transactions on one registry database."""

    def __init__(self, url: StoreURL, busy_timeout_ms: int) -> None:
        self.url = url
        self.busy_timeout_ms = int(busy_timeout_ms)

    @contextmanager
    def connect(self) -> Iterator[psycopg.Connection]:
        """A connection in autocommit mode: transactions are begun explicitly below.
        Connection errors become StoreError with the URL's password masked."""
        try:
            con = psycopg.connect(self.url.dsn, autocommit=True, application_name="coverage-registry",
                                  connect_timeout=max(2, self.busy_timeout_ms // 1000))
        except psycopg.Error as err:
            raise StoreError(f"cannot connect to the registry database {self.url.masked}: "
                             f"{_scrub(err, self.url)}", message_id="registry.cannot_connect") from None
        try:
            yield con
        finally:
            con.close()

    @contextmanager
    def errors(self) -> Iterator[None]:
        """Database errors as StoreError holding only their first line and SQLSTATE:
        PostgreSQL's DETAIL line may repeat a whole row, exact point and address included."""
        try:
            yield
        except pg_errors.LockNotAvailable:
            raise StoreError(f"the registry is busy: another change held it for more than "
                             f"{self.busy_timeout_ms / 1000:g} s; try again", message_id="registry.busy") from None
        except psycopg.Error as err:
            first_line = err.diag.message_primary or type(err).__name__
            raise StoreError(f"the registry database {self.url.masked} refused: {first_line} "
                             f"(SQLSTATE {err.sqlstate})", message_id="registry.refused") from None

    @contextmanager
    def read(self) -> Iterator[_Tx]:
        with self.connect() as con, self.errors():
            # one consistent snapshot for all reads in the block
            con.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            try:
                yield _PgTx(con)
            finally:
                _rollback(con)

    @contextmanager
    def write(self) -> Iterator[_Tx]:
        """SHARE ROW EXCLUSIVE conflicts with itself and with every other writer but not
        with plain reads: like SQLite's BEGIN IMMEDIATE, one writer at a time, taken up
        front, so reads inside (READ COMMITTED) see the latest committed state."""
        with self.connect() as con, self.errors():
            con.execute("BEGIN")
            try:
                con.execute("SELECT set_config('lock_timeout', %s, true)", (f"{self.busy_timeout_ms}ms",))
                con.execute(f"LOCK TABLE {LAYER}, {HISTORY} IN SHARE ROW EXCLUSIVE MODE")
                yield _PgTx(con)
            except BaseException:
                _rollback(con)
                raise
            con.execute("COMMIT")

    def state(self) -> str:
        """``registry``, ``missing`` (no registry tables yet) or what is wrong."""
        with self.read() as tx:
            return _state(tx)

    def create(self, seed: list[dict[str, Any]]) -> None:
        """Tables, triggers and seed rows in one transaction, under an advisory lock so a
        second process starting at the same moment waits and then finds them made."""
        with self.connect() as con, self.errors():
            con.execute("BEGIN")
            try:
                con.execute("SELECT pg_advisory_xact_lock(%s)", (_CREATE_LOCK_KEY,))
                tx = _PgTx(con)
                if _state(tx) == "missing":
                    _ensure_postgis(tx, self.url)
                    for statement in _schema_statements():
                        con.execute(statement)
                    _write_seed(tx, seed)
            except BaseException:
                _rollback(con)
                raise
            con.execute("COMMIT")


class PostgisServiceStore(BaseServiceStore):
    """The services registry in a PostgreSQL/PostGIS database (see the module docstring).

    Each call opens its own connection, so one store object may be shared by threads,
    and any number of processes and hosts may use the database at once.
    """

    def __init__(self, url: str | StoreURL, busy_timeout_ms: int = config.STORE_BUSY_TIMEOUT_MS):
        self.path = _url(url)
        self.busy_timeout_ms = int(busy_timeout_ms)
        self._db = _Database(self.path, self.busy_timeout_ms)
        state = self._db.state()
        if state == "missing":
            raise StoreError(f"{self.path.masked}: no registry here; create one with "
                             "PostgisServiceStore.open_or_create", message_id="registry.missing")
        if state != "registry":
            raise StoreError(f"{self.path.masked}: not a services registry database ({state})",
                             message_id="registry.not_a_registry")
        self._add_missing_columns()

    @classmethod
    def open_or_create(cls, url: str | StoreURL | None = None,
                       seed_csv: Path | None = config.SERVICES_CSV) -> PostgisServiceStore:
        """Open the registry database, first creating its tables (seeded from
        ``seed_csv``, history action ``seed``) when it has none. Creation is one
        transaction, so a crash leaves no half-made registry. Needs CREATE rights the
        first time (and the PostGIS extension, or the right to create it)."""
        url = _url(url)
        db = _Database(url, config.STORE_BUSY_TIMEOUT_MS)
        if db.state() == "missing":
            db.create(seed_records(seed_csv))
        return cls(url)

    @contextmanager
    def _read(self) -> Iterator[_Tx]:
        with self._db.read() as tx:
            yield tx

    @contextmanager
    def _write(self) -> Iterator[_Tx]:
        with self._db.write() as tx:
            yield tx


def _url(url: str | StoreURL | None) -> StoreURL:
    location = store_location(url)
    if not isinstance(location, StoreURL):
        raise StoreError(f"{location}: a PostGIS registry needs a postgresql:// URL", message_id="registry.url_needed")
    return location


def _rollback(con: psycopg.Connection) -> None:
    """Roll back; a broken connection has lost its transaction already."""
    try:
        con.execute("ROLLBACK")
    except psycopg.Error:
        pass


def _state(tx: _Tx) -> str:
    """``registry``, ``missing`` (no registry tables yet) or what is wrong."""
    tables = {r[0] for r in tx.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = current_schema() AND table_name IN (?, ?)", (LAYER, HISTORY)).fetchall()}
    if not tables:
        return "missing"
    if tables != {LAYER, HISTORY}:
        return f"table {(tables ^ {LAYER, HISTORY}).pop()} is missing"
    if not {"geom", "service_id", "updated_at"} <= tx.column_names(LAYER):
        return f"table {LAYER} has other columns"
    return "registry"


def _ensure_postgis(tx: _Tx, url: StoreURL) -> None:
    """Create the PostGIS extension if the database lacks it (needs the right to)."""
    if tx.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").fetchone():
        return
    available = tx.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'").fetchone()
    if not available:
        raise StoreError(f"{url.masked}: the PostGIS extension is not installed on this server "
                         "(Debian: apt-get install postgresql-15-postgis-3)", message_id="registry.postgis_missing")
    try:
        tx.execute("CREATE EXTENSION postgis")
    except pg_errors.InsufficientPrivilege:
        raise StoreError(f"{url.masked}: the database needs the PostGIS extension; ask its owner or a "
                         "superuser to run CREATE EXTENSION postgis", message_id="registry.postgis_missing") from None


__all__ = ["PostgisServiceStore"]
