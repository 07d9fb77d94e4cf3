"""Saved scenarios live in their own table beside the registry (GeoPackage and PostGIS):
save / list / load / delete with author and date, never touching the services table."""

from __future__ import annotations

import sqlite3

import pytest
from conftest import FakeUser

from coverage.errors import InputError, PermissionDenied, StoreError
from coverage.registry.saved import SCENARIOS

BODY = {"name": "Kulob shelter closes", "closed_services": ["KHT-NK-SH1"], "season": "winter",
        "added_sites": [{"type": "shelter", "town": "", "org": "", "lon": 69.5, "lat": 38.3}],
        "closed_roads": [{"way_id": 89781688, "name": "M41 Tavildara – Qalaikhumb"}], "threshold_min": 60.0,
        "measure": "women", "service_types": ["shelter"]}


def test_save_list_load_delete_with_author_and_date(registry):
    assert registry.saved_scenarios().empty  # no table yet: an empty list, nothing written
    services_before = registry.services(include_closed=True)
    version = registry.version()
    saved = registry.save_scenario("  Kulob shelter closes ", BODY, FakeUser("aziza", "ghamkhori"))
    assert saved["name"] == "Kulob shelter closes" and saved["author"] == "aziza"
    assert saved["created_at"].endswith("Z") and saved["created_at"][:4].isdigit()
    registry.save_scenario("Second", {**BODY, "season": "summer"}, "cli-user")
    listed = registry.saved_scenarios()
    assert list(listed.columns) == ["name", "author", "created_at"]
    assert set(listed["name"]) == {"Kulob shelter closes", "Second"}
    assert dict(zip(listed["name"], listed["author"])) == {"Kulob shelter closes": "aziza", "Second": "cli-user"}
    loaded = registry.load_scenario("Kulob shelter closes")
    assert loaded["body"] == BODY and loaded["author"] == "aziza" and loaded["created_at"] == saved["created_at"]
    # the registry of services is untouched: same rows, no history entry
    assert registry.services(include_closed=True).equals(services_before)
    assert registry.version() == version
    registry.delete_scenario("Second", "cli-user")
    assert list(registry.saved_scenarios()["name"]) == ["Kulob shelter closes"]
    with pytest.raises(StoreError) as err:
        registry.load_scenario("Second")
    assert err.value.message_id == "registry.unknown_scenario"


def test_names_are_unique_and_only_the_author_or_an_admin_replaces_or_deletes(registry):
    registry.save_scenario("Plan A", BODY, FakeUser("aziza", "ghamkhori"))
    with pytest.raises(StoreError) as err:
        registry.save_scenario("Plan A", BODY, FakeUser("aziza", "ghamkhori"))
    assert err.value.message_id == "registry.scenario_exists"
    with pytest.raises(PermissionDenied) as denied:
        registry.save_scenario("Plan A", {**BODY, "season": "summer"}, FakeUser("bob", "gulrukhsor"), replace=True)
    assert denied.value.message_id == "registry.permission_denied.scenario"
    with pytest.raises(PermissionDenied):
        registry.delete_scenario("Plan A", FakeUser("bob", "gulrukhsor"))
    assert registry.load_scenario("Plan A")["body"]["season"] == "winter"
    registry.save_scenario("Plan A", {**BODY, "season": "summer"}, FakeUser("aziza", "ghamkhori"), replace=True)
    assert registry.load_scenario("Plan A")["body"]["season"] == "summer"
    registry.delete_scenario("Plan A", FakeUser("root", "x", role="admin"))
    assert registry.saved_scenarios().empty


@pytest.mark.parametrize("name", ["", "   ", "x" * 121])
def test_a_bad_name_is_refused(registry, name):
    with pytest.raises(InputError) as err:
        registry.save_scenario(name, BODY, "cli-user")
    assert err.value.message_id == "registry.scenario_name"


def test_a_body_that_is_not_json_or_too_large_is_refused(registry):
    with pytest.raises(InputError) as err:
        registry.save_scenario("nan", {"threshold_min": float("nan")}, "cli-user")
    assert err.value.message_id == "registry.scenario_body"
    with pytest.raises(InputError) as err:
        registry.save_scenario("huge", {"closed_services": ["x" * 50] * 5000}, "cli-user")
    assert err.value.message_id == "registry.scenario_body"
    assert registry.saved_scenarios().empty


def test_the_geopackage_lists_the_table_and_a_reopened_store_keeps_it(gpkg_store):
    from coverage.registry.store import ServiceStore

    gpkg_store.save_scenario("Kept", BODY, "cli-user")
    with sqlite3.connect(gpkg_store.path) as con:
        kinds = dict(con.execute("SELECT table_name, data_type FROM gpkg_contents").fetchall())
        services_columns = {r[1] for r in con.execute("PRAGMA table_info(services)")}
    assert kinds[SCENARIOS] == "attributes"
    assert "body" not in services_columns
    assert ServiceStore(gpkg_store.path).load_scenario("Kept")["body"] == BODY
