"""Entry page: the overview map (who can reach help within the threshold, by district,
in Khatlon and Sughd) and the navigation to the other pages under ``pages/``."""

from __future__ import annotations

import folium
import streamlit as st
from streamlit_folium import st_folium

from coverage import analysis
from coverage.analysis import seasons
from coverage.views import maps
from dashboard import loaders, session, sidebar, texts
from dashboard.guard import run_page

_ = texts._


def overview_map() -> None:
    """The map page: headline figures, district choropleth, communities and services."""
    st.set_page_config(page_title=_("Crisis services coverage — Tajikistan"), page_icon="🗺️", layout="wide")
    st.title(_("Who can reach help? Women's crisis services in Tajikistan"), anchor=False)  # no link: one tab stop less

    choice = sidebar.sidebar()
    result = sidebar.current_analysis(choice)
    if result is None:
        st.stop()
    districts = loaders.inputs().districts

    totals = result.totals.set_index("region").loc["All"]
    phrase = texts.type_phrase(result.service_types)
    col_within, col_beyond, col_share = st.columns(3)
    who, whom = texts.counted(result.measure, capital=True), texts.counted(result.measure)
    col_within.metric(_("{who} within {t:g} min of a {p}").format(who=who, t=choice.threshold_min, p=phrase),
                      texts.fmt_people(totals["population_within"]))
    col_beyond.metric(_("{who} beyond {t:g} min").format(who=who, t=choice.threshold_min),
                      texts.fmt_people(totals["population_beyond"]))
    col_share.metric(_("Share within reach"), f"{totals['share_within']:.0%}")

    worst = texts.in_script(result.districts.head(5), "district")
    st.markdown(
        "**" + _("Five districts with most {whom} beyond {t:g} min:").format(whom=whom, t=choice.threshold_min)
        + "** " + " · ".join(_("{district} ({people} {whom}, {share:.0%} within)").format(
            district=row.district, people=texts.fmt_people(row.population_beyond), whom=whom, share=row.share_within)
            for row in worst.itertuples())
    )
    approximate_roads = loaders.approximate_roads()
    counted_note = (_("Women: 2020 census female share of each district (derived from the sex ratio); "
                      "village figures are estimates shared out from district totals. ")
                    if result.measure == "women" else
                    _("People: 2020 census by district; village figures are estimates shared out from district totals. "))
    st.caption(counted_note
               + (_("Minutes: car travel on an approximate trunk-road network plus local roads ({season}).")
                  if approximate_roads else
                  _("Minutes: car travel on the OpenStreetMap roads of {network} plus local roads ({season})."))
               .format(season=texts.season_word(choice.season), network=loaders.network_path().name))

    # The base map stays the same while the user moves the slider; only the data layers are
    # sent again, so the browser redraws them without reloading the map.
    # The picker sits in the page body above the map: reachable with the sidebar folded (a
    # phone) and a few Tab presses from the sidebar, before the map's own controls.
    district_picker(districts)
    # Place names in the session's script; the click callback reads district_id, not the name.
    shown_districts = texts.in_script(loaders.display_districts(), "district")
    layers = maps.coverage_layers(
        shown_districts, texts.in_script(result.districts, "worst_community"),
        texts.in_script(result.communities, "name", "district"), session.map_services(),
        choice.threshold_min, result.service_types, measure=result.measure, gettext=texts.gettext(),
    )
    # The map returns the clicked district and the point clicked: a click on the district the
    # map returned last (say, before a district was picked in the picker) is still a new click.
    # (Not the click count: its first value differs from the default and would rerun every load.)
    st_folium(maps.coverage_base_map(tiles=choice.tiles, districts=shown_districts,
                                     settings=loaders.settings(), approximate_roads=approximate_roads,
                                     measure=result.measure, gettext=texts.gettext()),
              feature_group_to_add=layers,
              layer_control=folium.LayerControl(collapsed=True), height=680, use_container_width=True,
              returned_objects=["last_active_drawing", "last_object_clicked"], key=MAP_KEY,
              on_change=_map_clicked)
    district_figures(result, choice)
    if choice.season == "winter":
        winter_note(result, choice)
    sidebar.mirror_in_url()


