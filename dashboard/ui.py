"""Streamlit glue shared by the pages: cached loading, the sidebar, sign-in, formatting.

Pages stay thin: they call these helpers and the ``coverage`` library; nothing here
computes travel times itself.

Services come from the registry (``coverage.store``; created and seeded from
``data/services/services.csv`` on first use) and pass the privacy edge
(:func:`coverage.views.privacy.public_inputs`, inside ``analysis.load_inputs``) before
anything is computed from them: every figure on every page (map colours and
tooltips, tables, CSVs, reach) comes from each confidential service's public (town)
point, whoever is signed in. Exact points reach only the staff map markers. Every cached loader is keyed by the
registry's version (its last history id, one cheap query per call), so an edit made on
the staff page, or by another process, shows on every page at the next rerun. Travel
times and reach are keyed by a fingerprint of the open services' ids, types, points and
organisations, so they are recomputed only when one of those changed.

Sign-in keeps a signed session token (``auth.issue_token``) in ``st.session_state``;
the user is looked up in the users file on every run, so a removed user loses access
at once. Nothing here shows, logs or stores a password.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import streamlit as st

from coverage import analysis, config
from coverage.digests import text_sha256
from coverage.engine.roads import is_default_network
from coverage.registry import auth, store
from coverage.views import labels, maps, privacy
from coverage.views.i18n import translator

_ = translator("en")

TYPE_LABELS = {key: label for key, (label, _colour, _symbol) in maps.SERVICE_STYLE.items()}


def settings() -> config.Settings:
    """This server's settings (defaults < coverage.toml < ``COVERAGE_*`` environment),
    read at each call so a changed environment (tests) takes effect at the next run."""
    return config.load_settings()


def data_dir() -> Path:
    """The data step's folder (``COVERAGE_DATA_DIR`` overrides, e.g. for tests)."""
    return settings().data_dir


def network_path() -> Path:
    """The road network file (``COVERAGE_NETWORK``: a real OSM extract instead of the default)."""
    return settings().network_path


def population_path() -> Path | None:
    """A user population layer instead of the census communities (``COVERAGE_POPULATION``)."""
    return settings().population_path


@dataclass(frozen=True)
class Choice:
    """What the user picked in the sidebar."""

    service_types: tuple[str, ...]
    threshold_min: float
    season: str
    regions: tuple[str, ...]
    tiles: bool


def fmt_minutes(minutes: float | None) -> str:
    """:func:`coverage.views.labels.fmt_minutes` in the dashboard's language."""
    return labels.fmt_minutes(minutes, gettext=_)


def fmt_people(count: float) -> str:
    """:func:`coverage.views.labels.fmt_people` in the dashboard's language."""
    return labels.fmt_people(count, gettext=_)


# --- the services registry -----------------------------------------------------------------

# Columns of the registry that never enter the engine's inputs (the engine needs points,
# not street addresses).
ENGINE_DROPPED_COLUMNS: tuple[str, ...] = ("address",)


def store_path() -> Path | store.StoreURL:
    """The registry: env ``COVERAGE_STORE`` (a GeoPackage file or a ``postgresql://``
    URL), else ``private/registry.gpkg``."""
    return store.store_location(settings=settings())


@st.cache_resource(show_spinner=False, max_entries=8)
def _registry(location: str) -> store.BaseServiceStore:
    return store.open_store(location)


def registry() -> store.BaseServiceStore:
    """The services registry, created and seeded from the shipped list on first use."""
    location = store_path()
    if isinstance(location, Path) and not location.exists():
        _registry.clear()  # first run, or the file was moved away: create (seed) it again
    return _registry(str(location))


def registry_version() -> int:
    """Grows with every change to the registry (one small query)."""
    return registry().version()


def _services_fingerprint(services: gpd.GeoDataFrame) -> str:
    """What travel times and reach depend on: ids, types, points, organisations."""
    columns = [c for c in ("service_id", "type", "lon", "lat", "org", "organisation") if c in services.columns]
    text = services[columns].sort_values("service_id").to_csv(index=False)
    return text_sha256(text, chars=16)


@st.cache_resource(show_spinner=False, max_entries=4)
def _inputs(data_folder: str, population: str, registry_file: str, version: int) -> tuple[analysis.Inputs, str]:
    table = _registry(registry_file).services(include_closed=False)
    table = table.drop(columns=[c for c in ENGINE_DROPPED_COLUMNS if c in table.columns])
    with st.spinner(_("Preparing boundaries, communities and services (first start only) …")):
        # load_inputs hands back privacy.public_inputs: confidential services at their
        # public point, so this shared cache never holds an exact point.
        data = analysis.load_inputs(Path(data_folder), population_path=population or None, services_table=table)
    return data, _services_fingerprint(data.services)


def _current_inputs() -> tuple[analysis.Inputs, str]:
    return _inputs(str(data_dir()), str(population_path() or ""), str(registry().path),
                   registry_version())


def inputs() -> analysis.Inputs:
    """Districts, communities and the registry's open services as every public figure
    is computed from them (confidential ones at their public point, public columns
    only: :func:`coverage.views.privacy.public_inputs`), read once per registry version
    (data step if needed)."""
    return _current_inputs()[0]


