"""The services registry's rules, run on both back-ends (the ``registry`` fixture in
conftest.py: a GeoPackage file and a PostGIS database): validated writes, history and who
may see it, permissions, uploads that are refused whole and leave the database as it
was, concurrency, crashes mid-write, and exports that never leak a shelter's exact
point or address. Each back-end's database-level checks are in test_store.py
(GeoPackage) and test_store_postgis.py (PostGIS)."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import struct
import threading
from pathlib import Path

import geopandas as gpd
import openpyxl
import pyogrio
import pytest
from conftest import (
    ADDRESS,
    EXACT_LAT,
    EXACT_LON,
    SERVICES_HEADER,
    FakeUser,
    crash_writer,
    csv_bytes,
    execute_behind_the_store,
    good_row,
    no_exact_point_in,
    pg_dump,
    registry_state,
    shelter_row,
    town_places,
)

from coverage import config
from coverage.data import services
from coverage.data.services import ServicesError
from coverage.errors import InputError
from coverage.registry.store import PermissionDenied, StoreError, StoreURL, UnknownService
from coverage.registry.uploads import check_upload, swappable_rows


def is_postgis(registry) -> bool:
    return isinstance(registry.path, StoreURL)


def reopen(registry):
    """Another store object (own connections) on the same database."""
    return type(registry)(registry.path)


def assert_intact(registry) -> None:
    """The database is whole: SQLite's integrity check for a GeoPackage (and GDAL reads
    the layer), unique ids and history ids in PostGIS."""
    if is_postgis(registry):
        import psycopg

        with psycopg.connect(str(registry.path), autocommit=True) as con:
            assert con.execute("SELECT count(*) = count(DISTINCT service_id) FROM services").fetchone()[0]
            assert con.execute("SELECT count(*) = count(DISTINCT id) FROM history").fetchone()[0]
        return
    con = sqlite3.connect(registry.path)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        con.close()
    assert len(pyogrio.read_dataframe(registry.path, layer="services")) == len(registry.services(include_closed=True))


# --- edits and history -----------------------------------------------------------------------


def lifecycle(registry) -> None:
    """Through the store's API, whatever the database: add a confidential service,
    update it (and a no-op update), close it, reopen it; check the rows and that the
    history holds exactly those four changes with their old and new values."""
    n_seed = len(registry.history("test"))
    added = registry.add(shelter_row(), "alice")
    assert added["address"] == ADDRESS and added["lon"] == EXACT_LON and added["confidential"] is True
    assert added["owner_org"] == config.DEFAULT_OWNER_ORG

    updated = registry.update("TEST-SH-EXACT", {"capacity": "8 women", "address": "elsewhere"}, "bob")
    assert updated["capacity"] == "8 women" and updated["address"] == "elsewhere"
    assert registry.update("TEST-SH-EXACT", {"capacity": "8 women"}, "bob")["capacity"] == "8 women"  # no-op

    registry.close("TEST-SH-EXACT", "2024-05-01", "carol")
    assert "TEST-SH-EXACT" not in set(registry.services()["service_id"])
    assert registry.services(include_closed=True).set_index("service_id").loc["TEST-SH-EXACT", "closed_date"] \
        == "2024-05-01"
    with pytest.raises(StoreError, match="already closed") as err:
        registry.close("TEST-SH-EXACT", "2024-05-02", "carol")
    assert err.value.message_id == "registry.already_closed"
    registry.reopen("TEST-SH-EXACT", "dave")
    assert registry.get("TEST-SH-EXACT")["closed_date"] == ""
    with pytest.raises(StoreError, match="not closed") as err:
        registry.reopen("TEST-SH-EXACT", "dave")
    assert err.value.message_id == "registry.not_closed"

    history = registry.history("test", service_id="TEST-SH-EXACT")
    assert history["action"].tolist() == ["create", "update", "close", "reopen"]
    assert history["changed_by"].tolist() == ["alice", "bob", "carol", "dave"]
    assert all(str(t).endswith("Z") and "T" in str(t) for t in history["changed_at"])
    upd = history.iloc[1]
    assert json.loads(upd["old_values"]) == {"capacity": "", "address": ADDRESS}
    assert json.loads(upd["new_values"]) == {"capacity": "8 women", "address": "elsewhere"}
    assert history.iloc[0]["old_values"] is None
    assert len(registry.history("test")) == n_seed + 4


def test_add_update_close_reopen_keep_history(registry):
    lifecycle(registry)


@pytest.mark.parametrize(
    "change, expected, message_id",
    [
        ({"lat": "69.6", "lon": "40.2"}, "swap them: lat=40.2, lon=69.6", "services.swapped"),
        ({"type": "hostel"}, "not a known service type", "services.unknown_type"),
        ({"name": ""}, "column 'name': is empty", "services.empty"),
        ({"note": "=cmd|' /C calc'!A0"}, "formula", "services.formula"),
        ({"address": "@SUM(A1)"}, "column 'address'", "services.formula"),
        ({"owner_org": "Not A Key"}, "owner_org", "registry.owner_org_invalid"),
        ({"phone": "123"}, "unknown column", "registry.unknown_column"),
    ],
)
def test_an_invalid_change_is_refused_and_changes_nothing(registry, change, expected, message_id):
    before = registry_state(registry)
    with pytest.raises(ServicesError) as err:
        registry.update("SGH-GUL-CC1", change, "bob")
    assert expected in str(err.value)
    assert err.value.message_id == message_id and [p.message_id for p in err.value.problems] == [message_id]
    assert registry_state(registry) == before


def test_ids_never_collide_or_change(registry):
    before = registry_state(registry)
    with pytest.raises(ServicesError, match="already used"):
        registry.add(shelter_row(service_id="SGH-GUL-CC1"), "alice")
    registry.close("SGH-GUL-CC1", "2020-01-01", "bob")
    with pytest.raises(ServicesError, match="already used"):  # closed ids stay taken
        registry.add(shelter_row(service_id="SGH-GUL-CC1"), "alice")
    refused = [
        (StoreError, "never changes", "registry.service_id_fixed",
         lambda: registry.update("SGH-GUL-SH1", {"service_id": "NEW"}, "bob")),
        (StoreError, "close", "registry.closed_date_by_close",
         lambda: registry.update("SGH-GUL-SH1", {"closed_date": "2020-01-01"}, "bob")),
        (UnknownService, "NOPE", "registry.unknown_service", lambda: registry.update("NOPE", {"capacity": "1"}, "bob")),
        (ServicesError, "not a date", "registry.closed_date_invalid", lambda: registry.close("SGH-GUL-SH1", "yesterday", "bob")),
        (ServicesError, "future", "registry.closed_date_future", lambda: registry.close("SGH-GUL-SH1", "2999-01-01", "bob")),
    ]
    for cls, fragment, message_id, call in refused:
        with pytest.raises(cls, match=fragment) as err:
            call()
        assert err.value.message_id == message_id, (fragment, err.value.message_id)
    with pytest.raises(StoreError):
        registry.update("SGH-GUL-SH1", {"capacity": "1"}, "  ")
    assert registry.get("SGH-GUL-SH1")["closed_date"] == ""
    assert registry_state(registry) != before  # the one close above did write


def test_staff_edit_only_their_own_organisations_rows(registry):
    nk = FakeUser("nk.staff", "najoti-kudakon")
    registry.update("KHT-NK-SH1", {"address": "known to staff"}, nk)
    with pytest.raises(PermissionDenied) as err:
        registry.update("SGH-GUL-SH1", {"capacity": "2"}, nk)
    assert err.value.message_id == "registry.permission_denied.change"
    with pytest.raises(PermissionDenied) as err:
        registry.update("KHT-NK-SH1", {"owner_org": "gulrukhsor"}, nk)
    assert err.value.message_id == "registry.permission_denied.owner"
    with pytest.raises(PermissionDenied) as err:
        registry.add(shelter_row(owner_org="gulrukhsor"), nk)
    assert err.value.message_id == "registry.permission_denied.add"
    foreign = services.read_services(csv_bytes([good_row()]), "x.csv").assign(owner_org="gulrukhsor")
    with pytest.raises(PermissionDenied) as err:
        registry.import_rows(foreign, nk)
    assert err.value.message_id == "registry.permission_denied.import"
    assert registry.add(shelter_row(), nk)["owner_org"] == "najoti-kudakon"
    assert registry.history("test", service_id="TEST-SH-EXACT")["changed_by"].tolist() == ["nk.staff"]
    admin = FakeUser("root", "project", "admin")
    registry.update("SGH-GUL-SH1", {"capacity": "2"}, admin)

    # Another organisation's staff see the shelter as the public does.
    places = town_places()
    seen = registry.services_for(FakeUser("gul.staff", "gulrukhsor"), places).set_index("service_id")
    assert seen.loc["TEST-SH-EXACT", "address"] == "" and seen.loc["TEST-SH-EXACT", "note"] == ""
    assert seen.loc["TEST-SH-EXACT", "lon"] != EXACT_LON
    assert seen.loc["KHT-NK-SH1", "address"] == ""
    own = registry.services_for(nk, places).set_index("service_id")
    assert own.loc["TEST-SH-EXACT", "address"] == ADDRESS and own.loc["TEST-SH-EXACT", "lon"] == EXACT_LON
    assert list(own.columns) == list(registry.services().set_index("service_id").columns)


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
    ("header-only", "up.csv", (",".join(SERVICES_HEADER) + "\n").encode(), ["file", "header but no rows"]),
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
     _xlsx([SERVICES_HEADER, [good_row()[c] for c in SERVICES_HEADER], [good_row(service_id="UP-2", type="spa")[c] for c in SERVICES_HEADER]]),
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


@pytest.mark.parametrize("name, filename, data, expected", BAD_UPLOADS, ids=[b[0] for b in BAD_UPLOADS])
def test_a_bad_upload_is_refused_and_leaves_the_store_byte_for_byte_unchanged(registry, name, filename, data,
                                                                               expected):
    before = registry_state(registry)
    n_history = len(registry.history("test"))
    with pytest.raises(ServicesError) as err:
        registry.import_bytes(data, filename, FakeUser("nk.staff", "najoti-kudakon"))
    message = str(err.value)
    assert filename in message
    for part in expected:
        assert part in message, (part, message)
    assert err.value.problems
    assert registry_state(registry) == before
    assert len(registry.history("test")) == n_history
    assert_intact(registry)


def test_a_good_upload_is_imported_in_one_go_with_history(registry):
    user = FakeUser("nk.staff", "najoti-kudakon")
    data = csv_bytes([good_row(service_id=f"UP-{i}") for i in range(3)])
    assert registry.import_bytes(data, "three.csv", user) == 3
    table = registry.services().set_index("service_id")
    assert set(table.loc[["UP-0", "UP-1", "UP-2"], "owner_org"]) == {"najoti-kudakon"}
    history = registry.history("test")
    assert history[history["action"] == "import"]["service_id"].tolist() == ["UP-0", "UP-1", "UP-2"]
    # The same file again collides with what it added: refused, nothing changes.
    before = registry_state(registry)
    with pytest.raises(ServicesError, match="already used"):
        registry.import_bytes(data, "three.csv", user)
    assert registry_state(registry) == before
    book = _xlsx([SERVICES_HEADER, [good_row(service_id="X-1")[c] for c in SERVICES_HEADER]])
    assert registry.import_bytes(book, "one.xlsx", user) == 1


def test_import_rows_revalidates_inside_the_transaction(registry):
    rows = services.read_services(csv_bytes([good_row(service_id="RACE-1")]), "race.csv")
    registry.add(shelter_row(service_id="RACE-1"), "someone-else")  # lands between validation and import
    before = registry_state(registry)
    with pytest.raises(ServicesError, match="already used"):
        registry.import_rows(rows, "alice", source_name="race.csv")
    assert registry_state(registry) == before


OWN_ROWS = ["KHT-NK-SSW-SHU", "KHT-NK-SSW-MUM", "KHT-NK-SSW-HAM", "KHT-NK-SSW-FAR"]


def hammer(registry, open_copy, n_threads: int, n_updates: int, imports: int = 0, pause_s: float = 0.0) -> int:
    """Writers on their own store objects (``open_copy()``) update one shared row and
    one row each, add a service and import ``imports`` rows, while a reader checks
    that ids stay unique. Asserts that no update was lost and every change has exactly
    one history row; returns the number of changes made."""
    n_before = len(registry.history("test"))
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
                assert registry.services()["service_id"].is_unique
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
    assert len(registry.history("test")) == n_before + n_changes
    shared = registry.history("test", service_id="SGH-GUL-CC1")
    updates = shared[shared["action"] == "update"]
    assert len(updates) == n_threads * n_updates
    # Serialised: each update's old value is the previous update's new value.
    olds = [json.loads(v)["capacity"] for v in updates["old_values"]]
    news = [json.loads(v)["capacity"] for v in updates["new_values"]]
    assert olds[1:] == news[:-1]
    assert registry.get("SGH-GUL-CC1")["capacity"] == news[-1]
    for t, sid in enumerate(OWN_ROWS[:n_threads]):
        assert registry.get(sid)["note"] == f"n{t}-{n_updates - 1}"
        assert (registry.history("test", service_id=sid)["action"] == "update").sum() == n_updates
    added = {f"CONC-{t}" for t in range(n_threads)} | {f"CONC-{t}-{k}" for t in range(n_threads)
                                                       for k in range(imports)}
    assert added <= registry.ids()
    return n_changes


def gpkg_everything(data: bytes, tmp_path: Path) -> tuple[str, list[float], bytes, gpd.GeoDataFrame]:
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


@pytest.mark.parametrize("with_places", [True, False], ids=["snapped", "no-places"])
def test_public_exports_never_hold_the_exact_point_or_address(registry, tmp_path, with_places):
    registry.add(shelter_row(), "alice")
    # the same point mislabelled as settlement-level must not slip through either (with places)
    registry.add(shelter_row(service_id="TEST-SH-MISLABELLED", location_precision="settlement"), "alice")
    places = town_places() if with_places else None
    if not with_places:
        registry.close("TEST-SH-MISLABELLED", "2024-01-01", "alice")  # without places it cannot be made safe

    public_csv = registry.export("csv", public=True, places=places)
    text = public_csv.decode("utf-8")
    no_exact_point_in(text)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert "address" not in rows[0] and "owner_org" not in rows[0] and "note" not in rows[0]
    by_id = {r["service_id"]: r for r in rows}
    if with_places:
        assert by_id["TEST-SH-EXACT"]["town"] == "Khujand"
        assert by_id["TEST-SH-EXACT"]["location_precision"] == "settlement"
        assert (float(by_id["TEST-SH-EXACT"]["lon"]), float(by_id["TEST-SH-EXACT"]["lat"])) == (69.62216, 40.28256)
    else:
        assert "TEST-SH-EXACT" not in by_id

    public_geojson = registry.export("geojson", public=True, places=places)
    no_exact_point_in(public_geojson.decode("utf-8"))
    doc = json.loads(public_geojson)
    assert doc["type"] == "FeatureCollection"
    for feature in doc["features"]:
        lon, lat = feature["geometry"]["coordinates"]
        assert abs(lon - EXACT_LON) > 0.005 or abs(lat - EXACT_LAT) > 0.005
        assert not {"address", "owner_org", "note"} & set(feature["properties"])

    public_gpkg = registry.export("gpkg", public=True, places=places)
    assert ADDRESS.encode() not in public_gpkg and b"40.291" not in public_gpkg and b"69.639" not in public_gpkg
    for packed in (struct.pack("<d", EXACT_LON), struct.pack("<d", EXACT_LAT),
                   struct.pack("<f", EXACT_LON), struct.pack("<f", EXACT_LAT)):
        assert packed not in public_gpkg
    texts, numbers, blobs, layer = gpkg_everything(public_gpkg, tmp_path)
    no_exact_point_in(texts)
    assert all(abs(v - EXACT_LON) >= 0.001 and abs(v - EXACT_LAT) >= 0.001 for v in numbers)
    for point in layer.geometry:
        assert abs(point.x - EXACT_LON) > 0.005 or abs(point.y - EXACT_LAT) > 0.005
    for column in layer.columns.drop("geometry"):
        no_exact_point_in(" ".join(map(str, layer[column])))  # numbers too (places: float with NaN)
    assert "address" not in layer.columns and "owner_org" not in layer.columns
    assert ("TEST-SH-EXACT" in set(layer["service_id"])) == with_places


def test_staff_exports_hold_everything(registry, tmp_path):
    registry.add(shelter_row(), "alice")
    registry.close("SGH-GUL-CC1", "2023-12-31", "alice")
    staff_csv = registry.export("csv", public=False).decode("utf-8")
    assert ADDRESS in staff_csv and "40.29151" in staff_csv and "69.63917" in staff_csv
    rows = {r["service_id"]: r for r in csv.DictReader(io.StringIO(staff_csv))}
    assert rows["SGH-GUL-CC1"]["closed_date"] == "2023-12-31"  # closed rows are in the staff copy
    assert rows["TEST-SH-EXACT"]["confidential"] == "true"

    staff_geojson = json.loads(registry.export("geojson", public=False))
    feature = next(f for f in staff_geojson["features"] if f["properties"]["service_id"] == "TEST-SH-EXACT")
    assert feature["geometry"]["coordinates"] == [EXACT_LON, EXACT_LAT]
    assert feature["properties"]["address"] == ADDRESS

    texts, _, _, layer = gpkg_everything(registry.export("gpkg", public=False), tmp_path)
    row = layer.set_index("service_id").loc["TEST-SH-EXACT"]
    assert (row.geometry.x, row.geometry.y) == (EXACT_LON, EXACT_LAT) and row["address"] == ADDRESS

    # seen by another organisation's staff, the staff copy is public for that row
    other = registry.export("csv", public=False, places=town_places(), user=FakeUser("gul", "gulrukhsor"))
    no_exact_point_in(other.decode("utf-8"))


def test_unknown_export_format(registry):
    with pytest.raises(InputError, match="unknown export format 'shp'") as err:
        registry.export("shp", public=True)
    assert err.value.message_id == "registry.unknown_export_format" and err.value.params["format"] == "shp"




def test_version_grows_with_each_change(registry):
    seen = [registry.version()]
    registry.add(shelter_row(), "alice")
    seen.append(registry.version())
    registry.update("TEST-SH-EXACT", {"capacity": "3"}, "alice")
    seen.append(registry.version())
    registry.update("TEST-SH-EXACT", {"capacity": "3"}, "alice")  # changes nothing: same version
    assert registry.version() == seen[-1]
    registry.close("TEST-SH-EXACT", "2024-01-01", "alice")
    seen.append(registry.version())
    registry.import_bytes(csv_bytes([good_row()]), "one.csv", "alice")
    seen.append(registry.version())
    assert seen == sorted(set(seen)) and len(seen) == 5


# --- who sees which history ---------------------------------------------------------------------


def test_staff_see_the_history_of_their_own_organisations_services_only(registry):
    nk, gul = FakeUser("nk.staff", "najoti-kudakon"), FakeUser("gul.staff", "gulrukhsor")
    registry.add(shelter_row(), nk)
    registry.update("SGH-GUL-SH1", {"capacity": "2"}, gul)
    everything = registry.history("cli")
    assert registry.history(FakeUser("root", "project", "admin")).equals(everything)

    own = registry.editable_ids(nk)
    assert own == set(registry.services(include_closed=True).query("owner_org == 'najoti-kudakon'")["service_id"])
    assert "TEST-SH-EXACT" in own and "SGH-GUL-SH1" not in own
    seen = registry.history(nk)
    assert set(seen["service_id"]) == own
    assert len(seen) == int(everything["service_id"].isin(own).sum())
    assert registry.history(nk, service_id="SGH-GUL-SH1").empty  # another organisation's service
    assert registry.history(gul, service_id="SGH-GUL-SH1")["action"].tolist() == ["seed", "update"]
    assert registry.history(FakeUser("new.org", "nobody-yet")).empty
    assert registry.editable_ids("cli") == registry.ids()


# --- a shelter is always confidential -------------------------------------------------------------


def test_a_shelter_marked_not_confidential_is_stored_confidential_and_never_published_exactly(registry):
    upload = csv_bytes([good_row(service_id="UP-SH", type="shelter", lon=str(EXACT_LON), lat=str(EXACT_LAT),
                                 location_precision="exact", confidential="false")])
    checked = check_upload(upload, "shelter.csv", existing_ids=registry.ids())
    assert [str(n) for n in checked.notices] == [
        "row 2 (service_id UP-SH), column 'confidential': shelters are always confidential; stored as confidential"]
    assert checked.table["confidential"].tolist() == [True]
    assert registry.import_bytes(upload, "shelter.csv", "alice") == 1
    registry.add(shelter_row(service_id="FORM-SH", confidential=False), "alice")
    for sid in ("UP-SH", "FORM-SH"):
        assert registry.get(sid)["confidential"] is True
    registry.update("FORM-SH", {"confidential": "false"}, "alice")  # refused silently: nothing to change
    assert registry.get("FORM-SH")["confidential"] is True
    assert registry.history("alice", service_id="FORM-SH")["action"].tolist() == ["create"]

    for places in (town_places(), None):
        for fmt in ("csv", "geojson"):
            no_exact_point_in(registry.export(fmt, public=True, places=places).decode("utf-8"))
        public = json.loads(registry.export("geojson", public=True, places=places))
        for feature in public["features"]:
            lon, lat = feature["geometry"]["coordinates"]
            assert abs(lon - EXACT_LON) > 0.005 or abs(lat - EXACT_LAT) > 0.005


def test_a_shelter_stored_unflagged_before_the_rule_is_still_read_as_confidential(registry):
    registry.add(shelter_row(), "alice")
    # false in PostgreSQL, 0 in the GeoPackage's SQLite: both spell it FALSE
    execute_behind_the_store(registry, "UPDATE services SET confidential = FALSE WHERE service_id = 'TEST-SH-EXACT'")
    assert registry.get("TEST-SH-EXACT")["confidential"] is True
    assert registry.services().set_index("service_id").loc["TEST-SH-EXACT", "confidential"]
    no_exact_point_in(registry.export("csv", public=True, places=town_places()).decode("utf-8"))
    assert "TEST-SH-EXACT" not in registry.export("csv", public=True).decode("utf-8")


# --- the upload check the staff page and import_bytes share ---------------------------------------


def test_check_upload_swaps_the_rows_it_is_told_to(registry):
    data = csv_bytes([good_row(service_id="UP-1"), good_row(service_id="UP-2", lon="37.91459", lat="69.78454"),
                      good_row(service_id="UP-3", lon="37.91459", lat="69.78454")])
    with pytest.raises(ServicesError) as err:
        check_upload(data, "up.csv", existing_ids=registry.ids())
    assert swappable_rows(err.value) == [3, 4]
    checked = check_upload(data, "up.csv", existing_ids=registry.ids(), swap_rows=[3, 4])
    assert checked.swapped_rows == (3, 4) and checked.first_row == 2 and not checked.notices
    assert checked.table["lon"].tolist() == [69.78454] * 3
    before = registry_state(registry)
    with pytest.raises(ServicesError, match="swapped"):
        registry.import_bytes(data, "up.csv", "alice", swap_rows=[3])  # row 4 is still swapped
    assert registry_state(registry) == before
    assert registry.import_bytes(data, "up.csv", "alice", swap_rows=[3, 4]) == 3
    assert registry.get("UP-3")["lat"] == 37.91459


@pytest.mark.parametrize("name, filename, data, expected", BAD_UPLOADS, ids=[b[0] for b in BAD_UPLOADS])
def test_each_bad_upload_names_its_problem(name, filename, data, expected):
    """One problem of the report names the row (or 'file'), the column and what is wrong."""
    with pytest.raises(ServicesError) as err:
        check_upload(data, filename, existing_ids={"KHT-NK-SH1"})
    assert err.value.source == filename
    lines = [str(p) for p in err.value.problems]
    assert any(all(part in line for part in expected) for line in lines), (expected, lines)


# --- concurrency and crashes ---------------------------------------------------------------------


def test_concurrent_writers_stay_consistent(registry):
    hammer(registry, lambda: reopen(registry), n_threads=4, n_updates=4, imports=2, pause_s=0.02)
    assert_intact(registry)


CRASHING_WRITER = r"""
import sys, time, os
import coverage.registry.base as store_module
from coverage.registry.store import open_store
location, step, how, upload = sys.argv[1:5]
registry = open_store(location)
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


