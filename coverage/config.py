"""Every path, CRS, speed and threshold in one place.

Imported by every other module; imports nothing from the project. Values are plain
defaults; a user overrides them in a TOML file (``coverage.toml`` in the project root,
or the path in ``COVERAGE_SETTINGS``), loaded by :func:`load_settings`. Nothing here
is mutated at run time: functions take a :class:`Settings` and return new data.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# --- coordinate reference systems -------------------------------------------------
CRS_STORE = "EPSG:4326"  # every file on disk and every layer sent to a map
CRS_METRIC = "EPSG:32642"  # UTM 42N: snapping, buffers and straight-line distances (metres)

# Tajikistan with a small margin (degrees); a point outside is rejected on load.
TJ_BOUNDS = MappingProxyType({"lon_min": 67.2, "lon_max": 75.3, "lat_min": 36.6, "lat_max": 41.1})

# --- vocabularies -----------------------------------------------------------------
SERVICE_TYPES: tuple[str, ...] = (
    "shelter",
    "crisis_centre",
    "resource_centre",
    "support_service",
    "self_help_group",
    "legal_aid",
    "psychosocial",
    "medical",
    "police_unit",
)
LOCATION_PRECISIONS: tuple[str, ...] = ("exact", "settlement", "district")
CONFIDENCE_LEVELS: tuple[str, ...] = ("high", "medium", "low")
SEASONS: tuple[str, ...] = ("summer", "winter")
FOCUS_REGIONS: tuple[str, ...] = ("Khatlon", "Sughd")

# --- thresholds (minutes) ---------------------------------------------------------
DEFAULT_THRESHOLD_MIN = 60.0

# --- road speeds (km/h) -----------------------------------------------------------
# Tajik defaults: mountain trunk roads with tunnels and villages on the way are far
# slower than their class suggests; Dushanbe–Khujand (330 km) takes 4.5–5 h by car.
HIGHWAY_SPEED_KPH: Mapping[str, float] = MappingProxyType(
    {
        "motorway": 90.0,
        "trunk": 65.0,
        "primary": 55.0,
        "secondary": 45.0,
        "tertiary": 35.0,
        "unclassified": 30.0,
        "residential": 20.0,
        "living_street": 10.0,
        "service": 15.0,
        "track": 15.0,
        "road": 30.0,
        "motorway_link": 50.0,
        "trunk_link": 40.0,
        "primary_link": 35.0,
        "secondary_link": 30.0,
        "tertiary_link": 25.0,
    }
)
DEFAULT_SPEED_KPH = 30.0  # any highway class not listed above
# Multiplier on the class speed by OSM `surface`; unknown surfaces keep the class speed.
SURFACE_SPEED_FACTOR: Mapping[str, float] = MappingProxyType(
    {
        "paved": 1.0,
        "asphalt": 1.0,
        "concrete": 1.0,
        "paving_stones": 0.9,
        "compacted": 0.8,
        "fine_gravel": 0.75,
        "gravel": 0.65,
        "unpaved": 0.6,
        "dirt": 0.5,
        "ground": 0.5,
        "earth": 0.5,
        "sand": 0.4,
    }
)
TUNNEL_SPEED_KPH = 40.0  # long, dark, badly ventilated mountain tunnels (Anzob, Shahriston)

# Winter (≈ Nov/Dec–May): edges tagged `seasonal:winter=closed` (high passes) are removed;
# edges tagged `hazard=avalanche` keep running but slower.
WINTER_AVALANCHE_SPEED_FACTOR = 0.75

# --- off-network access (community -> road, road -> service) ------------------------
ACCESS_DETOUR_FACTOR = 1.4  # straight line × this = local road/path distance
ACCESS_SPEED_SPARSE_KPH = 30.0  # driving on local roads missing from a sparse trunk network
ACCESS_SPEED_DENSE_KPH = 4.5  # walking, when a full OSM extract reaches the village
# Each community and service may join the road network at any of its nearest nodes.
SNAP_CANDIDATES = 16
# A network with fewer nodes than this is treated as a sparse trunk network.
SPARSE_NETWORK_MAX_NODES = 5000

# --- project paths ------------------------------------------------------------------
DATA_DIR = PROJECT_ROOT / "data"
BOUNDARIES_DIR = DATA_DIR / "boundaries"  # written by the data step (git-ignored)
COMMUNITIES_DIR = DATA_DIR / "communities"  # written by the data step (git-ignored)
HEALTH_DIR = DATA_DIR / "health"  # OSM health facilities, written by the data step (git-ignored)
SERVICES_DIR = DATA_DIR / "services"
SERVICES_CSV = SERVICES_DIR / "services.csv"  # shipped, authored from the shared facts
ROADS_DIR = DATA_DIR / "roads"
DEFAULT_NETWORK = ROADS_DIR / "tj_trunk_roads.osm"  # shipped, authored OSM XML
CACHE_DIR = DATA_DIR / "cache"  # routing matrices etc. (git-ignored)
MANIFEST_PATH = DATA_DIR / "manifest.json"  # written by the data step (git-ignored)
DEFAULT_MIRROR = PROJECT_ROOT.parent / "shared" / "data"

DISTRICTS_FILE = BOUNDARIES_DIR / "districts.gpkg"  # layers: districts, regions
COMMUNITIES_FILE = COMMUNITIES_DIR / "communities.gpkg"  # layer: communities
HEALTH_FILE = HEALTH_DIR / "health_facilities.gpkg"  # layer: health_facilities


@dataclass(frozen=True)
class Settings:
    """User-overridable analysis settings (speeds in km/h, times in minutes)."""

    highway_speed_kph: Mapping[str, float] = field(default_factory=lambda: dict(HIGHWAY_SPEED_KPH))
    default_speed_kph: float = DEFAULT_SPEED_KPH
    surface_speed_factor: Mapping[str, float] = field(
        default_factory=lambda: dict(SURFACE_SPEED_FACTOR)
    )
    tunnel_speed_kph: float = TUNNEL_SPEED_KPH
    winter_avalanche_speed_factor: float = WINTER_AVALANCHE_SPEED_FACTOR
    access_detour_factor: float = ACCESS_DETOUR_FACTOR
    access_speed_sparse_kph: float = ACCESS_SPEED_SPARSE_KPH
    access_speed_dense_kph: float = ACCESS_SPEED_DENSE_KPH
    sparse_network_max_nodes: int = SPARSE_NETWORK_MAX_NODES
    snap_candidates: int = SNAP_CANDIDATES
    default_threshold_min: float = DEFAULT_THRESHOLD_MIN


def settings_file() -> Path:
    """The TOML file a user edits to override defaults (may not exist)."""
    return Path(os.environ.get("COVERAGE_SETTINGS", PROJECT_ROOT / "coverage.toml"))


def load_settings(path: Path | None = None) -> Settings:
    """Defaults, overridden by the TOML file if it exists.

    The file holds top-level keys named like :class:`Settings` fields; the tables
    ``[highway_speed_kph]`` and ``[surface_speed_factor]`` update (not replace) the
    default tables, so ``trunk = 70`` alone changes one class.
    """
    path = Path(path) if path is not None else settings_file()
    base = Settings()
    if not path.exists():
        return base
    with path.open("rb") as fh:
        raw = tomllib.load(fh)
    known = set(Settings.__dataclass_fields__)
    unknown = set(raw) - known
    if unknown:
        raise ValueError(f"{path}: unknown setting(s) {sorted(unknown)}; known: {sorted(known)}")
    updates: dict[str, object] = {}
    for key, value in raw.items():
        if key in ("highway_speed_kph", "surface_speed_factor"):
            merged = dict(getattr(base, key))
            merged.update({str(k): float(v) for k, v in value.items()})
            updates[key] = merged
        else:
            updates[key] = type(getattr(base, key))(value)
    return replace(base, **updates)


def mirror_dir(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """The offline mirror folder: explicit argument, else ``COVERAGE_MIRROR``, else
    ``../shared/data`` beside the project if it exists, else None (download)."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("COVERAGE_MIRROR")
    if env:
        return Path(env)
    return DEFAULT_MIRROR if DEFAULT_MIRROR.is_dir() else None

