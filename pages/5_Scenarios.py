"""What-if scenarios for planners: close services, add proposed sites, close roads, change
the season; before and after side by side. Saved scenarios live beside the registry (signed-in
staff save; anyone may run, load and compare). Nothing here changes the registry."""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from coverage import config
from coverage.analysis import scenarios
from coverage.errors import CoverageError
from coverage.views import maps, messages
from dashboard import loaders, scenario_cache, session, sidebar, texts

_ = texts._

CLOSED_KEY, ROADS_KEY, SEASON_KEY = "scn_closed", "scn_roads", "scn_season"
SITES_KEY = scenario_cache.SITES_KEY
CLICK_KEY, LAST_CLICK_KEY = "scn_click", "scn_last_click"
CLICKED_POINT = "__clicked__"  # the town picker's option for the point clicked on the map
SEASON_LABELS = {"summer": _("Summer"), "winter": _("Winter (passes closed)")}
SEASON_WORDS = {"summer": _("summer"), "winter": _("winter")}

st.set_page_config(page_title=_("Scenarios"), page_icon="🧭", layout="wide")
st.title(_("Scenarios: what if…"))
st.caption(_("Close a service, add a proposed site, close a road or a pass, change the season, and compare "
             "with today. Scenarios never change the registry of real services. Every figure uses each "
             "shelter's public (town) point; a proposed shelter is placed at its town too."))

choice = sidebar.sidebar()
if not choice.service_types or not choice.regions:
    st.info(_("Choose at least one service type and one region in the sidebar."))
    st.stop()
data = loaders.inputs()
baseline = scenario_cache.baseline()
services = data.services.sort_values(["type", "town", "name"], kind="stable")
service_names = dict(zip(services["service_id"], services["name"]))
service_types = dict(zip(services["service_id"], services["type"]))
roads_table = scenario_cache.closable_roads("summer")  # every road; winter's own closures show as such
road_ids = dict(zip(roads_table["label"], roads_table["way_ids"]))
road_of_way = {int(way): label for label, ways in road_ids.items() for way in ways}  # way ids outlive names
type_label = texts.type_labeller()  # bound to this run's language (format_func may run outside it)
language = texts.language()
clicked_label = _("The point clicked on the map")


def _service_label(service_id: str) -> str:
    kind = type_label(service_types.get(service_id, ""))
    return f"{service_names.get(service_id, service_id)} — {kind}"


def _apply_saved() -> None:
    """Load the saved scenario picked into the page's and the sidebar's widgets (a button
    callback, so it runs before the widgets are drawn again)."""
    name = st.session_state.get("scn_load_name")
    try:
        saved = scenarios.scenario_from_dict(loaders.registry().load_scenario(name)["body"])
    except CoverageError as err:
        st.session_state["scn_flash"] = ("error", messages.error_text(err, gettext=texts.gettext()))
        return
    scenario, dropped = scenarios.applicable(data, saved)
    st.session_state[CLOSED_KEY] = list(scenario.closed_services)
    st.session_state[SITES_KEY] = [site.to_dict() for site in scenario.added_sites]
    st.session_state[ROADS_KEY] = sorted({road_of_way[r.way_id] for r in scenario.closed_roads
                                          if r.way_id in road_of_way})
    st.session_state[SEASON_KEY] = scenario.season
    present = set(data.services["type"])
    st.session_state["service_types"] = [t for t in scenario.service_types if t in present]
    lowest, highest, step = sidebar.THRESHOLD_RANGE_MIN
    st.session_state["threshold"] = int(min(highest, max(lowest, round(scenario.threshold_min / step) * step)))
    st.session_state["measure"] = scenario.measure
    note = _("Loaded scenario '{name}'.").format(name=name)
    if dropped:
        note += " " + _("These services are no longer open and were left out: {ids}.").format(ids=", ".join(dropped))
    st.session_state["scn_flash"] = ("success", note)


def _add_site(kind: str, town: str | None, org: str) -> None:
    if not town:
        st.error(_("Pick a town for the proposed site, or click the map and choose 'The point clicked on the map'."))
        return
    site: dict[str, object] = {"type": kind, "town": "", "org": org.strip()}
    if town == CLICKED_POINT:
        lat, lon = st.session_state[CLICK_KEY]
        site.update(lon=float(lon), lat=float(lat))
    else:
        site["town"] = town
    try:
        scenarios.scenario_from_dict({"added_sites": [site]})
    except CoverageError as err:
        st.error(messages.error_text(err, gettext=texts.gettext()))
        return
    st.session_state.setdefault(SITES_KEY, []).append(site)


