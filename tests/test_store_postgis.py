"""The services registry in PostgreSQL/PostGIS (coverage/registry/postgis.py): the same rules
as the GeoPackage registry, checked against a throwaway PostgreSQL 15 cluster with PostGIS
started for this test session (a fresh database per test)."""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import psycopg
import pytest

# Backend-independent GeoPackage tests, collected here again to run on PostGIS (``store`` below).
from conftest import require
from test_store import (  # shared rows, users and bad files of the GeoPackage tests
    ADDRESS,
    BAD_UPLOADS,
    EXACT_LAT,
    EXACT_LON,
    PROJECT_ROOT,
    FakeUser,
    _gpkg_everything,
    _no_exact_point_in,
    crash_writer,
    csv_bytes,
    good_row,
    hammer,
    lifecycle,
    shelter_row,
    test_staff_edit_only_their_own_organisations_rows,  # noqa: F401 (collected again: runs on PostGIS)
    town_places,
)

from coverage import config
from coverage.data import services
from coverage.data.services import ServicesError
from coverage.registry.postgis import PostgisServiceStore
from coverage.registry.store import ServiceStore, StoreError, StoreURL, open_store

PG_BIN = Path(os.environ.get("COVERAGE_PG_BIN", "/usr/lib/postgresql/15/bin"))
POSTGIS_CONTROL = Path(os.environ.get("COVERAGE_POSTGIS_CONTROL",
                                      "/usr/share/postgresql/15/extension/postgis.control"))
TEMPLATE_DB = "registry_template"
# A spread of the GeoPackage tests' bad files: every format, row- and file-level problems,
# and an id that collides with the registry (checked against the database).
BAD_UPLOAD_IDS = ("missing-column", "unknown-type", "swapped-lat-lon", "duplicate-ids",
                  "id-collides-with-registry", "empty-file", "over-size", "not-utf8",
                  "geojson-bad-feature", "one-bad-row-among-good")
BAD_UPLOADS_PG = [b for b in BAD_UPLOADS if b[0] in BAD_UPLOAD_IDS]


@dataclass(frozen=True)
class Cluster:
    port: int
    admin_url: str

    def url(self, database: str, password: str = "") -> str:
        secret = f":{password}" if password else ""
        return f"postgresql://postgres{secret}@127.0.0.1:{self.port}/{database}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(cmd: list[str]) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr}")


