"""Every path, CRS, speed and threshold in one place, and the one settings object.

Module constants are the defaults. :class:`Settings` holds everything a user may
override, and :func:`load_settings` builds it: defaults < the TOML file
(``coverage.toml`` in the project root, or the file in ``COVERAGE_SETTINGS``) <
``COVERAGE_*`` environment variables < explicit overrides (the command line's flags).
No other module reads the environment. Imports nothing from the project but its
errors; nothing is read at import time and nothing here is mutated at run time.
"""

from __future__ import annotations

import contextlib
import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType

from coverage.errors import ConfigError

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
# What the figures count: a communities column (people). "women" (2020 census female
# share per district, derived from the sex ratio) is the default; "population" is all people.
MEASURES: tuple[str, ...] = ("women", "population")
LANGUAGES: tuple[str, ...] = ("en", "ru", "tg")  # interface languages (catalogues in locale/)
DEFAULT_LANGUAGE = "en"
DEFAULT_MEASURE = "women"
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
# Multiplier on the class speed by the project's `terrain` way tag (plain, hill, mountain,
# high_mountain), written by tools/author_trunk_network.py on the authored default network
# from the corridor facts (pass heights, gorges, SOURCE.md's plains/hills/mountain detour
# classes); a way without the tag (every real OSM extract) keeps the class speed. Speed of a
# (class, terrain) pair = HIGHWAY_SPEED_KPH[class] × this: trunk 65 / 58.5 / 58.5 / 52 km/h,
# primary 55 / 49.5 / 49.5 / 44. Calibrated on all of
# ../shared/data/tj_road_corridors/published_trip_times.csv together (bench/validation.py
# prints the fit and its --grid the search): the rebuilt M34 climbs to two ~2,700 m tunnels
# yet takes 4.5–5 h for 330 km by car (khabarasia 2024) and Dushanbe–Rasht 3–4 h (ADB, Lonely
# Planet), so on a good paved road hills and mountain valleys cost ~10 % and the high-pass
# approaches ~20 % (the four pairs cannot tell hill from mountain apart); what makes the Pamir
# roads slow is their condition (`smoothness` below).
TERRAIN_SPEED_FACTOR: Mapping[str, float] = MappingProxyType(
    {
        "plain": 1.0,
        "hill": 0.9,
        "mountain": 0.9,
        "high_mountain": 0.8,
    }
)
# Multiplier by OSM `smoothness`; a way drives like its worst condition, so the factor used
# is min(surface factor, smoothness factor). The authored network tags `smoothness=bad` where
# the corridor facts call a road degraded, poor or poorly maintained (Kulob–Qalaikhumb–Khorugh
# along the Panj: "narrow, rockfall, flooded fords", "degraded/gravel stretches"; the Tavildara
# road: "unpaved, poorly maintained"): the Panj road at 65 × 0.8 × 0.5 = 26 km/h. With it,
# Dushanbe–Qalaikhumb comes out ≈ 9 h
# (travellers: 8 h by car, 9–12 h by shared 4WD), where open models are typically 15–50 % too
# fast (MAP friction surface: median 16.9 % shorter than Google over 47,812 journeys, Nelson 2019).
SMOOTHNESS_SPEED_FACTOR: Mapping[str, float] = MappingProxyType(
    {
        "excellent": 1.0,
        "good": 1.0,
        "intermediate": 0.85,
        "bad": 0.5,
        "very_bad": 0.4,
        "horrible": 0.3,
        "very_horrible": 0.2,
        "impassable": 0.1,
    }
)
TUNNEL_SPEED_KPH = 40.0  # long, dark, badly ventilated mountain tunnels (Anzob, Shahriston)

# Winter (≈ Nov/Dec–May): edges tagged `seasonal:winter=closed` (high passes) are removed;
# edges tagged `hazard=avalanche` keep running but slower.
WINTER_AVALANCHE_SPEED_FACTOR = 0.75

