"""Public figures cannot locate a shelter (issue 10, items 1 and 2).

A registry holds a RURAL confidential shelter at a known exact point about 5 km from
its town (Jaloliddini Balkhi, Khatlon), its town field holding staff text. The tests
render the real pages and:

(a) re-run the triangulation attack on the community minutes the overview map sends
    to the browser: near a service, minutes = straight-line metres x
    access_detour_factor / access speed, so a least-squares fit of a point to
    (community location, minutes) finds the service the minutes were computed from.
    The fit must land no closer to the exact point than the public marker is; the
    same fit on minutes computed from the exact point lands on it (control);
(b) the staff text in the shelter's town is on no public table, page or CSV;
(c) the Reach figures equal those computed from the public points;
and check that every services table the engine was given on the way had the shelter
at its public point, never the exact one (no path around the privacy edge).
"""

from __future__ import annotations

import dataclasses
import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import PROJECT_ROOT, component_text, rendered_text
from scipy.optimize import least_squares
from streamlit.testing.v1 import AppTest

from coverage import analysis, config

STAFF_TEXT = "behind school No 12"
RURAL_SHELTER = {
    "service_id": "TEST-RURAL-SHELTER",
    "name": "Rural test shelter",
    "organisation": "Rural test organisation",
    "org": "Rural test org",
    "type": "shelter",
    "town": f"Kolkhozobod, {STAFF_TEXT}",
    "district": "Jaloliddini Balkhi",
    "region": "Khatlon",
    "lon": 68.66316,
    "lat": 37.63442,
    "location_precision": "exact",
    "confidential": True,
    "source": "triangulation test",
    "source_date": "2025-01-01",
    "confidence": "high",
    "address": "3 Test Lane",
    "owner_org": "rural-test-org",
}
EXACT = (RURAL_SHELTER["lon"], RURAL_SHELTER["lat"])
# The attacker's sample: the communities nearest the public marker (the issue used 193).
ATTACK_COMMUNITIES = 60
# Tooltips show whole minutes; the fit on them wanders a few tens of metres.
ROUNDING_TOLERANCE_M = 100.0


@pytest.fixture(scope="module")
def rural_store(tmp_path_factory):
    from coverage.registry import store

    path = tmp_path_factory.mktemp("rural-registry") / "registry.gpkg"
    store.open_store(path).add(RURAL_SHELTER, "triangulation-test-setup")
    return path


@pytest.fixture
def rural_env(app_env, rural_store, monkeypatch, tmp_path):
    monkeypatch.setenv("COVERAGE_STORE", str(rural_store))
    monkeypatch.setenv("COVERAGE_USERS", str(tmp_path / "users.yaml"))
    return rural_store


@pytest.fixture
def engine_calls(monkeypatch):
    """Every services table handed to the travel engine while the test runs."""
    from coverage.engine import travel

    seen: list[gpd.GeoDataFrame] = []
    real = travel.nearest_service_times

    def spy(network, communities, services, *args, **kwargs):
        seen.append(services.copy())
        return real(network, communities, services, *args, **kwargs)

    monkeypatch.setattr(travel, "nearest_service_times", spy)
    return seen


@pytest.fixture
def downloads(monkeypatch):
    """The bytes of every st.download_button the pages render (the CSV a user gets)."""
    from streamlit.elements.widgets import button

    seen: list[bytes] = []
    real = button.marshall_file

    def spy(coordinates, data, *args, **kwargs):
        seen.append(data if isinstance(data, bytes) else str(data).encode("utf-8"))
        return real(coordinates, data, *args, **kwargs)

    monkeypatch.setattr(button, "marshall_file", spy)
    return seen


def _run(page: str) -> AppTest:
    at = AppTest.from_file(str(PROJECT_ROOT / page), default_timeout=180)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _public_inputs(store_path, data_dir) -> analysis.Inputs:
    from coverage.registry import store

    return analysis.load_inputs(data_dir, services_table=store.open_store(store_path).services(include_closed=False))


def _exact_services(store_path, data_dir) -> gpd.GeoDataFrame:
    """The registry's open services at their exact points (what the engine must never
    be given for a public figure)."""
    from coverage.data import services
    from coverage.data.boundaries import load_districts
    from coverage.registry import store

    table = store.open_store(store_path).services(include_closed=False)
    return services.assign_district_ids(table, load_districts(data_dir / "boundaries" / "districts.gpkg"))


