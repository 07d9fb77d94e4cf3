"""Static maps for briefs and downloads: matplotlib + geopandas, no tiles, no internet.

A map of one district or region: district outlines (the chosen ones drawn stronger,
their neighbours for context), communities coloured by minutes to the nearest service
(the same classes and colours as the dashboard, :data:`coverage.views.maps.MINUTE_BINS`),
services at the points they are given, a scale bar, a north arrow and a legend. Drawn
in UTM 42N metres (``config.CRS_METRIC``), so the scale bar is a true length; the north
arrow points to true north (the grid convergence is computed, not assumed).

The services passed in must be public (:func:`coverage.views.privacy.public_services`
or ``Inputs.services`` from ``analysis.load_inputs``): a shelter is then drawn at its
town point, never at its address. Every word on the map goes through the ``gettext``
given. Text is set in DejaVu Sans (bundled with matplotlib), which has the Tajik
letters (ӣ ӯ ҳ ҷ қ ғ), so no system font is needed.

No pyplot: each map is its own :class:`matplotlib.figure.Figure` on an Agg canvas, so
nothing global is changed and maps can be drawn from several threads (Streamlit).
"""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Callable, Sequence

import geopandas as gpd
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrow, Patch, Rectangle
from pyproj import Transformer

from coverage import config
from coverage.views import maps

Gettext = Callable[[str], str]
FONT_FAMILY = "DejaVu Sans"  # matplotlib's bundled font: Latin, Cyrillic and the Tajik letters
MAP_SIZE_IN = (7.3, 5.3)  # inches: fills the width of an A4 page between 12 mm margins
MAP_MARGIN_SHARE = 0.06  # empty border around the chosen area, share of its larger side
SIMPLIFY_M = 200.0  # district outlines simplified to this tolerance (metres) for drawing
NICE_LENGTHS_KM = (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500)
# type -> matplotlib marker; colours are the dashboard's (maps.SERVICE_STYLE)
SERVICE_MARKERS: dict[str, str] = {
    "shelter": "H", "crisis_centre": "P", "resource_centre": "D", "support_service": "^",
    "self_help_group": "o", "legal_aid": "s", "psychosocial": "v", "medical": "X", "police_unit": "*",
}
DISTRICT_LABEL_MAX = 25  # more districts than this in view: only the chosen ones are named
CROWDED_LABELS = 12  # more chosen districts than this: smaller names
RING_SHARE = 0.022  # services sharing one point are drawn on a ring this share of the map height across
TITLE_IN = 0.32  # inches above a stand-alone map for its title
FOOTER_CHARS_PER_IN = 23  # characters of 5.5 pt small print per inch of width
FOOTER_LINE_IN = 0.1  # inches per line of small print
LABEL_INSET_SHARE = 0.06  # a neighbour's name is left out when its point is this close to the map's edge


def _english(text: str) -> str:
    return text


LEGEND_TITLE_CHARS = 28  # a legend title's line in the legend column (Russian and Tajik run longer)


def _legend_title(text: str) -> str:
    """``text`` wrapped to the legend column, so a long translation is not cut at the page edge."""
    return "\n".join(textwrap.wrap(text, LEGEND_TITLE_CHARS)) or text


def minute_class_labels(gettext: Gettext | None = None) -> list[str]:
    """The legend's minute classes ('0–30 min', …, 'over 240 min'), translated."""
    _ = gettext or _english
    edges = (0.0, *maps.MINUTE_BINS)
    out = [_("{low:g}–{high:g} min").format(low=a, high=b) for a, b in zip(edges[:-1], edges[1:])]
    return out + [_("over {high:g} min").format(high=maps.MINUTE_BINS[-1])]


def service_type_label(service_type: str, gettext: Gettext | None = None) -> str:
    """The translated label of a service type ('Shelter', 'Crisis centre', …)."""
    _ = gettext or _english
    return _(maps.SERVICE_STYLE.get(service_type, (service_type.replace("_", " ").capitalize(),))[0])


def nice_scale_km(width_m: float) -> int:
    """A round scale-bar length (km) of about a fifth of a map ``width_m`` metres wide."""
    target = width_m / 5_000.0
    fitting = [k for k in NICE_LENGTHS_KM if k <= target]
    return fitting[-1] if fitting else NICE_LENGTHS_KM[0]


def north_angle_deg(x_m: float, y_m: float) -> float:
    """Angle (degrees, clockwise from the map's up) of true north at a point of the map
    (UTM 42N metres): the grid convergence, about 2° at 71° E."""
    to_lonlat = Transformer.from_crs(config.CRS_METRIC, config.CRS_STORE, always_xy=True)
    to_metric = Transformer.from_crs(config.CRS_STORE, config.CRS_METRIC, always_xy=True)
    lon, lat = to_lonlat.transform(x_m, y_m)
    x2, y2 = to_metric.transform(lon, lat + 0.05)
    return math.degrees(math.atan2(x2 - x_m, y2 - y_m))


