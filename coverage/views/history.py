"""The registry's edit history as lines a person reads: one line per changed field.

Staff output only: the lines hold exact points and addresses, so they are shown only
to a signed-in user, from :meth:`BaseServiceStore.history` for that user.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from coverage.views.labels import fmt_places

LINE_COLUMNS: tuple[str, ...] = ("when (UTC)", "who", "service_id", "action", "field", "old", "new")
WHOLE_ROW_ACTIONS: tuple[str, ...] = ("seed", "create", "import")


def cell_text(value: Any) -> str:
    """A history value as text: empty for None and NaN."""
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def _places_text(value: Any) -> str:
    """A history ``places`` value: the number, or 'unknown' when it was empty."""
    return fmt_places(cell_text(value))


def _values(raw: Any) -> dict[str, Any]:
    """The fields of a history row's JSON text (none for an empty cell: None or NaN)."""
    return json.loads(raw) if isinstance(raw, str) and raw else {}


def history_lines(history: pd.DataFrame) -> pd.DataFrame:
    """Lines of :data:`LINE_COLUMNS` from history rows (``HISTORY_COLUMNS``), in their
    order: for a new service (seed, create, import) one line naming it, its type, town
    and point (WGS 84 lon, lat); for any other change one line per field, old → new.

    Parameters
    ----------
    history : DataFrame
        Rows of :data:`coverage.registry.base.HISTORY_COLUMNS`: ``changed_at`` (ISO 8601
        UTC), ``changed_by``, ``service_id``, ``action``, ``old_values`` and
        ``new_values`` (JSON text or empty).

    Returns
    -------
    DataFrame
        Columns :data:`LINE_COLUMNS`; ``when (UTC)`` as 'YYYY-MM-DD HH:MM:SS'; the point
        of a new service as ``[lon, lat]`` in degrees (EPSG:4326).
    """
    lines = []
    for row in history.itertuples(index=False):
        old = _values(row.old_values)
        new = _values(row.new_values)
        base = {"when (UTC)": str(row.changed_at).replace("T", " ").rstrip("Z")[:19], "who": row.changed_by,
                "service_id": row.service_id, "action": row.action}
        if row.action in WHOLE_ROW_ACTIONS:
            lines.append({**base, "field": "", "old": "",
                          "new": f"{new.get('name', '')} ({new.get('type', '')}), {new.get('town', '')} "
                                 f"[{new.get('lon', '')}, {new.get('lat', '')}]"})
        else:
            for field in sorted(set(old) | set(new)):
                shown = _places_text if field == "places" else cell_text  # empty places: "unknown", not blank
                lines.append({**base, "field": field, "old": shown(old.get(field)), "new": shown(new.get(field))})
    return pd.DataFrame(lines, columns=list(LINE_COLUMNS))
