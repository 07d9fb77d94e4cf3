"""Reach: women (or all people) within 30 / 60 / 120 minutes of each organisation's services,
side by side per service type and per region, and what each organisation alone adds."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from coverage import config
from coverage.analysis import reach
from coverage.data import services
from coverage.views import labels, maps
from dashboard import loaders, sidebar, texts

_ = texts._

st.set_page_config(page_title=_("Reach by organisation"), page_icon="📈", layout="wide")
st.title(_("Reach by organisation"))

choice = sidebar.sidebar()
if not choice.service_types or not choice.regions:
    st.info(_("Choose at least one service type and one region in the sidebar."))
    st.stop()
# The library computes every figure (analysis.reach.summarise; the CLI's `reach` prints the same);
# the sidebar's threshold joins the fixed 30 / 60 / 120 min columns, its types choose the services.
report = loaders.organisation_reach(choice.season, choice.service_types, threshold_min=choice.threshold_min,
                                    regions=choice.regions, measure=choice.measure)
who = texts.counted(report.measure, capital=True)
women = report.measure == "women"  # whole sentences per measure: Russian and Tajik inflect the word
cols = [reach.within_column(t) for t in report.thresholds]
labels_by_col = {reach.within_column(t): _("Within {t:g} min").format(t=t) for t in report.thresholds}
chosen = report.chosen
what = texts.type_phrase(choice.service_types)
intro = (_("Women (2020 census female share of each district, village figures estimated) living within {ts} "
           "minutes by car of **any** {what} of each organisation, {season} roads, in: {regions} — {pop:,} women "
           "in all. A woman near several organisations counts for each, so organisation rows do not add up to "
           "the last row, which counts each woman once.")
         if report.measure == "women" else
         _("People (2020 census, village figures estimated) living within {ts} minutes by car of **any** {what} "
           "of each organisation, {season} roads, in: {regions} — {pop:,} people in all. A person near several "
           "organisations counts for each, so organisation rows do not add up to the last row, which counts "
           "each person once."))
st.markdown(intro.format(ts=", ".join(f"{t:g}" for t in report.thresholds), what=what,
                         season=texts.season_word(choice.season),
                         regions=", ".join(texts.names.display_name(r, texts.language()) for r in choice.regions),
                         pop=report.population))


def organisations_only(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["org"] != reach.ANY_ORGANISATION]


ANY_LABEL = _("Any organisation")  # the row that counts each person once, in the session's language


def shown_orgs(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the any-organisation row's ``org`` in the session's language."""
    return frame.assign(org=frame["org"].replace({reach.ANY_ORGANISATION: ANY_LABEL}))