def _metric(lon, lat) -> np.ndarray:
    points = gpd.GeoSeries(gpd.points_from_xy(np.atleast_1d(lon), np.atleast_1d(lat)), crs=config.CRS_STORE)
    points = points.to_crs(config.CRS_METRIC)
    return np.column_stack([points.x, points.y])


def _fit(community_xy: np.ndarray, minutes: np.ndarray, start_xy: np.ndarray) -> np.ndarray:
    """The attack: the point whose access-model minutes best match the communities'
    minutes (least squares, robust to the far ones that went by road)."""
    settings = config.Settings()
    metres_per_min = settings.access_speed_sparse_kph * 1000.0 / 60.0

    def residuals(p):
        return np.hypot(*(community_xy - p).T) * settings.access_detour_factor / metres_per_min - minutes

    return least_squares(residuals, start_xy, loss="soft_l1", f_scale=2.0).x


def _attack(community_xy: np.ndarray, minutes: np.ndarray, marker_xy: np.ndarray) -> np.ndarray:
    finite = np.isfinite(minutes)
    community_xy, minutes = community_xy[finite], minutes[finite]
    nearest = np.argsort(np.hypot(*(community_xy - marker_xy).T))[:ATTACK_COMMUNITIES]
    return _fit(community_xy[nearest], minutes[nearest], marker_xy)


def _community_layer(at: AppTest) -> tuple[np.ndarray, np.ndarray]:
    """Community points and the whole minutes of their tooltips ("Nearest help: N min"),
    read from the map script the overview page sends to the browser."""
    for root in (at.main, at.sidebar):
        for node in root:
            if type(node).__name__ != "UnknownElement" or not node.proto.component_name.endswith("st_folium"):
                continue
            for found in re.finditer(r"var d = (\{.*?\});\n", component_text(node)):
                layer = json.loads(found.group(1))
                if "tip" in layer and any("Nearest help" in t for t in layer["tip"]):
                    minutes = [re.search(r"Nearest help: (\d+) min", t) for t in layer["tip"]]
                    values = np.array([float(m.group(1)) if m else np.inf for m in minutes])
                    return _metric(layer["lon"], layer["lat"]), values
    raise AssertionError("no community layer with 'Nearest help' tooltips on the map")


def _public_point(inputs: analysis.Inputs, exact: gpd.GeoDataFrame | None = None) -> pd.Series:
    """The shelter as the public sees it: from the privacy edge applied to the exact
    rows (the map marker) when ``exact`` is given, else as the inputs hold it."""
    from coverage.views import privacy

    services = inputs.services if exact is None else privacy.public_services(exact, inputs.places)
    return services.set_index("service_id").loc[RURAL_SHELTER["service_id"]]


def test_the_rural_shelter_is_stored_exact_and_published_at_its_town(rural_env, prepared_data_dir):
    from coverage.registry import store

    row = store.open_store(rural_env).get(RURAL_SHELTER["service_id"])
    assert (row["lon"], row["lat"]) == EXACT and STAFF_TEXT in row["town"]
    public = _public_point(_public_inputs(rural_env, prepared_data_dir))
    gap_m = np.hypot(*(_metric(public["lon"], public["lat"])[0] - _metric(*EXACT)[0]))
    assert 3000 < gap_m < 8000, gap_m  # rural: the public marker is kilometres away
    assert public["town"] == "Jaloliddini Balkhi (Kolkhozobod)" and STAFF_TEXT not in public["town"]


def test_map_minutes_cannot_be_triangulated_to_the_shelter(rural_env, prepared_data_dir, engine_calls):
    at = _run("app.py")
    community_xy, minutes = _community_layer(at)
    inputs = _public_inputs(rural_env, prepared_data_dir)
    public = _public_point(inputs, _exact_services(rural_env, prepared_data_dir))
    assert public["lon"] == _public_point(inputs)["lon"] and public["lat"] == _public_point(inputs)["lat"]
    exact_xy, marker_xy = _metric(*EXACT)[0], _metric(public["lon"], public["lat"])[0]
    marker_gap_m = np.hypot(*(marker_xy - exact_xy))

    fitted = _attack(community_xy, minutes, marker_xy)
    assert np.hypot(*(fitted - exact_xy)) >= marker_gap_m - ROUNDING_TOLERANCE_M, \
        "the public minutes lead closer to the shelter than its public marker"

    # No path around the edge: every table the engine got for the pages had the shelter
    # at its public point and nothing at the exact one.
    for page in ("pages/1_Underserved_communities.py", "pages/2_Reach.py"):
        _run(page)
    page_calls = list(engine_calls)
    assert len(page_calls) >= 2  # travel times (map) and reach; both fresh for this registry
    for services in page_calls:
        xy = _metric(services.geometry.x, services.geometry.y)
        assert np.hypot(*(xy - exact_xy).T).min() > 1000
        assert RURAL_SHELTER["service_id"] in set(services["service_id"])

    # Control: the same attack on minutes computed from the exact point finds it.
    exact_inputs = dataclasses.replace(inputs, services=_exact_services(rural_env, prepared_data_dir))
    times = analysis.travel_times(exact_inputs, season="summer", settings=config.load_settings())
    choice_regions = [r for r in config.FOCUS_REGIONS if r in set(inputs.communities["region"])]
    leaked = analysis.analyse(exact_inputs, times, "shelter", config.DEFAULT_THRESHOLD_MIN,
                              regions=choice_regions).communities
    leaked_xy = _metric(leaked.geometry.x, leaked.geometry.y)
    found = _attack(leaked_xy, np.round(leaked["minutes"].to_numpy(dtype=float)), marker_xy)
    assert np.hypot(*(found - exact_xy)) < 250, "the attack works on exact-point minutes"


