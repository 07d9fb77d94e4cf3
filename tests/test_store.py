"""The services registry (coverage/store.py): GeoPackage form, validated writes, history,
concurrency, crash safety, rejected uploads leaving the file untouched, and exports that
never leak a shelter's exact point or address."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import openpyxl
import pyogrio
import pytest

from coverage import config
from coverage.data import services
from coverage.data.services import ServicesError
from coverage.registry.store import (
    PermissionDenied,
    ServiceStore,
    StoreError,
    StoreURL,
    UnknownService,
    store_location,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
HEADER = config.SERVICES_CSV.read_text(encoding="utf-8").splitlines()[0].split(",")
EXACT_LON, EXACT_LAT = 69.63917, 40.29151  # a made-up exact point near Khujand
ADDRESS = "12 Test Street"
# The exact point at 3+ decimals, truncated or rounded, in either order.
FORBIDDEN = ("40.291", "40.292", "40.2915", "69.639", "69.6391", "69.6392", ADDRESS, "Test Street",
             "private staff note")


@dataclass(frozen=True)
class FakeUser:
    username: str
    organisation: str
    role: str = "staff"


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """One seeded registry, created once; each test works on its own copy."""
    path = tmp_path_factory.mktemp("template") / "registry.gpkg"
    ServiceStore.open_or_create(path)
    assert not Path(str(path) + "-wal").exists()
    return path


@pytest.fixture
def store(template, tmp_path) -> ServiceStore:
    path = tmp_path / "private" / "registry.gpkg"
    path.parent.mkdir()
    shutil.copy(template, path)
    return ServiceStore(path)


def digest(path: Path) -> str:
    """sha256 of the database file and its WAL (if any): the whole on-disk state."""
    h = hashlib.sha256(Path(path).read_bytes())
    wal = Path(str(path) + "-wal")
    if wal.exists():
        h.update(wal.read_bytes())
    return h.hexdigest()


def integrity(path: Path) -> str:
    con = sqlite3.connect(path)
    try:
        return con.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        con.close()


def good_row(**changes) -> dict[str, str]:
    row = {c: "" for c in HEADER}
    row.update(
        service_id="UP-1", name="Test centre", organisation="Test NGO", type="crisis_centre", town="Kŭlob",
        district="Kulob", region="Khatlon", lon="69.78454", lat="37.91459", location_precision="settlement",
        confidential="false", confidence="medium",
    )
    row.update(changes)
    return row


def csv_bytes(rows: list[dict[str, str]], header: list[str] | None = None) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=header or list(rows[0]), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def shelter_row(**changes) -> dict:
    row = dict(
        service_id="TEST-SH-EXACT", name="Test shelter", organisation="Test NGO", type="shelter",
        town="Khujand", district="Bobojon Ghafurov", region="Sughd", lon=EXACT_LON, lat=EXACT_LAT,
        location_precision="exact", confidential=True, address=ADDRESS, note="private staff note",
    )
    row.update(changes)
    return row


# --- the file is a GeoPackage --------------------------------------------------------------


def test_created_store_is_a_geopackage_seeded_from_the_shipped_list(store):
    shipped = services.load_services(include_closed=True)
    layer = pyogrio.read_dataframe(store.path, layer="services")
    assert len(layer) == len(shipped)
    assert layer.crs.to_epsg() == 4326
    assert {"history", "services"} <= set(pyogrio.list_layers(store.path)[:, 0])
    first = layer.set_index("service_id").loc["SGH-GUL-CC1"]
    assert first.geometry.x == pytest.approx(69.62216) and first.geometry.y == pytest.approx(40.28256)
    con = sqlite3.connect(store.path)
    try:
        assert con.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert con.execute("SELECT data_type, srs_id FROM gpkg_contents WHERE table_name='services'").fetchone() \
            == ("features", 4326)
        assert con.execute("SELECT geometry_type_name FROM gpkg_geometry_columns").fetchone()[0] == "POINT"
    finally:
        con.close()
    assert integrity(store.path) == "ok"
    assert oct(store.path.stat().st_mode & 0o777) == "0o600"

    table = store.services()
    assert list(table.columns) == list(services.ALL_COLUMNS) + ["address", "owner_org", "geometry"]
    assert table["service_id"].tolist() == shipped["service_id"].tolist()
    assert (table["address"] == "").all()
    owners = table.set_index("service_id")["owner_org"]
    assert owners["KHT-NK-SH1"] == "najoti-kudakon" and owners["SGH-GUL-SH1"] == "gulrukhsor"
    assert owners["KHT-GHM-SH1"] == "ghamkhori" and owners["KHT-POL-KUL"] == config.DEFAULT_OWNER_ORG
    for column in ("lon", "lat", "type", "confidential", "name"):
        assert table[column].tolist() == shipped[column].tolist(), column
    history = store.history("test")
    assert len(history) == len(shipped) and set(history["action"]) == {"seed"}


def test_a_postgresql_url_names_a_database_store_and_other_urls_are_refused(monkeypatch):
    url = "postgresql://user:s3cret@host:5433/db"
    location = store_location(url)
    assert isinstance(location, StoreURL) and str(location) == url
    assert location.masked == "postgresql://user:***@host:5433/db" and "s3cret" not in repr(location)
    monkeypatch.setenv("COVERAGE_STORE", url)
    assert store_location() == url
    with pytest.raises(StoreError, match="database URL") as err:
        ServiceStore(url)  # the GeoPackage class never takes a URL
    assert "s3cret" not in str(err.value)
    with pytest.raises(NotImplementedError, match="not supported"):
        store_location("mysql://user@host/db")


def test_env_overrides_the_store_path(monkeypatch, tmp_path):
    monkeypatch.setenv("COVERAGE_STORE", str(tmp_path / "x.gpkg"))
    assert store_location() == tmp_path / "x.gpkg"
    monkeypatch.delenv("COVERAGE_STORE")
    assert store_location() == config.STORE_PATH


def test_opening_a_file_that_is_not_a_registry_fails(tmp_path):
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(StoreError, match="not a services registry"):
        ServiceStore(other)
    with pytest.raises(StoreError, match="no registry"):
        ServiceStore(tmp_path / "missing.gpkg")


# --- edits and history -----------------------------------------------------------------------


def lifecycle(store) -> None:
    """Through the store's API, whatever the database: add a confidential service,
    update it (and a no-op update), close it, reopen it; check the rows and that the
    history holds exactly those four changes with their old and new values."""
    n_seed = len(store.history("test"))
    added = store.add(shelter_row(), "alice")
    assert added["address"] == ADDRESS and added["lon"] == EXACT_LON and added["confidential"] is True
    assert added["owner_org"] == config.DEFAULT_OWNER_ORG

    updated = store.update("TEST-SH-EXACT", {"capacity": "8 women", "address": "elsewhere"}, "bob")
    assert updated["capacity"] == "8 women" and updated["address"] == "elsewhere"
    assert store.update("TEST-SH-EXACT", {"capacity": "8 women"}, "bob")["capacity"] == "8 women"  # no-op

    store.close("TEST-SH-EXACT", "2024-05-01", "carol")
    assert "TEST-SH-EXACT" not in set(store.services()["service_id"])
    assert store.services(include_closed=True).set_index("service_id").loc["TEST-SH-EXACT", "closed_date"] \
        == "2024-05-01"
    with pytest.raises(StoreError, match="already closed"):
        store.close("TEST-SH-EXACT", "2024-05-02", "carol")
    store.reopen("TEST-SH-EXACT", "dave")
    assert store.get("TEST-SH-EXACT")["closed_date"] == ""
    with pytest.raises(StoreError, match="not closed"):
        store.reopen("TEST-SH-EXACT", "dave")

    history = store.history("test", service_id="TEST-SH-EXACT")
    assert history["action"].tolist() == ["create", "update", "close", "reopen"]
    assert history["changed_by"].tolist() == ["alice", "bob", "carol", "dave"]
    assert all(str(t).endswith("Z") and "T" in str(t) for t in history["changed_at"])
    upd = history.iloc[1]
    assert json.loads(upd["old_values"]) == {"capacity": "", "address": ADDRESS}
    assert json.loads(upd["new_values"]) == {"capacity": "8 women", "address": "elsewhere"}
    assert history.iloc[0]["old_values"] is None
    assert len(store.history("test")) == n_seed + 4


def test_add_update_close_reopen_keep_history_and_never_delete(store):
    lifecycle(store)
    layer = pyogrio.read_dataframe(store.path, layer="services").set_index("service_id")
    assert layer.loc["TEST-SH-EXACT", "geometry"].x == EXACT_LON

    con = sqlite3.connect(store.path)
    try:
        with pytest.raises(sqlite3.DatabaseError, match="never deleted"):
            con.execute("DELETE FROM services WHERE service_id = 'TEST-SH-EXACT'")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            con.execute("DELETE FROM history")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            con.execute("UPDATE history SET changed_by = 'x'")
    finally:
        con.close()


def test_moving_a_point_moves_the_geometry(store):
    store.update("SGH-GUL-CC1", {"lon": "69.7", "lat": 40.1}, "bob")
    layer = pyogrio.read_dataframe(store.path, layer="services").set_index("service_id")
    point = layer.loc["SGH-GUL-CC1", "geometry"]
    assert (point.x, point.y) == (69.7, 40.1)
    assert store.services().set_index("service_id").loc["SGH-GUL-CC1", "geometry"].x == 69.7


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"lat": "69.6", "lon": "40.2"}, "swap them: lat=40.2, lon=69.6"),
        ({"type": "hostel"}, "not a known service type"),
        ({"name": ""}, "column 'name': is empty"),
        ({"note": "=cmd|' /C calc'!A0"}, "formula"),
        ({"address": "@SUM(A1)"}, "column 'address'"),
        ({"owner_org": "Not A Key"}, "owner_org"),
        ({"phone": "123"}, "unknown column"),
    ],
)
def test_an_invalid_change_is_refused_and_changes_nothing(store, change, expected):
    before = digest(store.path)
    with pytest.raises(ServicesError) as err:
        store.update("SGH-GUL-CC1", change, "bob")
    assert expected in str(err.value)
    assert digest(store.path) == before


def test_ids_never_collide_or_change(store):
    before = digest(store.path)
    with pytest.raises(ServicesError, match="already used"):
        store.add(shelter_row(service_id="SGH-GUL-CC1"), "alice")
    store.close("SGH-GUL-CC1", "2020-01-01", "bob")
    with pytest.raises(ServicesError, match="already used"):  # closed ids stay taken
        store.add(shelter_row(service_id="SGH-GUL-CC1"), "alice")
    with pytest.raises(StoreError, match="never changes"):
        store.update("SGH-GUL-SH1", {"service_id": "NEW"}, "bob")
    with pytest.raises(StoreError, match="close"):
        store.update("SGH-GUL-SH1", {"closed_date": "2020-01-01"}, "bob")
    with pytest.raises(UnknownService):
        store.update("NOPE", {"capacity": "1"}, "bob")
    with pytest.raises(ServicesError, match="not a date"):
        store.close("SGH-GUL-SH1", "yesterday", "bob")
    with pytest.raises(ServicesError, match="future"):
        store.close("SGH-GUL-SH1", "2999-01-01", "bob")
    with pytest.raises(StoreError):
        store.update("SGH-GUL-SH1", {"capacity": "1"}, "  ")
    assert store.get("SGH-GUL-SH1")["closed_date"] == ""
    assert digest(store.path) != before  # the one close above did write


def test_staff_edit_only_their_own_organisations_rows(store):
    nk = FakeUser("nk.staff", "najoti-kudakon")
    store.update("KHT-NK-SH1", {"address": "known to staff"}, nk)
    with pytest.raises(PermissionDenied):
        store.update("SGH-GUL-SH1", {"capacity": "2"}, nk)
    with pytest.raises(PermissionDenied):
        store.update("KHT-NK-SH1", {"owner_org": "gulrukhsor"}, nk)
    with pytest.raises(PermissionDenied):
        store.add(shelter_row(owner_org="gulrukhsor"), nk)
    foreign = services.read_services(csv_bytes([good_row()]), "x.csv").assign(owner_org="gulrukhsor")
    with pytest.raises(PermissionDenied):
        store.import_rows(foreign, nk)
    assert store.add(shelter_row(), nk)["owner_org"] == "najoti-kudakon"
    assert store.history("test", service_id="TEST-SH-EXACT")["changed_by"].tolist() == ["nk.staff"]
    admin = FakeUser("root", "project", "admin")
    store.update("SGH-GUL-SH1", {"capacity": "2"}, admin)

    # Another organisation's staff see the shelter as the public does.
    places = town_places()
    seen = store.services_for(FakeUser("gul.staff", "gulrukhsor"), places).set_index("service_id")
    assert seen.loc["TEST-SH-EXACT", "address"] == "" and seen.loc["TEST-SH-EXACT", "note"] == ""
    assert seen.loc["TEST-SH-EXACT", "lon"] != EXACT_LON
    assert seen.loc["KHT-NK-SH1", "address"] == ""
    own = store.services_for(nk, places).set_index("service_id")
    assert own.loc["TEST-SH-EXACT", "address"] == ADDRESS and own.loc["TEST-SH-EXACT", "lon"] == EXACT_LON
    assert list(own.columns) == list(store.services().set_index("service_id").columns)


# --- uploads -------------------------------------------------------------------------------------


def _xlsx(rows: list[list[str]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def _geojson(features) -> bytes:
    return json.dumps(features).encode("utf-8")


def _feature(**props) -> dict:
    row = good_row(**props)
    lon, lat = row.pop("lon"), row.pop("lat")
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [float(lon), float(lat)]},
            "properties": row}


def _without(column: str) -> bytes:
    row = good_row()
    row.pop(column)
    return csv_bytes([row])


BAD_UPLOADS = [
    # (id, filename, bytes, every one of these substrings must be in the error)
    ("missing-column", "up.csv", _without("lat"), ["file", "column 'lat'", "required column is missing"]),
    ("unknown-column", "up.csv", csv_bytes([good_row(phone="+992 00")]), ["column 'phone'", "unknown column"]),
    ("unknown-type", "up.csv", csv_bytes([good_row(type="hostel")]), ["row 2", "column 'type'", "hostel"]),
    ("outside-tajikistan", "up.csv", csv_bytes([good_row(lon="37.62", lat="55.75")]),
     ["row 2", "outside Tajikistan"]),
    ("swapped-lat-lon", "up.csv", csv_bytes([good_row(lon="37.91459", lat="69.78454")]),
     ["row 2", "swapped", "swap them: lat=37.91459, lon=69.78454"]),
    ("non-numeric-coordinate", "up.csv", csv_bytes([good_row(lat="forty")]),
     ["row 2", "column 'lat'", "not a number ('forty')"]),
    ("empty-coordinate", "up.csv", csv_bytes([good_row(lon="")]), ["row 2", "column 'lon'", "is empty"]),
    ("duplicate-ids", "up.csv", csv_bytes([good_row(), good_row(name="Other")]),
     ["row 3", "duplicate id 'UP-1'", "first used on row 2"]),
    ("id-collides-with-registry", "up.csv", csv_bytes([good_row(), good_row(service_id="KHT-NK-SH1")]),
     ["row 3", "KHT-NK-SH1", "already used"]),
    ("empty-file", "up.csv", b"", ["file", "empty"]),
    ("whitespace-file", "up.csv", b"  \n\n", ["file", "empty"]),
    ("header-only", "up.csv", (",".join(HEADER) + "\n").encode(), ["file", "header but no rows"]),
    ("over-size", "up.csv", csv_bytes([good_row()]) + b"#" * services.MAX_UPLOAD_BYTES, ["file", "limit"]),
    ("not-utf8", "up.csv", csv_bytes([good_row()]).replace("Kŭlob".encode(), "Kulob \xe9".encode("latin-1")),
     ["row 2", "not UTF-8"]),
    ("formula-equals", "up.csv", csv_bytes([good_row(name="=HYPERLINK(\"http://x\")")]),
     ["row 2", "column 'name'", "formula"]),
    ("formula-plus", "up.csv", csv_bytes([good_row(town="+cmd")]), ["row 2", "column 'town'", "formula"]),
    ("formula-minus", "up.csv", csv_bytes([good_row(note="-2+3")]), ["row 2", "column 'note'", "formula"]),
    ("formula-at", "up.csv", csv_bytes([good_row(organisation="@SUM(A1)")]),
     ["row 2", "column 'organisation'", "formula"]),
    ("broken-xlsx", "up.xlsx", b"PK\x03\x04 this is not a workbook", ["file", "not a readable XLSX"]),
    ("xlsx-bad-row", "up.xlsx",
     _xlsx([HEADER, [good_row()[c] for c in HEADER], [good_row(service_id="UP-2", type="spa")[c] for c in HEADER]]),
     ["row 3", "column 'type'", "spa"]),
    ("geojson-not-a-collection", "up.geojson", _geojson(_feature()), ["file", "not a GeoJSON FeatureCollection"]),
    ("geojson-not-json", "up.geojson", b"{\"type\": \"FeatureCollection\", ", ["file", "FeatureCollection"]),
    ("geojson-bad-feature", "up.geojson",
     _geojson({"type": "FeatureCollection", "features": [_feature(), _feature(service_id="UP-2", region="",
                                                                              confidential="maybe")]}),
     ["row 2", "column 'confidential'", "true or false"]),
    ("geojson-no-geometry", "up.geojson",
     _geojson({"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": None,
                                                          "properties": {k: v for k, v in good_row().items()
                                                                         if k not in ("lon", "lat")}}]}),
     ["row 1", "column 'lat'", "is empty"]),
    ("bad-confidential", "up.csv", csv_bytes([good_row(confidential="maybe")]),
     ["row 2", "column 'confidential'", "true or false"]),
    ("bad-precision", "up.csv", csv_bytes([good_row(location_precision="street")]),
     ["row 2", "column 'location_precision'", "must be one of"]),
    ("bad-confidence", "up.csv", csv_bytes([good_row(confidence="certain")]), ["row 2", "column 'confidence'"]),
    ("bad-id-characters", "up.csv", csv_bytes([good_row(service_id="a b/c")]),
     ["row 2", "column 'service_id'", "may hold only"]),
    ("empty-name", "up.csv", csv_bytes([good_row(name="  ")]), ["row 2", "column 'name'", "is empty"]),
    ("one-bad-row-among-good", "up.csv",
     csv_bytes([good_row(service_id=f"UP-{i}") for i in range(5)] + [good_row(service_id="UP-9", lat="")]),
     ["row 7", "column 'lat'"]),
]


def test_there_are_at_least_twenty_bad_uploads():
    assert len(BAD_UPLOADS) >= 20


@pytest.mark.parametrize("name, filename, data, expected", BAD_UPLOADS, ids=[b[0] for b in BAD_UPLOADS])
def test_a_bad_upload_is_refused_and_leaves_the_store_byte_for_byte_unchanged(store, name, filename, data,
                                                                               expected):
    before = digest(store.path)
    n_history = len(store.history("test"))
    with pytest.raises(ServicesError) as err:
        store.import_bytes(data, filename, FakeUser("nk.staff", "najoti-kudakon"))
    message = str(err.value)
    assert filename in message
    for part in expected:
        assert part in message, (part, message)
    assert err.value.problems
    assert digest(store.path) == before
    assert len(store.history("test")) == n_history
    assert integrity(store.path) == "ok"


def test_a_good_upload_is_imported_in_one_go_with_history(store):
    user = FakeUser("nk.staff", "najoti-kudakon")
    data = csv_bytes([good_row(service_id=f"UP-{i}") for i in range(3)])
    assert store.import_bytes(data, "three.csv", user) == 3
    table = store.services().set_index("service_id")
    assert set(table.loc[["UP-0", "UP-1", "UP-2"], "owner_org"]) == {"najoti-kudakon"}
    history = store.history("test")
    assert history[history["action"] == "import"]["service_id"].tolist() == ["UP-0", "UP-1", "UP-2"]
    # The same file again collides with what it added: refused, nothing changes.
    before = digest(store.path)
    with pytest.raises(ServicesError, match="already used"):
        store.import_bytes(data, "three.csv", user)
    assert digest(store.path) == before
    book = _xlsx([HEADER, [good_row(service_id="X-1")[c] for c in HEADER]])
    assert store.import_bytes(book, "one.xlsx", user) == 1


def test_import_rows_revalidates_inside_the_transaction(store):
    rows = services.read_services(csv_bytes([good_row(service_id="RACE-1")]), "race.csv")
    store.add(shelter_row(service_id="RACE-1"), "someone-else")  # lands between validation and import
    before = digest(store.path)
    with pytest.raises(ServicesError, match="already used"):
        store.import_rows(rows, "alice", source_name="race.csv")
    assert digest(store.path) == before


# --- concurrency and crashes ---------------------------------------------------------------------


OWN_ROWS = ["KHT-NK-SSW-SHU", "KHT-NK-SSW-MUM", "KHT-NK-SSW-HAM", "KHT-NK-SSW-FAR"]


def hammer(store, open_copy, n_threads: int, n_updates: int, imports: int = 0, pause_s: float = 0.0) -> int:
    """Writers on their own store objects (``open_copy()``) update one shared row and
    one row each, add a service and import ``imports`` rows, while a reader checks
    that ids stay unique. Asserts that no update was lost and every change has exactly
    one history row; returns the number of changes made."""
    n_before = len(store.history("test"))
    errors: list[BaseException] = []
    stop = threading.Event()

    def writer(t: int) -> None:
        try:
            mine = open_copy()  # its own connections
            for i in range(n_updates):
                mine.update("SGH-GUL-CC1", {"capacity": f"t{t}-{i}"}, f"user{t}")
                mine.update(OWN_ROWS[t], {"note": f"n{t}-{i}"}, f"user{t}")
            mine.add(shelter_row(service_id=f"CONC-{t}"), f"user{t}")
            if imports:
                mine.import_bytes(csv_bytes([good_row(service_id=f"CONC-{t}-{k}") for k in range(imports)]),
                                  "c.csv", f"user{t}")
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    def reader() -> None:
        try:
            while not stop.wait(pause_s):  # a pause (if any) so the writers are not starved of the GIL
                assert store.services()["service_id"].is_unique
        except BaseException as err:  # pragma: no cover
            errors.append(err)

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(n_threads)]
    watcher = threading.Thread(target=reader)
    watcher.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    stop.set()
    watcher.join(timeout=10)
    assert not errors, errors

    n_changes = n_threads * (2 * n_updates + 1 + imports)
    assert len(store.history("test")) == n_before + n_changes
    shared = store.history("test", service_id="SGH-GUL-CC1")
    updates = shared[shared["action"] == "update"]
    assert len(updates) == n_threads * n_updates
    # Serialised: each update's old value is the previous update's new value.
    olds = [json.loads(v)["capacity"] for v in updates["old_values"]]
    news = [json.loads(v)["capacity"] for v in updates["new_values"]]
    assert olds[1:] == news[:-1]
    assert store.get("SGH-GUL-CC1")["capacity"] == news[-1]
    for t, sid in enumerate(OWN_ROWS[:n_threads]):
        assert store.get(sid)["note"] == f"n{t}-{n_updates - 1}"
        assert (store.history("test", service_id=sid)["action"] == "update").sum() == n_updates
    added = {f"CONC-{t}" for t in range(n_threads)} | {f"CONC-{t}-{k}" for t in range(n_threads)
                                                       for k in range(imports)}
    assert added <= store.ids()
    return n_changes


def test_concurrent_writers_stay_consistent(store):
    hammer(store, lambda: ServiceStore(store.path), n_threads=4, n_updates=10)
    assert integrity(store.path) == "ok"
    assert len(pyogrio.read_dataframe(store.path, layer="services")) == len(store.services(include_closed=True))


CRASHING_WRITER = r"""
import os, sys, time
from coverage.registry.store import ServiceStore
import coverage.registry.base as store_module
path, mode = sys.argv[1], sys.argv[2]
real = store_module._insert_history
def crash_after_writing(*args, **kwargs):
    real(*args, **kwargs)          # the service row and its history row are written, not committed
    if mode == "exit":
        os._exit(17)
    print("written", flush=True)
    time.sleep(120)                # the parent kills us here
