"""Folium maps for the dashboard and for offline HTML exports (no Streamlit here).

Everything drawn is vector data (district choropleth, one GeoJSON layer of community
points, one small layer per service type) so the map still shows districts, services
and labels on a plain background when tiles cannot load. Leaflet itself is loaded from
the project's own copy under ``static/`` (``Settings.leaflet_url``) rather than a CDN, and
the legend is plain HTML, so nothing on the map needs the internet except the tiles
(``Settings.map_tiles_url``; None for none). Nothing here reads the environment: the
map functions take a :class:`coverage.config.Settings` (default
:func:`coverage.config.load_settings`, read at the call).

Services passed in must already have gone through :func:`coverage.privacy.public_services`
for a public view.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import NamedTuple

import folium
import geopandas as gpd
import mapclassify
import numpy as np
import pandas as pd
from branca.element import MacroElement, Template

from coverage import config
from coverage.errors import InputError
from coverage.views import labels
from coverage.views.i18n import N_

# The data attribution below already credits "© OpenStreetMap contributors"; the tile
# layer only says where the background comes from, so the credit is not printed twice.
TILES_ATTRIBUTION = "Background tiles: OpenStreetMap"
CENTER_KHATLON_SUGHD = (38.85, 69.3)  # lat, lon between the two regions
ZOOM_KHATLON_SUGHD = 7.25  # both regions fill a ~650 px high map
BOUNDS_KHATLON_SUGHD = ((36.9, 67.3), (41.05, 71.0))  # (south, west), (north, east) degrees: both regions
LEGEND_FOLD_BELOW_PX = 600  # a map narrower than this (pixels) shows the legend folded
MIN_ZOOM = 5  # zoomed out no further than Central Asia
BOUNDS_MARGIN_DEG = 1.0  # the map pans no further than this beyond config.TJ_BOUNDS (degrees)
DISPLAY_SIMPLIFY_M = 300.0  # district outlines are simplified to this tolerance for drawing
TOWN_PLACES = ("city", "town")  # the communities labelled by name on a map without tiles
# the offline maps' label layer (its name shows in a layer control; st_folium draws no map whose
# own children hold a folium.LayerControl, so the small maps carry none)
PLACE_NAMES_LAYER = N_("Place names (districts, towns)")

ATTRIBUTION = (
    "&copy; OpenStreetMap contributors (ODbL) · geoBoundaries · GeoNames (CC BY 4.0) · "
    "Census 2020, Agency on Statistics of Tajikistan · Services: see About the data"
)

# type → (label, colour, symbol); colours from ColorBrewer Set1/Dark2, distinct for colour-blind users
SERVICE_STYLE: dict[str, tuple[str, str, str]] = {
    "shelter": (N_("Shelter"), "#7b2d8e", "H"),
    "crisis_centre": (N_("Crisis centre"), "#d7301f", "✚"),
    "resource_centre": (N_("Resource centre"), "#1b9e77", "R"),
    "support_service": (N_("Support service"), "#d95f02", "S"),
    "self_help_group": (N_("Self-help group"), "#e7298a", "G"),
    "legal_aid": (N_("Legal aid"), "#386cb0", "§"),
    "psychosocial": (N_("Psychosocial"), "#66a61e", "P"),
    "medical": (N_("Medical"), "#e6ab02", "+"),
    "police_unit": (N_("Police unit"), "#444444", "★"),
}

MINUTE_BINS: tuple[float, ...] = (30, 60, 120, 240)
MINUTE_COLOURS: tuple[str, ...] = ("#1a9850", "#a6d96a", "#fee08b", "#f46d43", "#a50026")
UNREACHABLE_COLOUR = "#4d4d4d"
SHARE_BINS: tuple[float, ...] = (0.2, 0.4, 0.6, 0.8, 1.0)
SHARE_COLOURS: tuple[str, ...] = ("#a50026", "#f46d43", "#fee08b", "#a6d96a", "#1a9850")

# What the figures count (config.MEASURES) → the words the map uses: (plural, capitalised, census count)
MEASURE_WORDS: dict[str, tuple[str, str, str]] = {
    "women": (N_("women"), N_("Women"), N_("Women (census 2020)")),
    "population": (N_("people"), N_("People"), N_("Population (census 2020)")),
}


class _MeasurePhrases(NamedTuple):
    """Whole phrases that name what the map counts (a translation cannot build them from one
    word: Russian and Tajik inflect it)."""

    share_of: str
    within: str
    beyond: str
    estimates: str
    census: str


_MEASURE_PHRASES: dict[str, _MeasurePhrases] = {
    "women": _MeasurePhrases(N_("Districts: share of women"), N_("Women within"), N_("Women beyond"),
                             N_("Women per village are estimates."), MEASURE_WORDS["women"][2]),
    "population": _MeasurePhrases(N_("Districts: share of people"), N_("People within"), N_("People beyond"),
                                  N_("Rural populations are estimates."), MEASURE_WORDS["population"][2]),
}


def measure_words(measure: str, *, gettext: labels.Gettext | None = None) -> tuple[str, str, str]:
    """(``women``, ``Women``, ``Women (census 2020)``) or the same for all people, in the
    language of ``gettext`` (English without one); the measure is one of
    :data:`coverage.config.MEASURES`."""
    if measure not in MEASURE_WORDS:
        raise InputError(f"unknown measure {measure!r}; choose from {', '.join(MEASURE_WORDS)}",
                         message_id="input.measure", field="measure", value=str(measure), known=config.MEASURES)
    _ = gettext or _english
    plural, capital, census = MEASURE_WORDS[measure]
    return _(plural), _(capital), _(census)


def _measure_phrases(measure: str) -> _MeasurePhrases:
    measure_words(measure)  # an unknown measure is an InputError
    return _MEASURE_PHRASES[measure]


def _english(text: str) -> str:
    return text


def minute_labels(gettext: labels.Gettext | None = None) -> list[str]:
    _ = gettext or _english
    edges = (0,) + MINUTE_BINS
    shown = [_("{low:g}–{high:g} min").format(low=a, high=b) for a, b in zip(edges[:-1], edges[1:])]
    return shown + [_("over {minutes:g} min").format(minutes=MINUTE_BINS[-1])]


def minute_colours(minutes: pd.Series) -> np.ndarray:
    """Colour per community by minutes class (mapclassify.UserDefined); grey if unreachable."""
    values = minutes.to_numpy(dtype=float)
    finite = np.isfinite(values)
    colours = np.full(values.shape, UNREACHABLE_COLOUR, dtype=object)
    if finite.any():
        classes = mapclassify.UserDefined(values[finite], bins=list(MINUTE_BINS)).yb
        colours[finite] = np.asarray(MINUTE_COLOURS, dtype=object)[classes]
    return colours


def share_colour(share: float) -> str:
    if share is None or not math.isfinite(share):
        return "#cccccc"
    return SHARE_COLOURS[int(np.searchsorted(SHARE_BINS, share, side="left").clip(0, len(SHARE_BINS) - 1))]


COORD_DECIMALS = 4  # ~10 m: plenty for drawing, and keeps the page small (faster redraws)


def rounded(frame: gpd.GeoDataFrame, decimals: int = COORD_DECIMALS) -> gpd.GeoDataFrame:
    """Coordinates rounded for display, so the GeoJSON sent to the browser is compact."""
    import shapely

    geometry = shapely.transform(frame.geometry.to_numpy(), lambda xy: np.round(xy, decimals))
    return frame.set_geometry(gpd.GeoSeries(geometry, index=frame.index, crs=frame.crs))


def display_districts(districts: gpd.GeoDataFrame, tolerance_m: float = DISPLAY_SIMPLIFY_M) -> gpd.GeoDataFrame:
    """District polygons simplified for drawing (metres, EPSG:32642), back in EPSG:4326."""
    metric = districts.to_crs(config.CRS_METRIC)
    metric = metric.set_geometry(metric.geometry.simplify(tolerance_m, preserve_topology=True))
    return rounded(metric.to_crs(config.CRS_STORE))


def base_map(tiles: bool = True, center: tuple[float, float] = CENTER_KHATLON_SUGHD,
             zoom: float = ZOOM_KHATLON_SUGHD, *, settings: config.Settings | None = None,
             gettext: labels.Gettext | None = None) -> folium.Map:
    """A Leaflet map that loads Leaflet from ``settings.leaflet_url``, with the tile
    background of ``settings.map_tiles_url`` when ``tiles`` and the URL is not None.
    ``center``: (lat, lon) in EPSG:4326; ``settings``: default :func:`coverage.config.load_settings`;
    ``gettext``: the reader's language for the layer names (English without one)."""
    _ = gettext or _english
    settings = config.load_settings() if settings is None else settings
    leaflet = settings.leaflet_url
    # Bounded to Tajikistan (plus BOUNDS_MARGIN_DEG) and no wheel zoom until the map is
    # clicked: scrolling the page over the map must not zoom it out to the whole world.
    bounds = config.TJ_BOUNDS
    fmap = folium.Map(location=center, zoom_start=zoom, tiles=None, control_scale=True, prefer_canvas=True,
                      zoom_snap=0.25, zoom_delta=0.5, max_bounds=True,
                      min_lat=bounds["lat_min"] - BOUNDS_MARGIN_DEG, max_lat=bounds["lat_max"] + BOUNDS_MARGIN_DEG,
                      min_lon=bounds["lon_min"] - BOUNDS_MARGIN_DEG, max_lon=bounds["lon_max"] + BOUNDS_MARGIN_DEG,
                      max_bounds_viscosity=1.0, scroll_wheel_zoom=False)
    fmap.options["minZoom"] = MIN_ZOOM  # folium's min_zoom goes to tile layers only, not the map
    _WheelZoomAfterClick().add_to(fmap)
    fmap.default_js = [("leaflet", f"{leaflet}/leaflet.js")]
    fmap.default_css = [("leaflet_css", f"{leaflet}/leaflet.css")]
    _DefaultIconPath(f"{leaflet}/images/").add_to(fmap)
    if tiles and settings.map_tiles_url is not None:
        folium.TileLayer(settings.map_tiles_url, attr=TILES_ATTRIBUTION, name=_("OpenStreetMap background"),
                         max_zoom=18).add_to(fmap)
    _Attribution(ATTRIBUTION).add_to(fmap)
    return fmap