# --- off-network access (community -> road, road -> service) ------------------------
ACCESS_DETOUR_FACTOR = 1.4  # straight line × this = local road/path distance
# Driving on the local roads a sparse trunk network lacks: one value for every community (the
# engine does not know which villages lie in mountain districts), set for the valley tracks of
# the mountain districts that make up most of the country: 20 km/h, the network's own speed for
# an unpaved local road in the mountains (tertiary 35 × mountain 0.9 × gravel 0.65 ≈ 20.5).
# It was 30 km/h; lowland villages on paved local roads are therefore estimated on the slow side.
ACCESS_SPEED_SPARSE_KPH = 20.0
ACCESS_SPEED_DENSE_KPH = 4.5  # walking, when a full OSM extract reaches the village
# Each community and service may join the road network at any of its nearest nodes.
SNAP_CANDIDATES = 16
# Origin–destination matrices (engine/od.py): one bounded Dijkstra call computes at most this
# many cells (sources × nodes, 8 bytes each: 2**25 ≈ 270 MB); more sources run in chunks.
OD_MAX_CELLS = 2**25
# Location-allocation (analysis/allocation.py): a community no site reaches counts as this many
# minutes in the p-median sum (a day: reaching it is worth more than any trip shortened); a
# seat and a town of the same name within this many metres are one candidate; the solver
# stops after this many seconds with the best choice found (reported as not proven optimal).
UNREACHABLE_MINUTES = 24 * 60.0
CANDIDATE_MERGE_M = 5000.0
ALLOCATION_TIME_LIMIT_S = 60.0
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
STORE_PATH = PROJECT_ROOT / "private" / "registry.gpkg"  # Settings.store (env COVERAGE_STORE)
STORE_BUSY_TIMEOUT_MS = 15_000  # how long a writer waits for another writer's transaction
# Owner (organisation key) of each shipped service, by service_id prefix; the rest are the
# project's own rows, editable by admins only.
SEED_OWNERS: Mapping[str, str] = MappingProxyType(
    {"SGH-GUL-": "gulrukhsor", "KHT-GHM-": "ghamkhori", "KHT-NK-": "najoti-kudakon"}
)
DEFAULT_OWNER_ORG = "project"
MAX_ADDRESS_CHARS = 500
MAX_SCENARIO_NAME_CHARS = 120  # a saved scenario's name
MAX_SCENARIO_BODY_CHARS = 200_000  # its JSON body (a few hundred sites and roads)

USERS_FILE = PROJECT_ROOT / "private" / "users.yaml"  # Settings.users_file (env COVERAGE_USERS)
USER_ROLES: tuple[str, ...] = ("staff", "admin")
MAX_FAILED_LOGINS = 5  # failed passwords in a row before a username is locked out …
LOCKOUT_MINUTES = 15  # … for this long (counted from the last failure)
MIN_PASSWORD_LENGTH = 10
SESSION_HOURS = 12  # lifetime of a signed session token (cookie)
MIN_COOKIE_SECRET_CHARS = 32
COOKIE_SECRET_FILE_NAME = "cookie_secret"  # generated on first run beside the users file (Settings.cookie_secret_file)
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
# Largest ``places`` (beds or places) one service may list: the biggest shelters in the
# sources hold 3 to 12 women; a figure above this is a typing slip, not a shelter.
MAX_SERVICE_PLACES = 500

# --- capacity (issue 13) -------------------------------------------------------------------
# Shelter places needed at any one time per 10,000 inhabitants, for "does the demand exceed
# the places in reach?". Source: Council of Europe, Explanatory Report to the Istanbul
# Convention (CETS 210), para. 135, and its minimum standards for support services
# (EG-TFV(2008)6): "one family place per 10,000 head of population" (a family place = a
# woman with her children). It is a European planning standard, not a measured need in
# Tajikistan: every demand figure made with it is an ESTIMATE, and users can change it
# (Settings.capacity_demand_per_10k, CLI --demand-rate, the Capacity page).
CAPACITY_DEMAND_PER_10K = 1.0
CAPACITY_DEMAND_SOURCE = ("Council of Europe, Explanatory Report to the Istanbul Convention (CETS 210), para. 135: "
                          "one family place per 10,000 head of population")
CAPACITY_TYPES: tuple[str, ...] = ("shelter",)  # default service type(s) of the capacity analysis

# --- map display ---------------------------------------------------------------------------
MAP_TILES_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"  # OpenStreetMap's own tiles
MAP_TILES_OFF_WORDS: tuple[str, ...] = ("none", "off")  # COVERAGE_MAP_TILES=none: no background
LEAFLET_URL = "/app/static/vendor/leaflet"  # the project's copy of Leaflet, served by Streamlit


