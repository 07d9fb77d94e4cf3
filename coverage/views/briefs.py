"""Printable briefs: a one-page A4 district or region brief, and a funders' reach summary.

Laid out with fpdf2, the map embedded as a PNG drawn by :mod:`coverage.views.static_maps`.
fpdf2 rather than matplotlib alone: it flows text (wrapping, tables with measured
rows, page size in millimetres), embeds and subsets a TrueType font so every word stays
real, extractable text (``pdftotext``, screen readers, copy and paste), and the PDF is
small; matplotlib is kept for what it is good at, the map. Fonts: DejaVu Sans and
DejaVu Sans Bold from matplotlib's own files, which cover Latin, Cyrillic and the
Tajik letters (ӣ ӯ ҳ ҷ қ ғ): nothing to install.

Every word goes through the ``gettext`` callable given (``coverage.views.i18n.translator``),
so the catalogues translate the brief. The figures come in as a :class:`Brief` (built by
:mod:`coverage.analysis.briefs` from public inputs only): this module draws, it does not
compute, and it is given no exact shelter point to leak. Estimated figures carry an
"(est.)" mark, explained in the footnote.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import matplotlib
import pandas as pd
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from coverage.data import sources
from coverage.views import labels, names, static_maps
from coverage.views.i18n import N_

Gettext = Callable[[str], str]
FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
FONT_REGULAR = FONT_DIR / "DejaVuSans.ttf"
FONT_BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"
FONT = "DejaVu"
PAGE_MARGIN_MM = 12.0
MAP_WIDTH_MM = 186.0  # A4 width less the margins
INK = (34, 34, 34)
MUTED = (90, 90, 90)
BAND = (236, 241, 246)
ACCENT = (123, 45, 142)  # the shelter purple of the maps


def _english(text: str) -> str:
    return text


@dataclass(frozen=True)
class NearestHelp:
    """How far help of one type is for an area, in minutes by road (estimates).

    ``seat`` is the district seat's name and ``seat_minutes`` the minutes from the
    community at the seat (None for a region or a district without a seat);
    ``median_minutes`` the population-weighted median over the area's communities (half
    of the counted people live closer); ``inf`` when unreachable."""

    service_type: str
    median_minutes: float
    seat: str | None = None
    seat_minutes: float | None = None


@dataclass(frozen=True)
class Brief:
    """What a one-page brief shows, all computed from public inputs.

    Counts are people of ``measure`` (``"women"`` or ``"population"``); ``threshold_min``
    in minutes; ``underserved``: the five communities with most people beyond the
    threshold (``name``, ``district``, ``count``, ``minutes``, ``nearest_town``,
    ``estimated``)."""

    area: str
    area_kind: str  # "district" or "region"
    region: str
    measure: str
    threshold_min: float
    season: str
    service_types: tuple[str, ...]
    total: int
    within: int
    communities: int
    communities_beyond: int
    nearest: tuple[NearestHelp, ...]
    underserved: pd.DataFrame
    made_on: dt.date
    approximate_roads: bool = True
    scenario_title: str | None = None
    scenario_summary: str | None = None

    @property
    def beyond(self) -> int:
        """People of the measure beyond the threshold (or unreachable)."""
        return self.total - self.within

    @property
    def share_within(self) -> float:
        """Share (0–1) of the counted people within the threshold; NaN with none."""
        return self.within / self.total if self.total else math.nan


@dataclass(frozen=True)
class ReachSummary:
    """A funders' summary for one region: people of ``measure`` within each of
    ``thresholds`` (minutes) of each organisation's services of ``service_types``.

    ``totals``: :func:`coverage.analysis.reach.organisation_totals` rows (``org``,
    ``within_<t>``), the any-organisation row last (organisations that reach no one in
    the area are left out); ``alone``: ``org`` → people within ``threshold_min`` of that
    organisation only; ``districts``: per district, ``district``, ``population`` and
    ``within_<t>`` of any organisation."""

    region: str
    measure: str
    season: str
    service_types: tuple[str, ...]
    thresholds: tuple[int, ...]
    threshold_min: float
    total: int
    totals: pd.DataFrame
    alone: dict[str, int] = field(default_factory=dict)
    made_on: dt.date = field(default_factory=dt.date.today)
    approximate_roads: bool = True
    any_organisation: str = "Any organisation"  # the ``org`` of the row that counts each person once
    districts: pd.DataFrame | None = None  # per district: district, population, within_<t> (any organisation)


# --- place names in the brief's language ------------------------------------------------------


def brief_in_language(brief: Brief, language: str, *, district_names: dict[str, str] | None = None) -> Brief:
    """``brief`` with its place names in the script of ``language`` (``"en"`` Latin, ``"ru"``
    and ``"tg"`` Cyrillic; :mod:`coverage.views.names`): the area, its region, the district
    seat, the underserved communities, their districts and nearest towns.

    ``district_names``: the districts' own names in ``language`` by their stored name
    (:func:`coverage.views.names.own_names`); the others are transliterated."""
    known = district_names or {}

    def place(name: object) -> object:
        # a seat or town named as its district (Kulob) takes the district's own spelling (Кӯлоб)
        if not (isinstance(name, str) and name):
            return name
        return known.get(name) or names.display_name(name, language)

    rows = brief.underserved
    if len(rows):
        rows = rows.assign(name=names.display_names(rows, language).to_numpy(),
                           district=names.display_names(rows, language, column="district", known=known).to_numpy(),
                           nearest_town=rows["nearest_town"].map(place).to_numpy())
    area = place(brief.area)
    return replace(brief, area=str(area), region=str(place(brief.region)), underserved=rows,
                   nearest=tuple(replace(help_, seat=place(help_.seat)) for help_ in brief.nearest))


def reach_in_language(summary: ReachSummary, language: str, *,
                      district_names: dict[str, str] | None = None) -> ReachSummary:
    """``summary`` with its region and district names in the script of ``language``
    (organisation names stay as the organisations write them); ``district_names`` as in
    :func:`brief_in_language`."""
    districts = summary.districts
    if districts is not None and len(districts):
        districts = districts.assign(district=names.display_names(
            districts, language, column="district", known=district_names).to_numpy())
    return replace(summary, region=names.display_name(summary.region, language), districts=districts)


# --- sources ----------------------------------------------------------------------------


# The census licence as sources.SOURCES states it, marked for the catalogues (a msgid must be a literal).
CENSUS_LICENCE = N_("Official statistics, free to use with attribution")


def source_lines(gettext: Gettext | None = None, *, approximate_roads: bool = True) -> list[tuple[str, str, str]]:
    """(what, source, licence) for every source a brief's figures come from, as on the
    About page: boundaries, census, settlements, towns, services, roads."""
    _ = gettext or _english
    s = sources.SOURCES
    roads = (_("the project's approximate trunk-road network (published corridor lengths and trip times)"),
             _("project data")) if approximate_roads else (_("OpenStreetMap extract"), "ODbL 1.0 — © OpenStreetMap contributors")
    return [
        (_("Boundaries"), s["geoboundaries"]["attribution"], s["geoboundaries"]["licence"]),
        (_("Population"), s["census"]["attribution"], _(CENSUS_LICENCE) if s["census"]["licence"] == CENSUS_LICENCE
         else s["census"]["licence"]),
        (_("Settlements"), s["settlements"]["attribution"], s["settlements"]["licence"]),
        (_("Towns"), s["geonames"]["attribution"], s["geonames"]["licence"]),
        (_("Services"), _("the project's list, each row with its source (NGO, OSCE, UN, BEARR, press)"),
         _("facts with sources")),
        (_("Roads"), *roads),
    ]


def attribution_line(gettext: Gettext | None = None, *, approximate_roads: bool = True) -> str:
    """The sources as one line (the map PNG's small print)."""
    return " · ".join(f"{what}: {who} ({licence})"
                      for what, who, licence in source_lines(gettext, approximate_roads=approximate_roads))


# --- words -----------------------------------------------------------------------------


def counted_word(measure: str, gettext: Gettext | None = None, *, capital: bool = False) -> str:
    """'women' / 'people' (capitalised with ``capital``), translated."""
    _ = gettext or _english
    if measure == "women":
        return _("Women") if capital else _("women")
    return _("People") if capital else _("people")


def estimate(text: str, gettext: Gettext | None = None) -> str:
    """A figure marked as an estimate: '12,345 (est.)'."""
    _ = gettext or _english
    return _("{value} (est.)").format(value=text)


def types_phrase(service_types: Sequence[str], gettext: Gettext | None = None) -> str:
    """'shelter or crisis centre', translated."""
    _ = gettext or _english
    return _(" or ").join(static_maps.service_type_label(t, _).lower() for t in service_types)


def season_word(season: str, gettext: Gettext | None = None) -> str:
    """'summer roads' / 'winter roads (high passes closed)', translated."""
    _ = gettext or _english
    return {"summer": _("summer roads"), "winter": _("winter roads (high passes closed)")}.get(season, season)


def fmt_share(share: float, gettext: Gettext | None = None) -> str:
    """A share (0–1) as a whole percentage ('85%'); '–' when undefined."""
    _ = gettext or _english
    return "–" if share is None or not math.isfinite(share) else _("{share:.0%}").format(share=share)


def fmt_date(day: dt.date) -> str:
    """ISO date (unambiguous in every language)."""
    return day.isoformat()


def brief_title(brief: Brief, gettext: Gettext | None = None) -> str:
    """The brief's title, naming the area."""
    _ = gettext or _english
    return _("Access to help for women: {area}").format(area=brief.area)


def brief_subtitle(brief: Brief, gettext: Gettext | None = None) -> str:
    """What the brief shows: area kind, service types, threshold (minutes), season."""
    _ = gettext or _english
    kind = _("District in {region}").format(region=brief.region) if brief.area_kind == "district" else _("Region")
    return _("{kind} · nearest {types} within {threshold:g} min by road · {season}").format(
        kind=kind, types=types_phrase(brief.service_types, _), threshold=brief.threshold_min,
        season=season_word(brief.season, _))


# --- the PDF ---------------------------------------------------------------------------


class _Page(FPDF):
    """An A4 portrait page in millimetres with DejaVu Sans (regular and bold)."""

    def __init__(self, title: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.set_margins(PAGE_MARGIN_MM, PAGE_MARGIN_MM, PAGE_MARGIN_MM)
        self.set_auto_page_break(False)
        self.add_font(FONT, "", str(FONT_REGULAR))
        self.add_font(FONT, "B", str(FONT_BOLD))
        self.set_title(title)
        self.set_creator("coverage (Women's crisis services coverage, Tajikistan)")
        self.set_text_color(*INK)
        self.add_page()

    @property
    def text_width(self) -> float:
        return self.w - self.l_margin - self.r_margin

    def title_block(self, title: str, made_on: dt.date) -> None:
        """The page's title (bold, wrapped clear of the date) and its date at the top right."""
        self.set_font(FONT, "B", 15)
        self.multi_cell(self.text_width - 30, 7, title, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        top = self.get_y()
        self.set_xy(self.w - self.r_margin - 30, PAGE_MARGIN_MM + 0.8)
        self.set_font(FONT, "", 8)
        self.set_text_color(*MUTED)
        self.cell(30, 5, fmt_date(made_on), align="R")
        self.set_xy(self.l_margin, top)
        self.set_text_color(*INK)

    def heading(self, text: str, size: float = 10.5) -> None:
        self.set_font(FONT, "B", size)
        self.set_text_color(*ACCENT)
        self.cell(0, 5.5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(*INK)

    def para(self, text: str, size: float = 8.5, *, bold: bool = False, colour: tuple[int, int, int] = INK,
             height: float | None = None) -> None:
        self.set_font(FONT, "B" if bold else "", size)
        self.set_text_color(*colour)
        self.multi_cell(0, height or size * 0.48, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(*INK)


def _figure_boxes(pdf: _Page, items: Sequence[tuple[str, str]]) -> None:
    """A row of boxes, each a big figure over its label."""
    gap = 3.0
    width = (pdf.text_width - gap * (len(items) - 1)) / len(items)
    x0, y0 = pdf.l_margin, pdf.get_y()
    height = 17.0
    for i, (value, label) in enumerate(items):
        x = x0 + i * (width + gap)
        pdf.set_fill_color(*BAND)
        pdf.rect(x, y0, width, height, style="F")
        pdf.set_xy(x + 2, y0 + 1.8)
        pdf.set_font(FONT, "B", 12.5)
        pdf.cell(width - 4, 6.5, value)
        pdf.set_xy(x + 2, y0 + 8.6)
        pdf.set_font(FONT, "", 7.2)
        pdf.set_text_color(*MUTED)
        pdf.multi_cell(width - 4, 3.2, label, align="L")
        pdf.set_text_color(*INK)
    pdf.set_xy(x0, y0 + height + 2.5)


def _nearest_lines(brief: Brief, _: Gettext) -> list[str]:
    who = counted_word(brief.measure, _)
    lines = []
    for help_ in brief.nearest:
        label = static_maps.service_type_label(help_.service_type, _)
        median = estimate(labels.fmt_minutes(help_.median_minutes, gettext=_), _)
        if help_.seat and help_.seat_minutes is not None:
            lines.append(_("{label}: {seat_time} from the district seat ({seat}); half of the {who} live "
                           "within {median}.").format(label=label, seat_time=estimate(
                               labels.fmt_minutes(help_.seat_minutes, gettext=_), _), seat=help_.seat, who=who,
                               median=median))
        else:
            lines.append(_("{label}: half of the {who} live within {median} (population-weighted median).")
                         .format(label=label, who=who, median=median))
    return lines


def _underserved_table(pdf: _Page, brief: Brief, _: Gettext) -> None:
    rows = brief.underserved.head(5)
    if rows.empty:
        pdf.para(_("No community is beyond {threshold:g} min.").format(threshold=brief.threshold_min))
        return
    header = (_("Community"), _("District"), estimate(counted_word(brief.measure, _, capital=True), _),
              estimate(_("Time by road"), _), _("Nearest at"))
    pdf.set_font(FONT, "", 8)
    pdf.set_draw_color(200, 200, 200)
    with pdf.table(col_widths=(52, 38, 28, 30, 38), text_align=("LEFT", "LEFT", "RIGHT", "RIGHT", "LEFT"),
                   line_height=4.2, headings_style=_heading_style(), first_row_as_headings=True,
                   borders_layout="HORIZONTAL_LINES", padding=(0.6, 1.5)) as table:
        table.row(header)
        for row in rows.itertuples(index=False):
            table.row((str(row.name), str(row.district), labels.fmt_people(row.count, gettext=_),
                       labels.fmt_minutes(row.minutes, gettext=_), str(row.nearest_town or "–")))
    pdf.ln(1.5)


def _heading_style():
    from fpdf.fonts import FontFace

    return FontFace(family=FONT, emphasis="BOLD", size_pt=7.5, color=MUTED)


def _sources_block(pdf: _Page, _: Gettext, *, approximate_roads: bool, notes: Sequence[str]) -> None:
    pdf.set_draw_color(180, 180, 180)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.ln(1.2)
    for note in notes:
        pdf.para(note, 6.6, colour=MUTED, height=3.0)
    pdf.para(_("Sources and licences:") + " " + "; ".join(
        f"{what}: {who} ({licence})" for what, who, licence in source_lines(_, approximate_roads=approximate_roads)),
        6.6, colour=MUTED, height=3.0)


def _estimate_notes(measure: str, approximate_roads: bool, _: Gettext) -> list[str]:
    notes = [_("est. = estimate. Community figures share each district's 2020 census total over its settlements; "
               "travel times are modelled by road (model estimates; real trips may take longer, especially in "
               "winter).")]
    if measure == "women":
        notes.append(_("Women: the 2020 census female share of each district (derived from the sex ratio), "
                       "applied to its communities."))
    if approximate_roads:
        notes.append(_("Roads: the project's approximate trunk-road network."))
    notes.append(_("Safety: shelters are shown at their town, never at their address; every figure is computed "
                   "from that public point."))
    return notes


def brief_pdf(brief: Brief, map_png: bytes, *, gettext: Gettext | None = None) -> bytes:
    """The one-page A4 brief as PDF bytes.

    Parameters
    ----------
    brief : Brief
        The figures (public inputs only).
    map_png : bytes
        The map (:func:`coverage.views.static_maps.area_map` as PNG), drawn
        :data:`MAP_WIDTH_MM` wide.
    gettext : callable, optional
        Translates every word; default English.

    Returns
    -------
    bytes
        A one-page PDF with its text in DejaVu Sans (extractable).
    """
    _ = gettext or _english
    title = brief_title(brief, _)
    pdf = _Page(title)
    pdf.title_block(title, brief.made_on)
    pdf.para(brief_subtitle(brief, _), 9, colour=MUTED, height=4.6)
    pdf.ln(1)

    if brief.scenario_title or brief.scenario_summary:
        pdf.set_fill_color(255, 243, 205)
        pdf.set_font(FONT, "B", 8.5)
        text = _("Scenario: {title}").format(title=brief.scenario_title) if brief.scenario_title else _("Scenario")
        if brief.scenario_summary:
            text += " — " + brief.scenario_summary
        pdf.multi_cell(0, 4.2, text, fill=True, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT, padding=1.2)
        pdf.ln(1)

    image_y = pdf.get_y()
    info = pdf.image(io.BytesIO(map_png), x=pdf.l_margin, y=image_y, w=MAP_WIDTH_MM)
    pdf.set_y(image_y + info.rendered_height + 2.5)

    who = counted_word(brief.measure, _)
    total = labels.fmt_people(brief.total, gettext=_)
    total_label = (_("Women (2020 census, derived from the sex ratio)") if brief.measure == "women"
                   else _("People (2020 census)"))
    _figure_boxes(pdf, [
        (estimate(total, _) if brief.measure == "women" else total, total_label),
        (estimate(labels.fmt_people(brief.within, gettext=_), _),
         _("{who} within {threshold:g} min of a {types}").format(
             who=counted_word(brief.measure, _, capital=True), threshold=brief.threshold_min,
             types=types_phrase(brief.service_types, _))),
        (estimate(fmt_share(brief.share_within, _), _), _("share of the {who} within reach").format(who=who)),
        (estimate(labels.fmt_people(brief.beyond, gettext=_), _),
         _("{who} beyond; {n} of {m} communities").format(
             who=counted_word(brief.measure, _, capital=True), n=brief.communities_beyond, m=brief.communities)),
    ])

    pdf.heading(_("Nearest help by road"))
    for line in _nearest_lines(brief, _):
        pdf.para("• " + line, 8.3, height=4.0)
    pdf.ln(1.5)
    pdf.heading(_("The five most underserved communities (most {who} beyond {threshold:g} min)").format(
        who=who, threshold=brief.threshold_min))
    _underserved_table(pdf, brief, _)

    notes = _estimate_notes(brief.measure, brief.approximate_roads, _)
    pdf.set_y(max(pdf.get_y() + 1, pdf.h - PAGE_MARGIN_MM - 3.0 * (len(notes) + 4) - 1.5))
    _sources_block(pdf, _, approximate_roads=brief.approximate_roads, notes=notes)
    return bytes(pdf.output())


def reach_pdf(summary: ReachSummary, *, gettext: Gettext | None = None) -> bytes:
    """The funders' one-page summary of a region: reach per organisation.

    Parameters
    ----------
    summary : ReachSummary
        Reach figures computed from public inputs (people of ``summary.measure``).
    gettext : callable, optional
        Translates every word; default English.

    Returns
    -------
    bytes
        A one-page A4 PDF.
    """
    _ = gettext or _english
    title = _("Reach per organisation: {region}").format(region=summary.region)
    pdf = _Page(title)
    pdf.title_block(title, summary.made_on)
    who = counted_word(summary.measure, _)
    pdf.para(_("{Who} within {thresholds} minutes by road of any {types} of each organisation, {season}. "
               "{total} {who} live in the region (2020 census). A person near several organisations counts for "
               "each, so the organisations' rows do not add up to the last row, which counts each person once.")
             .format(Who=counted_word(summary.measure, _, capital=True),
                     thresholds=", ".join(str(t) for t in summary.thresholds),
                     types=types_phrase(summary.service_types, _), season=season_word(summary.season, _),
                     total=labels.fmt_people(summary.total, gettext=_), who=who), 9, colour=MUTED, height=4.4)
    pdf.ln(2)
    alone_label = _("Only it reaches (≤ {t:g} min)").format(t=summary.threshold_min)
    header = (_("Organisation"), *[estimate(_("≤ {t} min").format(t=t), _) for t in summary.thresholds],
              estimate(_("Share ≤ {t:g} min").format(t=summary.threshold_min), _), estimate(alone_label, _))
    chosen = f"within_{int(summary.threshold_min)}"
    n = len(summary.thresholds)
    org_w = pdf.text_width - 22 * n - 24 - 30
    pdf.set_font(FONT, "", 8)
    pdf.set_draw_color(200, 200, 200)
    with pdf.table(col_widths=(org_w, *([22] * n), 24, 30), text_align=("LEFT", *(["RIGHT"] * (n + 2))),
                   line_height=4.4, headings_style=_heading_style(), first_row_as_headings=True,
                   borders_layout="HORIZONTAL_LINES", padding=0.6) as table:
        table.row(header)
        for row in summary.totals.itertuples(index=False):
            org = str(row.org)
            any_row = org == summary.any_organisation
            values = [labels.fmt_people(getattr(row, f"within_{t}"), gettext=_) for t in summary.thresholds]
            share = getattr(row, chosen) / summary.total if summary.total and chosen in summary.totals else math.nan
            alone = "" if any_row else labels.fmt_people(summary.alone.get(org, 0), gettext=_)
            table.row((_("Any organisation (each person once)") if any_row else org, *values,
                       fmt_share(share, _), alone))
    pdf.ln(3)
    if summary.districts is not None and len(summary.districts):
        _reach_districts(pdf, summary, _)
    notes = _estimate_notes(summary.measure, summary.approximate_roads, _)
    pdf.set_y(max(pdf.get_y() + 1, pdf.h - PAGE_MARGIN_MM - 3.0 * (len(notes) + 4) - 1.5))
    _sources_block(pdf, _, approximate_roads=summary.approximate_roads, notes=notes)
    return bytes(pdf.output())


REACH_DISTRICT_ROWS = 30  # districts listed on the funders' page (the most populous)


def _reach_districts(pdf: _Page, summary: ReachSummary, _: Gettext) -> None:
    """Per district: people and those within each threshold of any organisation."""
    who = counted_word(summary.measure, _, capital=True)
    rows = summary.districts.sort_values("population", ascending=False).head(REACH_DISTRICT_ROWS)
    pdf.heading(_("By district: {who} within reach of any organisation").format(who=who))
    chosen = f"within_{int(summary.threshold_min)}"
    n = len(summary.thresholds)
    name_w = pdf.text_width - 26 - 22 * n - 24
    pdf.set_font(FONT, "", 7.8)
    pdf.set_draw_color(200, 200, 200)
    with pdf.table(col_widths=(name_w, 26, *([22] * n), 24), text_align=("LEFT", *(["RIGHT"] * (n + 2))),
                   line_height=3.9, headings_style=_heading_style(), first_row_as_headings=True,
                   borders_layout="HORIZONTAL_LINES", padding=0.4) as table:
        table.row((_("District"), who, *[estimate(_("≤ {t} min").format(t=t), _) for t in summary.thresholds],
                   estimate(_("Share ≤ {t:g} min").format(t=summary.threshold_min), _)))
        for row in rows.itertuples(index=False):
            share = getattr(row, chosen) / row.population if row.population else math.nan
            table.row((str(row.district), labels.fmt_people(row.population, gettext=_),
                       *[labels.fmt_people(getattr(row, f"within_{t}"), gettext=_) for t in summary.thresholds],
                       fmt_share(share, _)))
