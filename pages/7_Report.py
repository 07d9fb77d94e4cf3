"""Report: a printable one-page brief of a district or region, its map, a funders' summary,
and the tables and layers behind them, to download. Everything is made from public inputs
(shelters at their town) by the library (coverage.analysis.briefs, coverage.views)."""

from __future__ import annotations

import streamlit as st

from coverage.analysis import briefs
from coverage.views import briefs as brief_views
from coverage.views import exports, i18n, labels
from dashboard import loaders, sidebar, texts

_ = texts._

st.set_page_config(page_title=_("Report"), page_icon="🖨️", layout="wide")
st.title(_("Report: brief, map, tables and layers"))
st.caption(_("A one-page brief to print or show offline, for a district or a region, with the choices made in "
             "the sidebar (service types, threshold, season, what is counted)."))

choice = sidebar.sidebar()
if not choice.service_types:
    st.info(_("Choose at least one service type in the sidebar."))
    st.stop()

data = loaders.inputs()
kinds = {"district": _("A district"), "region": _("A region")}
kind = st.radio(_("Report on"), list(kinds), format_func=kinds.get, horizontal=True, key="report_kind")
if kind == "district":
    districts = data.districts.sort_values("district")
    names = districts["district"].astype(str).tolist()
    in_view = st.session_state.get(sidebar.DISTRICT_KEY)
    rows = districts.index[districts["district_id"] == in_view] if in_view else []
    default = names.index(str(districts.loc[rows[0], "district"])) if len(rows) else \
        (names.index("Kulob") if "Kulob" in names else 0)
    shown = texts.in_script(districts, "district", "region")  # names in the session's script, bound to this run
    shown_names = {n: _("{district} ({region})").format(district=d, region=r)
                   for n, d, r in zip(names, shown["district"], shown["region"])}
    picked = st.selectbox(_("District"), names, index=default, key="report_district", format_func=shown_names.get)
    area = briefs.find_area(data.districts, district=picked)
else:
    regions = sorted(data.districts["region"].dropna().unique())
    default = regions.index(choice.regions[0]) if choice.regions and choice.regions[0] in regions else 0
    region_names = {r: texts.names.display_name(str(r), texts.language()) for r in regions}
    picked = st.selectbox(_("Region"), regions, index=default, key="report_region", format_func=region_names.get)
    area = briefs.find_area(data.districts, region=picked)
lang = st.selectbox(_("Language of the brief"), list(i18n.LANGUAGES), format_func=i18n.LANGUAGES.get,
                    index=list(i18n.LANGUAGES).index(texts.language()), key="report_lang")  # the session's, to start
with st.expander(_("Scenario shown (optional)")):
    scenario_title = st.text_input(_("Scenario title"), key="report_scenario_title").strip() or None
    scenario_summary = st.text_area(_("What the scenario changes"), key="report_scenario_summary").strip() or None

gettext = i18n.translator(lang)
approximate = loaders.approximate_roads()
times = loaders.travel_times(choice.season)
result = briefs.area_analysis(data, times, area, choice.service_types, threshold_min=choice.threshold_min,
                              season=choice.season, measure=choice.measure)
content = briefs.brief_content(data, times, area, result, approximate_roads=approximate)
who = texts.counted(choice.measure, capital=True)
c1, c2, c3, c4 = st.columns(4)
c1.metric(_("Women (census 2020)") if choice.measure == "women" else _("Population (census 2020)"),
          texts.fmt_people(content.total))
c2.metric(_("{who} within {t:g} min (estimate)").format(who=who, t=choice.threshold_min),
          texts.fmt_people(content.within))
c3.metric(_("Share within reach (estimate)"), brief_views.fmt_share(content.share_within, _))
c4.metric(_("Communities beyond"), _("{n} of {m}").format(n=content.communities_beyond, m=content.communities))

slug = "".join(ch if ch.isalnum() else "_" for ch in area.name.lower()).strip("_")
stem = f"{slug}_{int(choice.threshold_min)}min_{choice.season}_{lang}"


