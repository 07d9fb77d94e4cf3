"""Districts and regions: loading, name look-up and the builder used by the data step.

The polygons are geoBoundaries TJK ADM2 (gbOpen, OSM-derived, boundary year 2017) with
Dushanbe carved out of Rudaki as a 59th unit. Their names predate the 2016–2018
renamings, so the builder writes today's name in ``district`` and keeps the old
geoBoundaries name and common spellings in ``district_aliases`` (``;``-separated).
``find_district`` matches either, ignoring case, diacritics, apostrophes, hyphens and
words such as "district" or "city".
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
from shapely.geometry import Point

from coverage import config
from coverage.errors import BoundaryError, CoverageError

DISTRICTS_LAYER = "districts"
REGIONS_LAYER = "regions"

DISTRICT_COLUMNS = [
    "district_id",
    "district",
    "district_aliases",
    "region",
    "population",
    "women",
    "seat",
    "seat_lon",
    "seat_lat",
    "geometry",
]
REGION_COLUMNS = ["region", "population", "women", "geometry"]

# geoBoundaries ADM1 name / ISO code -> the short region names used everywhere.
REGION_SHORT: dict[str, str] = {
    "Sughd Region": "Sughd",
    "TJ-SU": "Sughd",
    "Khatlon Region": "Khatlon",
    "TJ-KT": "Khatlon",
    "Gorno-Badakhshan Autonomous Region": "Gorno-Badakhshan (GBAO)",
    "TJ-GB": "Gorno-Badakhshan (GBAO)",
    "Districts of Republican Subordination": "Districts of Republican Subordination (DRS)",
    "TJ-RA": "Districts of Republican Subordination (DRS)",
    "Dushanbe": "Dushanbe",
    "TJ-DU": "Dushanbe",
}

# Extra spellings per geoBoundaries district name (besides the old name itself, the
# crosswalk's names and the Tajik census unit names). Russian-era and transliteration
# variants as met in reports (e.g. ../shared/data/tj_dv_services_facts/services_facts.csv)
# and the cities of regional subordination that lie inside a polygon (Khujand, Guliston,
# Istiqlol in Ghafurov; Bokhtar city in Bokhtar/Kushoniyon; Khorugh in Shughnon).
EXTRA_ALIASES: dict[str, tuple[str, ...]] = {
    "Jilikul": ("Jilikŭl", "Dzhilikul"),
    "Qumsangir": ("Kumsangir", "Qumsangir", "Jayhun", "Dzhaykhun"),
    "Rumi": ("Kolkhozobod", "Kolkhozabad", "Jaloliddin Balkhi", "J. Balkhi"),
    "Shuro-obod": ("Shurobod", "Shurabad", "Sh. Shohin"),
    "Jirgatol": ("Jirgatal", "Dzhirgatal"),
    "Tavildara": ("Tavildora",),
    "Ghonchi": ("Ganchi",),
    "Bokhtar": (
        "Bokhtar",
        "Bokhtar city",
        "Qurghonteppa",
        "Kurgan-Tyube",
        "Kurgan-Tube",
        "Kurgonteppa",
    ),
    "Sarband": ("Levakant city",),
    "Dzhami": ("Jomi", "A. Jomi", "Jami"),
    "Hamadoni": ("Mir Said Alii Hamadoni", "Mir Said Ali Hamadoni", "Moskovsky", "Moskovskiy"),
    "Shahrtuz": ("Shaartuz", "Shahrituz"),
    "Qabodiyon": ("Kabodiyon", "Kabadian"),
    "Sharinav": ("Shahrinaw", "Shakhrinau"),
    "Ghafurov": (
        "Gafurov",
        "B. Ghafurov",
        "Khujand",
        "Khujand city",
        "Khodjent",
        "Khojand",
        "Khudzhand",
        "Leninabad",
        "Guliston",
        "Qayroqqum",
        "Kayrakkum",
        "Istiqlol",
        "Taboshar",
        "Chkalovsk",
    ),
    "Konibodom": ("Kanibadam",),
    "Vose'": ("Vose", "Vosse"),
    "Kulob": ("Kulyab", "Kŭlob"),
    "Norak": ("Nurek",),
    "Istaravshan": ("Ura-Tyube",),
    "Panjakent": ("Penjikent", "Panjikent"),
    "Shughnon": ("Khorugh", "Khorog"),
    "Rudaki": ("Leninsky",),
    "Vahdat": ("Kofarnihon",),
    "Tursunzoda": ("Regar",),
    "Hisor": ("Gissar",),
    "Danghara": ("Dangara",),
    "Farkhor": ("Parkhar",),
    "Panj": ("Pyanj",),
    "Yovon": ("Yavan",),
    "Muminobod": ("Muminabad",),
    "Baljuvon": ("Baljuvan",),
    "Ishkoshim": ("Ishqoshim",),
    "Roshtqal'a": ("Roshtqala",),
    "Faizobod": ("Fayzobod",),
    "Dushanbe": ("Dushanbe city", "Душанбе", "Stalinabad"),
}

# District seats (administrative centres), keyed by geoBoundaries district name:
# (seat name as shown, GeoNames id of the point used for its coordinates).
# Compiled from the Wikidata `seat` column (../shared/data/wikidata_adm2_population)
# where given, else the district's namesake or known centre; every id is a GeoNames
# cities500 point lying inside that district. Roghun has two GeoNames "Roghun" points;
# 1346374 is the town. Vose': GeoNames calls the town point "Hulbuk" (Wikidata seat).
SEATS: dict[str, tuple[str, int | None]] = {
    "Asht": ("Shaydon", 1514921),
    "Ayni": ("Ayni", 1222222),
    "Baljuvon": ("Baljuvon", 1222192),
    "Bokhtar": ("Bokhtar", 1220747),
    "Danghara": ("Danghara", 1221965),
    "Darvoz": ("Qalaikhumb", 1221559),
    "Dushanbe": ("Dushanbe", 1221874),
    "Dzhami": ("Abdurahmoni Jomi", 1221136),
    "Faizobod": ("Fayzobod", 1221774),
    "Farkhor": ("Farkhor", 1220826),
    "Ghafurov": ("Ghafurov", 1514900),
    "Ghonchi": ("Ghonchi", 1221758),
    "Hamadoni": ("Moskva", 1220988),
    "Hisor": ("Hisor", 1221714),
    "Isfara": ("Isfara", 1514896),
    "Ishkoshim": ("Ishqoshim", 1221614),
    "Istaravshan": ("Istaravshan", 1220253),
    "Jabbor Rasulov": ("Proletar", 1514839),
    "Jilikul": ("Jilikul", 1221808),
    "Jirgatol": ("Vahdat (Lakhsh)", 1221802),
    "Khovaling": ("Khovaling", 1221321),
    "Khuroson": ("Obikiik", 1220883),
    "Konibodom": ("Konibodom", 1514891),
    "Kuhistoni Mastchoh": ("Mehron", 8217253),
    "Kulob": ("Kulob", 1221194),
    "Mastchoh": ("Buston", 1514913),
    "Muminobod": ("Muminobod", 1221091),
    "Murghob": ("Murghob", 1220962),
    "Norak": ("Norak", 1220905),
    "Nosiri Khusrav": ("Bahori", 1475483),
    "Nurobod": ("Darband", 1221250),
    "Panj": ("Panj", 1220750),
    "Panjakent": ("Panjakent", 1220798),
    "Qabodiyon": ("Qubodiyon", 1221583),
    "Qumsangir": ("Dusti", 1221871),
    "Rasht": ("Rasht", 1221740),
    "Roghun": ("Roghun", 1346374),
    "Roshtqal'a": ("Roshtqal'a", 1220694),
    "Rudaki": ("Somoniyon", 1221089),
    "Rumi": ("Jaloliddini Balkhi (Kolkhozobod)", 1221259),
    "Rushon": ("Rushon", 1220685),
    "Sarband": ("Levakant", 1221549),
    "Shahriston": ("Shahriston", 1220571),
    "Shahrtuz": ("Shahritus", 1220576),
    "Sharinav": ("Shahrinav", 1220566),
    "Shughnon": ("Khorugh", 1221328),
    "Shuro-obod": ("Shurobod", 1220479),
    "Spitamen": ("Nov", 1514856),
    "Tavildara": ("Tavildara", 1220324),
    "Temurmalik": ("Sovet", 1220446),
    "Tojikobod": ("Tojikobod", 1220416),
    "Tursunzoda": ("Tursunzoda", 1282601),
    "Vahdat": ("Vahdat", 1220855),
    "Vakhsh": ("Vakhsh", 1220219),
    "Vanj": ("Vanj", 1220210),
    "Varzob": ("Varzob", 1220197),
    "Vose'": ("Vose'", 1220163),
    "Yovon": ("Yovon", 1220112),
    "Zafarobod": ("Zafarobod", 1514815),
}


# --- names --------------------------------------------------------------------------

_CYR = {
    "а": "a", "б": "b", "в": "v", "г": "g", "ғ": "gh", "д": "d", "е": "e", "ё": "yo",
    "ж": "zh", "з": "z", "и": "i", "ӣ": "i", "й": "y", "к": "k", "қ": "q", "л": "l",
    "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u",
    "ӯ": "u", "ф": "f", "х": "kh", "ҳ": "h", "ч": "ch", "ҷ": "j", "ш": "sh", "щ": "sh",
    "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya", "ў": "u", "ң": "ng",
    "ү": "u", "ө": "o", "і": "i",
}  # fmt: skip
_LATIN_FOLD = (
    ("dzh", "j"),
    ("zh", "j"),
    ("x", "kh"),
    ("w", "v"),
    ("yo", "e"),
    ("ye", "e"),
    ("q", "k"),
    ("gh", "g"),
)
_STOP_WORDS = {
    "district", "districts", "city", "town", "region", "rayon", "raion", "nohiya",
    "nohiyai", "shahri", "former", "formerly", "jamoat", "hamagi", "province", "viloyat",
}  # fmt: skip


def _ascii_fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", str(text)).casefold()
    text = "".join(_CYR.get(ch, ch) for ch in text)
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if not unicodedata.combining(ch))


def normalise_name(name: str, drop_words: bool = True) -> str:
    """A matching key: no case, diacritics, script (Cyrillic is transliterated),
    punctuation or spaces; common Latin spelling variants folded (dzh/zh→j, x→kh,
    q→k, gh→g), doubled letters collapsed; words like "district"/"city" dropped.

    Parameters
    ----------
    name : str
        A place or district name in any script.
    drop_words : bool
        Drop the common words ("district", "city", ...).

    Returns
    -------
    str
        Lower-case ASCII letters and digits only.
    """
    text = _ascii_fold(name)
    words = re.split(r"[^a-z0-9]+", text.replace("'", "").replace("’", "").replace("`", ""))
    if drop_words:
        words = [w for w in words if w not in _STOP_WORDS]
    text = "".join(words)
    for old, new in _LATIN_FOLD:
        text = text.replace(old, new)
    return re.sub(r"(.)\1+", r"\1", text)


def _name_candidates(name: str) -> list[str]:
    """The name itself, then without any parenthesis, then each part named inside it
    ("Bokhtar city (former Kurgan-Tyube/Qurghonteppa)" → Bokhtar, Kurgan-Tyube, ...)."""
    out = [name]
    inner = re.findall(r"\(([^)]*)\)", name)
    outer = re.sub(r"\([^)]*\)", " ", name).strip()
    if outer and outer != name:
        out.append(outer)
    for part in inner:
        out.extend(p for p in re.split(r"[/,;]|\bor\b", part) if p.strip())
    return out


def alias_list(aliases: str | float | None) -> list[str]:
    """The names of a ``district_aliases`` cell (``;``-separated), stripped, empty ones
    dropped; none for None or NaN."""
    if aliases is None or (isinstance(aliases, float) and pd.isna(aliases)):
        return []
    return [a.strip() for a in str(aliases).split(";") if a.strip()]


def _district_lookup(districts: pd.DataFrame) -> tuple[dict[str, object], dict[str, object]]:
    primary: dict[str, object] = {}
    alias: dict[str, object] = {}
    has_alias = "district_aliases" in districts.columns
    for idx, name, aliases in zip(
        districts.index,
        districts["district"],
        districts["district_aliases"] if has_alias else [None] * len(districts),
    ):
        primary.setdefault(normalise_name(name), idx)
        for a in alias_list(aliases):
            alias.setdefault(normalise_name(a), idx)
    return primary, alias


def find_district(districts: pd.DataFrame, name: str) -> pd.Series:
    """The district row for a name: today's name or any alias, case-, diacritic- and
    script-insensitive ("Jilikul", "DUSTI", "Дӯстӣ" and "Dusti district" give one row).
    Names like "Bokhtar city (former Kurgan-Tyube)" are tried whole, then in parts.

    Parameters
    ----------
    districts : DataFrame
        The districts table (``district``, optionally ``district_aliases``).
    name : str
        The name to look up.

    Returns
    -------
    Series
        The matching row (today's names win over aliases).

    Raises
    ------
    KeyError
        An empty name, or nothing matches.
    """
    if name is None or not str(name).strip():
        raise KeyError("empty district name")
    primary, alias = _district_lookup(districts)
    for cand in _name_candidates(str(name)):
        key = normalise_name(cand)
        if not key:
            continue
        for table in (primary, alias):
            if key in table:
                return districts.loc[table[key]]
    raise KeyError(f"no district named {name!r} (by today's name or any alias)")


# --- loading ------------------------------------------------------------------------


def load_districts(path: Path = config.DISTRICTS_FILE) -> gpd.GeoDataFrame:
    """The districts layer written by the data step (EPSG:4326).

    Returns
    -------
    GeoDataFrame
        ``district_id``, ``district``, ``district_aliases``, ``region``, ``population``
        and ``women`` (people, int64, 2020 census; women derived from the sex ratio), ``seat``, ``seat_lon``, ``seat_lat`` (degrees) and
        polygon ``geometry`` in EPSG:4326.

    Raises
    ------
    FileNotFoundError
        ``path`` is missing (run the data step first).
    """
    gdf = read_counted_layer(path, DISTRICTS_LAYER, error=BoundaryError,
                             no_women_id="boundaries.no_women_column")
    gdf["district_aliases"] = gdf["district_aliases"].fillna("")
    gdf["seat"] = gdf["seat"].fillna("")
    return gdf.to_crs(config.CRS_STORE)


def read_counted_layer(path: Path | str, layer: str, *, error: type[CoverageError],
                       no_women_id: str) -> gpd.GeoDataFrame:
    """A layer the data step wrote, with its ``population`` and ``women`` counts as int64.

    Parameters
    ----------
    path
        The GeoPackage the data step wrote.
    layer
        Its layer to read.
    error, no_women_id
        The error class and message id for a layer written before women were counted.

    Returns
    -------
    GeoDataFrame
        The layer in the CRS it was written in (EPSG:4326 for the data step's files).

    Raises
    ------
    FileNotFoundError
        ``path`` is missing (run the data step first).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: run the data step first (python -m coverage data)")
    gdf = pyogrio.read_dataframe(path, layer=layer)
    if "women" not in gdf.columns:
        raise error(f"{path}: written before women were counted (no 'women' column); "
                    "run the data step again (python -m coverage data)", message_id=no_women_id)
    gdf["population"] = gdf["population"].astype("int64")
    gdf["women"] = gdf["women"].astype("int64")
    return gdf


def load_regions(path: Path = config.DISTRICTS_FILE) -> gpd.GeoDataFrame:
    """The regions layer written by the data step (EPSG:4326).

    Returns
    -------
    GeoDataFrame
        ``region``, ``population`` and ``women`` (people, int64) and polygon ``geometry`` in EPSG:4326.

    Raises
    ------
    FileNotFoundError
        ``path`` is missing (run the data step first).
    """
    gdf = read_counted_layer(path, REGIONS_LAYER, error=BoundaryError, no_women_id="boundaries.no_women_column")
    return gdf.to_crs(config.CRS_STORE)


# --- building (data step) -------------------------------------------------------------


def _strip_suffix(name: str) -> str:
    name = re.sub(r"\s*\((city|district)\)\s*$", "", str(name).strip())
    return re.sub(r"\s+District$", "", name).strip()


def _tajik_unit_names(units_tg: str | float | None) -> list[str]:
    """"ноҳияи К ушониён;шаҳри Бохтар" → ["Кушониён", "Бохтар"]."""
    out = []
    for unit in alias_list(units_tg):
        unit = re.sub(r"^(ноҳияи|шаҳри)\s+", "", unit)
        unit = re.sub(r"\s*-\s*ҳамагӣ\s*$", "", unit)
        unit = re.sub(r"\b([А-ЯЁҚҒҲҶӢӮ]) (?=[а-яёқғҳҷӣӯ])", r"\1", unit)  # "К ушониён"
        if unit:
            out.append(unit.strip())
    return out


def districts_with_region(adm2: gpd.GeoDataFrame, adm1: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Original geoBoundaries ADM2 + ADM1 → the 59-unit layout of the mirror's
    ``tjk_adm2_districts_with_region.geojson``: each ADM2 unit gets the region whose ADM1
    polygon holds its representative point; an ADM1 unit holding no ADM2 point
    (Dushanbe) becomes a unit of its own and is cut out of the ADM2 polygons it overlaps
    (Rudaki).

    Parameters
    ----------
    adm2, adm1 : GeoDataFrame
        geoBoundaries layers (``shapeName``, ``shapeID``; ADM1 also ``shapeISO``), any CRS.

    Returns
    -------
    GeoDataFrame
        The ADM2 columns plus ``adm1_name``, ``adm1_iso``, ``adm1_shapeID``, ``district``
        and ``region`` (short name), in EPSG:4326.

    Raises
    ------
    BoundaryError
        ``boundaries.adm2_outside_adm1``.
    """
    adm2 = adm2.to_crs(config.CRS_STORE).reset_index(drop=True)
    adm1 = adm1.to_crs(config.CRS_STORE).reset_index(drop=True)
    pts = gpd.GeoDataFrame(geometry=adm2.geometry.representative_point(), crs=adm2.crs)
    joined = gpd.sjoin(pts, adm1[["shapeName", "shapeISO", "shapeID", "geometry"]], predicate="within")
    joined = joined[~joined.index.duplicated()]
    out = adm2.copy()
    out["adm1_name"] = joined["shapeName"].reindex(out.index)
    out["adm1_iso"] = joined["shapeISO"].reindex(out.index)
    out["adm1_shapeID"] = joined["shapeID"].reindex(out.index)
    if out["adm1_name"].isna().any():
        missing = out.loc[out["adm1_name"].isna(), "shapeName"].tolist()
        raise BoundaryError(f"ADM2 units in no ADM1 polygon: {missing}", message_id="boundaries.adm2_outside_adm1")
    extra = []
    used = set(out["adm1_shapeID"])
    for _, region in adm1.iterrows():
        if region["shapeID"] in used:
            continue
        geom = region.geometry
        hit = out.geometry.intersects(geom)
        out.loc[hit, "geometry"] = out.loc[hit, "geometry"].difference(geom).make_valid()
        extra.append(
            {
                "shapeID": region["shapeID"],
                "shapeName": region["shapeName"],
                "adm1_name": region["shapeName"],
                "adm1_iso": region["shapeISO"],
                "adm1_shapeID": region["shapeID"],
                "geometry": geom,
            }
        )
    if extra:
        out = pd.concat([out, gpd.GeoDataFrame(extra, crs=out.crs)], ignore_index=True)
    out["district"] = out["shapeName"].map(_strip_suffix)
    out["region"] = [
        REGION_SHORT.get(name, REGION_SHORT.get(iso, name))
        for name, iso in zip(out["adm1_name"], out["adm1_iso"])
    ]
    return gpd.GeoDataFrame(out, geometry="geometry", crs=config.CRS_STORE)


def _join_census(units: gpd.GeoDataFrame, census: pd.DataFrame) -> pd.DataFrame:
    """Census rows per unit: by geoBoundaries shapeID, else by unit name."""
    census = census.copy()
    census["_key"] = census["census_unit_name"].map(normalise_name)
    by_id = census.set_index("gb_adm2_shapeID")
    by_name = census.drop_duplicates("_key").set_index("_key")
    rows = []
    missing = []
    for _, u in units.iterrows():
        if u["shapeID"] in by_id.index:
            rows.append(by_id.loc[u["shapeID"]])
        elif normalise_name(u["shapeName"]) in by_name.index:
            rows.append(by_name.loc[normalise_name(u["shapeName"])])
        else:
            missing.append(u["shapeName"])
    if missing:
        raise BoundaryError(f"no 2020 census population for district(s) {missing}",
                            message_id="boundaries.census_missing")
    return pd.DataFrame(rows).reset_index(drop=True)


def _seat_points(
    units: gpd.GeoDataFrame, geonames: pd.DataFrame | None, settlements: pd.DataFrame | None
) -> tuple[list[str], list[float], list[float]]:
    """Seat name and coordinates per unit: the GeoNames point from :data:`SEATS`, else
    a GeoNames/OSM place of the same name inside the district, else the polygon's
    representative point."""
    gn = None
    if geonames is not None and len(geonames):
        gn = geonames.set_index(geonames["geonameid"].astype("int64"))
    names, lons, lats = [], [], []
    for _, u in units.iterrows():
        seat, gid = SEATS.get(u["district_old"], ("", None))
        pt: Point | None = None
        if gn is not None and gid is not None and gid in gn.index:
            cand = Point(float(gn.loc[gid, "longitude"]), float(gn.loc[gid, "latitude"]))
            if u.geometry.buffer(0.02).contains(cand):
                pt = cand
        if pt is None and seat and settlements is not None and len(settlements):
            key = normalise_name(seat.split("(")[0])
            sub = settlements[settlements["_key"] == key]
            for _, s in sub.iterrows():
                cand = Point(float(s["lon"]), float(s["lat"]))
                if u.geometry.contains(cand):
                    pt = cand
                    break
        if pt is None:
            pt = u.geometry.representative_point()
        names.append(seat)
        lons.append(round(pt.x, 6))
        lats.append(round(pt.y, 6))
    return names, lons, lats


def build_districts(
    units: gpd.GeoDataFrame,
    census: pd.DataFrame,
    crosswalk: pd.DataFrame | None = None,
    geonames: pd.DataFrame | None = None,
    settlements: pd.DataFrame | None = None,
) -> gpd.GeoDataFrame:
    """The ``districts`` table (see docs/ARCHITECTURE.md) from the 59 geoBoundaries units
    (``districts_with_region`` output or the mirror's derived GeoJSON), the 2020 census
    CSV (``gb_adm2_shapeID``, ``census_unit_name``, ``population_total``,
    ``population_female_derived``, ``census_units_tg``), the name crosswalk (``shapeName``, ``current_name_en``) and
    GeoNames/OSM places for the seat coordinates. Geometries are not simplified.

    Returns
    -------
    GeoDataFrame
        ``district_id``, ``district``, ``district_aliases``, ``region``, ``population``
        and ``women`` (people, int64), ``seat``, ``seat_lon``, ``seat_lat`` (degrees) and polygons in
        EPSG:4326, sorted by region and district.

    Raises
    ------
    BoundaryError
        ``boundaries.missing_column``, ``boundaries.census_missing`` or
        ``boundaries.ambiguous_name``.
    """
    units = units.to_crs(config.CRS_STORE).reset_index(drop=True)
    for col in ("shapeID", "shapeName", "district", "region"):
        if col not in units.columns:
            raise BoundaryError(f"boundary layer lacks column {col!r}", message_id="boundaries.missing_column")
    census_rows = _join_census(units, census)
    today: dict[str, str] = {}
    if crosswalk is not None:
        for _, row in crosswalk.iterrows():
            today[str(row["shapeName"]).strip()] = _strip_suffix(row["current_name_en"])
    if settlements is not None and len(settlements):
        settlements = settlements.copy()
        settlements["_key"] = settlements["name"].map(normalise_name)

    out = gpd.GeoDataFrame(geometry=units.geometry.values, crs=config.CRS_STORE)
    out["district_id"] = units["shapeID"].astype(str).values
    old = units["district"].astype(str).values
    out["district"] = [today.get(sn, d) for sn, d in zip(units["shapeName"], old)]
    aliases = []
    for i in range(len(units)):
        names = [old[i], str(units.loc[i, "shapeName"])]
        names += list(EXTRA_ALIASES.get(old[i], ()))
        names += _tajik_unit_names(census_rows.loc[i].get("census_units_tg"))
        seen = {out.loc[i, "district"].casefold()}  # exact spellings (Cyrillic kept too)
        kept = []
        for n in names:
            k = n.casefold()
            if n and k not in seen:
                seen.add(k)
                kept.append(n)
        aliases.append(";".join(kept))
    out["district_aliases"] = aliases
    out["region"] = units["region"].astype(str).values
    out["population"] = pd.to_numeric(census_rows["population_total"], errors="raise").astype("int64").values
    out["women"] = pd.to_numeric(census_rows["population_female_derived"], errors="raise").astype("int64").values
    units = units.assign(district_old=old)
    seat, lon, lat = _seat_points(units, geonames, settlements)
    out["seat"], out["seat_lon"], out["seat_lat"] = seat, lon, lat
    out = out[DISTRICT_COLUMNS]
    _check_alias_collisions(out)
    return out.sort_values(["region", "district"]).reset_index(drop=True)


def _check_alias_collisions(districts: pd.DataFrame) -> None:
    owner: dict[str, str] = {}
    for _, row in districts.iterrows():
        for n in [row["district"], *alias_list(row["district_aliases"])]:
            k = normalise_name(n)
            if k in owner and owner[k] != row["district_id"]:
                raise BoundaryError(f"district name/alias {n!r} is ambiguous", message_id="boundaries.ambiguous_name")
            owner[k] = row["district_id"]


def build_regions(districts: gpd.GeoDataFrame, adm1: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """The ``regions`` table: the geoBoundaries ADM1 polygons (or, without them, the
    dissolved districts) with the summed census population.

    Returns
    -------
    GeoDataFrame
        ``region``, ``population`` and ``women`` (people, int64) and polygons in EPSG:4326, sorted by region.

    Raises
    ------
    BoundaryError
        ``boundaries.regions_differ`` when ADM1 and the districts name different regions.
    """
    pop = districts.groupby("region")["population"].sum()
    women = districts.groupby("region")["women"].sum()
    if adm1 is not None:
        adm1 = adm1.to_crs(config.CRS_STORE)
        region = [
            REGION_SHORT.get(n, REGION_SHORT.get(i, n))
            for n, i in zip(adm1["shapeName"], adm1.get("shapeISO", adm1["shapeName"]))
        ]
        out = gpd.GeoDataFrame({"region": region}, geometry=adm1.geometry.values, crs=config.CRS_STORE)
    else:
        out = districts.dissolve(by="region").reset_index()[["region", "geometry"]]
    unknown = set(out["region"]) ^ set(pop.index)
    if unknown:
        raise BoundaryError(f"regions differ between ADM1 and the districts: {sorted(unknown)}",
                            message_id="boundaries.regions_differ")
    out["population"] = out["region"].map(pop).astype("int64")
    out["women"] = out["region"].map(women).astype("int64")
    return out[REGION_COLUMNS].sort_values("region").reset_index(drop=True)