def _extent(area: gpd.GeoDataFrame, aspect: float) -> tuple[float, float, float, float]:
    """(xmin, xmax, ymin, ymax) in metres around ``area`` with a margin, widened to the
    figure's ``aspect`` (width / height) so the map is not stretched."""
    xmin, ymin, xmax, ymax = area.total_bounds
    margin = MAP_MARGIN_SHARE * max(xmax - xmin, ymax - ymin, 1_000.0)
    xmin, xmax, ymin, ymax = xmin - margin, xmax + margin, ymin - margin, ymax + margin
    width, height = xmax - xmin, ymax - ymin
    if width / height < aspect:
        grow = (height * aspect - width) / 2
        xmin, xmax = xmin - grow, xmax + grow
    else:
        grow = (width / aspect - height) / 2
        ymin, ymax = ymin - grow, ymax + grow
    return xmin, xmax, ymin, ymax


def ring_offsets(xy: np.ndarray, radius_m: float) -> np.ndarray:
    """Display positions for points that share a place: each group of services at the
    same point (to the metre) is spread evenly on a circle of ``radius_m`` around it, so
    every marker shows. Deterministic, and centred on the point given (the public town
    point of a shelter), so it reveals nothing new; single points stay where they are.

    Parameters
    ----------
    xy : ndarray, shape (n, 2)
        Points in metres.
    radius_m : float
        Ring radius in metres.

    Returns
    -------
    ndarray, shape (n, 2)
        Where to draw each point (metres).
    """
    if len(xy) == 0:
        return xy
    keys = np.round(xy).astype(np.int64)
    _unique, group, counts = np.unique(keys, axis=0, return_inverse=True, return_counts=True)
    group = group.ravel()
    order = np.argsort(group, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.empty(len(xy), dtype=np.int64)
    rank[order] = np.arange(len(xy)) - np.repeat(starts, counts)
    size = counts[group]
    angle = 2 * np.pi * rank / np.maximum(size, 1) + np.pi / 2
    spread = np.where(size > 1, radius_m, 0.0)
    return xy + np.column_stack([spread * np.cos(angle), spread * np.sin(angle)])


def _place_label(text, renderer, placed: list) -> None:
    """Keep a district name clear of the names already placed: moved up or down by its
    own height when it overlaps one, hidden when both moves still overlap."""
    box = text.get_window_extent(renderer).expanded(1.05, 1.1)
    if not any(box.overlaps(other) for other in placed):
        placed.append(box)
        return
    x, y = text.get_position()
    to_data = text.axes.transData.inverted()
    height = abs(to_data.transform((0, box.height))[1] - to_data.transform((0, 0))[1])
    for dy in (-height, height):
        text.set_position((x, y + dy))
        moved = text.get_window_extent(renderer).expanded(1.05, 1.1)
        if not any(moved.overlaps(other) for other in placed):
            placed.append(moved)
            return
    text.set_visible(False)


def _scale_bar(ax, extent: tuple[float, float, float, float], gettext: Gettext) -> None:
    """A two-segment black/white bar in the lower left with '0' and 'N km' labels."""
    xmin, xmax, ymin, ymax = extent
    km = nice_scale_km(xmax - xmin)
    length = km * 1_000.0
    x0 = xmin + 0.03 * (xmax - xmin)
    y0 = ymin + 0.04 * (ymax - ymin)
    bar_h = 0.012 * (ymax - ymin)
    ax.add_patch(Rectangle((x0 - 0.01 * (xmax - xmin), y0 - 1.6 * bar_h), length + 0.05 * (xmax - xmin),
                           5.2 * bar_h, facecolor="white", edgecolor="none", alpha=0.8, zorder=8))
    for i, colour in enumerate(("black", "white")):
        ax.add_patch(Rectangle((x0 + i * length / 2, y0), length / 2, bar_h, facecolor=colour,
                               edgecolor="black", linewidth=0.6, zorder=9))
    ax.text(x0, y0 + 1.6 * bar_h, "0", ha="center", va="bottom", fontsize=6.5, zorder=9)
    ax.text(x0 + length, y0 + 1.6 * bar_h, gettext("{km} km").format(km=km), ha="center", va="bottom",
            fontsize=6.5, zorder=9)


def _north_arrow(ax, extent: tuple[float, float, float, float], gettext: Gettext) -> None:
    """An arrow toward true north in the upper right, with the letter for north."""
    xmin, xmax, ymin, ymax = extent
    x = xmax - 0.05 * (xmax - xmin)
    y = ymax - 0.2 * (ymax - ymin)
    length = 0.1 * (ymax - ymin)
    angle = math.radians(north_angle_deg(x, y))
    dx, dy = length * math.sin(angle), length * math.cos(angle)
    half_w = 0.035 * (xmax - xmin)  # a white card under the arrow, above any marker near the corner
    ax.add_patch(Rectangle((x - half_w, y - 0.02 * (ymax - ymin)), 2 * half_w, length + 0.11 * (ymax - ymin),
                           facecolor="white", edgecolor="none", alpha=0.85, zorder=8))
    ax.add_patch(FancyArrow(x, y, dx, dy, width=0.012 * (ymax - ymin), head_width=0.035 * (ymax - ymin),
                            head_length=0.04 * (ymax - ymin), length_includes_head=True, color="black", zorder=9))
    ax.text(x + dx * 1.15, y + dy * 1.15, gettext("N"), ha="center", va="bottom", fontsize=9, fontweight="bold",
            zorder=9)


def area_map(
    districts: gpd.GeoDataFrame,
    communities: gpd.GeoDataFrame,
    public_services: gpd.GeoDataFrame,
    area_district_ids: Sequence[str],
    *,
    gettext: Gettext | None = None,
    title: str | None = None,
    footer: str | None = None,
    size_in: tuple[float, float] = MAP_SIZE_IN,
) -> Figure:
    """A static map of the chosen districts.

    Parameters
    ----------
    districts : GeoDataFrame
        Every district (``district_id``, ``district``, polygons, any CRS); the ones in
        view are drawn for context.
    communities : GeoDataFrame
        :func:`coverage.analysis.gaps.community_gaps` rows (points, ``minutes``: minutes
        to the nearest service of the chosen types, ``inf`` unreachable).
    public_services : GeoDataFrame
        Services at their PUBLIC points (``type``, points, any CRS).
    area_district_ids : sequence of str
        The chosen district(s): the map is framed on them and draws them stronger.
    gettext : callable, optional
        Translates every word on the map; default English.
    title, footer : str, optional
        Text above the map and small print below it (e.g. the attribution), for a
        stand-alone PNG.
    size_in : (float, float)
        Figure size in inches.

    Returns
    -------
    matplotlib.figure.Figure
        On an Agg canvas; nothing global changed.
    """
    _ = gettext or _english
    fig = Figure(figsize=size_in)
    FigureCanvasAgg(fig)
    top = 1.0 - TITLE_IN / size_in[1] if title else 1.0
    footer_lines = textwrap.wrap(footer, FOOTER_CHARS_PER_IN * size_in[0]) if footer else []
    bottom = (len(footer_lines) * FOOTER_LINE_IN + 0.08) / size_in[1] if footer_lines else 0.0
    ax = fig.add_axes((0.0, bottom, 0.74, top - bottom))
    ax_legend = fig.add_axes((0.745, bottom, 0.255, top - bottom))
    ax_legend.set_axis_off()

    metric = districts.to_crs(config.CRS_METRIC)
    metric = metric.set_geometry(metric.geometry.simplify(SIMPLIFY_M, preserve_topology=True))
    chosen = metric[metric["district_id"].isin(list(area_district_ids))]
    axes_w_in = size_in[0] * 0.74
    axes_h_in = size_in[1] * (top - bottom)
    extent = _extent(chosen if len(chosen) else metric, axes_w_in / axes_h_in)
    xmin, xmax, ymin, ymax = extent
    in_view = metric.cx[xmin:xmax, ymin:ymax]

    ax.set_facecolor("#eef3f7")
    in_view.plot(ax=ax, facecolor="#f7f7f2", edgecolor="#9a9a9a", linewidth=0.5, zorder=1)
    chosen.plot(ax=ax, facecolor="white", edgecolor="#222222", linewidth=1.3, zorder=2)

    comms = communities.to_crs(config.CRS_METRIC).cx[xmin:xmax, ymin:ymax]
    if len(comms):
        in_area = comms["district_id"].isin(list(area_district_ids)).to_numpy()
        colours = maps.minute_colours(comms["minutes"])
        xy = np.column_stack([comms.geometry.x, comms.geometry.y])
        ax.scatter(xy[~in_area, 0], xy[~in_area, 1], s=5, c=list(colours[~in_area]), alpha=0.45,
                   linewidths=0, zorder=3)
        ax.scatter(xy[in_area, 0], xy[in_area, 1], s=11, c=list(colours[in_area]), edgecolors="#333333",
                   linewidths=0.25, zorder=4)

    services = public_services.to_crs(config.CRS_METRIC).cx[xmin:xmax, ymin:ymax]
    shown_types = [t for t in config.SERVICE_TYPES if t in set(services["type"])]
    true_xy = np.column_stack([services.geometry.x, services.geometry.y]) if len(services) else np.empty((0, 2))
    drawn_xy = ring_offsets(true_xy, RING_SHARE * (ymax - ymin))
    moved = np.any(drawn_xy != true_xy, axis=1)
    if moved.any():  # the shared point itself, under its ring
        ax.scatter(true_xy[moved, 0], true_xy[moved, 1], s=6, c="#333333", zorder=5)
    for service_type in shown_types:
        of_type = (services["type"] == service_type).to_numpy()
        colour = maps.SERVICE_STYLE.get(service_type, ("", "#000000"))[1]
        ax.scatter(drawn_xy[of_type, 0], drawn_xy[of_type, 1], s=60, marker=SERVICE_MARKERS.get(service_type, "o"),
                   c=colour, edgecolors="white", linewidths=0.8, zorder=6)

    label_rows = chosen if len(in_view) > DISTRICT_LABEL_MAX else in_view
    label_rows = label_rows.assign(strong=label_rows["district_id"].isin(list(area_district_ids)),
                                   size=label_rows.geometry.area)
    label_rows = label_rows.sort_values(["strong", "size"], ascending=False)  # chosen and large first
    points = label_rows.representative_point()
    inset_x, inset_y = LABEL_INSET_SHARE * (xmax - xmin), LABEL_INSET_SHARE * (ymax - ymin)
    crowded = len(chosen) > CROWDED_LABELS
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(ymin, ymax)
    ax.set_aspect("equal")
    renderer = fig.canvas.get_renderer()
    placed: list = []
    for name, point, strong in zip(label_rows["district"], points, label_rows["strong"]):
        inside = xmin + inset_x < point.x < xmax - inset_x and ymin + inset_y < point.y < ymax - inset_y
        if not (strong or inside):
            continue
        text = ax.text(point.x, point.y, str(name), ha="center", va="center", zorder=5.5, fontfamily=FONT_FAMILY,
                       fontsize=(6.5 if crowded else 8) if strong else 6, fontweight="bold" if strong else "normal",
                       color="#111111" if strong else "#666666", clip_on=True,
                       bbox={"facecolor": "white", "alpha": 0.6, "edgecolor": "none", "pad": 0.8} if strong else None)
        _place_label(text, renderer, placed)

    ax.set_xlim(xmin, xmax)
    ax.set_ylim(ymin, ymax)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")  # geopandas labels the axes from the CRS ("Easting [metre]")
    ax.set_ylabel("")
    for spine in ax.spines.values():
        spine.set_edgecolor("#666666")
    _scale_bar(ax, extent, _)
    _north_arrow(ax, extent, _)

    handles = [Patch(facecolor=c, edgecolor="#333333", linewidth=0.3, label=label)
               for c, label in zip(maps.MINUTE_COLOURS, minute_class_labels(_))]
    handles.append(Patch(facecolor=maps.UNREACHABLE_COLOUR, label=_("no road route")))
    first = ax_legend.legend(handles=handles, title=_legend_title(_("Community: minutes to nearest")), loc="upper left",
                             fontsize=6.5, title_fontsize=7, frameon=False, alignment="left")
    ax_legend.add_artist(first)
    service_handles = [Line2D([], [], linestyle="none", marker=SERVICE_MARKERS.get(t, "o"), markersize=7,
                              markerfacecolor=maps.SERVICE_STYLE.get(t, ("", "#000000"))[1],
                              markeredgecolor="white", label=service_type_label(t, _)) for t in shown_types]
    service_handles.append(Line2D([], [], color="#222222", linewidth=1.3, label=_("District boundary")))
    ax_legend.legend(handles=service_handles, title=_legend_title(_("Services (shelters at town level)")),
                     loc="lower left",
                     fontsize=6.5, title_fontsize=7, frameon=False, alignment="left")
    if title:
        fig.text(0.01, 0.985, title, ha="left", va="top", fontsize=10, fontweight="bold")
    if footer_lines:
        fig.text(0.01, 0.03 / size_in[1], "\n".join(footer_lines), ha="left", va="bottom", fontsize=5.5,
                 color="#444444", linespacing=1.3)
    for text in fig.findobj(lambda artist: hasattr(artist, "set_fontfamily")):
        text.set_fontfamily(FONT_FAMILY)
    return fig


def figure_png(fig: Figure, *, dpi: int = 200) -> bytes:
    """The figure as PNG bytes (``dpi`` dots per inch), no metadata but the software."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": "coverage"})
    return buffer.getvalue()