# --- data step: download endpoints and community population model -----------------------
# (added for coverage/sources.py and coverage/communities.py; tests point the URLs at a
# local HTTP server)
GEOBOUNDARIES_API = "https://www.geoboundaries.org/api/current"  # + /gbOpen/TJK/ADM2/
OVERPASS_URL = "https://overpass-api.de/api"  # osmnx appends /interpreter
HTTP_TIMEOUT_S = 180.0
DOWNLOADS_DIR = DATA_DIR / "downloads"  # raw downloads of the data step (git-ignored)

# Communities: a district's 2020 census total is shared out over its settlements.
# Known GeoNames town populations come first, but all of a district's known towns
# together get at most this share of the census total (GeoNames figures for Isfara,
# Istaravshan, Konibodom, Kulob are whole-municipality figures incl. rural jamoats).
KNOWN_TOWN_MAX_SHARE = 0.6
# The remainder is shared over the other settlements by this weight per OSM place type.
COMMUNITY_PLACE_WEIGHTS: Mapping[str, float] = MappingProxyType(
    {"city": 20.0, "town": 6.0, "village": 1.0, "hamlet": 0.3}
)
# A GeoNames town is the same place as an OSM point within this distance whose name is
# similar (normalised-name similarity >= GEONAMES_MATCH_MIN_SIMILARITY); a near-identical
# name matches an OSM city/town up to GEONAMES_MATCH_RADIUS_CITY_KM (city centre points differ).
GEONAMES_MATCH_RADIUS_KM = 3.0
GEONAMES_MATCH_RADIUS_CITY_KM = 8.0
GEONAMES_MATCH_MIN_SIMILARITY = 0.75
# Whatever the names (towns renamed since GeoNames recorded them), points this close are
# one place: any OSM place / an OSM city or town.
GEONAMES_MATCH_ANY_NAME_KM = 0.5
GEONAMES_MATCH_ANY_NAME_TOWN_KM = 1.0

