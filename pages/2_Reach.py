"""Reach: people within 30 / 60 / 120 minutes of each organisation's services."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from coverage.analysis import reach
from coverage.data import services
from dashboard import loaders, sidebar, texts

_ = texts._

st.set_page_config(page_title=_("Reach by organisation"), page_icon="📈", layout="wide")
st.title(_("Reach by organisation"))

choice = sidebar.sidebar()
if not choice.service_types or not choice.regions:
    st.info(_("Choose at least one service type and one region in the sidebar."))
    st.stop()
# The sidebar's threshold joins the fixed 30 / 60 / 120 min columns; its types choose the services.
thresholds = tuple(sorted({*reach.REACH_THRESHOLDS_MIN, int(choice.threshold_min)}))
table = loaders.organisation_reach(choice.season, choice.service_types, thresholds)
table = table[table["region"].isin(choice.regions)]
totals = reach.organisation_totals(table, thresholds)
cols = [f"within_{t}" for t in thresholds]
chosen_col = f"within_{int(choice.threshold_min)}"
labels = {f"within_{t}": _("Within {t} min").format(t=t) for t in thresholds}
population = int(loaders.inputs().communities.query("region in @choice.regions")["population"].sum())

st.markdown(
    _("People (2020 census, village figures estimated) living within {ts} minutes by car of **any** {what} "
      "of each organisation, {season} roads, in: {regions} — {pop:,} people in all. "
      "A person near several organisations counts for each, so organisation rows do not add up to the "
      "last row, which counts each person once.").format(
        ts=", ".join(str(t) for t in thresholds), what=texts.type_phrase(choice.service_types),
        season=texts.season_word(choice.season),
        regions=", ".join(texts.names.display_name(r, texts.language()) for r in choice.regions), pop=population)
)

chart_data = totals[totals["org"] != reach.ANY_ORGANISATION].melt(id_vars="org", value_vars=cols,
                                                                   var_name="threshold", value_name="people")
chart_data["threshold"] = chart_data["threshold"].map(labels)
chart = (
    alt.Chart(chart_data)
    .mark_bar()
    .encode(
        y=alt.Y("org:N", sort="-x", title=None, axis=alt.Axis(labelLimit=260)),
        x=alt.X("people:Q", title=_("People within reach")),
        color=alt.Color("threshold:N", title=None, sort=list(labels.values())),
        yOffset=alt.YOffset("threshold:N", sort=list(labels.values())),
        tooltip=["org", "threshold", alt.Tooltip("people:Q", format=",")],
    )
    .properties(height=alt.Step(9))
)
st.altair_chart(chart, width="stretch")

number = {c: st.column_config.NumberColumn(labels[c], format="localized") for c in cols}
st.subheader(_("Totals per organisation"))
st.dataframe(totals.assign(share_chosen=totals[chosen_col] / max(population, 1)), hide_index=True,
             width="stretch",
             column_config={"org": _("Organisation"), **number,
                            "share_chosen": st.column_config.ProgressColumn(
                                _("Share of people within {t:g} min").format(t=choice.threshold_min),
                                min_value=0.0, max_value=1.0, format="percent")})

st.subheader(_("What each organisation alone adds (within {t:g} min)").format(t=choice.threshold_min))
st.caption(_("People within {t:g} min of this organisation's {what} and of no other organisation's: they "
             "would lose access within the threshold without it.").format(
    t=choice.threshold_min, what=texts.type_phrase(choice.service_types)))
alone = reach.sole_reach(loaders.organisation_times(choice.season, choice.service_types),
                         loaders.inputs().communities, choice.threshold_min)
alone = alone[alone["region"].isin(choice.regions)]
alone_by_org = alone.pivot_table(index="org", columns="region", values="people_alone", aggfunc="sum",
                                 fill_value=0)
alone_by_org = alone_by_org.assign(total=alone_by_org.sum(axis=1)).sort_values("total", ascending=False)
st.dataframe(alone_by_org.reset_index(), hide_index=True, width="stretch", key="reach_alone",
             column_config={"org": _("Organisation"), "total": st.column_config.NumberColumn(
                 _("People only it reaches"), format="localized")})

st.subheader(_("By district"))
orgs = [o for o in totals["org"] if o != reach.ANY_ORGANISATION] + [reach.ANY_ORGANISATION]
org = st.selectbox(_("Organisation"), orgs, key="reach_org")
by_district = texts.in_script(table[table["org"] == org].drop(columns=["org", "district_id"]), "district", "region")
total_row = pd.DataFrame([{"district": _("Total"), "region": "", "population": by_district["population"].sum(),
                           **{c: by_district[c].sum() for c in cols}}])
st.dataframe(pd.concat([by_district, total_row], ignore_index=True), hide_index=True, width="stretch",
             column_config={"district": _("District"), "region": _("Region"),
                            "population": st.column_config.NumberColumn(_("Population"), format="localized"), **number})
st.download_button(_("Download reach by district (CSV)"),
                   services.neutralise_formulas(table).to_csv(index=False).encode("utf-8"),
                   file_name=f"reach_by_district_{choice.season}.csv", mime="text/csv")
