"""What-if scenarios: road closures by way id, before/after figures against a direct run of
the pipeline and the engine, proposed shelters at their town, the command line."""

from __future__ import annotations

import time

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from coverage import analysis, cli, config
from coverage.analysis import gaps
from coverage.analysis import scenarios as sc
from coverage.engine import closures, roads, travel
from coverage.errors import InputError
from coverage.views import privacy

TAVILDARA_QALAIKHUMB = 89781688  # M41 segment, closed in winter (seasonal:winter=closed)
DARBAND_TAVILDARA = 77790623  # M41 segment, closed in winter
DANGHARA_KULOB = 75118365


@pytest.fixture(scope="module")
def inputs(prepared_data_dir) -> analysis.Inputs:
    return analysis.load_inputs(prepared_data_dir)


@pytest.fixture(scope="module")
def baseline(inputs) -> sc.Baseline:
    return sc.Baseline(inputs, settings=config.Settings())


# --- engine: closures ----------------------------------------------------------------------

SQUARE = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6">
  <node id="1" lat="38.00" lon="69.00"><tag k="name" v="A"/></node>
  <node id="2" lat="38.00" lon="69.10"><tag k="name" v="B"/></node>
  <node id="3" lat="38.10" lon="69.10"><tag k="name" v="C"/></node>
  <node id="4" lat="38.10" lon="69.00"><tag k="name" v="D"/></node>
  <node id="5" lat="38.05" lon="69.05"/>
{ways}
</osm>
"""
WAYS = {
    11: ("1 2", "A – B", "M1"), 12: ("2 3", "B – C", ""), 13: ("3 4", "C – D", ""), 14: ("4 1", "D – A", ""),
    15: ("1 5 3", "A – C", "R9"),
}


def _square(tmp_path, without=()):
    lines = []
    for way_id, (nodes, name, ref) in WAYS.items():
        if way_id in without:
            continue
        refs = "".join(f'<nd ref="{n}"/>' for n in nodes.split())
        ref_tag = f'<tag k="ref" v="{ref}"/>' if ref else ""
        lines.append(f'  <way id="{way_id}">{refs}<tag k="highway" v="primary"/><tag k="name" v="{name}"/>'
                     f'{ref_tag}</way>')
    path = tmp_path / f"square_{'_'.join(map(str, without)) or 'all'}.osm"
    path.write_text(SQUARE.format(ways="\n".join(lines)), encoding="utf-8")
    return path


def test_closing_a_way_equals_building_the_network_without_it(tmp_path):
    settings = config.Settings()
    full = roads.build_network(_square(tmp_path), settings=settings)
    closed = closures.close_ways(full, [15])
    rebuilt = roads.build_network(_square(tmp_path, without=(15,)), settings=settings)
    assert list(closed.node_ids) == list(full.node_ids)
    named = np.flatnonzero(full.node_names != "")
    keep = np.isin(full.node_ids, rebuilt.node_ids)
    # minutes and metres between the places: the same as a network built without the way
    for attr in ("matrix", "length_m"):
        a = getattr(closed, attr).toarray()[np.ix_(keep, keep)]
        assert np.allclose(a, getattr(rebuilt, attr).toarray())
    assert 15 not in set(closed.edge_way_id) and 15 in set(full.edge_way_id)
    assert len(closed.edge_way_id) == closed.matrix.nnz == len(closed.edge_name_code)
    assert set(closed.edge_names()) == {"A – B", "B – C", "C – D", "D – A"}
    # the route A → C went over the diagonal; now it goes round, longer
    assert travel.route(closed, "A", "C").minutes > travel.route(full, "A", "C").minutes
    assert travel.route(closed, "A", "C").minutes == pytest.approx(travel.route(rebuilt, "A", "C").minutes)
    assert np.allclose(closed.matrix_t.toarray(), closed.matrix.toarray().T)
    assert len(named) == 4
    # closing nothing (or a way not on the network) gives the network itself
    assert closures.close_ways(full, []) is full and closures.close_ways(full, [999]) is full
    assert closures.missing_ways(full, [999, 15, 11]) == [999]


def test_roads_are_listed_by_number_and_name(tmp_path):
    path = _square(tmp_path)
    network = roads.build_network(path, settings=config.Settings())
    ways = closures.way_table(path, settings=config.Settings())
    assert dict(zip(ways["way_id"], ways["label"])) == {11: "M1 A – B", 12: "B – C", 13: "C – D", 14: "D – A",
                                                        15: "R9 A – C"}
    listed = closures.closable_roads(network, ways)
    assert list(listed["label"]) == sorted(listed["label"])
    assert dict(zip(listed["label"], listed["way_ids"]))["R9 A – C"] == (15,)
    assert closures.road_label("", "", 7) == "way 7"


def test_the_default_network_names_its_segments_as_users_know_them():
    settings = config.Settings()
    network = roads.load_network(season="summer", settings=settings)
    listed = closures.closable_roads(network, closures.way_table(settings=settings))
    by_label = dict(zip(listed["label"], listed["way_ids"]))
    assert by_label["M41 Tavildara – Qalaikhumb"] == (TAVILDARA_QALAIKHUMB,)
    assert by_label["Danghara – Kŭlob"] == (DANGHARA_KULOB,)
    assert set(network.edge_way_id) == {w for ids in listed["way_ids"] for w in ids}


def test_winter_removes_the_closed_edges_and_lengthens_the_routes_through_them():
    settings = config.Settings()
    summer = roads.load_network(season="summer", settings=settings)
    winter = roads.load_network(season="winter", settings=settings)
    ways = closures.way_table(settings=settings)
    closed = set(ways.loc[ways["label"].isin(["M41 Tavildara – Qalaikhumb", "M41 Darband – Tavildara"]),
                          "way_id"])
    assert closed == {TAVILDARA_QALAIKHUMB, DARBAND_TAVILDARA}
    assert closed <= set(summer.edge_way_id) and not closed & set(winter.edge_way_id)
    through = travel.route(summer, "Darband", "Qalaikhumb")
    assert "Tavildara" in through.towns
    around = travel.route(winter, "Darband", "Qalaikhumb")
    assert "Tavildara" not in around.towns and around.minutes > through.minutes + 60
    # closing the same ways on the summer network (no rebuild) also sends the route round
    cut = closures.close_ways(summer, closed)
    detour = travel.route(cut, "Darband", "Qalaikhumb")
    assert "Tavildara" not in detour.towns and detour.minutes > through.minutes + 60
    assert detour.minutes <= around.minutes  # winter also slows avalanche roads


# --- before / after ------------------------------------------------------------------------


def test_before_equals_the_pipeline_and_after_a_direct_engine_run(inputs, baseline):
    scenario = sc.Scenario(closed_services=("KHT-NK-SH1",), added_sites=(sc.ProposedSite("shelter", town="Farkhor"),),
                           closed_roads=(sc.ClosedRoad(DANGHARA_KULOB, "Danghara – Kŭlob"),),
                           service_types=("shelter", "crisis_centre"), threshold_min=90, season="summer")
    result = sc.run_scenario(inputs, scenario, baseline=baseline)
    # before: the pipeline as the Map page runs it
    times = analysis.travel_times(inputs, season="summer", settings=config.Settings())
    direct = analysis.analyse(inputs, times, ["shelter", "crisis_centre"], 90, measure="women")
    all_before = direct.totals.set_index("region").loc["All"]
    assert result.overall()["within_before"] == all_before["population_within"]
    assert result.overall()["population"] == all_before["population"]
    by_district = direct.districts.set_index("district_id")["population_within"]
    assert dict(zip(result.districts["district_id"], result.districts["within_before"])) == by_district.to_dict()
    # after: the engine run by hand on the changed services and the cut network
    network = closures.close_ways(roads.load_network(season="summer", settings=config.Settings()), [DANGHARA_KULOB])
    proposed = sc.proposed_services(inputs, scenario.added_sites)
    services = pd.concat([inputs.services[inputs.services["service_id"] != "KHT-NK-SH1"],
                          privacy.engine_services(proposed, inputs.places)], ignore_index=True)
    services = gpd.GeoDataFrame(services, geometry="geometry", crs=inputs.services.crs)
    after_times = travel.nearest_service_times(network, inputs.communities, services, settings=config.Settings())
    after = gaps.community_gaps(after_times, inputs.communities, 90, ["shelter", "crisis_centre"])
    within_after = int(after.loc[~after["underserved"], "women"].sum())
    assert result.overall()["within_after"] == within_after
    assert result.overall()["change"] == within_after - all_before["population_within"]
    minutes_after = after.set_index("community_id")["minutes"]
    table = result.communities.set_index("community_id")
    assert np.allclose(table["minutes_after"], minutes_after.reindex(table.index), equal_nan=True)
    flipped = set(after.loc[after["underserved"] != direct.communities["underserved"].to_numpy(), "community_id"])
    assert set(result.changed["community_id"]) == flipped and flipped
    assert (result.changed["status_before"] != result.changed["status_after"]).all()
    assert result.districts["change"].sum() == result.overall()["change"]
    assert list(result.roads["on_network"]) == [True]


def test_closing_the_only_shelter_of_a_town_loses_its_women_and_nothing_changes_in_the_registry(inputs, baseline):
    services = inputs.services.copy()
    result = sc.run_scenario(inputs, sc.Scenario(closed_services=("KHT-NK-SH1",)), baseline=baseline)
    assert result.overall()["change"] < 0
    assert (result.changed["status_after"] == "beyond").all()
    assert "Ko'lob" in set(result.changed["name"])  # Kulob city loses its shelter within the hour
    assert result.changed["minutes_after"].gt(result.changed["minutes_before"]).all()
    assert list(result.closed["service_id"]) == ["KHT-NK-SH1"]
    assert inputs.services.equals(services)


def test_a_proposed_shelter_counts_at_its_town_never_at_its_exact_point(inputs, baseline):
    exact = sc.ProposedSite("shelter", lon=69.7712, lat=37.9311, org="Test org")  # near Kulob, not a town point
    at_point = sc.run_scenario(inputs, sc.Scenario(closed_services=("KHT-NK-SH1",), added_sites=(exact,)),
                               baseline=baseline)
    town = str(at_point.added["town"].iloc[0])
    row = at_point.added.iloc[0]
    assert (round(row["lon"], 4), round(row["lat"], 4)) != (69.7712, 37.9311)
    assert row["location_precision"] == "settlement" and bool(row["confidential"])
    assert row["name"] == f"Test org shelter ({town})"
    place = inputs.places[inputs.places["name"] == town].geometry.iloc[0]
    assert (row["lon"], row["lat"]) == pytest.approx((place.x, place.y))
    at_town = sc.run_scenario(inputs, sc.Scenario(closed_services=("KHT-NK-SH1",), added_sites=(
        sc.ProposedSite("shelter", lon=place.x, lat=place.y, org="Test org"),)), baseline=baseline)
    assert at_point.overall()["within_after"] == at_town.overall()["within_after"]
    assert np.allclose(at_point.communities["minutes_after"], at_town.communities["minutes_after"])


def test_winter_scenario_against_a_summer_baseline(inputs, baseline):
    result = sc.run_scenario(inputs, sc.Scenario(season="winter", service_types=("crisis_centre",), threshold_min=120),
                             baseline=baseline, baseline_season="summer")
    times = {s: analysis.travel_times(inputs, season=s, settings=config.Settings()) for s in config.SEASONS}
    for season, column in (("summer", "within_before"), ("winter", "within_after")):
        direct = analysis.analyse(inputs, times[season], "crisis_centre", 120)
        assert result.overall()[column] == direct.totals.set_index("region").loc["All", "population_within"]
    assert (result.communities["minutes_after"] >= result.communities["minutes_before"] - 1e-9).all()


def test_recomputing_a_scenario_takes_under_a_second(inputs, baseline):
    sc.run_scenario(inputs, sc.Scenario(), baseline=baseline)  # the baseline is computed once
    for scenario in (sc.Scenario(closed_services=("KHT-GHM-SH1",)),
                     sc.Scenario(closed_roads=(sc.ClosedRoad(DANGHARA_KULOB),), service_types=tuple(config.SERVICE_TYPES)),
                     sc.Scenario(added_sites=(sc.ProposedSite("crisis_centre", town="Kulob"),), season="winter",
                                 service_types=("crisis_centre",))):
        started = time.perf_counter()
        sc.run_scenario(inputs, scenario, baseline=baseline, baseline_season="summer")
        assert time.perf_counter() - started < 1.0


def test_people_instead_of_women_and_regions(inputs, baseline):
    scenario = sc.Scenario(closed_services=("KHT-NK-SH1",), measure="population")
    result = sc.run_scenario(inputs, scenario, baseline=baseline, regions=["Khatlon"])
    assert list(result.totals["region"]) == ["Khatlon", "All"]
    khatlon = inputs.communities[inputs.communities["region"] == "Khatlon"]
    assert result.overall()["population"] == khatlon["population"].sum()
    assert (result.totals["measure"] == "population").all()


# --- the scenario as data, and bad input ---------------------------------------------------


def test_a_scenario_round_trips_through_json():
    scenario = sc.Scenario(name="x", closed_services=("A",), added_sites=(
        sc.ProposedSite("shelter", lon=69.5, lat=38.3, org="O"), sc.ProposedSite("crisis_centre", town="Kulob")),
        season="winter", closed_roads=(sc.ClosedRoad(5, "R"),), threshold_min=45, measure="population",
        service_types=("shelter", "crisis_centre"))
    import json

    assert sc.scenario_from_dict(json.loads(json.dumps(scenario.to_dict()))) == scenario


@pytest.mark.parametrize(("body", "message_id"), [
    ({"season": "spring"}, "input.unknown_season"),
    ({"threshold_min": 0}, "input.threshold"),
    ({"measure": "men"}, "input.measure"),
    ({"service_types": ["spa"]}, "services.unknown_type"),
    ({"added_sites": [{"type": "shelter"}]}, "scenario.site_location"),
    ({"added_sites": [{"type": "shelter", "lon": 10, "lat": 10}]}, "scenario.site_location"),
    ({"closed_roads": [{"name": "no id"}]}, "scenario.bad_body"),
    ({"threshold_min": "soon"}, "scenario.bad_body"),
    ([1, 2], "scenario.bad_body"),
])
def test_a_bad_scenario_is_one_clear_message(body, message_id):
    with pytest.raises(InputError) as err:
        sc.scenario_from_dict(body)
    assert err.value.message_id == message_id


def test_unknown_service_and_town_are_named(inputs, baseline):
    with pytest.raises(InputError) as err:
        sc.run_scenario(inputs, sc.Scenario(closed_services=("NOPE-1",)), baseline=baseline)
    assert err.value.message_id == "scenario.unknown_service" and "NOPE-1" in str(err.value)
    with pytest.raises(InputError) as err:
        sc.run_scenario(inputs, sc.Scenario(added_sites=(sc.ProposedSite("shelter", town="Kulobz"),)),
                        baseline=baseline)
    assert err.value.message_id == "scenario.unknown_town" and "Kulob" in str(err.value)


def test_towns_are_found_whatever_the_spelling(inputs):
    for typed in ("Kulob", "Kŭlob", "KULOB", "Ko'lob"):
        name, lon, lat = sc.find_town(inputs, typed)
        assert (round(lon, 1), round(lat, 1)) == (69.8, 37.9), (typed, name)
    assert "Kulob" in sc.town_choices(inputs)


def test_sites_as_typed_on_the_command_line():
    assert sc.parse_site("crisis_centre@Kulob") == sc.ProposedSite("crisis_centre", town="Kulob")
    assert sc.parse_site("shelter@69.78,37.91:Ghamkhori") == sc.ProposedSite("shelter", lon=69.78, lat=37.91,
                                                                              org="Ghamkhori")
    for bad in ("shelter", "@Kulob", "shelter@", "shelter@a,b"):
        with pytest.raises(InputError) as err:
            sc.parse_site(bad)
        assert err.value.message_id == "scenario.site_syntax"


# --- the command line ----------------------------------------------------------------------


def test_cli_scenario_prints_before_after_and_saves_and_loads(prepared_data_dir, tmp_path, capsys, inputs, baseline):
    registry = tmp_path / "private" / "registry.gpkg"
    base = ["--data-dir", str(prepared_data_dir), "scenario", "--store", str(registry)]
    args = [*base, "--close-service", "KHT-NK-SH1", "--add", "crisis_centre@Farkhor", "--close-road",
            "Danghara-Kulob", "--season", "winter", "--threshold", "60", "--type", "shelter", "crisis_centre",
            "--save", "Kulob without shelter", "--author", "aziza"]
    assert cli.main(args) == 0
    printed = capsys.readouterr().out
    expected = sc.run_scenario(inputs, sc.Scenario(
        closed_services=("KHT-NK-SH1",), added_sites=(sc.ProposedSite("crisis_centre", town="Farkhor"),),
        closed_roads=(sc.ClosedRoad(DANGHARA_KULOB),), season="winter", service_types=("shelter", "crisis_centre")),
        baseline=baseline)
    overall = expected.overall()
    assert f"before {overall['within_before']:,}" in printed and f"after {overall['within_after']:,}" in printed
    assert "closed: Najoti Kudakon shelter (Kulob) [KHT-NK-SH1]" in printed
    assert "road closed: Danghara – Kŭlob [way 75118365]" in printed
    assert "Communities whose status changes" in printed and "Saved scenario 'Kulob without shelter'" in printed
    assert cli.main([*base, "--list"]) == 0
    assert "Kulob without shelter  (by aziza," in capsys.readouterr().out
    assert cli.main([*base, "--load", "Kulob without shelter"]) == 0
    assert f"after {overall['within_after']:,}" in capsys.readouterr().out
    # a name already taken, an unknown road, a site without a place: one message, exit 2
    assert cli.main(args) == 2
    assert "exists already" in capsys.readouterr().out
    assert cli.main([*base, "--close-road", "Tavildara Qalaikum"]) == 2
    assert "did you mean 'M41 Tavildara – Qalaikhumb'" in capsys.readouterr().out
    assert cli.main([*base, "--add", "shelter"]) == 2
    assert "TYPE@TOWN" in capsys.readouterr().out


def test_cli_proposed_shelter_at_an_exact_point_prints_its_town_only(prepared_data_dir, capsys):
    from conftest import EXACT_LAT, EXACT_LON, no_exact_point_in

    args = ["--data-dir", str(prepared_data_dir), "scenario", "--add", f"shelter@{EXACT_LON},{EXACT_LAT}:Test org"]
    assert cli.main(args) == 0
    printed = capsys.readouterr().out
    assert "added (proposed): Test org shelter (" in printed
    no_exact_point_in(printed)