# --- store and sign-in ----------------------------------------------------------------
# (added for coverage/store.py and coverage/auth.py; both files live in the git-ignored
# /private/ folder and hold exact shelter points, addresses and password hashes)
STORE_PATH = PROJECT_ROOT / "private" / "registry.gpkg"  # overridden by env COVERAGE_STORE
STORE_BUSY_TIMEOUT_MS = 15_000  # how long a writer waits for another writer's transaction
# Owner (organisation key) of each shipped service, by service_id prefix; the rest are the
# project's own rows, editable by admins only.
SEED_OWNERS: Mapping[str, str] = MappingProxyType(
    {"SGH-GUL-": "gulrukhsor", "KHT-GHM-": "ghamkhori", "KHT-NK-": "najoti-kudakon"}
)
DEFAULT_OWNER_ORG = "project"
MAX_ADDRESS_CHARS = 500

USERS_FILE = PROJECT_ROOT / "private" / "users.yaml"  # overridden by env COVERAGE_USERS
USER_ROLES: tuple[str, ...] = ("staff", "admin")
MAX_FAILED_LOGINS = 5  # failed passwords in a row before a username is locked out …
LOCKOUT_MINUTES = 15  # … for this long (counted from the last failure)
MIN_PASSWORD_LENGTH = 10
SESSION_HOURS = 12  # lifetime of a signed session token (cookie)
MIN_COOKIE_SECRET_CHARS = 32
ORG_KEY_PATTERN = r"^[a-z0-9][a-z0-9_\-]{0,63}$"  # organisation keys: owner_org, users' organisation
USERNAME_PATTERN = r"^[a-z0-9][a-z0-9_.\-]{1,63}$"

# --- limits on user files (hostile inputs; issue 10 items 5 and 6) ---------------------
# A services list is a few hundred rows of about twenty columns: these caps are far above
# any real list and far below what would exhaust the server's memory while checking one.
MAX_UPLOAD_BYTES = 5 * 1024 * 1024  # bytes of one uploaded or named file, as stored
MAX_TABLE_ROWS = 10_000  # data rows of a services table (CSV / XLSX rows, GeoJSON features)
MAX_TABLE_COLUMNS = 64  # columns of a services table (CSV fields, XLSX columns, GeoJSON properties)
MAX_CSV_FIELD_CHARS = 100_000  # characters in one CSV cell
XLSX_MAX_UNCOMPRESSED_BYTES = 25 * 1024 * 1024  # all members of an XLSX (zip) together, unpacked
XLSX_MAX_MEMBERS = 200  # files inside an XLSX (zip)
MAX_THRESHOLD_MIN = 24 * 60.0  # largest travel-time threshold accepted, minutes
MAX_POPULATION_FILE_BYTES = 200 * 1024 * 1024  # a user's population CSV (H3 cells of the whole country fit)