@st.cache_data(show_spinner=False, max_entries=8)
def report_files(key: tuple, _area: briefs.Area, _result, _org_times) -> dict[str, bytes]:
    """Every file of the report, made once per (area, sidebar choice, language, scenario, data):
    a rerun for another widget does not draw them again."""
    with st.spinner(_("Drawing the map and laying out the brief …")):
        png = briefs.map_png(data, _area, _result, gettext=gettext, approximate_roads=approximate, dpi=150,
                             language=lang)
        pdf = briefs.brief_pdf(data, times, _area, _result, gettext=gettext, approximate_roads=approximate,
                               scenario_title=scenario_title, scenario_summary=scenario_summary, language=lang)
        summary = briefs.reach_summary(data, _area, choice.service_types, threshold_min=choice.threshold_min,
                                       season=choice.season, measure=choice.measure, approximate_roads=approximate,
                                       org_times=_org_times)
        reach_table, _unused = briefs.area_reach(data, _area, choice.service_types, season=choice.season,
                                                 measure=choice.measure, org_times=_org_times)
        tables = briefs.export_tables(data, _area, _result, reach_table=reach_table, gettext=gettext)
        layers = briefs.export_layers(data, _area, _result)
    files = {"brief": pdf, "map": png, "reach": briefs.reach_pdf(data, summary, gettext=gettext, language=lang),
             "xlsx": exports.tables_xlsx(tables), "geojson": exports.layers_geojson(layers),
             "gpkg": exports.layers_gpkg(layers)}
    files.update({f"csv:{name}": exports.table_csv(table) for name, table in tables.items()})
    return files


files = report_files((area.kind, area.name, choice.service_types, choice.threshold_min, choice.season,
                      choice.measure, lang, scenario_title, scenario_summary, str(loaders.network_path()),
                      loaders.inputs_key()),
                     area, result, loaders.organisation_times(choice.season, choice.service_types))
st.image(files["map"], caption=_("The brief's map (shelters at town level)."), width="stretch")

st.subheader(_("Download"))
d1, d2, d3 = st.columns(3)
d1.download_button(_("Brief (PDF, one page)"), files["brief"], file_name=f"brief_{stem}.pdf",
                   mime="application/pdf", key="dl_brief")
d2.download_button(_("Map (PNG)"), files["map"], file_name=f"map_{stem}.png", mime="image/png", key="dl_map")
d3.download_button(_("Reach per organisation, for funders (PDF)"), files["reach"], file_name=f"reach_{stem}.pdf",
                   mime="application/pdf", key="dl_reach")
t1, t2, t3, t4 = st.columns(4)
table_names = {"communities": _("Communities"), "districts": _("Districts"), "underserved": _("Underserved"),
               "services": _("Services (public)"), "reach": _("Reach per organisation")}
tables_here = [name for name in table_names if f"csv:{name}" in files]
which = t1.selectbox(_("Table (CSV)"), tables_here, format_func=table_names.get, key="report_table")
t1.download_button(_("Table (CSV)"), files[f"csv:{which}"], file_name=f"{which}_{stem}.csv", mime="text/csv",
                   key="dl_csv")
t2.download_button(_("All tables (XLSX)"), files["xlsx"], file_name=f"tables_{stem}.xlsx",
                   mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="dl_xlsx")
t3.download_button(_("Layers (GeoJSON)"), files["geojson"], file_name=f"layers_{stem}.geojson",
                   mime="application/geo+json", key="dl_geojson")
t4.download_button(_("Layers (GeoPackage)"), files["gpkg"], file_name=f"layers_{stem}.gpkg",
                   mime="application/geopackage+sqlite3", key="dl_gpkg")
st.caption(_("Every file is public: shelters appear at their town, never at their address, and every figure is "
             "computed from that public point. Village figures and travel times are estimates ({note}).").format(
    note=_(labels.ESTIMATE_NOTE)))