for kind, message in [st.session_state.pop("scn_flash")] if "scn_flash" in st.session_state else []:
    getattr(st, kind)(message)

# --- the changes ----------------------------------------------------------------------------

st.subheader(_("Changes"))
left, right = st.columns(2)
with left:
    st.multiselect(_("Close services"), list(services["service_id"]), key=CLOSED_KEY, format_func=_service_label,
                   placeholder=_("Pick services that close…"))
    st.multiselect(_("Close roads"), list(road_ids), key=ROADS_KEY, placeholder=_("Pick roads or passes by name…"),
                   help=_("Roads are kept by their OpenStreetMap way id (on the default network: the segment's id), "
                          "so a saved scenario means the same roads after the network is rebuilt."))
    if SEASON_KEY not in st.session_state:
        st.session_state[SEASON_KEY] = choice.season
    st.radio(_("Season of the scenario"), config.SEASONS, key=SEASON_KEY, horizontal=True,
             format_func=lambda s: SEASON_LABELS[s],
             help=_("'Before' is today in the sidebar's season; 'after' is the scenario in this season."))
with right:
    with st.form("scn_add_form", clear_on_submit=True, border=True):
        st.markdown("**" + _("Add a proposed site") + "**")
        kind = st.selectbox(_("Type"), list(config.SERVICE_TYPES), format_func=type_label,
                            key="scn_add_type")
        towns = scenarios.town_choices(data)
        options = ([CLICKED_POINT] if CLICK_KEY in st.session_state else []) + towns
        town = st.selectbox(_("Where"), options, key="scn_add_town", index=None,
                            placeholder=_("Pick a town, or click the map below first…"),
                            format_func=lambda t: clicked_label if t == CLICKED_POINT else
                            texts.names.display_name(t, language))
        org = st.text_input(_("Run by (optional)"), key="scn_add_org", max_chars=120)
        if st.form_submit_button(_("Add site")):
            _add_site(kind, town, org)
    sites = st.session_state.get(SITES_KEY, [])
    if sites:
        if st.button(_("Remove all proposed sites"), key="scn_clear_sites"):
            st.session_state[SITES_KEY] = []
            st.rerun()

scenario = scenarios.Scenario(
    closed_services=tuple(st.session_state.get(CLOSED_KEY, [])),
    added_sites=tuple(scenarios.scenario_from_dict({"added_sites": st.session_state.get(SITES_KEY, [])}).added_sites),
    season=st.session_state[SEASON_KEY],
    closed_roads=tuple(scenarios.ClosedRoad(w, label) for label in st.session_state.get(ROADS_KEY, [])
                       for w in road_ids.get(label, ())),
    threshold_min=choice.threshold_min, measure=choice.measure, service_types=choice.service_types,
)
result = scenarios.run_scenario(data, scenario, baseline=baseline, baseline_season=choice.season,
                                regions=choice.regions)

if len(result.added):
    shown_sites = texts.in_script(pd.DataFrame(result.added[["name", "type", "town", "district"]]).assign(
        type=lambda t: t["type"].map(type_label)), "town", "district")
    st.dataframe(shown_sites, hide_index=True, width="stretch", key="scn_sites_table",
                 column_config={"name": _("Proposed site"), "type": _("Type"), "town": _("Town"),
                                "district": _("District")})
missing_types = [t for t in scenarios.touched_types(data, scenario.closed_services, scenario.added_sites)
                 if t not in scenario.service_types]
if missing_types:
    st.info(_("The figures count {counted} only; add {missing} to the service types in the sidebar to count the "
              "changes made to them.").format(counted=texts.type_phrase(scenario.service_types),
                                              missing=texts.type_phrase(tuple(missing_types))))
off_network = result.roads[~result.roads["on_network"]]
if len(off_network):
    st.info(_("Not on the {season} road network, so closing them changes nothing: {roads}.").format(
        season=SEASON_WORDS[scenario.season], roads=", ".join(sorted(set(off_network["name"])))))

# --- before / after -----------------------------------------------------------------------