class _WheelZoomAfterClick(MacroElement):
    """Wheel zoom starts once the map is clicked (or focused by keyboard) and stops when
    the pointer leaves it, so a page scrolled over the map scrolls the page."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        (function(map) {
          map.on('click focus', function() { map.scrollWheelZoom.enable(); });
          map.on('mouseout blur', function() { map.scrollWheelZoom.disable(); });
        })({{ this._parent.get_name() }});
        {% endmacro %}"""
    )

    def __init__(self):
        super().__init__()
        self._name = "WheelZoomAfterClick"


class _DefaultIconPath(MacroElement):
    """Where Leaflet finds its default marker images: folium creates every marker with the
    default icon before swapping in ours, and Leaflet guesses the folder wrongly when it is
    not loaded from a CDN."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        L.Icon.Default.imagePath = {{ this.path|tojson }};
        {% endmacro %}"""
    )

    def __init__(self, path: str):
        super().__init__()
        self._name = "DefaultIconPath"
        self.path = path


class _Attribution(MacroElement):
    """Adds the data sources to Leaflet's attribution control, in small type on at most
    three quarters of the map's width (left of it stays the scale bar, which the long
    sources line covered)."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.attributionControl.setPrefix('Leaflet');
        {{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.text|tojson }});
        (function(box) {
          box.style.fontSize = '10px';
          box.style.lineHeight = '1.3';
          box.style.maxWidth = '75%';
        })({{ this._parent.get_name() }}.attributionControl.getContainer());
        {% endmacro %}"""
    )

    def __init__(self, text: str):
        super().__init__()
        self._name = "Attribution"
        self.text = text


