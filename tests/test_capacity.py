"""Capacity-aware coverage (issue 13, Capacity): the two-step floating catchment on a
hand instance, the district table against a direct computation, unknown places left out
and counted, the demand assumption, the command line and the Capacity page."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import PROJECT_ROOT
from shapely.geometry import Point
from streamlit.testing.v1 import AppTest

from coverage import config
from coverage.analysis import capacity
from coverage.analysis.pipeline import Inputs
from coverage.errors import InputError

INF = np.inf


def test_two_step_fca_on_a_hand_instance():
    """Three communities (100, 200, 700 women), two shelters (3 and 6 places), 60 min:

    minutes      A    B
    village 1   10   90      catchment of A: 1, 2 → 300 women → R_A = 3/300 = 0.01
    village 2   50   40      catchment of B: 2, 3 → 900 women → R_B = 6/900 = 1/150
    village 3   inf  30
    Access: 1 → 0.01; 2 → 0.01 + 1/150; 3 → 1/150. Shares (women × access): 1, 2 + 4/3, 14/3 (sum 9)."""
    minutes = np.array([[10, 90], [50, 40], [INF, 30]], dtype=float)
    ratio, access = capacity.two_step_fca(minutes, np.array([3.0, 6.0]), np.array([100.0, 200.0, 700.0]),
                                          threshold_min=60)
    assert ratio == pytest.approx([0.01, 1 / 150])
    assert access == pytest.approx([0.01, 0.01 + 1 / 150, 1 / 150])
    shares = np.array([100.0, 200.0, 700.0]) * access
    assert shares == pytest.approx([1, 2 + 4 / 3, 14 / 3]) and shares.sum() == pytest.approx(9)
    # A wider catchment reaches village 1 from B too: 1000 women share B's 6 places.
    ratio, access = capacity.two_step_fca(minutes, np.array([3.0, 6.0]), np.array([100.0, 200.0, 700.0]),
                                          threshold_min=90)
    assert ratio == pytest.approx([0.01, 0.006]) and access[0] == pytest.approx(0.016)
    # A service nobody reaches has no ratio and gives nobody anything.
    ratio, access = capacity.two_step_fca(np.array([[INF], [INF]]), np.array([5.0]), np.array([1.0, 2.0]),
                                          threshold_min=60)
    assert np.isnan(ratio).all() and (access == 0).all()


def _hand_inputs() -> tuple[Inputs, gpd.GeoDataFrame]:
    """The hand instance as tables: villages 1 and 2 in district D1 (Khatlon), 3 in D2 (Sughd);
    a third shelter with unknown places."""
    comms = gpd.GeoDataFrame({
        "community_id": ["c1", "c2", "c3"], "district_id": ["D1", "D1", "D2"], "district": ["One", "One", "Two"],
        "region": ["Khatlon", "Khatlon", "Sughd"], "women": [100, 200, 700], "population": [200, 400, 1400],
    }, geometry=[Point(69.0, 38.0), Point(69.1, 38.0), Point(69.2, 38.0)], crs=config.CRS_STORE)
    services = gpd.GeoDataFrame({
        "service_id": ["A", "B", "C"], "name": ["a", "b", "c"], "organisation": ["Org A", "Org B", "Org C"],
        "org": ["Org A", "Org B", "Org C"], "type": ["shelter"] * 3, "town": ["Ta", "Tb", "Tc"],
        "district": ["One", "Two", "Two"], "region": ["Khatlon", "Sughd", "Sughd"],
        "places": pd.array([3, 6, None], dtype="Int64"), "confidential": [True] * 3,
    }, geometry=[Point(69.0, 38.0), Point(69.2, 38.0), Point(69.3, 38.0)], crs=config.CRS_STORE)
    empty = gpd.GeoDataFrame(geometry=[], crs=config.CRS_STORE)
    return Inputs(districts=empty, regions=empty, communities=comms, services=services, places=empty), services


def test_district_table_unknown_places_and_demand_on_the_hand_instance():
    inputs, _ = _hand_inputs()
    known, unknown = capacity.capacity_services(inputs, ["shelter"])
    assert list(known["service_id"]) == ["A", "B"] and unknown == ("Org C shelter (Tc)",)
    minutes = np.array([[10, 90], [50, 40], [INF, 30]], dtype=float)
    result = capacity.capacity_coverage(inputs, known, minutes, service_types=["shelter"], threshold_min=60,
                                        demand_per_10k=10.0, unknown=unknown)
    table = result.districts.set_index("district_id")
    assert table.loc["D1", "places_share"] == pytest.approx(1 + 2 + 4 / 3)
    assert table.loc["D2", "places_share"] == pytest.approx(14 / 3)
    assert table.loc["D1", "per_100k"] == pytest.approx((1 + 2 + 4 / 3) / 300 * 100_000)
    assert table.loc["D2", "per_100k"] == pytest.approx(1 / 150 * 100_000)
    # Demand: people × 10 / 10,000: D1 600 people → 0.6 places (< 4.33: covered); D2 1.4 (< 4.67).
    assert table.loc["D1", "demand_places"] == pytest.approx(0.6) and not table["exceeds"].any()
    assert result.unknown_count == 1 and result.total_places == 9 and result.unreached_places == 0
    services = result.services.set_index("service_id")
    assert services.loc["A", "counted_within"] == 300 and services.loc["B", "ratio_per_100k"] == pytest.approx(
        100_000 / 150)
    # A higher demand rate: D1 needs 600 × 100 / 10,000 = 6 places > 4.33 → short by 1.67.
    high = capacity.capacity_coverage(inputs, known, minutes, service_types=["shelter"], threshold_min=60,
                                      demand_per_10k=100.0).districts.set_index("district_id")
    assert high.loc["D1", "exceeds"] and high.loc["D1", "shortfall"] == pytest.approx(6 - (3 + 4 / 3))
    # Counting all people halves the ratios here (people = 2 × women).
    people = capacity.capacity_coverage(inputs, known, minutes, service_types=["shelter"], threshold_min=60,
                                        measure="population").districts.set_index("district_id")
    assert people.loc["D2", "per_100k"] == pytest.approx(table.loc["D2", "per_100k"] / 2)
    assert people["places_share"].sum() == pytest.approx(9)  # the same places, shared out
    only_sughd = capacity.capacity_coverage(inputs, known, minutes, service_types=["shelter"], threshold_min=60,
                                            regions=["Sughd"]).districts
    assert list(only_sughd["district_id"]) == ["D2"]
    assert only_sughd["places_share"].iloc[0] == pytest.approx(14 / 3)  # ratios still count every community


@pytest.mark.parametrize(("kwargs", "message_id"), [
    ({"demand_per_10k": -1}, "input.demand_rate"), ({"demand_per_10k": float("nan")}, "input.demand_rate"),
    ({"threshold_min": 0}, "input.threshold"), ({"measure": "men"}, "input.measure"),
])
def test_bad_settings_are_input_errors(kwargs, message_id):
    inputs, _ = _hand_inputs()
    known, _names = capacity.capacity_services(inputs, ["shelter"])
    args = {"service_types": ["shelter"], "threshold_min": 60, **kwargs}
    with pytest.raises(InputError) as err:
        capacity.capacity_coverage(inputs, known, np.zeros((3, 2)), **args)
    assert err.value.message_id == message_id
    with pytest.raises(InputError):
        capacity.capacity_services(inputs, ["spa"])


@pytest.fixture(scope="module")
def shipped(app_env):
    """The library's figures for the shipped data: shelters, 120 min, women."""
    from coverage import analysis

    inputs = analysis.load_inputs()
    return inputs, capacity.run_capacity(inputs, threshold_min=120)