store_module._insert_history = crash_after_writing
ServiceStore(path).update("SGH-GUL-CC1", {"capacity": "half-written", "lon": 70.0}, "crasher")
"""


def crash_writer(script_and_args: list[str], how: str, while_written=None) -> None:
    """Run ``python -c script args…`` that prints 'written' inside its write transaction
    and then dies: killed with SIGKILL by us (``how='sigkill'``, after calling
    ``while_written()`` if given), or by its own ``os._exit(17)`` (``how='exit'``)."""
    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT))
    proc = subprocess.Popen([sys.executable, "-c", *script_and_args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=PROJECT_ROOT)
    try:
        if how == "sigkill":
            line = proc.stdout.readline()
            assert line.strip() == "written", proc.stderr.read()
            if while_written is not None:
                while_written()
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == (17 if how == "exit" else -signal.SIGKILL), proc.stderr.read()


@pytest.mark.parametrize("mode", ["exit", "sigkill"])
def test_a_process_killed_mid_write_leaves_the_store_consistent(store, mode):
    before_row = store.get("SGH-GUL-CC1")
    n_history = len(store.history("test"))
    crash_writer([CRASHING_WRITER, str(store.path), mode], mode)

    assert integrity(store.path) == "ok"
    after_row = store.get("SGH-GUL-CC1")
    assert after_row == before_row
    assert len(store.history("test")) == n_history
    # The lock died with the process: the next writer gets in at once.
    store.update("SGH-GUL-CC1", {"capacity": "after the crash"}, "bob")
    assert store.history("test", service_id="SGH-GUL-CC1")["action"].tolist()[-1] == "update"
    assert integrity(store.path) == "ok"


# --- exports --------------------------------------------------------------------------------


def town_places() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": ["Khujand", "Bokhtar", "Kŭlob"]},
        geometry=gpd.points_from_xy([69.62216, 68.78, 69.78454], [40.28256, 37.8364, 37.91459]),
        crs=config.CRS_STORE,
    )


def _gpkg_everything(data: bytes, tmp_path: Path) -> tuple[str, list[float], bytes, gpd.GeoDataFrame]:
    """All text, all numbers and all blobs in every table of a GeoPackage, and its layer."""
    path = tmp_path / "export.gpkg"
    path.write_bytes(data)
    layer = pyogrio.read_dataframe(path, layer="services")
    con = sqlite3.connect(path)
    texts, numbers, blobs = [], [], []
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for row in con.execute(f'SELECT * FROM "{table}"'):
                for value in row:
                    if isinstance(value, str):
                        texts.append(value)
                    elif isinstance(value, float):
                        numbers.append(value)
                    elif isinstance(value, bytes):
                        blobs.append(value)
    finally:
        con.close()
    return "\n".join(texts), numbers, b"".join(blobs), layer


def _no_exact_point_in(text: str) -> None:
    for needle in FORBIDDEN:
        assert needle not in text, needle


@pytest.mark.parametrize("with_places", [True, False], ids=["snapped", "no-places"])
def test_public_exports_never_hold_the_exact_point_or_address(store, tmp_path, with_places):
    store.add(shelter_row(), "alice")
    # the same point mislabelled as settlement-level must not slip through either (with places)
    store.add(shelter_row(service_id="TEST-SH-MISLABELLED", location_precision="settlement"), "alice")
    places = town_places() if with_places else None
    if not with_places:
        store.close("TEST-SH-MISLABELLED", "2024-01-01", "alice")  # without places it cannot be made safe

    public_csv = store.export("csv", public=True, places=places)
    text = public_csv.decode("utf-8")
    _no_exact_point_in(text)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert "address" not in rows[0] and "owner_org" not in rows[0] and "note" not in rows[0]
    by_id = {r["service_id"]: r for r in rows}
    if with_places:
        assert by_id["TEST-SH-EXACT"]["town"] == "Khujand"
        assert by_id["TEST-SH-EXACT"]["location_precision"] == "settlement"
        assert (float(by_id["TEST-SH-EXACT"]["lon"]), float(by_id["TEST-SH-EXACT"]["lat"])) == (69.62216, 40.28256)
    else:
        assert "TEST-SH-EXACT" not in by_id

    public_geojson = store.export("geojson", public=True, places=places)
    _no_exact_point_in(public_geojson.decode("utf-8"))
    doc = json.loads(public_geojson)
    assert doc["type"] == "FeatureCollection"
    for feature in doc["features"]:
        lon, lat = feature["geometry"]["coordinates"]
        assert abs(lon - EXACT_LON) > 0.005 or abs(lat - EXACT_LAT) > 0.005
        assert not {"address", "owner_org", "note"} & set(feature["properties"])

    public_gpkg = store.export("gpkg", public=True, places=places)
    assert ADDRESS.encode() not in public_gpkg and b"40.291" not in public_gpkg and b"69.639" not in public_gpkg
    for packed in (struct.pack("<d", EXACT_LON), struct.pack("<d", EXACT_LAT),
                   struct.pack("<f", EXACT_LON), struct.pack("<f", EXACT_LAT)):
        assert packed not in public_gpkg
    texts, numbers, blobs, layer = _gpkg_everything(public_gpkg, tmp_path)
    _no_exact_point_in(texts)
    assert all(abs(v - EXACT_LON) >= 0.001 and abs(v - EXACT_LAT) >= 0.001 for v in numbers)
    for point in layer.geometry:
        assert abs(point.x - EXACT_LON) > 0.005 or abs(point.y - EXACT_LAT) > 0.005
    for column in layer.columns.drop("geometry"):
        _no_exact_point_in(" ".join(layer[column].astype(str)))
    assert "address" not in layer.columns and "owner_org" not in layer.columns
    assert ("TEST-SH-EXACT" in set(layer["service_id"])) == with_places


def test_staff_exports_hold_everything(store, tmp_path):
    store.add(shelter_row(), "alice")
    store.close("SGH-GUL-CC1", "2023-12-31", "alice")
    staff_csv = store.export("csv", public=False).decode("utf-8")
    assert ADDRESS in staff_csv and "40.29151" in staff_csv and "69.63917" in staff_csv
    rows = {r["service_id"]: r for r in csv.DictReader(io.StringIO(staff_csv))}
    assert rows["SGH-GUL-CC1"]["closed_date"] == "2023-12-31"  # closed rows are in the staff copy
    assert rows["TEST-SH-EXACT"]["confidential"] == "true"

    staff_geojson = json.loads(store.export("geojson", public=False))
    feature = next(f for f in staff_geojson["features"] if f["properties"]["service_id"] == "TEST-SH-EXACT")
    assert feature["geometry"]["coordinates"] == [EXACT_LON, EXACT_LAT]
    assert feature["properties"]["address"] == ADDRESS

    texts, _, _, layer = _gpkg_everything(store.export("gpkg", public=False), tmp_path)
    row = layer.set_index("service_id").loc["TEST-SH-EXACT"]
    assert (row.geometry.x, row.geometry.y) == (EXACT_LON, EXACT_LAT) and row["address"] == ADDRESS

    # seen by another organisation's staff, the staff copy is public for that row
    other = store.export("csv", public=False, places=town_places(), user=FakeUser("gul", "gulrukhsor"))
    _no_exact_point_in(other.decode("utf-8"))


def test_csv_exports_neutralise_formulas_even_from_old_rows(store):
    con = sqlite3.connect(store.path)  # a row written before validation existed
    try:
        con.execute("UPDATE services SET note = '=cmd|'' /C calc''!A0', capacity = '@x' "
                    "WHERE service_id = 'SGH-GUL-CC1'")
        con.commit()
    finally:
        con.close()
    text = store.export("csv", public=False).decode("utf-8")
    assert "'=cmd" in text and "'@x" in text
    assert ",=cmd" not in text and ",@x" not in text
    assert "'@x" in store.export("csv", public=True).decode("utf-8")


def test_unknown_export_format(store):
    with pytest.raises(ValueError, match="unknown export format"):
        store.export("shp", public=True)


def test_open_or_create_keeps_an_existing_store(store):
    store.update("SGH-GUL-CC1", {"capacity": "kept"}, "bob")
    again = ServiceStore.open_or_create(store.path)
    assert again.get("SGH-GUL-CC1")["capacity"] == "kept"
    assert len(again.history("test")) == len(store.history("test"))