class _FitNarrow(MacroElement):
    """On a narrow map (a phone), show the whole of ``bounds`` instead of the zoom chosen
    for a wide one, which cut both regions' edges off."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        (function(map) {
          if (map.getSize().x < {{ this.below_px }}) { map.fitBounds({{ this.bounds|tojson }}); }
        })({{ this._parent.get_name() }});
        {% endmacro %}"""
    )

    def __init__(self, bounds: tuple[tuple[float, float], tuple[float, float]], below_px: int):
        super().__init__()
        self._name = "FitNarrow"
        self.bounds = [list(corner) for corner in bounds]
        self.below_px = int(below_px)


class _Legend(MacroElement):
    """A plain-HTML legend in a corner of the map (no d3 or other script needed)."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        (function() {
          var legend = L.control({position: {{ this.position|tojson }}});
          legend.onAdd = function(map) {
            // A <details> box: open on a wide map, folded to its title on a narrow one
            // (a phone), where the open legend would cover most of the map.
            var div = L.DomUtil.create('div', 'coverage-legend');
            var open = map.getSize().x >= {{ this.fold_below_px }} ? ' open' : '';
            div.innerHTML = '<details' + open + '><summary style="cursor:pointer;font-weight:600">'
              + {{ this.title|tojson }} + '</summary>' + {{ this.html|tojson }} + '</details>';
            L.DomEvent.disableClickPropagation(div);
            L.DomEvent.disableScrollPropagation(div);
            div.style.background = 'rgba(255,255,255,0.92)';
            div.style.padding = '6px 8px';
            div.style.font = '12px/1.35 sans-serif';
            div.style.borderRadius = '4px';
            div.style.boxShadow = '0 1px 4px rgba(0,0,0,0.3)';
            return div;
          };
          legend.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}"""
    )

    def __init__(self, html_text: str, position: str = "topright", *, title: str = "Legend",
                 fold_below_px: int = LEGEND_FOLD_BELOW_PX):
        super().__init__()
        self._name = "Legend"
        self.html = html_text
        self.position = position
        self.title = title
        self.fold_below_px = int(fold_below_px)