def test_shipped_shelters_match_a_direct_engine_run(app_env, shipped):
    """The district shares add up to the known places; each service's catchment equals the
    women whose nearest-of-that-service minutes are within the threshold."""
    from coverage.engine import roads, travel

    inputs, result = shipped
    assert result.total_places == 13 and result.unknown == ("Najoti Kudakon shelter (Kulob)",)
    assert result.districts["places_share"].sum() + result.unreached_places == pytest.approx(13)
    settings = config.load_settings()
    network = roads.load_network(settings=settings)
    for row in result.services.itertuples():
        one = inputs.services[inputs.services["service_id"] == row.service_id]
        times = travel.nearest_service_times(network, inputs.communities, one, settings=settings)
        women = inputs.communities.set_index("community_id")["women"]
        direct = women[times.loc[times["minutes"] <= 120, "community_id"]].sum()
        assert row.counted_within == pytest.approx(direct)
    assert result.districts["exceeds"].all()  # 13 places cannot meet 1 per 10,000 anywhere


def test_cli_prints_the_district_table(app_env, capsys, monkeypatch):
    from coverage import cli

    monkeypatch.setattr(cli.console, "width", 250)  # one table row per line

    code = cli.main(["capacity", "--type", "shelter", "--threshold", "120", "--region", "Sughd",
                     "--demand-rate", "0.5", "--limit", "50"])
    out = " ".join(capsys.readouterr().out.split())
    assert code == 0
    assert "Bobojon Ghafurov" in out and "Kushoniyon" not in out
    assert "1 service(s) with unknown places left out (Najoti Kudakon shelter (Kulob))" in out
    assert "0.5 place(s) needed at any one time per 10,000 inhabitants" in out and "Istanbul Convention" in out
    assert "estimate" in out
    assert cli.main(["capacity", "--demand-rate", "-2"]) == 2  # a bad assumption: one message, no traceback


def test_capacity_page_shows_the_library_figures_and_the_assumption(app_env, shipped):
    inputs, _ = shipped
    at = AppTest.from_file(str(PROJECT_ROOT / "pages" / "6_Capacity.py"), default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    at.sidebar.slider(key="threshold").set_value(120).run()
    assert not at.exception
    text = " ".join(str(m.value) for m in at.markdown)
    assert "estimate" in text and "Istanbul Convention" in text and "places per 100,000 women" in text
    library = capacity.run_capacity(inputs, threshold_min=120,
                                    regions=at.sidebar.multiselect(key="regions").value)
    shown = at.dataframe[0].value
    pd.testing.assert_frame_equal(shown.reset_index(drop=True), library.districts.reset_index(drop=True))
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Services with unknown places"] == "1" and metrics["Known places"] == "13"
    assert any("Najoti Kudakon shelter (Kulob)" in str(w.value) for w in at.warning)
    services = at.dataframe[1].value
    assert set(services["places_shown"]) == {"6", "4", "3"}
    # The assumption is adjustable: ten times the rate, ten times the demand.
    before = shown["demand_places"].sum()
    at.number_input(key="capacity_demand_rate").set_value(10.0).run()
    assert not at.exception
    assert at.dataframe[0].value["demand_places"].sum() == pytest.approx(before * 10)