# --- the one settings object -----------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """Every user-overridable setting: analysis speeds and thresholds, paths and switches.

    Built by :func:`load_settings` from, in rising precedence, these defaults, the TOML
    file, the ``COVERAGE_*`` environment variables (:data:`ENV_VARIABLES`) and explicit
    overrides (the command line's flags). Speeds in km/h, times in minutes.

    Attributes
    ----------
    data_dir
        The data step's folder (boundaries, communities, manifest; env ``COVERAGE_DATA_DIR``).
    network_path
        The road network file, ``.osm`` or ``.osm.pbf`` (env ``COVERAGE_NETWORK``).
    services_path
        The services list the command line analyses (the dashboard reads the registry).
    population_path
        A user population layer replacing the census communities, or None
        (env ``COVERAGE_POPULATION``).
    mirror_dir
        The offline mirror of the public sources, or None: ``../shared/data`` beside the
        project when it exists, else download (env ``COVERAGE_MIRROR``; see :func:`mirror_dir`).
    store
        The services registry: a GeoPackage file or a ``postgresql://`` URL (env
        ``COVERAGE_STORE``). Left out of ``repr`` (a URL may hold a password).
    users_file
        The dashboard's users file, YAML with bcrypt hashes (env ``COVERAGE_USERS``).
    map_tiles_url
        Background tile URL template with ``{z}/{x}/{y}``, or None for no background
        (env ``COVERAGE_MAP_TILES``, ``none`` or ``off`` for None).
    leaflet_url
        Where the browser loads Leaflet from (env ``COVERAGE_LEAFLET_URL``).
    capacity_demand_per_10k
        Shelter places needed at any one time per 10,000 inhabitants (an assumption; see
        :data:`CAPACITY_DEMAND_SOURCE`), for the capacity analysis's demand estimate.
    """

    highway_speed_kph: Mapping[str, float] = field(default_factory=lambda: dict(HIGHWAY_SPEED_KPH))
    default_speed_kph: float = DEFAULT_SPEED_KPH
    surface_speed_factor: Mapping[str, float] = field(
        default_factory=lambda: dict(SURFACE_SPEED_FACTOR)
    )
    terrain_speed_factor: Mapping[str, float] = field(
        default_factory=lambda: dict(TERRAIN_SPEED_FACTOR)
    )
    smoothness_speed_factor: Mapping[str, float] = field(
        default_factory=lambda: dict(SMOOTHNESS_SPEED_FACTOR)
    )
    tunnel_speed_kph: float = TUNNEL_SPEED_KPH
    winter_avalanche_speed_factor: float = WINTER_AVALANCHE_SPEED_FACTOR
    access_detour_factor: float = ACCESS_DETOUR_FACTOR
    access_speed_sparse_kph: float = ACCESS_SPEED_SPARSE_KPH
    access_speed_dense_kph: float = ACCESS_SPEED_DENSE_KPH
    sparse_network_max_nodes: int = SPARSE_NETWORK_MAX_NODES
    snap_candidates: int = SNAP_CANDIDATES
    default_threshold_min: float = DEFAULT_THRESHOLD_MIN
    capacity_demand_per_10k: float = CAPACITY_DEMAND_PER_10K  # places needed per 10,000 people (an assumption)
    # paths and switches
    data_dir: Path = DATA_DIR
    network_path: Path = DEFAULT_NETWORK
    services_path: Path = SERVICES_CSV
    population_path: Path | None = None
    mirror_dir: Path | None = None
    store: Path | str = field(default=STORE_PATH, repr=False)
    users_file: Path = USERS_FILE
    map_tiles_url: str | None = MAP_TILES_URL
    leaflet_url: str = LEAFLET_URL
    language: str = DEFAULT_LANGUAGE  # CLI messages (COVERAGE_LANG, --lang): one of LANGUAGES

    @property
    def cookie_secret_file(self) -> Path:
        """Where a generated session-signing secret is kept when ``COVERAGE_COOKIE_SECRET``
        is unset: beside the users file, in the git-ignored private folder (mode 0600)."""
        return Path(self.users_file).parent / COOKIE_SECRET_FILE_NAME


# Environment variable → Settings field. COVERAGE_SETTINGS names the TOML file and
# COVERAGE_COOKIE_SECRET is read by :func:`cookie_secret` only (never kept in Settings).
ENV_VARIABLES: Mapping[str, str] = MappingProxyType(
    {
        "COVERAGE_DATA_DIR": "data_dir",
        "COVERAGE_NETWORK": "network_path",
        "COVERAGE_POPULATION": "population_path",
        "COVERAGE_MIRROR": "mirror_dir",
        "COVERAGE_STORE": "store",
        "COVERAGE_USERS": "users_file",
        "COVERAGE_MAP_TILES": "map_tiles_url",
        "COVERAGE_LEAFLET_URL": "leaflet_url",
        "COVERAGE_LANG": "language",
    }
)
SETTINGS_FILE_VARIABLE = "COVERAGE_SETTINGS"
COOKIE_SECRET_VARIABLE = "COVERAGE_COOKIE_SECRET"

# What each field holds, for checking a value from a file, the environment or a flag.
_POSITIVE = ("default_speed_kph", "tunnel_speed_kph", "winter_avalanche_speed_factor", "access_detour_factor",
             "access_speed_sparse_kph", "access_speed_dense_kph", "default_threshold_min",
             "capacity_demand_per_10k")
_COUNTS = {"sparse_network_max_nodes": 0, "snap_candidates": 1}  # field → smallest allowed
_TABLES = ("highway_speed_kph", "surface_speed_factor", "terrain_speed_factor", "smoothness_speed_factor")
# (A missing mirror is reported by the data step that needs it: scripts set
# COVERAGE_MIRROR whether or not the folder is there.)
_FOLDERS = ("data_dir", "mirror_dir")  # a folder, or not there yet
_FILES = ("network_path", "services_path", "population_path")  # an existing file
_NEW_FILES = ("users_file", "store")  # a file, or not there yet


def settings_file(env: Mapping[str, str] | None = None) -> Path:
    """The TOML file a user edits to override defaults: ``COVERAGE_SETTINGS``, else
    ``coverage.toml`` in the project root (which may not exist)."""
    env = os.environ if env is None else env
    return Path(env.get(SETTINGS_FILE_VARIABLE) or PROJECT_ROOT / "coverage.toml")


def load_settings(
    *,
    path: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, object] | None = None,
) -> Settings:
    """The settings: defaults < TOML file < ``COVERAGE_*`` environment < ``overrides``.

    A pure function of its arguments (and of the files they name): nothing is cached
    and nothing is read at import time.

    Parameters
    ----------
    path
        The TOML file; default :func:`settings_file`. It holds top-level keys named like
        :class:`Settings` fields; the tables ``[highway_speed_kph]``,
        ``[surface_speed_factor]``, ``[terrain_speed_factor]`` and
        ``[smoothness_speed_factor]`` update (not replace) the defaults, so ``trunk = 70``
        alone changes one class. Relative paths in it are taken from its folder.
    env
        The environment (default ``os.environ``); the variables are :data:`ENV_VARIABLES`,
        an empty one counts as unset.
    overrides
        Field → value, e.g. the command line's flags; None values are skipped.

    Raises
    ------
    ConfigError
        A value that cannot be used, naming the file, variable or override and the field:
        an unknown key, a non-numeric or non-positive speed, a tiles word that is neither
        a URL nor none/off, a path that does not exist or is of the wrong kind.
    """
    env = os.environ if env is None else env
    explicit_file = path is not None or bool(env.get(SETTINGS_FILE_VARIABLE))
    file = Path(path) if path is not None else settings_file(env)
    values: dict[str, object] = {}
    if file.exists() or explicit_file:
        _apply(values, _read_toml(file), source=str(file), check_paths=True, base_dir=file.parent)
    for variable, name in ENV_VARIABLES.items():
        value = env.get(variable, "")
        if value.strip():
            _apply(values, {name: value}, source=variable, check_paths=True)
    given = {name: value for name, value in (overrides or {}).items() if value is not None}
    _apply(values, given, source="override", check_paths=False)
    return replace(Settings(), **values)


def mirror_dir(explicit: str | os.PathLike[str] | None = None, *, settings: Settings | None = None) -> Path | None:
    """The offline mirror folder: the explicit argument, else ``settings.mirror_dir``
    (``COVERAGE_MIRROR``), else ``../shared/data`` beside the project if it exists, else
    None (download). ``settings``: default :func:`load_settings`."""
    if explicit:
        return Path(explicit)
    settings = load_settings() if settings is None else settings
    if settings.mirror_dir is not None:
        return settings.mirror_dir
    return DEFAULT_MIRROR if DEFAULT_MIRROR.is_dir() else None


def cookie_secret(env: Mapping[str, str] | None = None) -> str:
    """The session-signing secret, ``COVERAGE_COOKIE_SECRET`` ("" when unset). Read at
    each call and never kept in :class:`Settings`, so no repr or log can show it;
    :func:`coverage.registry.auth.cookie_secret` checks its length."""
    env = os.environ if env is None else env
    return env.get(COOKIE_SECRET_VARIABLE, "")


def _read_toml(file: Path) -> dict[str, object]:
    try:
        with file.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{file}: the settings file does not exist ({SETTINGS_FILE_VARIABLE})",
                          message_id="config.file_missing", field=SETTINGS_FILE_VARIABLE, source=str(file)) from None
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(f"{file}: not a readable TOML settings file ({err})", message_id="config.file_unreadable",
                          source=str(file)) from None


def _apply(values: dict[str, object], raw: Mapping[str, object], *, source: str, check_paths: bool,
           base_dir: Path | None = None) -> None:
    """Check each of ``raw``'s values and put it into ``values`` (tables merged)."""
    known = Settings.__dataclass_fields__
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ConfigError(f"{source}: unknown setting(s) {unknown}; known: {sorted(known)}",
                          message_id="config.unknown_key", field=unknown[0], source=source)
    for name, value in raw.items():
        if name in _TABLES:
            merged = dict(values.get(name) or known[name].default_factory())
            merged.update(_table(name, value, source))
            values[name] = merged
        else:
            values[name] = _value(name, value, source, check_paths=check_paths, base_dir=base_dir)