def _swatch(colour: str, label: str, shape: str = "square") -> str:
    radius = "50%" if shape == "circle" else "2px"
    return (f'<div><span style="display:inline-block;width:12px;height:12px;background:{colour};'
            f'border-radius:{radius};margin-right:5px;vertical-align:middle;border:1px solid #555"></span>'
            f"{html.escape(label)}</div>")


def legend_html(service_types: Sequence[str] | None = None, *, approximate_roads: bool = True,
                gettext: labels.Gettext | None = None, measure: str = config.DEFAULT_MEASURE) -> str:
    """Legend text; without ``service_types`` it lists every type and names no
    threshold, so the base map stays the same while the user moves the slider.
    ``approximate_roads``: the default (authored) road network is in use, say so;
    ``gettext``: the reader's language (English without one); ``measure``: what the
    district shares count (women or all people)."""
    _ = gettext or _english
    words = _measure_phrases(measure)
    parts = ["<b>" + html.escape(_(words.share_of)) + "<br>" + html.escape(_("within the chosen threshold")) + "</b>"]
    edges = (0.0,) + SHARE_BINS
    parts += [_swatch(c, f"{a:.0%}–{b:.0%}") for c, a, b in zip(SHARE_COLOURS, edges[:-1], edges[1:])]
    parts.append("<b>" + html.escape(_("Communities: minutes to nearest")) + "</b>")
    parts += [_swatch(c, label, "circle") for c, label in zip(MINUTE_COLOURS, minute_labels(gettext))]
    parts.append(_swatch(UNREACHABLE_COLOUR, _("no road route"), "circle"))
    parts.append("<b>" + html.escape(_("Services")) + "</b>")
    parts += [
        f'<div><span style="color:{colour};font-weight:bold;display:inline-block;width:14px">{symbol}</span>'
        f"{html.escape(_(label))}</div>"
        for key, (label, colour, symbol) in SERVICE_STYLE.items()
        if service_types is None or key in service_types
    ]
    parts.append('<span style="color:#555">' + html.escape(_("Services shown: the types chosen.")) + "<br>"
                 + html.escape(_("Dashed ring: place known to district only.")) + "</span>")
    roads_note = "<br>" + html.escape(_("Road network is approximate.")) if approximate_roads else ""
    parts.append('<br><i style="color:#555">' + html.escape(_(words.estimates)) + f"{roads_note}</i>")
    return "".join(parts)


def _service_icon_html(service_type: str, approximate: bool) -> str:
    label, colour, symbol = SERVICE_STYLE.get(service_type, (service_type, "#000000", "?"))
    border = "dashed" if approximate else "solid"
    return (f'<div title="{html.escape(label)}" style="width:20px;height:20px;border-radius:50%;background:#fff;'
            f"border:2px {border} {colour};color:{colour};font:bold 13px/20px sans-serif;text-align:center\">"
            f"{symbol}</div>")