st.subheader(_("Before and after"))
overall = result.overall()
who = texts.counted(scenario.measure, capital=True)
phrase = texts.type_phrase(scenario.service_types)
st.caption(_("{who} within {t:g} min of a {what}. Before: services as registered, {before}. After: the scenario, "
             "{after}. Recomputed in {s:.2f} s.").format(who=who, t=scenario.threshold_min, what=phrase,
                                                         before=SEASON_WORDS[result.baseline_season],
                                                         after=SEASON_WORDS[scenario.season], s=result.seconds))
col_before, col_after = st.columns(2)
with col_before:
    st.markdown("**" + _("Before") + "**")
    st.metric(_("{who} within {t:g} min (before)").format(who=who, t=scenario.threshold_min),
              texts.fmt_people(overall["within_before"]))
    st.metric(_("Share within (before)"), f"{overall['share_before']:.0%}")
with col_after:
    st.markdown("**" + _("After") + "**")
    st.metric(_("{who} within {t:g} min (after)").format(who=who, t=scenario.threshold_min),
              texts.fmt_people(overall["within_after"]),
              delta=f"{int(overall['change']):+,}" if overall["change"] else None)
    st.metric(_("Share within (after)"), f"{overall['share_after']:.0%}",
              delta=(f"{(overall['share_after'] - overall['share_before']) * 100:+.1f} " + _("points"))
              if overall["change"] else None)
st.markdown(_("**{n:,}** communities change status; the travel time of **{m:,}** changes.").format(
    n=len(result.changed), m=result.minutes_changed))

only_changed = st.toggle(_("Only districts that change"), value=True, key="scn_only_changed")
districts = result.districts[result.districts["change"] != 0] if only_changed else result.districts
st.dataframe(texts.in_script(districts, "district", "region")[["district", "region", "population", "within_before",
                                                              "within_after", "change"]],
             hide_index=True, width="stretch", key="scn_districts",
             column_config={"district": _("District"), "region": _("Region"),
                            "population": st.column_config.NumberColumn(who, format="localized"),
                            "within_before": st.column_config.NumberColumn(_("Within, before"), format="localized"),
                            "within_after": st.column_config.NumberColumn(_("Within, after"), format="localized"),
                            "change": st.column_config.NumberColumn(_("Change"), format="localized")})

st.subheader(_("Communities whose status changes"))
changed = result.changed.assign(
    minutes_before=result.changed["minutes_before"].map(texts.fmt_minutes),
    minutes_after=result.changed["minutes_after"].map(texts.fmt_minutes),
    status_after=result.changed["status_after"].map({"within": _("now within"), "beyond": _("now beyond")}))
st.dataframe(texts.in_script(changed, "name", "district", "region")[
                 ["name", "district", "region", scenario.measure, "minutes_before", "minutes_after", "status_after",
                  "nearest_after"]],
             hide_index=True, width="stretch", key="scn_changed",
             column_config={"name": _("Community"), "district": _("District"), "region": _("Region"),
                            scenario.measure: st.column_config.NumberColumn(_("{who} (estimate)").format(who=who),
                                                                            format="localized"),
                            "minutes_before": _("Before"), "minutes_after": _("After"), "status_after": _("Status"),
                            "nearest_after": _("Nearest after")})

# --- the map: changed communities, services, proposed sites; a click places a site ---------

points = data.communities.set_index("community_id").loc[result.changed["community_id"]].reset_index()
points = gpd.GeoDataFrame(points.assign(minutes=result.changed["minutes_after"].to_numpy(),
                                        threshold_min=scenario.threshold_min), geometry="geometry",
                          crs=data.communities.crs)
shown = session.map_services()
shown = shown[~shown["service_id"].isin(scenario.closed_services)]
map_services = gpd.GeoDataFrame(pd.concat([shown, result.added], ignore_index=True), geometry="geometry",
                                crs=shown.crs)
small = maps.point_map(texts.in_script(points, "name", "district"), map_services, tiles=choice.tiles,
                       service_types=scenario.service_types, settings=loaders.settings(),
                       districts=texts.in_script(loaders.display_districts(), "district"),
                       towns=texts.in_script(data.communities, "name"), measure=scenario.measure,
                       gettext=texts.gettext())
if not len(points):  # nothing changes yet: show the regions counted, ready for a click
    counted_area = data.communities[data.communities["region"].isin(choice.regions)]
    minx, miny, maxx, maxy = (counted_area if len(counted_area) else data.communities).total_bounds
    small.fit_bounds([(miny, minx), (maxy, maxx)])