def _fail(source: str, name: str, problem: str, message_id: str, value: object) -> ConfigError:
    shown = "<hidden>" if name == "store" else value  # a database URL may hold a password
    return ConfigError(f"{source}: setting '{name}' {problem} (got {shown!r})", message_id=message_id,
                       field=name, source=source, value=shown)


def _number(name: str, value: object, source: str, *, smallest: float = 0.0, strict: bool = True) -> float:
    number = None
    if not isinstance(value, bool):  # TOML true/false is no number
        with contextlib.suppress(TypeError, ValueError):
            number = float(value)  # type: ignore[arg-type]
    if number is None:
        raise _fail(source, name, "must be a number", "config.not_a_number", value)
    if not math.isfinite(number) or number < smallest or (strict and number == smallest):
        relation = "greater than" if strict else "at least"
        raise _fail(source, name, f"must be {relation} {smallest:g}", "config.out_of_range", value)
    return number


def _table(name: str, value: object, source: str) -> dict[str, float]:
    if not isinstance(value, Mapping):
        raise _fail(source, name, "must be a table of numbers", "config.not_a_table", value)
    return {str(key): _number(f"{name}.{key}", item, source) for key, item in value.items()}


def _value(name: str, value: object, source: str, *, check_paths: bool, base_dir: Path | None) -> object:
    if name in _POSITIVE:
        return _number(name, value, source)
    if name in _COUNTS:
        number = _number(name, value, source, smallest=_COUNTS[name], strict=False)
        if number != int(number):
            raise _fail(source, name, "must be a whole number", "config.not_an_integer", value)
        return int(number)
    if name == "map_tiles_url":
        return _tiles(value, source)
    if name == "language":
        text = str(value).strip().lower() if isinstance(value, str) else ""
        if text not in LANGUAGES:
            raise _fail(source, name, f"must be one of {', '.join(LANGUAGES)}", "config.unknown_language", value)
        return text
    if not isinstance(value, str | os.PathLike) or not os.fspath(value).strip():
        raise _fail(source, name, "must be a non-empty text or path", "config.not_a_path", value)
    text = os.fspath(value).strip()
    if name == "leaflet_url":
        return text.rstrip("/")
    if name == "store" and "://" in text:
        return text  # a database URL: coverage.registry checks its scheme
    path = Path(text).expanduser()
    if base_dir is not None and not path.is_absolute():
        path = base_dir / path
    if check_paths:
        _check_path(name, path, source)
    return path


def _check_path(name: str, path: Path, source: str) -> None:
    if name in _FILES and not path.exists():
        raise _fail(source, name, "names a path that does not exist", "config.path_missing", str(path))
    if name in _FOLDERS and path.exists() and not path.is_dir():
        raise _fail(source, name, "must be a folder, not a file", "config.not_a_folder", str(path))
    if (name in _FILES or name in _NEW_FILES) and path.is_dir():
        raise _fail(source, name, "must be a file, not a folder", "config.not_a_file", str(path))


def _tiles(value: object, source: str) -> str | None:
    text = str(value).strip() if isinstance(value, str) else ""
    if text.lower() in MAP_TILES_OFF_WORDS:
        return None
    if all(part in text for part in ("{z}", "{x}", "{y}")):
        return text
    raise _fail(source, "map_tiles_url", "must be a tile URL with {z}, {x} and {y}, or one of "
                f"{', '.join(MAP_TILES_OFF_WORDS)}", "config.bad_tiles", value)