class _DivMarkers(MacroElement):
    """Many markers with HTML icons (and optional tooltips) drawn by one short script
    from a JSON list, added to the parent map or layer.

    One element instead of three folium elements per marker: every folium element is
    compiled as a template on each page run, and the map is rebuilt on every slider
    move, so fewer elements means a faster redraw."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        (function() {
          var parent = {{ this._parent.get_name() }};
          var items = {{ this.items|tojson }};
          for (var i = 0; i < items.length; i++) {
            var item = items[i];
            var icon = L.divIcon({html: item.icon, iconSize: {{ this.icon_size|tojson }},
                                  iconAnchor: {{ this.icon_anchor|tojson }}, className: {{ this.class_name|tojson }}});
            // keyboard: false: a marker is no tab stop (the map's 60-odd labels and symbols would
            // otherwise stand between the sidebar and the rest of the page); tooltips show on hover.
            var marker = L.marker(item.at, {icon: icon, interactive: {{ this.interactive|tojson }}, keyboard: false});
            if (item.tip) { marker.bindTooltip(item.tip); }
            marker.addTo(parent);
          }
        })();
        {% endmacro %}"""
    )

    def __init__(self, items: list[dict], icon_size: tuple[int, int], icon_anchor: tuple[int, int],
                 class_name: str = "", interactive: bool = True):
        super().__init__()
        self._name = "DivMarkers"
        self.items = items
        self.icon_size = list(icon_size)
        self.icon_anchor = list(icon_anchor)
        self.class_name = class_name
        self.interactive = interactive


def add_districts(fmap: folium.Map | folium.FeatureGroup, districts: gpd.GeoDataFrame, summary: pd.DataFrame,
                  threshold_min: float, *, measure: str = config.DEFAULT_MEASURE,
                  gettext: labels.Gettext | None = None) -> None:
    """District choropleth: share of women (or all people, ``measure``) within the
    threshold (minutes), with a tooltip (words in the language of ``gettext``, English
    without one). ``summary``: :func:`coverage.analysis.gaps.district_summary` for the
    same measure."""
    _ = gettext or _english
    words = _measure_phrases(measure)
    merged = districts[["district_id", "district", "region", "geometry"]].merge(
        summary[["district_id", "population", "population_within", "population_beyond", "share_within",
                 "worst_community", "worst_minutes"]],
        on="district_id", how="left",
    )
    merged["share_pct"] = (merged["share_within"] * 100).round(0)
    merged["fill"] = [share_colour(s) for s in merged["share_within"]]
    for column in ("population", "population_within", "population_beyond"):
        merged[column] = merged[column].fillna(0).astype(int)
    merged["within_text"] = merged["population_within"].map("{:,}".format)
    merged["beyond_text"] = merged["population_beyond"].map("{:,}".format)
    merged["population_text"] = merged["population"].map("{:,}".format)
    merged["share_text"] = merged["share_pct"].map(lambda v: "n/a" if pd.isna(v) else f"{v:.0f}%")
    merged["worst_text"] = [
        "" if pd.isna(name) else f"{name} ({'unreachable' if not math.isfinite(m) else f'{m:.0f} min'})"
        for name, m in zip(merged["worst_community"], merged["worst_minutes"].fillna(np.inf))
    ]
    data = merged.drop(columns=["worst_minutes", "share_within", "worst_community"])
    folium.GeoJson(
        data.to_json(drop_id=True),
        name=_("Districts: share within {t:g} min").format(t=threshold_min),
        style_function=lambda f: {"fillColor": f["properties"]["fill"], "color": "#333333", "weight": 1,
                                  "fillOpacity": 0.55},
        highlight_function=lambda f: {"weight": 3, "color": "#000000"},
        tooltip=folium.GeoJsonTooltip(
            fields=["district", "region", "share_text", "within_text", "beyond_text", "population_text", "worst_text"],
            aliases=[_("District"), _("Region"), _("Share within {t:g} min").format(t=threshold_min), _(words.within),
                     _(words.beyond), _(words.census), _("Farthest community")],
            sticky=True,
        ),
    ).add_to(fmap)


class _CircleMarkers(MacroElement):
    """Many small circles (canvas) with tooltips, drawn by one script from column
    arrays: much smaller and faster to build than a GeoJSON layer with a style and a
    tooltip per feature, which matters because the layer is resent on every slider move."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        (function() {
          var parent = {{ this._parent.get_name() }};
          var d = {{ this.columns|tojson }};
          for (var i = 0; i < d.lat.length; i++) {
            L.circleMarker([d.lat[i], d.lon[i]], {radius: d.radius[i], fillColor: d.colour[i], fill: true,
                           fillOpacity: 0.9, color: '#222222', weight: 0.5})
              .bindTooltip(d.tip[i]).addTo(parent);
          }
        })();
        {% endmacro %}"""
    )

    def __init__(self, columns: dict[str, list]):
        super().__init__()
        self._name = "CircleMarkers"
        self.columns = columns