def winter_note(result, choice) -> None:
    """What winter changes against summer for the chosen types, and which communities."""
    summer = analysis.analyse(loaders.inputs(), loaders.travel_times("summer"), choice.service_types,
                              choice.threshold_min, season="summer", regions=choice.regions)
    changes = seasons.winter_changes(summer.communities, result.communities, threshold_min=choice.threshold_min)
    st.subheader(_("What winter changes"))
    winter_roads_list()
    if not len(changes):
        st.markdown(_("No community's time to the nearest {what} changes in winter: the roads the network "
                      "closes or slows in winter lie on no community's fastest route to one, so every figure "
                      "is the summer figure.").format(what=texts.type_phrase(choice.service_types)))
        return
    crossing = changes[changes["crosses_threshold"]]
    st.markdown(_("**{n:,}** communities ({p:,} people) are slower to reach the nearest {what} in winter, because "
                  "roads over passes close or slow down; **{c:,}** of them ({cp:,} people) fall beyond {t:g} min.")
                .format(n=len(changes), p=int(changes["population"].sum()), what=texts.type_phrase(choice.service_types),
                        c=len(crossing), cp=int(crossing["population"].sum()), t=choice.threshold_min))
    st.dataframe(texts.in_script(changes, "name", "district")[["name", "district", "region", "population",
                                                             "summer_minutes", "winter_minutes"]],
                 hide_index=True, width="stretch", key="winter_changes",
                 column_config={"name": _("Community"), "district": _("District"), "region": _("Region"),
                                "population": st.column_config.NumberColumn(_("People"), format="localized"),
                                "summer_minutes": st.column_config.NumberColumn(_("Summer (min)"), format="%d"),
                                "winter_minutes": st.column_config.NumberColumn(_("Winter (min)"), format="%d")})


def winter_roads_list() -> None:
    """The roads the network closes or slows in winter, by name, with km."""
    roads = loaders.winter_roads()
    if not len(roads):
        st.markdown(_("No road of the network is tagged as closed or slowed in winter."))
        return
    closed, slowed = roads[roads["status"] == "closed"], roads[roads["status"] == "slowed"]
    st.markdown(_("The network closes **{c:,}** roads in winter ({ckm:,.0f} km) and slows **{s:,}** for "
                  "avalanche risk ({skm:,.0f} km):").format(c=len(closed), ckm=closed["km"].sum(), s=len(slowed),
                                                            skm=slowed["km"].sum()))
    shown = roads.assign(name=roads["name"].where(roads["name"] != "", _("unnamed road")),
                         status=roads["status"].map({"closed": _("closed"), "slowed": _("slowed (avalanche risk)")}))
    st.dataframe(shown[["name", "status", "km"]], hide_index=True, width="stretch", key="winter_roads",
                 column_config={"name": _("Road"), "status": _("In winter"),
                                "km": st.column_config.NumberColumn(_("Length (km)"), format="%.0f")})


MAP_KEY = "overview_map"
PICKER_KEY = "district_picker"


def _map_clicked() -> None:
    """A click on a district of the map puts that district in view (picker and figures).

    Called by the map component only when its value changes, i.e. on a new click (the
    point clicked changes even when the same district is clicked again), before the page
    runs, so the picker can still be set. A click on a community or service symbol
    carries no district and changes nothing."""
    feature = (st.session_state.get(MAP_KEY) or {}).get("last_active_drawing") or {}
    district_id = (feature.get("properties") or {}).get("district_id")
    if district_id:
        st.session_state[sidebar.DISTRICT_KEY] = district_id
        st.session_state[PICKER_KEY] = district_id


def _district_picked() -> None:
    st.session_state[sidebar.DISTRICT_KEY] = st.session_state.get(PICKER_KEY)