st.caption(_("Communities that change status (coloured by minutes after), the services of the scenario and the "
             "proposed sites. Click the map to place a proposed site there, then choose 'The point clicked on the "
             "map' above."))
clicked = st_folium(small, height=420, use_container_width=True, returned_objects=["last_clicked"], key="scn_map")
click = (clicked or {}).get("last_clicked")
if click and (click.get("lat"), click.get("lng")) != st.session_state.get(LAST_CLICK_KEY):
    st.session_state[LAST_CLICK_KEY] = (click.get("lat"), click.get("lng"))
    st.session_state[CLICK_KEY] = (float(click["lat"]), float(click["lng"]))
    st.rerun()

# --- saved scenarios ------------------------------------------------------------------------

st.subheader(_("Saved scenarios"))
registry = loaders.registry()
saved = registry.saved_scenarios()
user = session.signed_in_user()
save_col, load_col = st.columns(2)
with save_col:
    if user is None:
        st.caption(_("Sign in (Staff sign-in in the sidebar) to save scenarios. Running, loading and comparing "
                     "need no account."))
    else:
        name = st.text_input(_("Name"), key="scn_save_name", max_chars=config.MAX_SCENARIO_NAME_CHARS)
        replace = st.checkbox(_("Replace a saved scenario of this name (yours)"), key="scn_save_replace")
        if st.button(_("Save scenario"), key="scn_save"):
            try:
                done = registry.save_scenario(name, dataclasses.replace(scenario, name=name.strip()).to_dict(), user,
                                              replace=replace)
                st.session_state["scn_flash"] = ("success", _("Saved '{name}' ({author}, {date}).").format(
                    name=done["name"], author=done["author"], date=done["created_at"]))
                st.rerun()
            except CoverageError as err:
                st.error(messages.error_text(err, gettext=texts.gettext()))
with load_col:
    if saved.empty:
        st.caption(_("No saved scenarios yet."))
    else:
        picked = st.selectbox(_("Saved scenario"), list(saved["name"]), key="scn_load_name")
        st.button(_("Load"), key="scn_load", on_click=_apply_saved)
        if user is not None and st.button(_("Delete"), key="scn_delete"):
            try:
                registry.delete_scenario(picked, user)
                st.session_state["scn_flash"] = ("success", _("Deleted '{name}'.").format(name=picked))
                st.rerun()
            except CoverageError as err:
                st.error(messages.error_text(err, gettext=texts.gettext()))
if not saved.empty:
    st.dataframe(saved, hide_index=True, width="stretch", key="scn_saved",
                 column_config={"name": _("Name"), "author": _("Saved by"), "created_at": _("Date (UTC)")})
    compared = st.multiselect(_("Compare saved scenarios"), list(saved["name"]), max_selections=2,
                              key="scn_compare")
    rows, by_district = [], {}
    for name in compared:
        body = scenarios.scenario_from_dict(registry.load_scenario(name)["body"])
        body, dropped = scenarios.applicable(data, body)
        run = scenarios.run_scenario(data, body, baseline=baseline, baseline_season=choice.season,
                                     regions=choice.regions)
        figures = run.overall()
        rows.append({"name": name, "season": SEASON_LABELS[body.season], "types": texts.type_phrase(body.service_types),
                     "threshold": _("{t:g} min").format(t=body.threshold_min), "counted": texts.counted(body.measure),
                     "before": int(figures["within_before"]), "after": int(figures["within_after"]),
                     "change": int(figures["change"]), "left_out": ", ".join(dropped)})
        by_district[name] = run.districts.set_index("district")["change"]
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key="scn_compare_table",
                     column_config={"name": _("Scenario"), "season": _("Season"), "types": _("Counts"),
                                    "threshold": _("Threshold"), "counted": _("Who"),
                                    "before": st.column_config.NumberColumn(_("Within, before"), format="localized"),
                                    "after": st.column_config.NumberColumn(_("Within, after"), format="localized"),
                                    "change": st.column_config.NumberColumn(_("Change"), format="localized"),
                                    "left_out": _("Closed services no longer open")})
        districts_side = pd.DataFrame(by_district).fillna(0).astype(int)
        districts_side = texts.in_script(districts_side[(districts_side != 0).any(axis=1)].reset_index(names="district"),
                                         "district")
        st.dataframe(districts_side, hide_index=True, width="stretch", key="scn_compare_districts",
                     column_config={"district": _("District (change in each scenario)")})
