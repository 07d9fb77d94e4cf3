"""The PostGIS registry (coverage/registry/postgis.py) at the database level: created and
seeded like the GeoPackage, the database's own refusals, rights, locks, messages without
passwords or points, and the dashboard on it. Checked against the throwaway PostgreSQL 15
cluster of conftest.py (``pg_cluster``; a fresh database per test). The rules both
back-ends share run in test_registry.py (``registry`` fixture)."""

from __future__ import annotations

import csv
import threading
import warnings

import geopandas as gpd
import pandas as pd
import psycopg
import pytest
from conftest import PROJECT_ROOT, _free_port, no_exact_point_in, pg_dump, shelter_row

from coverage import config
from coverage.data.services import ServicesError
from coverage.registry.postgis import PostgisServiceStore
from coverage.registry.store import ServiceStore, StoreError, StoreURL, open_store


@pytest.fixture
def cluster(pg_cluster):
    return pg_cluster


@pytest.fixture
def database(pg_database) -> str:
    return pg_database


@pytest.fixture
def store(database) -> PostgisServiceStore:
    registry = open_store(database)
    assert isinstance(registry, PostgisServiceStore)
    return registry


dump = pg_dump


def sql(url: str, statement: str, params: tuple = ()) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as con:
        cur = con.execute(statement, params or None)
        return cur.fetchall() if cur.description else []


def shipped_rows() -> int:
    with config.SERVICES_CSV.open(encoding="utf-8", newline="") as handle:
        return sum(1 for _ in csv.DictReader(handle))


# --- created and seeded ---------------------------------------------------------------------


def test_created_and_seeded_like_the_geopackage(store, database, tmp_path, monkeypatch):
    n = shipped_rows()
    assert sql(database, "SELECT count(*) FROM services")[0][0] == n
    assert sql(database, "SELECT action, count(*) FROM history GROUP BY action") == [("seed", n)]
    assert sql(database, "SELECT type, srid FROM geometry_columns WHERE f_table_name = 'services'") \
        == [("POINT", 4326)]
    assert sql(database, "SELECT count(*) FROM services WHERE ST_X(geom) <> lon OR ST_Y(geom) <> lat")[0][0] == 0

    # The same rows, columns and owners as a GeoPackage registry seeded from the same list.
    gpkg = ServiceStore.open_or_create(tmp_path / "registry.gpkg")
    ours, theirs = store.services(include_closed=True), gpkg.services(include_closed=True)
    pd.testing.assert_frame_equal(pd.DataFrame(ours.drop(columns="geometry")),
                                  pd.DataFrame(theirs.drop(columns="geometry")))
    assert ours.geometry.geom_equals(theirs.geometry).all() and ours.crs == theirs.crs
    assert len(store.history("test")) == len(gpkg.history("test")) == n

    # A GIS client reads the table as a point layer in EPSG:4326 (geopandas' PostGIS reader).
    with psycopg.connect(database) as con, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # pandas prefers SQLAlchemy connections
        layer = gpd.read_postgis("SELECT service_id, geom FROM services", con, geom_col="geom")
    assert layer.crs.to_epsg() == 4326 and len(layer) == n
    point = layer.set_index("service_id").loc["SGH-GUL-CC1", "geom"]
    assert (point.x, point.y) == (69.62216, 40.28256)

    # Opening again (also through COVERAGE_STORE) keeps it and does not seed twice.
    store.update("SGH-GUL-CC1", {"capacity": "kept"}, "bob")
    monkeypatch.setenv("COVERAGE_STORE", database)
    again = open_store()
    assert isinstance(again, PostgisServiceStore)
    assert again.get("SGH-GUL-CC1")["capacity"] == "kept" and len(again.history("test")) == n + 1


def test_processes_starting_at_once_seed_only_once(database):
    barrier, opened, errors = threading.Barrier(3), [], []

    def start() -> None:
        try:
            barrier.wait(timeout=10)
            opened.append(open_store(database))
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=start) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert len(opened) == 3
    assert sql(database, "SELECT count(*) FROM history")[0][0] == shipped_rows()


def test_after_creation_select_insert_update_rights_are_enough(store, database, cluster):
    name = database.rsplit("/", 1)[1]
    sql(database, "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'registry_editor') "
                  "THEN CREATE ROLE registry_editor LOGIN; END IF; END $$")
    sql(database, "GRANT SELECT, INSERT, UPDATE ON services, history TO registry_editor")
    editor = open_store(f"postgresql://registry_editor@127.0.0.1:{cluster.port}/{name}")
    editor.add(shelter_row(), "alice")
    editor.update("TEST-SH-EXACT", {"capacity": "4"}, "alice")
    assert editor.history("test", service_id="TEST-SH-EXACT")["action"].tolist() == ["create", "update"]


def test_a_database_that_is_not_a_registry_is_refused(database):
    with pytest.raises(StoreError, match="no registry here"):
        PostgisServiceStore(database)
    sql(database, "CREATE TABLE services (x int)")
    with pytest.raises(StoreError, match="not a services registry"):
        open_store(database)


