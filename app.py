"""Entry page: the overview map (who can reach help within the threshold, by district,
in Khatlon and Sughd) and the navigation to the other pages under ``pages/``."""

from __future__ import annotations

import folium
import streamlit as st
from streamlit_folium import st_folium

from coverage.views import maps
from dashboard import loaders, session, sidebar, texts
from dashboard.guard import run_page

_ = texts._


def overview_map() -> None:
    """The map page: headline figures, district choropleth, communities and services."""
    st.set_page_config(page_title=_("Crisis services coverage — Tajikistan"), page_icon="🗺️", layout="wide")
    st.title(_("Who can reach help? Women's crisis services in Tajikistan"))

    choice = sidebar.sidebar()
    result = sidebar.current_analysis(choice)
    if result is None:
        st.stop()

    totals = result.totals.set_index("region").loc["All"]
    phrase = texts.type_phrase(result.service_types)
    col_within, col_beyond, col_share = st.columns(3)
    col_within.metric(_("People within {t:g} min of a {p}").format(t=choice.threshold_min, p=phrase),
                      texts.fmt_people(totals["population_within"]))
    col_beyond.metric(_("People beyond {t:g} min").format(t=choice.threshold_min),
                      texts.fmt_people(totals["population_beyond"]))
    col_share.metric(_("Share within reach"), f"{totals['share_within']:.0%}")

    worst = result.districts.head(5)
    st.markdown(
        "**" + _("Five districts with most people beyond {t:g} min:").format(t=choice.threshold_min) + "** "
        + " · ".join(f"{row.district} ({texts.fmt_people(row.population_beyond)} people, {row.share_within:.0%} within)"
                     for row in worst.itertuples())
    )
    approximate_roads = loaders.approximate_roads()
    st.caption((_("People: 2020 census by district; village figures are estimates shared out from district totals. "
                  "Minutes: car travel on an approximate trunk-road network plus local roads ({season}).")
                if approximate_roads else
                _("People: 2020 census by district; village figures are estimates shared out from district totals. "
                  "Minutes: car travel on the OpenStreetMap roads of {network} plus local roads ({season})."))
               .format(season=choice.season, network=loaders.network_path().name))

    # The base map stays the same while the user moves the slider; only the data layers are
    # sent again, so the browser redraws them without reloading the map.
    layers = maps.coverage_layers(
        loaders.display_districts(), result.districts, result.communities, session.map_services(),
        choice.threshold_min, result.service_types,
    )
    clicked = st_folium(maps.coverage_base_map(tiles=choice.tiles, districts=loaders.display_districts(),
                                               settings=loaders.settings(), approximate_roads=approximate_roads),
                        feature_group_to_add=layers,
                        layer_control=folium.LayerControl(collapsed=True), height=680, use_container_width=True,
                        returned_objects=["last_active_drawing"], key="overview_map")

    feature = (clicked or {}).get("last_active_drawing") or {}
    props = feature.get("properties") or {}
    if props.get("district_id"):
        row = result.districts[result.districts["district_id"] == props["district_id"]]
        if len(row):
            d = row.iloc[0]
            st.subheader(_("{district} ({region})").format(district=d["district"], region=d["region"]))
            c1, c2, c3, c4 = st.columns(4)
            c1.metric(_("Population (census 2020)"), texts.fmt_people(d["population"]))
            c2.metric(_("Within {t:g} min").format(t=choice.threshold_min), texts.fmt_people(d["population_within"]))
            c3.metric(_("Beyond"), texts.fmt_people(d["population_beyond"]))
            c4.metric(_("Farthest community"), f"{d['worst_community']}", texts.fmt_minutes(d["worst_minutes"]),
                      delta_color="off")
    else:
        st.caption(_("Click a district on the map to see its figures."))


# No icons in the navigation: Streamlit fetches Material icons from Google's servers,
# which fails offline.
PAGES = [
    st.Page(overview_map, title=_("Map"), default=True),
    st.Page("pages/1_Underserved_communities.py", title=_("Underserved communities")),
    st.Page("pages/2_Reach.py", title=_("Reach")),
    st.Page("pages/3_About_the_data.py", title=_("About the data")),
    st.Page("pages/4_Services_(staff).py", title=_("Services (staff)")),
]
run_page(st.navigation(PAGES))