def side_by_side(data: pd.DataFrame, group: str, group_title: str, order: list[str], x_title: str,
                 scheme: str = "tableau10", colours: list[str] | None = None) -> alt.Chart:
    """Horizontal bars, one row per organisation, its ``group`` values side by side in
    ``order`` (``colours``, else the colour ``scheme``); each organisation's row at least
    24 px high, so its name always shows."""
    scale = alt.Scale(domain=order, range=colours) if colours else alt.Scale(scheme=scheme)
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=alt.Y("org:N", sort=list(dict.fromkeys(data["org"])), title=None, axis=alt.Axis(labelLimit=160)),
            x=alt.X("count:Q", title=x_title),
            color=alt.Color(f"{group}:N", title=group_title, sort=order, scale=scale,
                            legend=alt.Legend(orient="bottom", columns=1)),
            yOffset=alt.YOffset(f"{group}:N", sort=order),
            tooltip=[alt.Tooltip("org:N", title=_("Organisation")), alt.Tooltip(f"{group}:N", title=group_title),
                     alt.Tooltip("count:Q", title=who, format=",")],
        )
        .properties(height=alt.Step(max(10, -(-24 // max(len(order), 1)))))
    )


totals = report.totals
chart_data = organisations_only(totals).melt(id_vars="org", value_vars=cols, var_name="threshold", value_name="count")
chart_data["threshold"] = chart_data["threshold"].map(labels_by_col)
st.altair_chart(side_by_side(chart_data, "threshold", _("Threshold"), list(labels_by_col.values()),
                             _("{who} within reach").format(who=who), scheme="blues"), width="stretch")

number = {c: st.column_config.NumberColumn(labels_by_col[c], format="localized") for c in cols}
st.subheader(_("Totals per organisation"))
st.dataframe(shown_orgs(totals).assign(share_chosen=totals[chosen] / max(report.population, 1)), hide_index=True,
             width="stretch", key="reach_totals",
             column_config={"org": _("Organisation"), **number,
                            "share_chosen": st.column_config.ProgressColumn(
                                (_("Share of women within {t:g} min") if women else _("Share of people within {t:g} min"))
                                .format(t=choice.threshold_min),
                                min_value=0.0, max_value=1.0, format="percent")})

# Organisations side by side, per service type and per region, within the chosen threshold.
# Types in the project's order and in their map colours; regions alphabetically.
present = set(report.by_type["service_type"])
type_order = [t for t in config.SERVICE_TYPES if t in present] + sorted(present - set(config.SERVICE_TYPES))
type_names = {t: texts.type_label(t) for t in type_order}
type_colours = [maps.SERVICE_STYLE.get(t, (t, "#666666"))[1] for t in type_order]
by_type = report.by_type.assign(type_label=report.by_type["service_type"].map(type_names))
by_region = texts.in_script(report.by_region, "region")
for title, frame, group, key, order, colours in (
    (_("Side by side per service type (within {t:g} min)"), by_type, "type_label", "reach_by_type",
     [type_names[t] for t in type_order], type_colours),
    (_("Side by side per region (within {t:g} min)"), by_region, "region", "reach_by_region",
     sorted(set(by_region["region"])), None),
):
    st.subheader(title.format(t=choice.threshold_min))
    if group == "type_label" and len(choice.service_types) == 1:
        st.caption(_("Choose several service types in the sidebar to compare them side by side."))
    group_title = _("Service type") if group == "type_label" else _("Region")
    bars = organisations_only(frame).rename(columns={chosen: "count"})
    st.altair_chart(side_by_side(bars, group, group_title, order,
                                 _("{who} within {t:g} min").format(who=who, t=choice.threshold_min),
                                 colours=colours), width="stretch")
    wide = frame.pivot_table(index="org", columns=group, values=chosen, aggfunc="sum", sort=False)[order]
    wide = shown_orgs(wide.reindex(list(dict.fromkeys(frame["org"]))).reset_index())
    if group == "type_label":  # "—": the organisation runs no service of that type (not: reaches nobody)
        st.table(wide.rename(columns={"org": _("Organisation")}).set_index(_("Organisation"))
                 .style.format("{:,.0f}", na_rep="—"))
        st.caption((_("Per service type: women within {t:g} min of the organisation's nearest service of that "
                      "type (—: it runs none). An organisation's total (above) counts its nearest service of any "
                      "of the chosen types, so it is at least the largest of its types.") if women else
                    _("Per service type: people within {t:g} min of the organisation's nearest service of that "
                      "type (—: it runs none). An organisation's total (above) counts its nearest service of any "
                      "of the chosen types, so it is at least the largest of its types."))
                   .format(t=choice.threshold_min))
    else:
        st.dataframe(wide, hide_index=True, width="stretch", key=key,
                     column_config={"org": _("Organisation"),
                                    **{g: st.column_config.NumberColumn(str(g), format="localized") for g in order}})

st.subheader(_("What each organisation alone adds (within {t:g} min)").format(t=choice.threshold_min))
st.caption((_("Women within {t:g} min of this organisation's {what} and of no other organisation's: they would "
              "lose access within the threshold without it.") if report.measure == "women" else
            _("People within {t:g} min of this organisation's {what} and of no other organisation's: they would "
              "lose access within the threshold without it.")).format(t=choice.threshold_min, what=what))
alone_by_org = report.alone.pivot_table(index="org", columns="region", values="people_alone", aggfunc="sum",
                                        fill_value=0)
alone_by_org = alone_by_org.assign(total=alone_by_org.sum(axis=1)).sort_values("total", ascending=False)
st.dataframe(alone_by_org.reset_index(), hide_index=True, width="stretch", key="reach_alone",
             column_config={"org": _("Organisation"), "total": st.column_config.NumberColumn(
                 _("{who} only it reaches").format(who=who), format="localized"),
                 **{r: st.column_config.NumberColumn(texts.names.display_name(str(r), texts.language()), format="localized")
                    for r in alone_by_org.columns
                    if r != "total"}})

st.subheader(_("By district"))
orgs = [o for o in totals["org"] if o != reach.ANY_ORGANISATION] + [reach.ANY_ORGANISATION]
org = st.selectbox(_("Organisation"), orgs, key="reach_org",
                   format_func=lambda o: ANY_LABEL if o == reach.ANY_ORGANISATION else o)
table = report.by_district
by_district = texts.in_script(table[table["org"] == org].drop(columns=["org", "district_id", "measure"]),
                              "district", "region")
total_row = pd.DataFrame([{"district": _("Total"), "region": "", "population": by_district["population"].sum(),
                           **{c: by_district[c].sum() for c in cols}}])
st.dataframe(pd.concat([by_district, total_row], ignore_index=True), hide_index=True, width="stretch",
             key="reach_by_district",
             column_config={"district": _("District"), "region": _("Region"),
                            "population": st.column_config.NumberColumn(
                                _("Women (census 2020)") if report.measure == "women" else
                                _("Population (census 2020)"), format="localized"), **number})
st.download_button(_("Download reach by district (CSV)"),
                   services.neutralise_formulas(labels.measure_columns(table, report.measure))
                   .to_csv(index=False).encode("utf-8"),
                   file_name=f"reach_by_district_{choice.season}_{sidebar.url_for(choice, None)['count']}.csv",
                   mime="text/csv")
