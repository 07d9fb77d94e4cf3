"""The one form staff fill in to add a service or edit one (Streamlit widgets only).

The form lays out every column of a service and returns what was typed; the rules
(ids, permissions, validation, history) stay in :mod:`coverage.registry`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import streamlit as st

from coverage import config
from coverage.registry import auth
from dashboard import texts

_ = texts._


@dataclass(frozen=True)
class FormChoices:
    """The choices the form offers: service types, precisions, confidence levels, and
    the districts (``district -> region``) in region order; coordinate ranges in WGS 84
    degrees (Tajikistan's bounding box)."""

    types: tuple[str, ...]
    precisions: tuple[str, ...]
    confidence: tuple[str, ...]
    district_region: dict[str, str]
    lon_range: tuple[float, float]
    lat_range: tuple[float, float]


def form_choices(districts: gpd.GeoDataFrame) -> FormChoices:
    """The form's choices from the districts table (``district``, ``region``)."""
    table = districts[["district", "region"]].drop_duplicates().sort_values(["region", "district"])
    return FormChoices(
        types=tuple(config.SERVICE_TYPES),
        precisions=tuple(config.LOCATION_PRECISIONS),
        confidence=("",) + tuple(config.CONFIDENCE_LEVELS),
        district_region=dict(zip(table["district"], table["region"])),
        lon_range=(config.TJ_BOUNDS["lon_min"], config.TJ_BOUNDS["lon_max"]),
        lat_range=(config.TJ_BOUNDS["lat_min"], config.TJ_BOUNDS["lat_max"]),
    )


def _places_text(value: Any) -> str:
    """A stored ``places`` value as the form's text: digits, or "" when unknown."""
    shown = texts.fmt_places(value)
    return shown if shown.isdigit() else ""


def _index(options: list, value: Any) -> int:
    return options.index(value) if value in options else 0


def service_form(key: str, user: auth.User, choices: FormChoices, *, current: Mapping[str, Any] | None = None,
                 submit_label: str, submit_key: str) -> dict[str, Any] | None:
    """Lay out the service form; the typed values once submitted, else None.

    Parameters
    ----------
    key
        Prefix of every widget key (``staff_add_`` …); with ``current`` None the
        longitude and latitude widgets start empty and may be set beforehand through
        ``st.session_state[key + "lon"]`` / ``[key + "lat"]`` (a click on a map).
    current
        The service being edited (its stored columns) or None for a new one; a new one
        also gets a "service id" field (value under ``"service_id"``, may be empty).

    Returns
    -------
    dict or None
        The service's columns as typed (``lon``/``lat`` in degrees or None when empty;
        ``region`` from the district chosen; ``owner_org`` only for admins).
    """
    new = current is None
    row: Mapping[str, Any] = current or {}
    types, precisions, confidence = list(choices.types), list(choices.precisions), list(choices.confidence)
    districts = list(choices.district_region)
    if row.get("district") and row["district"] not in districts:
        districts.insert(0, row["district"])  # a stored name outside the list stays choosable
    with st.form(key + "form"):
        c1, c2, c3 = st.columns(3)
        fields: dict[str, Any] = {
            "type": c1.selectbox(_("Type"), types, index=_index(types, row.get("type")),
                                 format_func=texts.type_labeller(), key=key + "type"),
            "name": c2.text_input(_("Name"), row.get("name", ""), key=key + "name"),
        }
        if new:
            fields["service_id"] = c3.text_input(
                _("Service id (optional)"), key=key + "id",
                help=_("Letters, digits, '-', '_', '.'; left empty, one is made up for you."))
        c1, c2, c3 = st.columns(3)
        fields["organisation"] = c1.text_input(_("Organisation (as published)"), row.get("organisation", ""),
                                               key=key + "organisation")
        fields["org"] = c2.text_input(_("Short organisation name (for reach figures)"), row.get("org", ""),
                                      key=key + "org")
        fields["town"] = c3.text_input(_("Town or village"), row.get("town", ""), key=key + "town")
        c1, c2, c3 = st.columns(3)
        fields["district"] = c1.selectbox(
            _("District"), districts, index=_index(districts, row.get("district")), key=key + "district",
            format_func=lambda d: f"{d} ({choices.district_region.get(d, row.get('region', ''))})")
        fields["lon"] = c2.number_input(_("Longitude"), *choices.lon_range, value=None if new else float(row["lon"]),
                                        step=0.0001, format="%.5f", key=key + "lon")
        fields["lat"] = c3.number_input(_("Latitude"), *choices.lat_range, value=None if new else float(row["lat"]),
                                        step=0.0001, format="%.5f", key=key + "lat")
        c1, c2, c3 = st.columns(3)
        fields["location_precision"] = c1.selectbox(_("Location precision"), precisions,
                                                    index=_index(precisions, row.get("location_precision")),
                                                    key=key + "precision")
        fields["confidential"] = c2.checkbox(_("Confidential (never shown exactly in public; shelters always are)"),
                                             value=bool(row.get("confidential", True)), key=key + "confidential")
        fields["capacity"] = c3.text_input(_("Capacity (as published)"), row.get("capacity", ""), key=key + "capacity")
        c1, c2, c3 = st.columns(3)
        fields["source"] = c1.text_input(_("Source"), row.get("source", ""), key=key + "source")
        fields["source_date"] = c2.text_input(_("Source date"), row.get("source_date", ""), key=key + "source_date")
        fields["confidence"] = c3.selectbox(_("Confidence"), confidence, index=_index(confidence, row.get("confidence")),
                                            key=key + "confidence")
        c1, c2, c3 = st.columns(3)
        fields["opened_year"] = c1.text_input(_("Opened (year)"), row.get("opened_year", ""), key=key + "opened")
        fields["places"] = c2.text_input(
            _("Places (beds; empty = unknown)"), _places_text(row.get("places")), key=key + "places",
            help=_("How many women (each with her children) the service can house at one time, as a whole number. "
                   "Leave it empty when you do not know: empty counts as unknown, never as zero."))
        fields["address"] = c3.text_input(_("Address (staff only, never public)"), row.get("address", ""),
                                          key=key + "address")
        fields["note"] = st.text_area(_("Note"), row.get("note", ""), key=key + "note", height=68)
        if user.is_admin:
            fields["owner_org"] = st.text_input(_("Owner organisation key"), row.get("owner_org", user.organisation),
                                                key=key + "owner")
        submitted = st.form_submit_button(submit_label, key=submit_key, type="primary")
    if not submitted:
        return None
    same_district = fields["district"] == row.get("district")
    fields["region"] = row.get("region", "") if same_district and not new else \
        choices.district_region.get(fields["district"], row.get("region", ""))
    return fields
