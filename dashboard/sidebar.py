"""The sidebar every page shares (types, threshold, season, what is counted, regions), the district in
view, and the analysis they ask for.

The entrypoint (``app.py``) draws the sidebar once per run, before ``st.navigation``
runs the page, so its widgets are the same widgets on every page and a choice follows
the user from page to page (widgets drawn by a page are that page's own and reset when
the user leaves it). The choices are mirrored in the URL (``st.query_params``): a copied
link opens the same view. A page run on its own (AppTest) draws the sidebar itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from coverage import analysis, config
from coverage.data import boundaries
from coverage.views import i18n, names
from dashboard.loaders import approximate_roads, inputs, network_path, tiles_default, travel_times
from dashboard.session import sign_in_box, signed_in_user
from dashboard.texts import LANGUAGE_KEY, _, measure_choices, type_labeller

CHOICE_KEY = "shared_sidebar_choice"  # the Choice the entrypoint drew this run
DISTRICT_KEY = "district_in_view"  # district_id of the district in view (or absent); not a widget key
_URL_READ_KEY = "shared_sidebar_url_read"
# URL parameter -> session key. Lists are comma-separated; the district is its name.
URL_KEYS = {"types": "service_types", "threshold": "threshold", "season": "season", "regions": "regions",
            "count": "measure", "district": DISTRICT_KEY, "lang": LANGUAGE_KEY}
# URL word for what the figures count -> analysis measure (config.MEASURES)
URL_COUNTS = {"women": "women", "people": "population"}
THRESHOLD_RANGE_MIN = (15, 240, 5)  # slider: lowest, highest, step (minutes)


@dataclass(frozen=True)
class Choice:
    """What the user picked in the sidebar."""

    service_types: tuple[str, ...]
    threshold_min: float
    season: str
    regions: tuple[str, ...]
    tiles: bool
    measure: str = config.DEFAULT_MEASURE  # what the figures count: "women" or "population" (all people)
    language: str = i18n.DEFAULT_LANGUAGE  # interface language of this browser session (i18n.LANGUAGES)


def choices_from_url(params: Mapping[str, str], *, service_types: list[str], regions: list[str],
                     districts: pd.DataFrame) -> dict[str, object]:
    """The session values a link asks for, each checked against what the page offers:
    an unknown type, region, season, district or a threshold outside the slider is
    dropped (the widget's default stands). ``districts``: the districts table
    (district names or aliases resolve to ``district_id``)."""
    values: dict[str, object] = {}
    if params.get("types"):
        picked = [t for t in params["types"].split(",") if t in service_types]
        if picked:
            values["service_types"] = picked
    if params.get("regions"):
        picked = [r for r in params["regions"].split(",") if r in regions]
        if picked:
            values["regions"] = picked
    if params.get("season") in config.SEASONS:
        values["season"] = params["season"]
    if params.get("count") in URL_COUNTS:
        values["measure"] = URL_COUNTS[params["count"]]
    if params.get("lang") in i18n.LANGUAGES:
        values[LANGUAGE_KEY] = params["lang"]
    lowest, highest, step = THRESHOLD_RANGE_MIN
    try:
        threshold = int(float(params.get("threshold", "")))
    except ValueError:
        threshold = None
    if threshold is not None and lowest <= threshold <= highest and (threshold - lowest) % step == 0:
        values["threshold"] = threshold
    if params.get("district"):
        try:
            values[DISTRICT_KEY] = str(boundaries.find_district(districts, params["district"])["district_id"])
        except KeyError:
            pass
    return values


def url_for(choice: Choice, district: str | None) -> dict[str, str]:
    """The query parameters that reproduce ``choice`` and the district in view (its name)."""
    params = {"types": ",".join(choice.service_types), "threshold": f"{choice.threshold_min:g}",
              "season": choice.season, "regions": ",".join(choice.regions),
              "count": {m: w for w, m in URL_COUNTS.items()}[choice.measure]}
    if choice.language != i18n.DEFAULT_LANGUAGE:
        params["lang"] = choice.language
    if district:
        params["district"] = district
    return params


def _read_url_once(present: list[str], all_regions: list[str]) -> None:
    """On a session's first run, put what the URL asks for into the session state."""
    if st.session_state.get(_URL_READ_KEY):
        return
    st.session_state[_URL_READ_KEY] = True
    wanted = choices_from_url(st.query_params.to_dict(), service_types=present, regions=all_regions,
                              districts=inputs().districts)
    for key, value in wanted.items():
        st.session_state[key] = value


def _default(key: str, value: object) -> dict[str, object]:
    """A widget's default, only when the session state does not already hold its value
    (Streamlit warns when both are given)."""
    return {} if key in st.session_state else {"value": value}


def _default_index(key: str) -> dict[str, object]:
    """A selectbox's default (the first option) only when the session state holds none."""
    return {} if key in st.session_state else {"index": 0}


def draw_sidebar(default_types: tuple[str, ...] = ("shelter",), *, shared: bool = True) -> Choice:
    """Draw the shared sidebar (service type(s), threshold, season, regions, background
    map, sign-in) and mirror the choice in the URL. ``shared``: called by the entrypoint
    (once per run), which keeps the choice for the page (:func:`sidebar`)."""
    data = inputs()
    present = [t for t in config.SERVICE_TYPES if t in set(data.services["type"])]
    all_regions = sorted(data.communities["region"].dropna().unique())
    _read_url_once(present, all_regions)
    print_stylesheet()
    language = st.sidebar.selectbox("Language · Язык · Забон", list(i18n.LANGUAGES), key=LANGUAGE_KEY,
                                    format_func=i18n.LANGUAGES.get, **_default_index(LANGUAGE_KEY))
    st.sidebar.header(_("What and where"))
    types_default = _default("service_types", [t for t in default_types if t in present] or present[:1])
    types = st.sidebar.multiselect(
        _("Service type(s)"), present, default=types_default.get("value"),
        format_func=type_labeller(), key="service_types",
        help=_("With several types, the nearest of any of them counts."),
    )
    lowest, highest, step = THRESHOLD_RANGE_MIN
    threshold = st.sidebar.slider(_("Threshold (minutes by road)"), lowest, highest, step=step, key="threshold",
                                  **_default("threshold", int(config.DEFAULT_THRESHOLD_MIN)))
    seasons = {"summer": _("Summer"), "winter": _("Winter (passes closed)")}  # bound now: see type_labeller
    season = st.sidebar.radio(_("Season"), config.SEASONS, key="season", horizontal=True, format_func=seasons.get)
    measure = st.sidebar.radio(_("Count"), config.MEASURES, key="measure", horizontal=True,
                               format_func=measure_choices().get,
                               help=_("Women: the 2020 census female share of each district (derived from the "
                                      "sex ratio); all people: the census population."))
    focus = [r for r in config.FOCUS_REGIONS if r in all_regions]
    region_names = {r: names.display_name(r, language) for r in all_regions}  # Хатлон in ru/tg
    regions = st.sidebar.multiselect(_("Regions"), all_regions, default=_default("regions", focus).get("value"),
                                     key="regions", format_func=region_names.get)
    tiles = st.sidebar.checkbox(_("Street map background (OpenStreetMap tiles; needs internet)"), key="tiles",
                                **_default("tiles", tiles_default()))
    st.sidebar.caption(_("Road network: approximate trunk roads (see About the data). "
                         "Rural populations are estimates.") if approximate_roads() else
                       _("Road network: OpenStreetMap extract {name}. Rural populations are estimates.")
                       .format(name=network_path().name))
    with st.sidebar.expander(_("Staff sign-in"), expanded=signed_in_user() is not None):
        sign_in_box(st, key="sidebar_signin")
    choice = Choice(tuple(types), float(threshold), season, tuple(regions), tiles, measure, language)
    if shared:
        st.session_state[CHOICE_KEY] = choice
    mirror_in_url(choice)
    return choice


def mirror_in_url(choice: Choice | None = None) -> None:
    """Write the choice and the district in view into the URL (replacing what was there)."""
    choice = st.session_state.get(CHOICE_KEY) if choice is None else choice
    if choice is None:
        return
    district_id = st.session_state.get(DISTRICT_KEY)
    name = None
    if district_id:
        rows = inputs().districts.loc[inputs().districts["district_id"] == district_id, "district"]
        name = str(rows.iloc[0]) if len(rows) else None
    params = url_for(choice, name)
    if st.query_params.to_dict() != params:
        st.query_params.from_dict(params)


def shared_sidebar_drawn() -> bool:
    """True when the entrypoint drew the shared sidebar in this session (so a page must
    not draw another sign-in box in the sidebar)."""
    return CHOICE_KEY in st.session_state


def sidebar(default_types: tuple[str, ...] = ("shelter",)) -> Choice:
    """The shared sidebar's choice: the one the entrypoint drew this run, or (a page run
    on its own, never through the entrypoint) the sidebar drawn here."""
    choice = st.session_state.get(CHOICE_KEY)
    if choice is not None:
        return choice
    return draw_sidebar(default_types, shared=False)


def current_analysis(choice: Choice) -> analysis.Analysis | None:
    if not choice.service_types:
        st.info(_("Choose at least one service type in the sidebar."))
        return None
    if not choice.regions:
        st.info(_("Choose at least one region in the sidebar."))
        return None
    times = travel_times(choice.season)
    return analysis.analyse(inputs(), times, choice.service_types, choice.threshold_min, season=choice.season,
                            regions=choice.regions, measure=choice.measure)


# Printing a page from the browser (Ctrl+P): only the page's content, map and table on one
# landscape sheet; no sidebar, header, toolbar or the table's own buttons.
PRINT_CSS = """<style>
@media print {
  @page { size: A4 landscape; margin: 10mm; }
  [data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stHeader"],
  [data-testid="stToolbar"], [data-testid="stDecoration"], [data-testid="stStatusWidget"],
  [data-testid="stElementToolbar"], [data-testid="stBaseButton-headerNoPadding"], header, footer,
  .stDownloadButton, [data-testid="stSidebarNav"] { display: none !important; }
  [data-testid="stAppViewContainer"], [data-testid="stMain"], .main { margin: 0 !important; padding: 0 !important; }
  [data-testid="stMainBlockContainer"], .block-container { max-width: 100% !important; padding: 0 !important; }
  iframe { height: 105mm !important; break-inside: avoid; }
  [data-testid="stDataFrame"] { break-inside: avoid; }
}
</style>"""


def print_stylesheet() -> None:
    """Add :data:`PRINT_CSS` to the page (the shared page set-up calls it once per run)."""
    st.html(PRINT_CSS)
