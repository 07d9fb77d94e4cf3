"""Where to open the next site: location-allocation among towns and district seats (most
women within the threshold, or the shortest trips on average), the suggested sites on a
map with the women each adds, and one click to try them on the Scenarios page."""

from __future__ import annotations

import geopandas as gpd
import streamlit as st
from streamlit_folium import st_folium

from coverage import config
from coverage.analysis import scenarios
from coverage.errors import CoverageError
from coverage.views import maps, messages
from dashboard import loaders, scenario_cache, session, sidebar, texts

_ = texts._

PLAN_KEY = "next_site_plan"  # the last plan asked for in this session: (form values, SitePlan)

st.set_page_config(page_title=_("Where to open next"), page_icon="📍", layout="wide")
st.title(_("Where to open the next site"))

choice = sidebar.sidebar()
if not choice.regions:
    st.info(_("Choose at least one region in the sidebar."))
    st.stop()
whom, who = texts.counted(choice.measure), texts.counted(choice.measure, capital=True)
st.caption(_("Suggestions among the towns and district seats of {regions}, given the services open today. "
             "Counts: {whom} in the 2020 census (village figures are estimates shared out from district "
             "totals); minutes: car travel, {season} roads.").format(
    regions=", ".join(texts.names.display_name(r, texts.language()) for r in choice.regions), whom=whom,
    season=texts.season_word(choice.season)))

types = list(config.SERVICE_TYPES)
default_type = choice.service_types[0] if choice.service_types else types[0]
METHOD_LABELS = {
    "mclp": _("Most {whom} within {t:g} min").format(whom=whom, t=choice.threshold_min),
    "pmedian": _("Shortest trips on average"),
}
with st.form("next_site_form"):
    col_type, col_k, col_method = st.columns([2, 1, 2])
    service_type = col_type.selectbox(_("Type of the new site"), types, index=types.index(default_type),
                                      format_func=texts.type_labeller(), key="next_site_type")
    k = col_k.number_input(_("New sites"), min_value=1, max_value=10, value=3, step=1, key="next_site_k")
    method = col_method.radio(_("Aim"), list(METHOD_LABELS), format_func=METHOD_LABELS.get, key="next_site_method")
    candidates = loaders.site_candidates(choice.regions)
    town_names = {n: texts.names.display_name(str(n), texts.language()) for n in candidates["name"].unique()}
    towns = st.multiselect(_("Only consider these towns (empty: every town and district seat)"),
                           sorted(town_names), key="next_site_towns", format_func=town_names.get,
                           placeholder=_("Every town and district seat"))
    asked = st.form_submit_button(_("Suggest sites"), type="primary")

wanted = (method, service_type, int(k), choice.threshold_min, choice.measure, choice.season,
          tuple(choice.regions), tuple(towns))
if asked:
    with st.spinner(_("Choosing sites … (the shortest-trips aim can take up to a minute)")):
        try:
            plan = loaders.site_plan(method, service_type, k=int(k), threshold_min=choice.threshold_min,
                                     measure=choice.measure, season=choice.season, regions=tuple(choice.regions),
                                     towns=tuple(towns))
        except CoverageError as err:
            st.error(messages.error_text(err, gettext=texts.gettext()))
            st.stop()
    st.session_state[PLAN_KEY] = (wanted, plan)
stored = st.session_state.get(PLAN_KEY)
if stored is None:
    st.info(_("Choose the type and number of new sites, then press 'Suggest sites'."))
    st.stop()
asked_for, plan = stored
if asked_for != wanted:
    st.warning(_("The choices have changed since these suggestions were made: press 'Suggest sites' again."))
service_type = asked_for[1]
kind = texts.type_label(service_type).lower()

col_now, col_after, col_total = st.columns(3)
col_now.metric(_("{who} within {t:g} min today").format(who=who, t=plan.threshold_min),
               texts.fmt_people(plan.covered_before))
col_after.metric(_("With the suggested sites"), texts.fmt_people(plan.covered_after),
                 delta=f"+{plan.adds:,}" if plan.adds else None)
col_total.metric(_("{who} in the area").format(who=who), texts.fmt_people(plan.total))
if not plan.optimal:
    st.warning(_("The solver stopped at its time limit: these sites are a good choice, not a proven best one."))
if plan.adds == 0:
    st.info(_("No town in the area brings anyone new within {t:g} min of a {kind}.").format(
        t=plan.threshold_min, kind=kind))

adds_label = _("{who} it adds").format(who=who)
sites = texts.in_script(plan.sites, "name", "district", "region")  # names in the session's script
columns = {"rank": _("Rank"), "name": _("Town"), "district": _("District"), "region": _("Region"),
           "adds": st.column_config.NumberColumn(adds_label, format="localized")}
shown = ["rank", "name", "district", "region", "adds"]
if plan.method == "pmedian":
    shown.append("hours_saved")
    sites = sites.assign(hours_saved=(sites["minutes_saved"] / 60.0).round())
    columns["hours_saved"] = st.column_config.NumberColumn(
        _("Travel hours it saves ({whom} × hours, est.)").format(whom=whom), format="localized")
st.dataframe(sites[shown], hide_index=True, width="stretch", column_config=columns, key="next_site_table")
st.caption(_("Each site's figure counts what it adds after the sites ranked above it. Figures are model "
             "estimates from the census shares and modelled road times."))

small = maps.point_map(gpd.GeoDataFrame(geometry=[], crs=config.CRS_STORE), session.map_services(),
                       tiles=choice.tiles, service_types=(service_type,), settings=loaders.settings(),
                       districts=texts.in_script(loaders.display_districts(), "district"),
                       towns=texts.in_script(loaders.inputs().communities, "name"), gettext=texts.gettext())
maps.suggested_sites_layer(sites, service_type, layer_name=_("Suggested sites"),
                           adds_label=adds_label).add_to(small)
if len(sites):
    minx, miny, maxx, maxy = sites.total_bounds
    pad = 0.3  # degrees: the towns around a site stay in view
    small.fit_bounds([(miny - pad, minx - pad), (maxy + pad, maxx + pad)])
st_folium(small, height=420, use_container_width=True, returned_objects=[], key="next_site_map")

site_names = dict(zip(plan.sites["name"], sites["name"]))  # the stored name (the scenario's town) → shown name
picked = st.multiselect(_("Sites to try in a scenario"), list(site_names), default=list(site_names),
                        key="next_site_pick", format_func=site_names.get)
if st.button(_("Add to the scenario"), disabled=not picked, key="next_site_add"):
    scenario_cache.propose_sites([scenarios.ProposedSite(type=service_type, town=str(name)) for name in picked])
    st.success(_("Added {n} proposed {kind} site(s) to this session's scenario.").format(n=len(picked), kind=kind))
    st.page_link("pages/5_Scenarios.py", label=_("Open the Scenarios page to see before and after"), icon="🧭")