def add_communities(fmap: folium.Map | folium.FeatureGroup, gaps: gpd.GeoDataFrame, threshold_min: float, *,
                    measure: str = config.DEFAULT_MEASURE, gettext: labels.Gettext | None = None) -> None:
    """Community points coloured by minutes to the nearest service (classes of
    :data:`MINUTE_BINS`), sized by population, with name, district, women (or all people,
    ``measure``) and minutes in a tooltip. Women per community are always an estimate."""
    import shapely

    _ = gettext or _english
    minutes = gaps["minutes"].to_numpy(dtype=float)
    finite = np.isfinite(minutes)
    minutes_text = np.where(finite, np.char.add(np.round(np.where(finite, minutes, 0)).astype(int).astype(str),
                                                   " " + _("min")), _("no road route"))
    column = measure if measure in gaps else "population"
    people = gaps[column].round().astype(int).map("{:,}".format)
    estimated = gaps["estimated"].astype(bool) | (column == "women")
    people = people.where(~estimated, people + " (" + _(labels.ESTIMATE_NOTE) + ")")
    tips = ("<b>" + gaps["name"].astype(str).map(html.escape) + "</b><br>"
            + gaps["district"].astype(str).map(html.escape) + "<br>" + html.escape(measure_words(column, gettext=gettext)[1]) + ": "
            + people + "<br>" + html.escape(_("Nearest help")) + ": " + minutes_text)
    xy = np.round(shapely.get_coordinates(gaps.geometry.to_numpy()), COORD_DECIMALS)
    radius = np.clip(np.sqrt(gaps["population"].to_numpy(dtype=float)) / 22.0, 2.0, 8.0).round(1)
    _CircleMarkers({
        "lat": xy[:, 1].tolist(), "lon": xy[:, 0].tolist(), "radius": radius.tolist(),
        "colour": minute_colours(gaps["minutes"]).tolist(), "tip": tips.tolist(),
    }).add_to(fmap)


def service_layers(public_services: gpd.GeoDataFrame,
                   shown_types: Sequence[str] | None = None, *,
                   gettext: labels.Gettext | None = None) -> list[folium.FeatureGroup]:
    """One layer per service type with distinct symbols; approximate places are dashed.

    Layers of ``shown_types`` are switched on; the others can be switched on in the
    layer control."""
    _ = gettext or _english
    layers = []
    for service_type, group in public_services.groupby("type", sort=False):
        label = _(SERVICE_STYLE.get(service_type, (service_type,))[0])
        show = shown_types is None or service_type in shown_types
        layer = folium.FeatureGroup(name=_("Services: {label} ({n})").format(label=label, n=len(group)), show=show)
        items = []
        for row in group.itertuples(index=False):
            approx = row.location_precision != "exact"
            where = {"settlement": _("shown at town level"), "district": _("shown at district level (approximate)")}.get(
                row.location_precision, _("shown at the exact point"))
            tip = (f"<b>{html.escape(str(row.name))}</b><br>{html.escape(label)} · {html.escape(str(row.organisation))}"
                   f"<br>{html.escape(str(row.town))}, {html.escape(str(row.district))} — {html.escape(where)}")
            items.append({"at": [row.geometry.y, row.geometry.x], "icon": _service_icon_html(service_type, approx),
                          "tip": tip})
        _DivMarkers(items, icon_size=(22, 22), icon_anchor=(11, 11)).add_to(layer)
        layers.append(layer)
    return layers


def add_services(fmap: folium.Map, public_services: gpd.GeoDataFrame,
                 shown_types: Sequence[str] | None = None, *, gettext: labels.Gettext | None = None) -> None:
    """Add :func:`service_layers` to a map (words in the language of ``gettext``)."""
    for layer in service_layers(public_services, shown_types, gettext=gettext):
        layer.add_to(fmap)