@pytest.mark.parametrize("step, how", [("_insert_history", "sigkill"), ("_insert_history", "exit"),
                                       ("_insert_created", "exit")],
                         ids=["update-sigkill", "update-exit", "import-exit"])
def test_a_process_killed_mid_write_leaves_all_or_nothing(registry, tmp_path, step, how):
    upload = tmp_path / "crash.csv"
    upload.write_bytes(csv_bytes([good_row(service_id=f"CRASH-{i}") for i in range(3)]))
    before_row = registry.get("SGH-GUL-CC1")
    n_history = len(registry.history("test"))
    before = pg_dump(str(registry.path), sequences=False) if is_postgis(registry) else None

    def not_visible_yet() -> None:  # other sessions never see it uncommitted
        assert registry.get("SGH-GUL-CC1") == before_row
        if before is not None:
            assert pg_dump(str(registry.path), sequences=False) == before

    crash_writer([CRASHING_WRITER, str(registry.path), step, how, str(upload)], how, not_visible_yet)

    not_visible_yet()
    assert len(registry.history("test")) == n_history
    assert not {"CRASH-0", "CRASH-1", "CRASH-2"} & registry.ids()
    assert_intact(registry)
    # The lock died with the process: the next writer gets in at once.
    reopen(registry).update("SGH-GUL-CC1", {"capacity": "after the crash"}, "bob")
    assert registry.history("test", service_id="SGH-GUL-CC1")["changed_by"].tolist()[-1] == "bob"
    assert_intact(registry)