def district_picker(districts) -> None:
    """A searchable list of districts (today's name and older spellings) in the page body
    above the map, a few Tab presses from the sidebar's threshold, usable with the sidebar
    folded on a phone; the district picked is the one a click on the map shows."""
    names = districts.set_index("district_id")
    options = sorted(names.index, key=lambda i: names.loc[i, "district"])

    # The name in the session's script first, then the other script's, so typing either finds it.
    shown = texts.place_names(districts, "district").set_axis(districts["district_id"])
    region = texts.place_names(districts, "region").set_axis(districts["district_id"])
    latin = districts["district"].set_axis(districts["district_id"])
    tajik = texts.names.own_names(districts)["tg"]

    def label(district_id: str) -> str:
        row = names.loc[district_id]
        aliases = [a for a in str(row["district_aliases"]).split(";") if a.strip()]
        other = latin[district_id] if shown[district_id] != latin[district_id] else \
            tajik.get(latin[district_id], texts.names.to_tajik_cyrillic(latin[district_id]))
        return (f"{shown[district_id]} ({region[district_id]}) · {other}"
                + (" — " + ", ".join(aliases) if aliases else ""))

    if PICKER_KEY not in st.session_state:  # the page was left and opened again: the district in view
        st.session_state[PICKER_KEY] = st.session_state.get(sidebar.DISTRICT_KEY)
    column, _rest = st.columns([3, 2])
    # No help icon (one tab stop less): the placeholder and the caption below the map say it.
    column.selectbox(_("District"), options, key=PICKER_KEY, format_func=label, index=None,
                     placeholder=_("Type a district name (today's or an older spelling), or click the map…"),
                     on_change=_district_picked)


def district_figures(result, choice) -> None:
    """The figures of the district in view (picked or clicked), below the map."""
    district_id = st.session_state.get(sidebar.DISTRICT_KEY)
    row = result.districts[result.districts["district_id"] == district_id] if district_id else result.districts.iloc[:0]
    if not len(row):
        if district_id:
            st.caption(_("The district in view is outside the regions chosen in the sidebar."))
        else:
            st.caption(_("Click a district on the map or pick one above the map (District) to see its figures."))
        return
    d = texts.in_script(row, "district", "worst_community").iloc[0]
    st.subheader(_("{district} ({region})").format(district=d["district"], region=d["region"]))
    c1, c2, c3, c4 = st.columns([2, 2, 2, 3])  # the farthest community: room for a long name
    c1.metric(_("Women (census 2020)") if result.measure == "women" else _("Population (census 2020)"),
              texts.fmt_people(d["population"]))
    c2.metric(_("Within {t:g} min").format(t=choice.threshold_min), texts.fmt_people(d["population_within"]))
    c3.metric(_("Beyond"), texts.fmt_people(d["population_beyond"]))
    c4.metric(_("Farthest community"), f"{d['worst_community']}", texts.fmt_minutes(d["worst_minutes"]),
              delta_color="off", delta_arrow="off")  # minutes to it, not better or worse


# No icons in the navigation: Streamlit fetches Material icons from Google's servers,
# which fails offline.
PAGES = [
    st.Page(overview_map, title=_("Map"), default=True),
    st.Page("pages/1_Underserved_communities.py", title=_("Underserved communities")),
    st.Page("pages/2_Reach.py", title=_("Reach")),
    st.Page("pages/6_Capacity.py", title=_("Capacity")),
    st.Page("pages/5_Scenarios.py", title=_("Scenarios")),
    st.Page("pages/8_Next_site.py", title=_("Where to open next")),
    st.Page("pages/3_About_the_data.py", title=_("About the data")),
    st.Page("pages/4_Services_(staff).py", title=_("Services (staff)")),
    st.Page("pages/7_Report.py", title=_("Report")),
]
# The shared sidebar is drawn here, before the page runs, so its widgets are the same on
# every page: a choice follows the user from page to page (and lives in the URL).
run_page(st.navigation(PAGES), before=sidebar.draw_sidebar)