def test_staff_town_text_is_on_no_public_table_or_csv(rural_env, downloads):
    at = _run("pages/1_Underserved_communities.py")
    text = rendered_text(at)
    ranking = at.dataframe[0].value
    csv = b"\n".join(downloads).decode("utf-8")
    assert csv and "nearest_service_town" in csv
    for shown in (text, csv):
        assert STAFF_TEXT not in shown and "3 Test Lane" not in shown
    # Control: the shelter is the nearest help of rows on the page, shown at its town under
    # its plain public name (the registry's name is not shown either).
    town = "Jaloliddini Balkhi (Kolkhozobod)"
    public_name = f"{RURAL_SHELTER['org']} shelter ({town})"
    ours = ranking[ranking["nearest_service"] == public_name]
    assert len(ours) and set(ours["nearest_service_town"]) == {town}
    assert public_name in csv and RURAL_SHELTER["name"] not in csv


def test_reach_figures_are_those_of_the_public_points(rural_env, prepared_data_dir):
    from coverage.analysis import reach
    from coverage.engine import roads

    at = _run("pages/2_Reach.py")
    shown = at.dataframe[0].value.set_index("org")
    inputs = _public_inputs(rural_env, prepared_data_dir)
    regions = [r for r in config.FOCUS_REGIONS if r in set(inputs.communities["region"])]
    settings = config.load_settings()
    network = roads.load_network(config.DEFAULT_NETWORK, season="summer", settings=settings)
    cols = [f"within_{t}" for t in reach.REACH_THRESHOLDS_MIN]

    shown_types = at.sidebar.multiselect(key="service_types").value  # the Reach page follows the sidebar's types

    def totals(services):
        services = services[services["type"].isin(shown_types)]
        table = reach.reach_table(reach.organisation_times(network, inputs.communities, services, settings),
                                  inputs.communities)
        return reach.organisation_totals(table[table["region"].isin(regions)]).set_index("org")[cols]

    public = totals(inputs.services)
    pd.testing.assert_frame_equal(shown[cols].astype("int64"), public.astype("int64"), check_names=False)
    # Control: from the exact point the shelter's organisation reaches other people.
    exact = totals(_exact_services(rural_env, prepared_data_dir))
    org = RURAL_SHELTER["org"]
    assert not exact.loc[org].equals(public.loc[org])


# --- the command line ---------------------------------------------------------------------------