@pytest.fixture(scope="session")
def cluster():
    """A PostgreSQL 15 cluster in a temporary folder (trust auth, 127.0.0.1 on a free
    port), with a template database holding PostGIS; stopped and removed at the end."""
    missing = [str(p) for p in (PG_BIN / "initdb", PG_BIN / "pg_ctl", POSTGIS_CONTROL) if not p.exists()]
    require(not missing, f"PostgreSQL 15 + PostGIS not installed ({', '.join(missing)} missing); "
                         "run: bash scripts/setup.sh --postgis")
    # PostgreSQL refuses to run as root: run its programs as the postgres user then.
    as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    base = Path(tempfile.mkdtemp(prefix="coverage-pg-"))
    if as_pg:
        shutil.chown(base, "postgres", "postgres")
    data, port = base / "data", _free_port()
    options = (f"-k {base} -p {port} -c listen_addresses=127.0.0.1 "
               "-c fsync=off -c full_page_writes=off -c synchronous_commit=off")  # throwaway: speed over safety
    try:
        _run(as_pg + [str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                      "-E", "UTF8", "--locale=C", "--no-sync"])
        _run(as_pg + [str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(base / "server.log"), "-w",
                      "-o", options, "start"])
        server = Cluster(port, f"postgresql://postgres@127.0.0.1:{port}/postgres")
        with psycopg.connect(server.admin_url, autocommit=True) as con:
            con.execute(f"CREATE DATABASE {TEMPLATE_DB}")
        with psycopg.connect(server.url(TEMPLATE_DB), autocommit=True) as con:
            con.execute("CREATE EXTENSION postgis")
        yield server
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(as_pg + [str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                           capture_output=True, timeout=60)
        shutil.rmtree(base, ignore_errors=True)


_numbers = itertools.count()


@pytest.fixture
def database(cluster) -> str:
    """A fresh database with PostGIS (no registry tables yet); its URL."""
    name = f"registry_{next(_numbers)}"
    with psycopg.connect(cluster.admin_url, autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE_DB}")
    yield cluster.url(name)
    with psycopg.connect(cluster.admin_url, autocommit=True) as con:
        con.execute(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture
def store(database) -> PostgisServiceStore:
    registry = open_store(database)
    assert isinstance(registry, PostgisServiceStore)
    return registry


def sql(url: str, statement: str, params: tuple = ()) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as con:
        cur = con.execute(statement, params or None)
        return cur.fetchall() if cur.description else []


def dump(url: str, sequences: bool = True) -> tuple:
    """Every row of both tables (geometry as EWKB hex) and, unless told not to, the
    identity sequences: a write that started and rolled back would have moved them."""
    with psycopg.connect(url, autocommit=True) as con:
        services_rows = con.execute("SELECT * FROM services ORDER BY fid").fetchall()
        history_rows = con.execute("SELECT * FROM history ORDER BY id").fetchall()
        counters = con.execute("SELECT sequencename, last_value FROM pg_sequences ORDER BY 1").fetchall()
    return services_rows, history_rows, (counters if sequences else None)


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


def test_add_update_close_reopen_keep_history_and_never_delete(store, database):
    lifecycle(store)
    store.update("TEST-SH-EXACT", {"lon": "69.7", "lat": 40.1}, "bob")
    assert sql(database, "SELECT ST_X(geom), ST_Y(geom) FROM services WHERE service_id = 'TEST-SH-EXACT'") \
        == [(69.7, 40.1)]
    assert store.history("test", service_id="TEST-SH-EXACT")["action"].tolist() == ["create", "update", "close", "reopen", "update"]
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


def test_an_invalid_change_is_refused_and_changes_nothing(store, database):
    before = dump(database)
    for change, expected in [({"lat": "69.6", "lon": "40.2"}, "swap them"), ({"type": "hostel"}, "hostel"),
                             ({"address": "@SUM(A1)"}, "column 'address'"), ({"owner_org": "Not A Key"}, "owner_org")]:
        with pytest.raises(ServicesError, match=expected):
            store.update("SGH-GUL-CC1", change, "bob")
    with pytest.raises(StoreError, match="never changes"):
        store.update("SGH-GUL-SH1", {"service_id": "NEW"}, "bob")
    assert dump(database) == before


def test_version_grows_with_each_change(store):
    seen = [store.version()]
    store.add(shelter_row(), "alice")
    seen.append(store.version())
    store.update("TEST-SH-EXACT", {"capacity": "3"}, "alice")
    seen.append(store.version())
    store.update("TEST-SH-EXACT", {"capacity": "3"}, "alice")  # changes nothing: same version
    assert store.version() == seen[-1]
    store.close("TEST-SH-EXACT", "2024-01-01", "alice")
    seen.append(store.version())
    store.import_bytes(csv_bytes([good_row()]), "one.csv", "alice")
    seen.append(store.version())
    assert seen == sorted(set(seen)) and len(seen) == 5


def test_bad_uploads_are_refused_and_leave_both_tables_unchanged(store, database):
    assert len(BAD_UPLOADS_PG) == len(BAD_UPLOAD_IDS)
    before = dump(database)
    for name, filename, data, expected in BAD_UPLOADS_PG:
        with pytest.raises(ServicesError) as err:
            store.import_bytes(data, filename, FakeUser("nk.staff", "najoti-kudakon"))
        for part in [filename, *expected]:
            assert part in str(err.value), (name, part, str(err.value))
    assert dump(database) == before


def test_a_good_upload_is_imported_in_one_go_and_rechecked_inside_the_transaction(store, database):
    user = FakeUser("nk.staff", "najoti-kudakon")
    data = csv_bytes([good_row(service_id=f"UP-{i}") for i in range(3)])
    assert store.import_bytes(data, "three.csv", user) == 3
    history = store.history("test")
    assert history[history["action"] == "import"]["service_id"].tolist() == ["UP-0", "UP-1", "UP-2"]
    assert set(store.services().set_index("service_id").loc[["UP-0", "UP-1", "UP-2"], "owner_org"]) \
        == {"najoti-kudakon"}
    rows = services.read_services(csv_bytes([good_row(service_id="RACE-1")]), "race.csv")
    store.add(shelter_row(service_id="RACE-1"), "someone-else")  # lands between validation and import
    before = dump(database)
    with pytest.raises(ServicesError, match="already used"):
        store.import_rows(rows, "alice", source_name="race.csv")
    assert dump(database) == before


# --- concurrency and crashes ---------------------------------------------------------------------


def test_concurrent_writers_stay_consistent(store, database):
    hammer(store, lambda: PostgisServiceStore(database), n_threads=4, n_updates=4, imports=2, pause_s=0.02)
    assert sql(database, "SELECT count(*) = count(DISTINCT service_id) FROM services")[0][0]
    assert sql(database, "SELECT count(*) = count(DISTINCT id) FROM history")[0][0]


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
    _no_exact_point_in(str(err.value))
    assert "DETAIL" not in str(err.value) and "SQLSTATE 23514" in str(err.value)
    assert dump(database, sequences=False) == before


def test_a_missing_optional_column_is_added_on_open(store, database):
    sql(database, "ALTER TABLE services DROP COLUMN capacity")
    again = PostgisServiceStore(database)
    assert set(again.services()["capacity"]) == {""}
    again.update("SGH-GUL-CC1", {"capacity": "5"}, "bob")
    assert again.get("SGH-GUL-CC1")["capacity"] == "5"


CRASHING_WRITER = r"""
import sys, time, os
import coverage.registry.base as store_module
from coverage.registry.store import open_store
url, step, how, upload = sys.argv[1:5]
registry = open_store(url)
real = getattr(store_module, step)
def crash_after_writing(*args, **kwargs):
    real(*args, **kwargs)          # rows written inside the open transaction, not committed
    if how == "exit":
        os._exit(17)
    print("written", flush=True)
    time.sleep(120)                # the parent kills us here
setattr(store_module, step, crash_after_writing)
if step == "_insert_history":
    registry.update("SGH-GUL-CC1", {"capacity": "half-written", "lon": 70.0}, "crasher")
else:
    registry.import_bytes(open(upload, "rb").read(), "crash.csv", "crasher")
"""


@pytest.mark.parametrize("step, how", [("_insert_history", "sigkill"), ("_insert_created", "exit")],
                         ids=["update-sigkill", "import-exit"])
def test_a_process_killed_mid_write_leaves_all_or_nothing(store, database, tmp_path, step, how):
    upload = tmp_path / "crash.csv"
    upload.write_bytes(csv_bytes([good_row(service_id=f"CRASH-{i}") for i in range(3)]))
    before = dump(database, sequences=False)

    def not_visible_yet() -> None:  # other sessions never see it uncommitted
        assert dump(database, sequences=False) == before

    crash_writer([CRASHING_WRITER, database, step, how, str(upload)], how, not_visible_yet)

    assert dump(database, sequences=False) == before
    # The lock died with the connection: the next writer gets in (well within 5 s).
    PostgisServiceStore(database, busy_timeout_ms=5000).update("SGH-GUL-CC1", {"capacity": "after"}, "bob")
    assert store.history("test", service_id="SGH-GUL-CC1")["changed_by"].tolist()[-1] == "bob"
    assert not {"CRASH-0", "CRASH-1", "CRASH-2"} & store.ids()


# --- exports --------------------------------------------------------------------------------


def test_public_exports_never_hold_the_exact_point_or_address(store, tmp_path):
    store.add(shelter_row(), "alice")
    store.add(shelter_row(service_id="TEST-SH-MISLABELLED", location_precision="settlement"), "alice")
    places = town_places()

    text = store.export("csv", public=True, places=places).decode("utf-8")
    _no_exact_point_in(text)
    rows = {r["service_id"]: r for r in csv.DictReader(io.StringIO(text))}
    assert not {"address", "owner_org", "note"} & set(next(iter(rows.values())))
    assert (float(rows["TEST-SH-EXACT"]["lon"]), float(rows["TEST-SH-EXACT"]["lat"])) == (69.62216, 40.28256)

    geojson = store.export("geojson", public=True, places=places)
    _no_exact_point_in(geojson.decode("utf-8"))
    for feature in json.loads(geojson)["features"]:
        lon, lat = feature["geometry"]["coordinates"]
        assert abs(lon - EXACT_LON) > 0.005 or abs(lat - EXACT_LAT) > 0.005

    texts, numbers, _, layer = _gpkg_everything(store.export("gpkg", public=True, places=places), tmp_path)
    _no_exact_point_in(texts)
    assert all(abs(v - EXACT_LON) >= 0.001 and abs(v - EXACT_LAT) >= 0.001 for v in numbers)
    assert "address" not in layer.columns and "TEST-SH-EXACT" in set(layer["service_id"])

    store.close("TEST-SH-MISLABELLED", "2024-01-01", "alice")  # without places it cannot be made safe
    without_places = store.export("csv", public=True).decode("utf-8")
    _no_exact_point_in(without_places)
    assert "TEST-SH-EXACT" not in without_places

    staff = store.export("csv", public=False).decode("utf-8")
    assert ADDRESS in staff and "40.29151" in staff and "69.63917" in staff
    other = store.export("csv", public=False, places=places, user=FakeUser("gul", "gulrukhsor"))
    _no_exact_point_in(other.decode("utf-8"))


def test_the_dashboard_runs_on_a_postgis_registry(database, app_env, monkeypatch, tmp_path):
    """The pages read the registry through the same functions whatever the backend:
    the map, and the staff page after sign-in, work with COVERAGE_STORE set to a URL."""
    from streamlit.testing.v1 import AppTest

    from coverage.registry import auth
    from dashboard import ui

    monkeypatch.setenv("COVERAGE_STORE", database)
    monkeypatch.setenv("COVERAGE_USERS", str(tmp_path / "users.yaml"))
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert int(next(m.value for m in at.metric if m.label.startswith("People within")).replace(",", "")) > 0

    old = auth.BCRYPT_ROUNDS
    auth.BCRYPT_ROUNDS = 4
    try:
        user = auth.add_user(auth.users_file(), "pg-admin", "PG Admin", "ghamkhori", "a-long-password-1", "admin")
    finally:
        auth.BCRYPT_ROUNDS = old
    staff = AppTest.from_file(str(PROJECT_ROOT / "pages/4_Services_(staff).py"), default_timeout=120)
    staff.session_state[ui.SESSION_TOKEN_KEY] = auth.issue_token(user, auth.cookie_secret())
    staff.run()
    assert not staff.exception, [e.value for e in staff.exception]
    registry = next(f.value for f in staff.dataframe if "service_id" in f.value.columns)
    assert len(registry) == shipped_rows()
