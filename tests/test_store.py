"""The GeoPackage registry (coverage/registry/gpkg.py) at the file level: the file is a
GeoPackage GDAL reads, its triggers refuse deletes and history edits, where it lives.
The rules both back-ends share run in test_registry.py (``registry`` fixture)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pyogrio
import pytest
from conftest import EXACT_LON, shelter_row

from coverage import config
from coverage.data import services
from coverage.errors import ConfigError
from coverage.registry.store import ServiceStore, StoreError, StoreURL, store_location


@pytest.fixture
def store(gpkg_store) -> ServiceStore:
    return gpkg_store


def integrity(path: Path) -> str:
    con = sqlite3.connect(path)
    try:
        return con.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        con.close()


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
    with pytest.raises(ConfigError, match="'mysql://…' is not supported") as refused:
        store_location("mysql://user:s3cret@host/db")
    assert refused.value.message_id == "registry.unsupported_location" and refused.value.field == "store"
    assert "s3cret" not in str(refused.value) + repr(refused.value.params)


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


def test_the_database_refuses_deletes_and_history_edits(store):
    store.add(shelter_row(), "alice")
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


# --- exports --------------------------------------------------------------------------------


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


def test_open_or_create_keeps_an_existing_store(store):
    store.update("SGH-GUL-CC1", {"capacity": "kept"}, "bob")
    again = ServiceStore.open_or_create(store.path)
    assert again.get("SGH-GUL-CC1")["capacity"] == "kept"
    assert len(again.history("test")) == len(store.history("test"))
