"""What a staff form's values become: a new service id, and the fields that changed."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import date
from typing import Any

import pandas as pd

COORDINATE_COLUMNS: tuple[str, ...] = ("lon", "lat")


def new_service_id(organisation: str, service_type: str, name: str, lon: float, lat: float,
                   *, day: date | None = None) -> str:
    """An id for a new service when staff leave it empty: ``ORG-TYPE-XXXXXX``, the
    organisation key and type upper-cased, then six hex digits of a hash of the name,
    point (WGS 84 degrees) and ``day`` (default today), so two services added the same
    day at the same point with the same name get the same id and the second is refused
    as a duplicate.

    Parameters
    ----------
    organisation, service_type, name : str
        The form's organisation key, type and name.
    lon, lat : float
        The point in degrees (EPSG:4326).
    day : date, optional
        Default today (local date).

    Returns
    -------
    str
    """
    day = date.today() if day is None else day
    digest = hashlib.sha1(f"{name}{lon}{lat}{day}".encode()).hexdigest()[:6].upper()
    return f"{str(organisation).upper()}-{str(service_type).upper()}-{digest}"


def _places_key(value: Any) -> str:
    """A ``places`` value for comparison: "" when unknown, the number as text, else the text."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    text = str(value).strip()
    number = pd.to_numeric(text.replace(",", "."), errors="coerce")
    return repr(float(number)) if pd.notna(number) else text


def changed_fields(current: Mapping[str, Any], fields: Mapping[str, Any]) -> dict[str, Any]:
    """The entries of ``fields`` whose value differs from ``current``; coordinates are
    compared as numbers (``69.7`` equals ``69.70``). A shelter's ``confidential`` never
    counts as changed: every shelter is stored confidential whatever the form says."""
    out = {}
    shelter = fields.get("type", current.get("type")) == "shelter"
    for column, value in fields.items():
        if column == "confidential" and shelter:
            continue
        before = current.get(column)
        if column in COORDINATE_COLUMNS:
            same = before is not None and not pd.isna(before) and float(value) == float(before)
        elif column == "places":  # "6" equals 6 and "6.0"; "" equals NA (unknown)
            same = _places_key(value) == _places_key(before)
        else:
            same = value == before
        if not same:
            out[column] = value
    return out