def inputs_key() -> str:
    """Changes when anything travel times depend on changes (data, population, services)."""
    _data, fingerprint = _current_inputs()
    return f"{data_dir()}|{population_path() or ''}|{fingerprint}"


TRAVEL_TIME_TABLES_KEPT = 8  # (season, network, services) combinations kept in memory


@st.cache_resource(show_spinner=False)
def _travel_time_tables() -> dict[tuple[str, str, str], pd.DataFrame]:
    """Travel-time tables this server has computed, shared by every session. Filled
    outside any cached function, so the computation can report progress live (a
    cached function would only replay its messages when it has finished)."""
    return {}


@st.cache_resource(show_spinner=False)
def _travel_time_lock() -> threading.Lock:
    """One computation at a time: a second session asking for the same table waits
    for the first instead of computing it again."""
    return threading.Lock()


def travel_times(season: str) -> pd.DataFrame:
    """Minutes from every community to the nearest service of every type, per season;
    computed once per (season, network, services' points) with live progress (building
    a network from a large extract takes minutes), then shared by every session."""
    key = (season, str(network_path()), inputs_key())
    tables = _travel_time_tables()
    if key in tables:
        return tables[key]
    with _travel_time_lock():
        if key in tables:  # computed by another session while this one waited
            return tables[key]
        label = _("Computing travel times for the {season} road network …").format(season=season)
        with st.status(label, expanded=True) as status:
            table = analysis.travel_times(inputs(), season=season, network_path=network_path(),
                                          settings=settings(), progress=status.write)
            status.update(label=_("Travel times ready ({season})").format(season=season), state="complete",
                          expanded=False)
        while len(tables) >= TRAVEL_TIME_TABLES_KEPT:
            tables.pop(next(iter(tables)))  # the oldest
        tables[key] = table
    return table


@st.cache_resource(show_spinner=False, max_entries=4)
def _public_services(registry_file: str, version: int, key: str, _data: analysis.Inputs) -> gpd.GeoDataFrame:
    return privacy.public_services(_data.services, _data.places)


def public_services() -> gpd.GeoDataFrame:
    """The services as the public may see them (confidential ones at town level),
    whoever is signed in: use this for anything labelled public (exports, briefs)."""
    return _public_services(str(registry().path), registry_version(), inputs_key(), inputs())


def staff_services(user: auth.User) -> gpd.GeoDataFrame:
    """Open services as a signed-in user may see them on a map: their own organisation's
    (admins: every) row at its exact point, all others as the public sees them. Public
    columns only (no address, note or owner). Never cached across sessions."""
    return privacy.public_columns(registry().services_for(user, inputs().places, include_closed=False))


def map_services() -> gpd.GeoDataFrame:
    """The services for the maps: the public view for everyone not signed in; for a
    signed-in staff user, their own organisation's services at their exact points
    and every other service as the public sees it (see :func:`staff_services`)."""
    user = signed_in_user()
    if user is not None:
        return staff_services(user)
    return public_services()