def test_cli_analyse_uses_public_points_of_a_services_file(prepared_data_dir, tmp_path, capsys):
    """A services file holding the exact point prints the same figures as one holding
    the public point, and the public point's figures differ from the exact one's."""
    from coverage import cli

    shipped = pd.read_csv(config.SERVICES_CSV, dtype=str, keep_default_na=False)
    public = _public_point(analysis.load_inputs(prepared_data_dir, services_table=None,
                                                services_path=_write(shipped, RURAL_SHELTER, tmp_path / "x.csv")))
    printed = {}
    for name, (lon, lat) in (("exact", EXACT), ("public", (public["lon"], public["lat"]))):
        path = _write(shipped, {**RURAL_SHELTER, "lon": lon, "lat": lat}, tmp_path / f"{name}.csv")
        out = tmp_path / f"{name}_out.csv"
        assert cli.main(["--data-dir", str(prepared_data_dir), "analyse", "--type", "shelter", "--threshold", "30",
                         "--region", "Khatlon", "--services", str(path), "--out", str(out)]) == 0
        # the log's time column: "[hh:mm:ss]", or blank when rich omits a time repeated within a second
        text = re.sub(r"^(\[\d\d:\d\d:\d\d\] | {11})", "", capsys.readouterr().out, flags=re.M)
        printed[name] = text.split("Wrote ")[0]  # the figures, not the (different) file names
        printed[name + "_file"] = pd.read_csv(out)["minutes"]
    assert printed["exact"] == printed["public"]
    pd.testing.assert_series_equal(printed["exact_file"], printed["public_file"])
    assert STAFF_TEXT not in printed["exact"]
    # Control: minutes from the exact point are other minutes.
    inputs = analysis.load_inputs(prepared_data_dir, services_path=tmp_path / "exact.csv")
    from coverage.data import services

    exact = dataclasses.replace(inputs, services=services.assign_district_ids(
        services.load_services(tmp_path / "exact.csv"), inputs.districts))
    result = analysis.analyse(exact, analysis.travel_times(exact), "shelter", 30, regions=["Khatlon"])
    assert not np.allclose(result.communities["minutes"].to_numpy(dtype=float),
                           printed["exact_file"].to_numpy(dtype=float), equal_nan=True)


def _write(shipped: pd.DataFrame, row: dict, path):
    columns = list(shipped.columns)
    extra = pd.DataFrame([{c: row.get(c, "") for c in columns}])
    pd.concat([shipped, extra], ignore_index=True).to_csv(path, index=False)
    return path


# --- the edge itself ----------------------------------------------------------------------------


def test_shipped_shelters_go_out_at_town_points_under_plain_names(prepared_data_dir):
    """The shipped shelters are recorded at town level; the public inputs put each on the
    nearest gazetteer town point (at most a few hundred metres away) under a plain name
    made of organisation, type and town; applying the edge twice changes nothing."""
    from coverage.data import services
    from coverage.views import privacy

    inputs = analysis.load_inputs(prepared_data_dir)
    raw = services.load_services(config.SERVICES_CSV).set_index("service_id")
    public = inputs.services.set_index("service_id")
    secret = raw.index[raw["confidential"].astype(bool)]
    assert len(secret) >= 4
    places = inputs.places.to_crs(config.CRS_METRIC)
    shown = gpd.GeoSeries(gpd.points_from_xy(public.loc[secret, "lon"], public.loc[secret, "lat"]),
                          crs=config.CRS_STORE).to_crs(config.CRS_METRIC)
    assert all(places.distance(point).min() < 1.0 for point in shown)
    recorded = gpd.GeoSeries(gpd.points_from_xy(raw.loc[secret, "lon"], raw.loc[secret, "lat"]),
                             crs=config.CRS_STORE).to_crs(config.CRS_METRIC)
    moved = recorded.distance(shown)
    assert (moved < 1000).all(), moved
    assert public.loc["KHT-GHM-SH1", "name"] == "Ghamkhori shelter (" + public.loc["KHT-GHM-SH1", "town"] + ")"
    assert set(public.loc[secret, "location_precision"]) <= {"settlement", "district"}
    again = privacy.public_inputs(inputs).services
    pd.testing.assert_frame_equal(pd.DataFrame(again), pd.DataFrame(inputs.services))
    assert "org" in public.columns and "note" not in public.columns and "address" not in public.columns


def test_a_shelter_on_a_public_services_point_still_goes_to_a_town_point(prepared_data_dir):
    """A shelter recorded at the very point of a public (non-confidential) service is
    not left there: showing it at that building would locate it. It goes to the nearest
    gazetteer town point like any exact point, and its staff text does not go out."""
    from coverage.data import services
    from coverage.views import privacy

    inputs = analysis.load_inputs(prepared_data_dir)
    centre = inputs.services.set_index("service_id").loc["SGH-GUL-CC1"]
    rows = services.load_services(config.SERVICES_CSV)
    secret = rows[rows["service_id"] == "SGH-GUL-SH1"].copy()
    for lon, lat in ((centre["lon"], centre["lat"]), (centre["lon"] + 0.001, centre["lat"])):
        moved = secret.set_geometry(gpd.points_from_xy([lon], [lat]), crs=config.CRS_STORE).assign(
            lon=lon, lat=lat, town=STAFF_TEXT, name=STAFF_TEXT, location_precision="exact")
        public = privacy.engine_services(moved, inputs.places).iloc[0]
        assert (public["lon"], public["lat"]) != (lon, lat)
        assert STAFF_TEXT not in public["town"] and STAFF_TEXT not in public["name"]
        assert public["location_precision"] == "settlement"