def add_district_labels(fmap: folium.Map | folium.FeatureGroup, districts: gpd.GeoDataFrame) -> None:
    """District names as text on the map, so the map reads without background tiles."""
    points = districts.to_crs(config.CRS_METRIC).representative_point().to_crs(config.CRS_STORE)
    items = [
        {"at": [round(point.y, 4), round(point.x, 4)],
         "icon": ('<div style="font:600 10px/14px sans-serif;color:#222;text-align:center;'
                  f'text-shadow:0 0 3px #fff,0 0 3px #fff;pointer-events:none">{html.escape(str(name))}</div>')}
        for name, point in zip(districts["district"], points)
    ]
    _DivMarkers(items, icon_size=(110, 14), icon_anchor=(55, 7), class_name="district-label",
                interactive=False).add_to(fmap)


def add_town_labels(fmap: folium.Map | folium.FeatureGroup, communities: gpd.GeoDataFrame) -> None:
    """Names of the towns and cities among ``communities`` (column ``place`` in
    :data:`TOWN_PLACES`) as text beside a dot, so a map without tiles shows where they are.

    Parameters
    ----------
    fmap : folium.Map or folium.FeatureGroup
        Where the labels go.
    communities : geopandas.GeoDataFrame
        Points (EPSG:4326) with ``name`` and ``place``; other places are left out.
    """
    towns = communities[communities["place"].isin(TOWN_PLACES)] if "place" in communities else communities.iloc[:0]
    towns = towns.to_crs(config.CRS_STORE)
    items = [
        {"at": [round(y, 4), round(x, 4)],
         "icon": ('<div style="font:11px/14px sans-serif;color:#333;white-space:nowrap;'
                  'text-shadow:0 0 3px #fff,0 0 3px #fff;pointer-events:none">'
                  f'&#9679;&nbsp;{html.escape(str(name))}</div>')}
        for name, x, y in zip(towns["name"], towns.geometry.x, towns.geometry.y, strict=True)
    ]
    _DivMarkers(items, icon_size=(140, 14), icon_anchor=(4, 7), class_name="town-label",
                interactive=False).add_to(fmap)


def shows_tiles(tiles: bool, settings: config.Settings | None = None) -> bool:
    """True when a map drawn with ``tiles`` gets a background (tiles asked for and
    ``settings.map_tiles_url`` set); False means the map must carry its own place names."""
    settings = config.load_settings() if settings is None else settings
    return bool(tiles) and settings.map_tiles_url is not None


def place_names_layer(districts: gpd.GeoDataFrame | None = None,
                      communities: gpd.GeoDataFrame | None = None, *,
                      gettext: labels.Gettext | None = None) -> folium.FeatureGroup:
    """The plain map's own place names from the project's data: district names at their
    representative points and town/city names (:func:`add_town_labels`), as one layer named
    :data:`PLACE_NAMES_LAYER` (in the language of ``gettext``, English without one).

    Parameters
    ----------
    districts : geopandas.GeoDataFrame, optional
        District polygons with ``district``.
    communities : geopandas.GeoDataFrame, optional
        Community points with ``name`` and ``place``.

    Returns
    -------
    folium.FeatureGroup
        The layer, to add to a map.
    """
    layer = folium.FeatureGroup(name=(gettext or _english)(PLACE_NAMES_LAYER))
    if districts is not None and len(districts):
        add_district_labels(layer, districts)
    if communities is not None and len(communities):
        add_town_labels(layer, communities)
    return layer


def coverage_base_map(tiles: bool = True, districts: gpd.GeoDataFrame | None = None, *,
                      settings: config.Settings | None = None, approximate_roads: bool = True,
                      gettext: labels.Gettext | None = None, measure: str = config.DEFAULT_MEASURE) -> folium.Map:
    """The part of the overview map that does not depend on the user's choices:
    background, district name labels, attribution and legend. The dashboard draws it
    once and sends the data layers (:func:`coverage_layers`) separately, so moving the
    slider redraws the layers without reloading the map. ``measure``: what the legend's
    district shares count (women or all people)."""
    fmap = base_map(tiles=tiles, settings=settings, gettext=gettext)
    _FitNarrow(BOUNDS_KHATLON_SUGHD, LEGEND_FOLD_BELOW_PX).add_to(fmap)
    if districts is not None:
        add_district_labels(fmap, districts)
    _ = gettext or _english
    _Legend(legend_html(approximate_roads=approximate_roads, gettext=gettext, measure=measure),
            title=_("Legend")).add_to(fmap)
    return fmap


