"""Capacity: shelter places within reach per 100,000 women, by district, and where the
estimated demand exceeds them (two-step floating catchment; every figure an estimate)."""

from __future__ import annotations

import streamlit as st

from coverage import config
from coverage.analysis import capacity
from coverage.errors import CoverageError
from coverage.views import messages
from dashboard import loaders, sidebar, texts

_ = texts._

st.set_page_config(page_title=_("Capacity"), page_icon="🛏️", layout="wide")
st.title(_("Capacity: places within reach"))

choice = sidebar.sidebar()
if not choice.regions:
    st.info(_("Choose at least one region in the sidebar."))
    st.stop()

word = texts.counted(choice.measure)
c1, c2 = st.columns([2, 3])
types = c1.multiselect(_("Services whose places count"), list(config.SERVICE_TYPES), default=list(config.CAPACITY_TYPES),
                       format_func=texts.type_labeller(), key="capacity_types")
rate = c2.number_input(
    _("Assumption: places needed at any one time per 10,000 inhabitants"), min_value=0.0, max_value=100.0,
    value=float(loaders.settings().capacity_demand_per_10k), step=0.1, format="%.2f", key="capacity_demand_rate",
    help=_("Default: {source}. A European planning standard, not a measured need in Tajikistan: "
           "change it to see what another assumption gives.").format(source=config.CAPACITY_DEMAND_SOURCE))
if not types:
    st.info(_("Choose at least one service type whose places count."))
    st.stop()

try:
    known, unknown, minutes = loaders.capacity_minutes(choice.season, tuple(types), choice.threshold_min)
    result = capacity.capacity_coverage(
        loaders.inputs(), known, minutes, service_types=types, threshold_min=choice.threshold_min,
        measure=choice.measure, demand_per_10k=rate, unknown=unknown, regions=choice.regions)
except CoverageError as err:
    st.error(messages.error_text(err, gettext=texts.gettext()))
    st.stop()

st.markdown(_(
    "**Every figure on this page is an estimate.** Each service's places are shared among the {word} "
    "within {t:g} minutes of it by road ({season} roads), and each community adds up its shares of the "
    "services it can reach (the two-step floating catchment method). A district's figure is its "
    "communities' places per 100,000 {word}. **Demand** assumes {rate:g} place(s) needed at any one time "
    "per 10,000 inhabitants (default: {source}); change the assumption above.").format(
        word=word, t=choice.threshold_min, season=texts.season_word(choice.season), rate=result.demand_per_10k,
        source=config.CAPACITY_DEMAND_SOURCE))

districts = result.districts
short = districts[districts["exceeds"]]
m1, m2, m3, m4 = st.columns(4)
m1.metric(_("Known places"), f"{result.total_places:g}",
          help=_("Places (beds) of the services analysed, as published; a range counts its lower bound."))
m2.metric(_("Services with unknown places"), str(result.unknown_count),
          help=_("Left out of every figure here: unknown is not zero."))
m3.metric(_("Districts where demand exceeds places in reach (estimate)"), f"{len(short)} / {len(districts)}")
m4.metric(_("Places short in these districts (estimate)"), f"{short['shortfall'].sum():,.0f}")
if result.unknown:
    st.warning(_("{n} service(s) with unknown places, left out: {names}. Staff can add their places on the "
                 "Services (staff) page.").format(n=result.unknown_count, names="; ".join(result.unknown)))
if result.unreached_places:
    st.caption(_("{p:g} place(s) belong to services that no community reaches within {t:g} minutes.").format(
        p=result.unreached_places, t=choice.threshold_min))

st.subheader(_("By district (estimates)"))
estimate = _(" (estimate)")
st.dataframe(
    texts.in_script(districts, "district", "region"), hide_index=True, width="stretch", key="capacity_districts",
    column_order=["district", "region", "counted", "places_share", "per_100k", "demand_places", "shortfall", "exceeds"],
    column_config={
        "district": _("District"), "region": _("Region"),
        "counted": st.column_config.NumberColumn(texts.counted(choice.measure, capital=True) + estimate,
                                                 format="localized"),
        "places_share": st.column_config.NumberColumn(_("Places in reach") + estimate, format="%.2f",
                                                      help=_("The district's share of the places within reach")),
        "per_100k": st.column_config.NumberColumn(_("Places per 100,000 {word}").format(word=word) + estimate,
                                                  format="%.2f"),
        "demand_places": st.column_config.NumberColumn(_("Demand, places") + estimate, format="%.1f"),
        "shortfall": st.column_config.NumberColumn(_("Short by, places") + estimate, format="%.1f"),
        "exceeds": st.column_config.CheckboxColumn(_("Demand exceeds places")),
    },
)

st.subheader(_("Services and their catchments"))
services_table = texts.in_script(result.services, "town", "region").assign(
    places_shown=[texts.fmt_places(p) for p in result.services["places"]],
    type=result.services["type"].map(lambda t: texts.type_label(str(t))))
st.dataframe(
    services_table, hide_index=True, width="stretch", key="capacity_services",
    column_order=["name", "type", "town", "region", "places_shown", "counted_within", "ratio_per_100k"],
    column_config={
        "name": _("Service"), "type": _("Type"), "town": _("Town"), "region": _("Region"),
        "places_shown": _("Places"),
        "counted_within": st.column_config.NumberColumn(
            _("{word} within {t:g} min").format(word=texts.counted(choice.measure, capital=True),
                                                t=choice.threshold_min) + estimate, format="localized"),
        "ratio_per_100k": st.column_config.NumberColumn(_("Places per 100,000 {word} in its catchment").format(
            word=word) + estimate, format="%.2f"),
    },
)
st.caption(_("Shelters are shown at town level, as everywhere in public: their catchments are computed from the "
             "town point. Same figures from the command line: python -m coverage capacity --type {types} "
             "--threshold {t:g} --season {season} --count {count} --demand-rate {rate:g}").format(
    types=" ".join(types), season=choice.season, t=choice.threshold_min, count="women" if choice.measure == "women" else "people", rate=result.demand_per_10k))