def test_the_password_never_appears_in_messages(cluster):
    url = cluster.url("no_such_database", password="s3cret-pw")
    with pytest.raises(StoreError) as err:
        open_store(url)
    assert "s3cret-pw" not in str(err.value) and "postgres:***@127.0.0.1" in str(err.value)
    assert "no_such_database" in str(err.value)
    closed_port = f"postgresql://postgres:s3cret-pw@127.0.0.1:{_free_port()}/x"
    with pytest.raises(StoreError, match="cannot connect") as err:
        open_store(closed_port)
    assert "s3cret-pw" not in str(err.value)
    assert "s3cret-pw" not in repr(StoreURL(url)) and StoreURL(url).masked.count("***") == 1


# --- edits and history -----------------------------------------------------------------------


def test_the_database_moves_the_point_and_refuses_deletes_and_history_edits(store, database):
    store.add(shelter_row(), "alice")
    store.update("TEST-SH-EXACT", {"lon": "69.7", "lat": 40.1}, "bob")
    assert sql(database, "SELECT ST_X(geom), ST_Y(geom) FROM services WHERE service_id = 'TEST-SH-EXACT'") \
        == [(69.7, 40.1)]
    with pytest.raises(ServicesError, match="already used"):
        store.add(shelter_row(), "alice")

    # The database itself refuses deletes, id changes and history edits.
    refusals = [
        ("DELETE FROM services WHERE service_id = 'TEST-SH-EXACT'", "never deleted"),
        ("TRUNCATE services", "never deleted"),
        ("UPDATE services SET service_id = 'OTHER' WHERE service_id = 'TEST-SH-EXACT'", "never changes"),
        ("DELETE FROM history", "append-only"),
        ("UPDATE history SET changed_by = 'x'", "append-only"),
        ("TRUNCATE history", "append-only"),
    ]
    before = dump(database)
    for statement, message in refusals:
        with pytest.raises(psycopg.errors.RestrictViolation, match=message):
            sql(database, statement)
    assert dump(database) == before


# --- concurrency and crashes ---------------------------------------------------------------------


def test_one_writer_at_a_time_while_readers_go_on(store, database):
    with psycopg.connect(database) as holder:  # another writer's open transaction
        holder.execute("LOCK TABLE services, history IN SHARE ROW EXCLUSIVE MODE")
        assert len(store.services()) == shipped_rows() and store.version() > 0  # reads do not wait
        patient = PostgisServiceStore(database, busy_timeout_ms=300)
        with pytest.raises(StoreError, match="busy"):
            patient.update("SGH-GUL-CC1", {"capacity": "9"}, "bob")
    patient.update("SGH-GUL-CC1", {"capacity": "9"}, "bob")  # the lock is gone with its transaction
    assert store.get("SGH-GUL-CC1")["capacity"] == "9"


def test_a_database_error_names_no_point_or_address(store, database):
    # A rule added on the server: PostgreSQL's own message would repeat the whole failing row.
    sql(database, "ALTER TABLE services ADD CONSTRAINT no_new_shelters CHECK (type <> 'shelter' OR fid < 1000)")
    sql(database, "ALTER TABLE services ALTER COLUMN fid RESTART WITH 1000")
    before = dump(database, sequences=False)
    with pytest.raises(StoreError, match="no_new_shelters") as err:
        store.add(shelter_row(), "alice")
    no_exact_point_in(str(err.value))
    assert "DETAIL" not in str(err.value) and "SQLSTATE 23514" in str(err.value)
    assert dump(database, sequences=False) == before


def test_a_missing_optional_column_is_added_on_open(store, database):
    sql(database, "ALTER TABLE services DROP COLUMN capacity")
    again = PostgisServiceStore(database)
    assert set(again.services()["capacity"]) == {""}
    again.update("SGH-GUL-CC1", {"capacity": "5"}, "bob")
    assert again.get("SGH-GUL-CC1")["capacity"] == "5"


def test_the_dashboard_runs_on_a_postgis_registry(database, app_env, monkeypatch, tmp_path):
    """The pages read the registry through the same functions whatever the backend:
    the map, and the staff page after sign-in, work with COVERAGE_STORE set to a URL."""
    from streamlit.testing.v1 import AppTest

    from coverage.registry import auth
    from dashboard import session

    monkeypatch.setenv("COVERAGE_STORE", database)
    monkeypatch.setenv("COVERAGE_USERS", str(tmp_path / "users.yaml"))
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert int(next(m.value for m in at.metric if m.label.startswith("Women within")).replace(",", "")) > 0

    old = auth.BCRYPT_ROUNDS
    auth.BCRYPT_ROUNDS = 4
    try:
        user = auth.add_user(auth.users_file(), "pg-admin", "PG Admin", "ghamkhori", "a-long-password-1", "admin")
    finally:
        auth.BCRYPT_ROUNDS = old
    staff = AppTest.from_file(str(PROJECT_ROOT / "pages/4_Services_(staff).py"), default_timeout=120)
    staff.session_state[session.SESSION_TOKEN_KEY] = auth.issue_token(user, auth.cookie_secret())
    staff.run()
    assert not staff.exception, [e.value for e in staff.exception]
    registry = next(f.value for f in staff.dataframe if "service_id" in f.value.columns)
    assert len(registry) == shipped_rows()