def coverage_layers(
    districts: gpd.GeoDataFrame,
    summary: pd.DataFrame,
    gaps: gpd.GeoDataFrame,
    public_services: gpd.GeoDataFrame,
    threshold_min: float,
    service_types: Sequence[str],
    *,
    gettext: labels.Gettext | None = None,
    measure: str = config.DEFAULT_MEASURE,
) -> list[folium.FeatureGroup]:
    """Data layers of the overview map: district choropleth, communities by minutes,
    and one layer per chosen service type (other types: choose them in the sidebar).
    ``measure``: what ``summary`` and the tooltips count (women or all people);
    ``gettext``: the reader's language (English without one)."""
    _ = gettext or _english
    district_layer = folium.FeatureGroup(name=_("Districts: share within {t:g} min").format(t=threshold_min))
    add_districts(district_layer, districts, summary, threshold_min, measure=measure, gettext=gettext)
    community_layer = folium.FeatureGroup(
        name=_("Communities: minutes to nearest (threshold {t:g} min)").format(t=threshold_min))
    add_communities(community_layer, gaps, threshold_min, measure=measure, gettext=gettext)
    chosen = public_services[public_services["type"].isin(list(service_types))]
    return [district_layer, community_layer, *service_layers(chosen, gettext=gettext)]


def point_map(points: gpd.GeoDataFrame, public_services: gpd.GeoDataFrame, highlight: object = None,
              tiles: bool = True, service_types: Sequence[str] | None = None, *,
              settings: config.Settings | None = None, districts: gpd.GeoDataFrame | None = None,
              towns: gpd.GeoDataFrame | None = None, measure: str = config.DEFAULT_MEASURE,
              gettext: labels.Gettext | None = None) -> folium.Map:
    """A small map of a few communities (e.g. the underserved table) and the services
    (only ``service_types`` when given); ``highlight`` is an index label of ``points``.
    Without background tiles, the names of ``districts`` and of the towns among ``towns``
    (communities) are drawn from the project's data (:func:`place_names_layer`).
    ``measure``: what the community tooltips count (women or all people); ``gettext``: the
    reader's language (English without one)."""
    fmap = base_map(tiles=tiles, settings=settings, gettext=gettext)
    if not shows_tiles(tiles, settings):
        place_names_layer(districts, towns, gettext=gettext).add_to(fmap)
    if len(points):
        add_communities(fmap, points, float(points["threshold_min"].iloc[0]) if "threshold_min" in points else 60.0,
                        measure=measure, gettext=gettext)
    if service_types is not None:
        public_services = public_services[public_services["type"].isin(list(service_types))]
    add_services(fmap, public_services, gettext=gettext)
    if highlight is not None and highlight in points.index:
        row = points.loc[highlight]
        folium.CircleMarker(location=(row.geometry.y, row.geometry.x), radius=14, color="#000000", weight=3,
                            fill=False, tooltip=str(row["name"])).add_to(fmap)
        fmap.location = [row.geometry.y, row.geometry.x]
        fmap.options["zoom"] = 10
    elif len(points):
        minx, miny, maxx, maxy = points.total_bounds
        fmap.fit_bounds([(miny, minx), (maxy, maxx)])
    return fmap


def suggested_sites_layer(sites: gpd.GeoDataFrame, service_type: str, *, layer_name: str,
                          adds_label: str) -> folium.FeatureGroup:
    """Suggested new sites (a location-allocation :class:`~coverage.analysis.allocation.SitePlan`'s
    ``sites``, EPSG:4326 town points) as numbered markers in the type's colour, each
    with a tooltip naming the town and ``adds_label``
    (both labels already in the reader's language) (e.g. "Women it adds") with its ``adds``."""
    _label, colour, _symbol = SERVICE_STYLE.get(service_type, (service_type, "#000000", "?"))
    layer = folium.FeatureGroup(name=layer_name)
    for row in sites.itertuples():  # a handful of sites (k ≤ 10), not a hot path
        tip = f"{int(row.rank)}. {html.escape(str(row.name))} — {adds_label}: {int(row.adds):,}"
        folium.Marker(
            location=(row.geometry.y, row.geometry.x), tooltip=tip,
            icon=folium.DivIcon(html=(f'<div style="background:{colour};color:#fff;border:3px solid #000;'
                                      f'border-radius:50%;width:28px;height:28px;line-height:22px;'
                                      f'text-align:center;font-weight:bold;font-size:14px">{int(row.rank)}</div>'),
                                icon_size=(28, 28), icon_anchor=(14, 14)),
        ).add_to(layer)
    return layer
