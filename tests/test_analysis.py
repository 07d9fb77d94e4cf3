"""Gaps, rankings and the command line, on the real default data (mirror → data step)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest

from coverage import analysis, cli, config
from coverage.analysis import reach
from coverage.engine import roads
from coverage.views import privacy


@pytest.fixture(scope="module")
def inputs(prepared_data_dir) -> analysis.Inputs:
    return analysis.load_inputs(prepared_data_dir)


@pytest.fixture(scope="module")
def summer_times(inputs) -> pd.DataFrame:
    return analysis.travel_times(inputs, season="summer", settings=config.Settings())


def test_travel_table_has_every_community_and_type(inputs, summer_times):
    types = set(inputs.services["type"])
    assert set(summer_times["service_type"]) == types
    assert len(summer_times) == len(inputs.communities) * len(types)
    assert np.isfinite(summer_times["minutes"]).all()
    assert (summer_times["minutes"] >= 0).all()


def test_communities_next_to_a_shelter_town_are_within_reach(inputs, summer_times):
    result = analysis.analyse(inputs, summer_times, "shelter", 60)
    khujand = result.communities[result.communities["name"].isin(["Xo'jand", "Khujand"])]
    assert len(khujand) and (khujand["minutes"] < 30).all()
    assert not khujand["underserved"].any()


def test_threshold_flags_and_district_totals_add_up(inputs, summer_times):
    result = analysis.analyse(inputs, summer_times, "shelter", 60, regions=["Khatlon", "Sughd"],
                              measure="population")
    per_community = result.communities
    assert (per_community["underserved"] == (per_community["minutes"] > 60)).all()
    districts = result.districts
    assert (districts["population_within"] + districts["population_beyond"] == districts["population"]).all()
    census = inputs.districts.set_index("district_id")["population"]
    assert (districts.set_index("district_id")["population"] == census.reindex(districts["district_id"])).all()
    assert districts["population"].sum() == 3_436_420 + 2_769_261  # Khatlon + Sughd, census 2020
    assert list(districts["population_beyond"]) == sorted(districts["population_beyond"], reverse=True)
    total = result.totals.set_index("region").loc["All"]
    assert total["population_within"] == districts["population_within"].sum()


def test_women_are_the_default_measure(inputs, summer_times):
    women = analysis.analyse(inputs, summer_times, "shelter", 60, regions=["Khatlon", "Sughd"])
    people = analysis.analyse(inputs, summer_times, "shelter", 60, regions=["Khatlon", "Sughd"],
                              measure="population")
    assert women.measure == "women" and set(women.districts["measure"]) == {"women"}
    census_women = inputs.districts.set_index("district_id")["women"]
    d = women.districts.set_index("district_id")
    assert (d["population"] == census_women.reindex(d.index)).all()  # the district's census women
    assert (d["population_within"] + d["population_beyond"] == d["population"]).all()
    # women within = sum of the women of the communities within
    c = women.communities
    within = c[~c["underserved"]].groupby("district_id")["women"].sum().reindex(d.index, fill_value=0)
    assert (d["population_within"] == within).all()
    assert (d["population_within"] <= people.districts.set_index("district_id")["population_within"]
            .reindex(d.index)).all()
    total_w = women.totals.set_index("region").loc["All"]
    assert total_w["population_within"] == d["population_within"].sum()
    assert women.ranking["women"].is_monotonic_decreasing
    with pytest.raises(ValueError, match="unknown measure"):
        analysis.analyse(inputs, summer_times, "shelter", 60, measure="girls")


def test_more_minutes_never_fewer_people(inputs, summer_times):
    within = [int(analysis.analyse(inputs, summer_times, "crisis_centre", t).totals.iloc[-1]["population_within"])
              for t in (15, 30, 60, 120, 240)]
    assert within == sorted(within)
    assert within[0] < within[-1]


def test_ranking_is_by_people_affected(inputs, summer_times):
    result = analysis.analyse(inputs, summer_times, "shelter", 120, measure="population")
    ranking = result.ranking
    assert len(ranking) > 0
    assert ranking["population"].is_monotonic_decreasing
    assert (ranking["minutes"] > 120).all()
    assert ranking["nearest_service"].notna().all()


def test_several_types_take_the_nearest_of_any(inputs, summer_times):
    one = analysis.analyse(inputs, summer_times, "shelter", 60).communities.set_index("community_id")["minutes"]
    two = analysis.analyse(inputs, summer_times, ["shelter", "support_service"], 60).communities.set_index(
        "community_id")["minutes"]
    assert (two <= one + 1e-9).all()
    assert (two < one).any()


def test_winter_is_never_faster(inputs, summer_times):
    winter = analysis.travel_times(inputs, season="winter", settings=config.Settings())
    merged = summer_times.merge(winter, on=["community_id", "service_type"], suffixes=("_s", "_w"))
    assert (merged["minutes_w"] >= merged["minutes_s"] - 1e-6).all()
    assert (merged["minutes_w"] > merged["minutes_s"] + 1).any()


def test_unknown_type_is_a_clear_error(inputs, summer_times):
    with pytest.raises(ValueError, match="unknown service type"):
        analysis.analyse(inputs, summer_times, "spa", 60)


def test_reach_per_organisation_is_consistent(inputs):
    network = roads.load_network(config.DEFAULT_NETWORK, "summer", config.Settings())
    times = reach.organisation_times(network, inputs.communities, inputs.services, config.Settings())
    table = reach.reach_table(times, inputs.communities)
    totals = reach.organisation_totals(table).set_index("org")
    any_org = totals.loc[reach.ANY_ORGANISATION]
    for org, row in totals.drop(index=reach.ANY_ORGANISATION).iterrows():
        assert row["within_120"] <= any_org["within_120"], org  # nobody reaches more than all together
    assert any_org["within_120"] <= inputs.communities["population"].sum()
    assert {"Gulrukhsor", "Ghamkhori", "Najoti Kudakon"} <= set(totals.index)


def test_public_services_move_confidential_points_to_a_settlement(inputs):
    secret = inputs.services.iloc[[0]].copy()
    secret["service_id"] = "SECRET"
    secret["type"] = "shelter"
    secret["confidential"] = True
    secret["location_precision"] = "exact"
    secret["lon"], secret["lat"] = 69.63917, 40.29151
    secret = secret.set_geometry(gpd.points_from_xy([69.63917], [40.29151]), crs=config.CRS_STORE)
    public = privacy.public_services(secret, inputs.places)
    assert public.loc[0, "location_precision"] == "settlement"
    assert (round(public.loc[0, "lon"], 3), round(public.loc[0, "lat"], 3)) != (69.639, 40.292)
    assert public.loc[0, "town"] in set(inputs.places["name"])
    assert privacy.public_services(secret, None).empty  # no places: dropped, never shown as is


# --- command line --------------------------------------------------------------------


def test_cli_analyse_prints_a_district_table_and_writes_outputs(prepared_data_dir, tmp_path, capsys):
    out = tmp_path / "results.gpkg"
    args = ["--data-dir", str(prepared_data_dir), "analyse", "--type", "shelter", "--threshold", "120",
            "--season", "winter", "--out", str(out), "--region", "Khatlon", "--region", "Sughd"]
    assert cli.main(args) == 0
    capsys.readouterr()
    code = cli.main(args)  # written again to the same file: replaced, not appended to
    assert code == 0
    printed = capsys.readouterr().out
    assert "Districts by women beyond 120 min of a shelter (winter)" in printed
    assert "Women within 120 min" in printed and "female share per district" in printed
    layers = {name for name, _ in pyogrio.list_layers(out)}
    assert layers == {"communities", "districts"}
    communities = gpd.read_file(out, layer="communities")
    districts = gpd.read_file(out, layer="districts")
    assert communities["women"].sum() == districts["women"].sum()
    assert {"women_within", "women_beyond"} <= set(districts) and "population_within" not in districts
    assert communities["population"].sum() == 3_436_420 + 2_769_261
    assert cli.main([*args, "--count", "people"]) == 0
    printed = capsys.readouterr().out
    assert "Districts by people beyond 120 min of a shelter (winter)" in printed
    assert "People within 120 min" in printed
    districts = gpd.read_file(out, layer="districts")
    assert communities["population"].sum() == districts["population"].sum() == 3_436_420 + 2_769_261
    assert set(communities["underserved"].unique()) <= {True, False}


def test_cli_analyse_csv_and_geojson(prepared_data_dir, tmp_path):
    for suffix in (".csv", ".geojson"):
        out = tmp_path / f"results{suffix}"
        assert cli.main(["--data-dir", str(prepared_data_dir), "analyse", "--type", "crisis_centre",
                         "--out", str(out)]) == 0
        assert out.exists() and out.with_name(out.stem + "_districts.csv").exists()
    table = pd.read_csv(tmp_path / "results.csv")
    assert {"community_id", "name", "district", "population", "minutes", "underserved", "lon", "lat"} <= set(table)


def test_cli_route_prints_time_and_towns(capsys):
    assert cli.main(["route", "Khujand", "Bokhtar"]) == 0
    printed = capsys.readouterr().out
    assert "Khujand → Bokhtar (summer)" in printed and "by car" in printed
    assert "Dushanbe" in printed and "Istaravshan" in printed
    assert cli.main(["route", "Khujand", "Atlantis"]) == 2


@pytest.mark.parametrize("count, measure", [("women", "women"), ("people", "population")])
def test_cli_reach_prints_the_figures_the_reach_page_shows(prepared_data_dir, inputs, tmp_path, capsys, count,
                                                           measure):
    """``python -m coverage reach --count women|people`` prints, per organisation, per
    service type, per region and alone, the figures of ``reach.summarise`` (the Reach
    page's), and writes its per-district table, each in the measure asked for."""
    out = tmp_path / "reach.csv"
    args = ["--data-dir", str(prepared_data_dir), "reach", "--type", "shelter", "crisis_centre", "--threshold", "90",
            "--region", "Khatlon", "--region", "Sughd", "--count", count, "--out", str(out)]
    assert cli.main(args) == 0
    printed = capsys.readouterr().out
    settings = config.Settings()
    network = roads.load_network(config.DEFAULT_NETWORK, "summer", settings)
    chosen = inputs.services[inputs.services["type"].isin(["shelter", "crisis_centre"])]
    times = reach.organisation_times(network, inputs.communities, chosen, settings, by_type=True)
    report = reach.summarise(times, inputs.communities, threshold_min=90, regions=["Khatlon", "Sughd"], measure=measure)
    lines = [" ".join(line.split()) for line in printed.splitlines()]
    assert f"{count.capitalize()} within reach of any shelter or crisis centre of each organisation (summer)" \
        in " ".join(lines)
    for row in report.totals.itertuples(index=False):
        assert " ".join([row.org, *(f"{v:,}" for v in (row.within_30, row.within_60, row.within_90,
                                                       row.within_120))]) in lines
    for row in report.by_type.itertuples(index=False):
        assert f"{row.org} {row.service_type} {row.within_90:,}" in lines
    for row in report.by_region.itertuples(index=False):
        assert f"{row.org} {row.region} {row.within_90:,}" in lines
    for row in report.alone.itertuples(index=False):
        assert f"{row.org} {row.region} {row.people_alone:,}" in lines
    assert f"{count.capitalize()} in Khatlon, Sughd: {report.population:,}." in " ".join(lines)
    written = pd.read_csv(out)
    written = written[written["org"] == reach.ANY_ORGANISATION]
    column = "women" if measure == "women" else "population"
    assert written[column].sum() == report.by_district[report.by_district["org"] == reach.ANY_ORGANISATION][
        "population"].sum() == inputs.communities.query("region in ['Khatlon', 'Sughd']")[measure].sum()


def test_reach_per_type_is_at_most_the_organisation_total(inputs):
    """An organisation's reach by any of its types is at least its reach by each type, and
    the per-region rows add up to its total."""
    network = roads.load_network(config.DEFAULT_NETWORK, "summer", config.Settings())
    chosen = inputs.services[inputs.services["type"].isin(["shelter", "crisis_centre", "support_service"])]
    times = reach.organisation_times(network, inputs.communities, chosen, config.Settings(), by_type=True)
    report = reach.summarise(times, inputs.communities, threshold_min=60)
    totals = report.totals.set_index("org")["within_60"]
    best_type = report.by_type.groupby("org")["within_60"].max()
    assert (best_type <= totals.loc[best_type.index]).all()
    assert (best_type < totals.loc[best_type.index]).any()  # organisations with several types reach more
    assert report.by_region.groupby("org")["within_60"].sum().to_dict() == totals.to_dict()
    assert report.totals["org"].iloc[-1] == reach.ANY_ORGANISATION


def test_cli_check_services(capsys, tmp_path):
    assert cli.main(["check-services", str(config.SERVICES_CSV)]) == 0
    bad = tmp_path / "bad.csv"
    bad.write_text(config.SERVICES_CSV.read_text(encoding="utf-8").replace(",shelter,", ",shelterz,", 1),
                   encoding="utf-8")
    assert cli.main(["check-services", str(bad)]) == 1
    assert "row 2" in capsys.readouterr().out


def test_short_region():
    assert cli.short_region("Districts of Republican Subordination (DRS)") == "DRS"
    assert cli.short_region("Khatlon") == "Khatlon"


def test_cli_bad_input_is_a_message_not_a_traceback(capsys, tmp_path, prepared_data_dir):
    layer = tmp_path / "people.csv"
    layer.write_text("lon,lat,population\n37.91,69.78,10\n69.78,37.91,x\n", encoding="utf-8")
    assert cli.main(["--data-dir", str(prepared_data_dir), "analyse", "--population", str(layer)]) == 2
    printed = capsys.readouterr().out
    assert "people.csv: row 2: latitude and longitude look swapped" in printed
    assert "row 3: population 'x' is not a number" in printed and "Traceback" not in printed
    network = tmp_path / "roads.shp"
    network.write_text("x")
    assert cli.main(["--data-dir", str(prepared_data_dir), "route", "Khujand", "Bokhtar",
                     "--network", str(network)]) == 2
    assert "unknown road network format" in capsys.readouterr().out
