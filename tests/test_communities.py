"""Communities: census totals shared out exactly, ids, names, GeoNames matching, user layers."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import Point, Polygon, box

from coverage import config
from coverage.data.communities import (
    COMMUNITY_COLUMNS,
    CommunityError,
    build_communities,
    largest_remainder,
    load_communities,
    load_user_population,
)


@pytest.fixture(scope="module")
def communities(prepared_data_dir):
    return load_communities(prepared_data_dir / "communities/communities.gpkg")


def test_schema(communities):
    assert list(communities.columns) == COMMUNITY_COLUMNS
    assert communities.crs.to_epsg() == 4326
    assert set(communities.geometry.geom_type) == {"Point"}
    assert communities.community_id.is_unique
    assert communities.community_id.map(lambda s: bool(re.fullmatch(r"(osm-\d+|gn-\d+|seat-\S+)", s))).all()
    assert communities.population.dtype == np.int64 and (communities.population >= 0).all()
    assert communities.estimated.dtype == bool
    assert set(communities.place) <= {"city", "town", "village", "hamlet"}
    assert (communities.population_source.str.len() > 0).all()


def test_every_district_sums_exactly_to_census(communities, districts):
    sums = communities.groupby("district_id").population.sum()
    expected = districts.set_index("district_id").population
    assert set(sums.index) == set(expected.index)  # every district has communities
    diff = (sums.reindex(expected.index) - expected)
    assert (diff == 0).all(), diff[diff != 0]
    assert int(communities.population.sum()) == 9_657_005


def test_women_per_district_equal_census_female_column(communities, districts, mirror_path):
    census = pd.read_csv(mirror_path / "census2020_adm2/tjk_adm2_population_census2020.csv")
    female = census.set_index("gb_adm2_shapeID")["population_female_derived"]
    d = districts.set_index("district_id")
    assert d.women.dtype == np.int64
    assert (d.women == female.reindex(d.index)).all()
    sums = communities.groupby("district_id").women.sum().reindex(d.index)
    assert (sums == d.women).all(), (sums - d.women)[sums != d.women]
    assert communities.women.dtype == np.int64
    assert ((communities.women >= 0) & (communities.women <= communities.population)).all()
    # each community's women are its people times its district's female share, to the nearest one
    share = (d.women / d.population).reindex(communities.district_id).to_numpy()
    assert (np.abs(communities.women - communities.population * share) < 1).all()
    assert int(communities.women.sum()) == int(female.sum())


def test_regions_count_women(regions, districts):
    assert (regions.set_index("region").women == districts.groupby("region").women.sum()).all()


def test_district_columns_match_districts(communities, districts):
    ref = districts.set_index("district_id")
    assert (communities.district.values == ref.loc[communities.district_id, "district"].values).all()
    assert (communities.region.values == ref.loc[communities.district_id, "region"].values).all()
    # every point lies in its district
    joined = gpd.sjoin(communities, districts[["district_id", "geometry"]], predicate="within")
    assert (joined.district_id_left == joined.district_id_right).all()
    assert len(joined) == len(communities)


def test_osm_points_outside_dropped(communities, mirror_path):
    st = pd.read_csv(mirror_path / "osm_settlements_cavi/tj_osm_settlements.csv", dtype=str, keep_default_na=False)
    inside = (st.gb_adm2_shapeID != "").sum()
    assert len(st) - inside == 146
    assert communities.community_id.str.startswith("osm-").sum() == inside


def test_cyrillic_names_survive(communities):
    names = set(communities.name)
    assert "Душанбе" in names and "Хорог" in names
    assert any(re.search("[ӣӯҳқҷғ]", n) for n in names)  # Tajik letters kept as they are


def test_known_towns_capped(communities, districts):
    share = config.KNOWN_TOWN_MAX_SHARE
    known = communities[communities.population_source.str.startswith("GeoNames")]
    per = known.groupby("district_id").population.agg(["sum", "size"])
    totals = districts.set_index("district_id").population.reindex(per.index)
    assert (per["sum"] <= share * totals + per["size"]).all()  # + rounding, at most 1 per town
    isfara = communities[(communities.district == "Isfara") & (communities.place == "city")]
    assert len(isfara) == 1
    assert isfara.population.iloc[0] < 274_000 * share + 1  # GeoNames' whole-municipality figure capped
    assert isfara.estimated.iloc[0]


def test_geonames_matched_to_osm(communities):
    # Khujand is both a GeoNames town (191,000) and an OSM city ("Xo'jand"): one community
    khujand = communities[communities.population == 191_000]
    assert len(khujand) == 1 and khujand.community_id.iloc[0].startswith("osm-")
    assert not khujand.estimated.iloc[0]
    # renamed towns matched by proximity: GeoNames "Sovet" = OSM "Temurmalik"
    assert "gn-1220446" not in set(communities.community_id)
    assert communities.community_id.str.startswith("gn-").sum() < 15


def test_remainder_by_place_weight(communities):
    sub = communities[communities.population_source.str.startswith("2020 census district total, remainder")]
    for _, grp in sub.groupby("district_id"):
        by = grp.groupby("place").population.median()
        if "village" in by and "hamlet" in by:
            assert by["village"] > by["hamlet"]
        if "town" in by and "village" in by:
            assert by["town"] > by["village"]


def test_ids_are_stable(communities):
    by_id = communities.set_index("community_id")
    assert by_id.loc["osm-1", "name"] == "Душанбе"  # labels[1] of the cavi-maps index
    assert by_id.loc["osm-1", "district"] == "Dushanbe"


def test_largest_remainder_exact():
    out = largest_remainder(np.array([1 / 3, 1 / 3, 1 / 3]), 10, ["a", "b", "c"])
    assert out.sum() == 10 and sorted(out) == [3, 3, 4] and out[0] == 4
    rng = np.random.default_rng(1)
    for _ in range(50):
        v = rng.random(rng.integers(1, 40)) * 1000
        total = int(rng.integers(0, 100_000))
        r = largest_remainder(v, total)
        assert r.sum() == total and (np.abs(r - v * total / v.sum()) < 1).all()


def test_district_without_settlements_gets_seat_community():
    district = gpd.GeoDataFrame(
        {"district_id": ["D1", "D2"], "district": ["Empty", "Full"], "region": ["Khatlon", "Khatlon"],
         "population": [1234, 1000], "women": [617, 497], "seat": ["Seatville", "X"], "seat_lon": [69.55, 69.75],
         "seat_lat": [37.95, 37.95]},
        geometry=[box(69.5, 37.9, 69.6, 38.0), box(69.7, 37.9, 69.8, 38.0)], crs="EPSG:4326",
    )  # fmt: skip
    st = pd.DataFrame(
        {"name": ["A", "B", "C"], "place": ["town", "village", "hamlet"], "lat": [37.95, 37.96, 37.97],
         "lon": [69.71, 69.72, 69.73], "source_id": ["x#labels[1]", "x#labels[2]", "x#labels[3]"]}
    )  # fmt: skip
    c = build_communities(st, [], district)
    empty = c[c.district_id == "D1"]
    assert list(empty.community_id) == ["seat-D1"] and empty.population.iloc[0] == 1234
    assert empty.name.iloc[0] == "Seatville"
    full = c[c.district_id == "D2"].set_index("name").population
    assert full.sum() == 1000
    # weights town 6 : village 1 : hamlet 0.3
    assert full["A"] == round(1000 * 6 / 7.3) and full["C"] == round(1000 * 0.3 / 7.3)
    assert empty.women.iloc[0] == 617
    women = c[c.district_id == "D2"].set_index("name").women
    assert women.sum() == 497 and (np.abs(women - full * 0.497) < 1).all()


# --- user population layers -------------------------------------------------------------


def test_user_points_geojson(tmp_path, districts):
    path = tmp_path / "pop.geojson"
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "Кӯлоб 1", "population": 1200},
         "geometry": {"type": "Point", "coordinates": [69.78, 37.91]}},
        {"type": "Feature", "properties": {"name": "Khujand", "population": 55.6},
         "geometry": {"type": "Point", "coordinates": [69.62, 40.28]}},
    ]}  # fmt: skip
    path.write_text(json.dumps(fc, ensure_ascii=False), encoding="utf-8")
    u = load_user_population(path, districts)
    assert list(u.columns) == COMMUNITY_COLUMNS
    assert list(u.district) == ["Kulob", "Bobojon Ghafurov"]
    assert list(u.population) == [1200, 56]
    d = districts.set_index("district")
    assert list(u.women) == [round(p * d.at[n, "women"] / d.at[n, "population"])
                             for p, n in zip(u.population, u.district)]
    assert not u.estimated.any() and set(u.place) == {"user"}
    assert u.name.iloc[0] == "Кӯлоб 1"
    assert u.community_id.is_unique


def test_user_h3_like_polygons_gpkg(tmp_path, districts):
    def hexagon(x, y, r=0.01):
        return Polygon([(x + r * np.cos(a), y + r * np.sin(a)) for a in np.linspace(0, 2 * np.pi, 7)[:-1]])

    cells = gpd.GeoDataFrame(
        {"h3": ["8a2000000000001", "8a2000000000002"], "population": [300, 0]},
        geometry=[hexagon(68.78, 38.56), hexagon(68.78, 37.84)],
        crs="EPSG:4326",
    )
    path = tmp_path / "cells.gpkg"
    pyogrio.write_dataframe(cells, path, layer="cells", driver="GPKG")
    u = load_user_population(path, districts)
    assert list(u.community_id) == ["user-8a2000000000001", "user-8a2000000000002"]
    assert list(u.district) == ["Dushanbe", "Kushoniyon"]
    assert set(u.geometry.geom_type) == {"Point"}
    assert list(u.population) == [300, 0]


def test_user_csv_lonlat(tmp_path, districts):
    path = tmp_path / "pop.csv"
    path.write_text("id,name,lon,lat,population\n1,Деҳа,69.78,37.91,100\n2,B,68.78,38.56,2500\n", encoding="utf-8")
    u = load_user_population(path, districts)
    assert list(u.community_id) == ["user-1", "user-2"]
    assert list(u.population) == [100, 2500]
    assert u.name.iloc[0] == "Деҳа"


def test_user_bad_population_names_row(tmp_path, districts):
    path = tmp_path / "bad.csv"
    path.write_text("lon,lat,population\n69.78,37.91,100\n68.78,38.56,many\n", encoding="utf-8")
    with pytest.raises(CommunityError, match=r"bad\.csv: row 3: population 'many' is not a number"):
        load_user_population(path, districts)
    path.write_text("lon,lat,population\n69.78,37.91,-5\n", encoding="utf-8")
    with pytest.raises(CommunityError, match=r"bad\.csv: row 2: population '-5' is negative"):
        load_user_population(path, districts)


def test_user_outside_tajikistan_names_row(tmp_path, districts):
    path = tmp_path / "far.geojson"
    gpd.GeoDataFrame(
        {"population": [10, 20, 30]},
        geometry=[Point(69.78, 37.91), Point(69.0, 38.5), Point(2.35, 48.85)],  # Paris
        crs="EPSG:4326",
    ).to_file(path, driver="GeoJSON")
    with pytest.raises(CommunityError, match=r"far\.geojson: row 3: point .* outside Tajikistan"):
        load_user_population(path, districts)
    # inside the bounding box but in Uzbekistan (Samarkand): outside every district
    path2 = tmp_path / "uz.csv"
    path2.write_text("lon,lat,population\n69.78,37.91,1\n66.97,39.65,5\n", encoding="utf-8")
    with pytest.raises(CommunityError, match=r"uz\.csv: row 3: .*outside Tajikistan"):
        load_user_population(path2, districts)


@pytest.mark.parametrize("content, expected", [
    ("lon,lat,population\n37.91,69.78,10\n", r"row 2: latitude and longitude look swapped .* lon=69\.78000, lat=37\.91000"),
    ("lon,lat,population\n69.78,37.91,10\n,,5\n", r"row 3: empty coordinate"),
    ("lon,lat,population\n69.78,abc,10\n", r"row 2: coordinates \('69\.78', 'abc'\) are not numbers"),
    ("id,lon,lat,population\na,69.78,37.91,1\nb,69.0,38.5,2\na,69.1,38.6,3\n",
     r"row 4: duplicate id 'a' \(first used in row 2\)"),
    ("", r"the file is empty"),
    ("lon,lat,population\n", r"no rows"),
    ("lon,lat,population,name\n69.78,37.91,10,Dehai Ko\xfdhi\n".encode("latin-1"), r"row 2: not UTF-8"),
])
def test_user_bad_files_name_the_row_and_problem(tmp_path, districts, content, expected):
    path = tmp_path / "layer.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(CommunityError, match=r"layer\.csv: " + expected):
        load_user_population(path, districts)


def test_user_layer_reports_every_bad_row_at_once(tmp_path, districts):
    path = tmp_path / "many.csv"
    path.write_text("lon,lat,population\n69.78,37.91,x\n37.91,69.78,1\n69.0,38.5,-3\n", encoding="utf-8")
    with pytest.raises(CommunityError) as err:
        load_user_population(path, districts)
    lines = str(err.value).splitlines()
    assert [line.split(":")[1].strip() for line in lines] == ["row 2", "row 3", "row 4"]


def test_user_missing_columns(tmp_path, districts):
    path = tmp_path / "nopop.csv"
    path.write_text("lon,lat,people_count\n69.78,37.91,1\n", encoding="utf-8")
    with pytest.raises(CommunityError, match="no population column"):
        load_user_population(path, districts)
    path = tmp_path / "h3only.csv"
    path.write_text("h3,population\n8a2000000000001,1\n", encoding="utf-8")
    try:
        import h3  # noqa: F401
    except ImportError:
        with pytest.raises(CommunityError, match="h3 package"):
            load_user_population(path, districts)
