"""Underserved communities and districts, ranked by women (or all people) affected."""

from __future__ import annotations

import streamlit as st
from streamlit_folium import st_folium

from coverage.data import services
from coverage.views import labels, maps
from dashboard import loaders, session, sidebar, texts

_ = texts._

st.set_page_config(page_title=_("Underserved communities"), page_icon="📋", layout="wide")
st.title(_("Underserved communities"))

choice = sidebar.sidebar()
result = sidebar.current_analysis(choice)
if result is None:
    st.stop()

phrase = texts.type_phrase(result.service_types)
ranking = result.ranking
measure = result.measure  # the ranking's column counted: "women" or "population"
who, whom = texts.counted(measure, capital=True), texts.counted(measure)
st.markdown(
    _("**{n:,}** communities with **{p:,}** {whom} are more than **{t:g} min** from the nearest {what} "
      "({season}). Sorted by {whom} affected; click a column header to sort differently.").format(
        n=len(ranking), p=int(ranking[measure].sum()), whom=whom, t=choice.threshold_min, what=phrase,
        season=texts.season_word(choice.season))
)

table = texts.in_script(ranking, "name", "district", "nearest_service_town").assign(
    minutes=ranking["minutes"].map(lambda m: round(m) if m == m and m != float("inf") else None),
    population_note=labels.population_notes(ranking["estimated"] | (measure == "women"), gettext=_),
)
shown = table[["name", "district", "region", measure, "population_note", "minutes", "nearest_service",
               "nearest_service_town"]]
event = st.dataframe(
    shown,
    hide_index=True,
    width="stretch",
    on_select="rerun",
    selection_mode="single-row",
    key="underserved_table",
    column_config={
        "name": _("Community"),
        "district": _("District"),
        "region": _("Region"),
        measure: st.column_config.NumberColumn(_("{who} affected").format(who=who), format="localized"),
        "population_note": _("Figure"),
        "minutes": st.column_config.NumberColumn(_("Minutes to nearest"), format="%d min",
                                                 help=_("Empty: no road route at all")),
        "nearest_service": _("Nearest service"),
        "nearest_service_town": _("Its town"),
    },
)
st.download_button(
    _("Download this table (CSV)"),
    services.neutralise_formulas(shown).to_csv(index=False).encode("utf-8"),
    file_name=f"underserved_{'-'.join(result.service_types)}_{choice.threshold_min:g}min_{choice.season}.csv",
    mime="text/csv",
)

selected_rows = event.selection.rows if event is not None else []
points = result.communities[result.communities["underserved"]].set_index("community_id")
highlight = None
if selected_rows:
    selected_id = ranking.iloc[selected_rows[0]]["community_id"]
    row = points.loc[selected_id]
    people = (_("{people:,} {whom} ({note})").format(people=int(row[measure]), whom=whom,
                                                     note=_(labels.ESTIMATE_NOTE))
              if row["estimated"] or measure == "women"
              else _("{people:,} {whom}").format(people=int(row[measure]), whom=whom))
    st.info(_("{name}: {people}, {minutes} to the nearest {what}.").format(
        name=texts.names.display_name(row["name"], texts.language()), people=people, minutes=texts.fmt_minutes(row["minutes"]), what=phrase))
    highlight = selected_id
left, right = st.columns([3, 2])
with left:
    small = maps.point_map(texts.in_script(points, "name", "district"), session.map_services(), highlight=highlight,
                           tiles=choice.tiles, service_types=result.service_types, settings=loaders.settings(),
                           districts=texts.in_script(loaders.display_districts(), "district"),
                           towns=texts.in_script(loaders.inputs().communities, "name"), measure=result.measure,
                           gettext=texts.gettext())
    st_folium(small, height=420, use_container_width=True, returned_objects=[], key="underserved_map")
with right:
    st.subheader(_("Districts beyond {t:g} min").format(t=choice.threshold_min))
    districts = result.districts[result.districts["population_beyond"] > 0]
    st.dataframe(
        texts.in_script(districts, "district")[["district", "region", "population_beyond", "share_within",
                                                 "communities_beyond"]],
        hide_index=True,
        width="stretch",
        column_config={
            "district": _("District"),
            "region": _("Region"),
            "population_beyond": st.column_config.NumberColumn(_("{who} beyond").format(who=who),
                                                               format="localized"),
            "share_within": st.column_config.ProgressColumn(_("Share within"), min_value=0.0, max_value=1.0,
                                                            format="percent"),
            "communities_beyond": st.column_config.NumberColumn(_("Communities beyond"), format="localized"),
        },
    )