@st.cache_resource(show_spinner=False, max_entries=2)
def _display_districts(data_folder: str, _districts: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return maps.display_districts(_districts)


def display_districts() -> gpd.GeoDataFrame:
    return _display_districts(str(data_dir()), inputs().districts)


def tiles_default() -> bool:
    """Background tiles unless ``COVERAGE_MAP_TILES`` is none/off (no internet)."""
    return settings().map_tiles_url is not None


# --- sign-in --------------------------------------------------------------------------------

SESSION_TOKEN_KEY = "coverage_session_token"


def sign_in_problem() -> str | None:
    """Why sign-in is disabled on this server, or None when it works."""
    try:
        auth.cookie_secret()
    except auth.AuthConfigError:
        return _("Staff sign-in is disabled on this server: COVERAGE_COOKIE_SECRET is not set "
                 "(see docs/USERS.md). The public map and figures work as usual.")
    return None


def signed_in_user() -> auth.User | None:
    """The signed-in user of this browser session, re-read from the users file on
    every run (a removed user, an expired or forged token → None)."""
    token = st.session_state.get(SESSION_TOKEN_KEY)
    if not token:
        return None
    try:
        username = auth.read_token(token, auth.cookie_secret())
        user = auth.get_user(auth.users_file(settings=settings()), username) if username else None
    except auth.AuthError:
        user = None
    if user is None:
        st.session_state.pop(SESSION_TOKEN_KEY, None)
    return user


def attempt_sign_in(username: str, password: str) -> tuple[auth.User | None, str]:
    """Check a username and password; on success keep a signed token in the session.
    Returns (user, "") or (None, a message for the person signing in)."""
    problem = sign_in_problem()
    if problem:
        return None, problem
    if not str(username or "").strip() or not password:
        return None, _("Enter your username and password.")
    path = auth.users_file(settings=settings())
    lockouts = auth.Lockouts.beside(path)
    try:
        user = auth.verify(path, username, password, lockouts=lockouts)
    except auth.AuthError:
        return None, _("Sign-in is not possible: the users file cannot be read. Tell your administrator.")
    if user is not None:
        st.session_state[SESSION_TOKEN_KEY] = auth.issue_token(user, auth.cookie_secret())
        return user, ""
    until = lockouts.locked_until(username)
    if until is not None:
        minutes = max(1, math.ceil((until - time.time()) / 60))
        return None, _("Too many failed attempts, try again in {n} minutes.").format(n=minutes)
    return None, _("Wrong username or password.")


def sign_out() -> None:
    """Forget the session token and everything the staff page kept for this session."""
    for key in list(st.session_state.keys()):
        if key == SESSION_TOKEN_KEY or str(key).startswith("staff_"):
            del st.session_state[key]


def sign_in_box(where=None, key: str = "signin") -> auth.User | None:
    """The sign-in form (username, password, button), or who is signed in and a
    sign-out button. ``where``: a container (default the sidebar); ``key`` keeps
    widget keys apart when a page shows the box twice."""
    where = st.sidebar if where is None else where
    problem = sign_in_problem()
    if problem:
        where.info(problem)
        return None
    user = signed_in_user()
    if user is not None:
        where.markdown(_("Signed in as **{name}** ({org}, {role}).").format(
            name=user.name, org=user.organisation, role=user.role))
        if where.button(_("Sign out"), key=f"{key}_signout"):
            sign_out()
            st.rerun()
        return user
    form = where.form(f"{key}_form", clear_on_submit=True)
    form.markdown("**" + _("Staff sign-in") + "**")
    username = form.text_input(_("Username"), key=f"{key}_username", autocomplete="username")
    password = form.text_input(_("Password"), type="password", key=f"{key}_password",
                               autocomplete="current-password")
    submitted = form.form_submit_button(_("Sign in"), key=f"{key}_submit")
    if submitted:
        user, message = attempt_sign_in(username, password)
        if user is not None:
            st.rerun()
        where.error(message)
    return None


def sidebar(default_types: tuple[str, ...] = ("shelter",)) -> Choice:
    """Service type(s), threshold, season and region filter; the same keys on every
    page, so a choice follows the user from page to page."""
    data = inputs()
    present = [t for t in config.SERVICE_TYPES if t in set(data.services["type"])]
    st.sidebar.header(_("What and where"))
    types = st.sidebar.multiselect(
        _("Service type(s)"), present, default=[t for t in default_types if t in present] or present[:1],
        format_func=lambda t: TYPE_LABELS.get(t, t), key="service_types",
        help=_("With several types, the nearest of any of them counts."),
    )
    threshold = st.sidebar.slider(_("Threshold (minutes by road)"), 15, 240, int(config.DEFAULT_THRESHOLD_MIN),
                                  step=5, key="threshold")
    season = st.sidebar.radio(_("Season"), config.SEASONS, key="season", horizontal=True,
                              format_func=lambda s: {"summer": _("Summer"), "winter": _("Winter (passes closed)")}[s])
    all_regions = sorted(data.communities["region"].dropna().unique())
    focus = [r for r in config.FOCUS_REGIONS if r in all_regions]
    regions = st.sidebar.multiselect(_("Regions"), all_regions, default=focus, key="regions")
    tiles = st.sidebar.checkbox(_("Background map (needs internet)"), value=tiles_default(), key="tiles")
    st.sidebar.caption(_("Road network: approximate trunk roads (see About the data). "
                         "Rural populations are estimates.") if is_default_network(network_path()) else
                       _("Road network: OpenStreetMap extract {name}. Rural populations are estimates.")
                       .format(name=network_path().name))
    with st.sidebar.expander(_("Staff sign-in"), expanded=signed_in_user() is not None):
        sign_in_box(st, key="sidebar_signin")
    return Choice(tuple(types), float(threshold), season, tuple(regions), tiles)


def current_analysis(choice: Choice) -> analysis.Analysis | None:
    if not choice.service_types:
        st.info(_("Choose at least one service type in the sidebar."))
        return None
    if not choice.regions:
        st.info(_("Choose at least one region in the sidebar."))
        return None
    times = travel_times(choice.season)
    return analysis.analyse(inputs(), times, choice.service_types, choice.threshold_min, season=choice.season,
                            regions=choice.regions)


def type_phrase(types: tuple[str, ...]) -> str:
    return _(" or ").join(TYPE_LABELS.get(t, t).lower() for t in types)


@st.cache_resource(show_spinner=False, max_entries=4)
def _organisation_reach(season: str, network: str, key: str, _data: analysis.Inputs) -> pd.DataFrame:
    from coverage.analysis import reach
    from coverage.engine import roads

    current = settings()
    road_network = roads.load_network(Path(network), season=season, settings=current)
    times = reach.organisation_times(road_network, _data.communities, _data.services, current)
    return reach.reach_table(times, _data.communities)


def organisation_reach(season: str) -> pd.DataFrame:
    """People within 30/60/120 min of each organisation's services, per district."""
    return _organisation_reach(season, str(network_path()), inputs_key(), inputs())
