"""What winter changes: communities whose time to the nearest service rises when the
roads tagged as closed or slowed in winter are taken out or slowed by the engine."""

from __future__ import annotations

import numpy as np
import pandas as pd

from coverage.engine.winter_roads import winter_roads

__all__ = ["MIN_CHANGE_MIN", "winter_changes", "winter_roads", "winter_roads_line"]

MIN_CHANGE_MIN = 1.0  # a change smaller than this (minutes) is rounding, not winter


def winter_changes(summer: pd.DataFrame, winter: pd.DataFrame, *, threshold_min: float,
                   min_change_min: float = MIN_CHANGE_MIN) -> pd.DataFrame:
    """Communities whose minutes to the nearest chosen service rise by at least
    ``min_change_min`` minutes in winter (or lose every road route).

    ``summer``, ``winter``: the ``communities`` table of :func:`coverage.analysis.analyse`
    for each season (community_id, name, district, region, population, estimated,
    minutes). Returns those columns with ``summer_minutes``, ``winter_minutes`` and
    ``crosses_threshold`` (within ``threshold_min`` minutes in summer, beyond in winter),
    most people first."""
    keep = ["community_id", "name", "district", "region", "population", "estimated"]
    merged = pd.DataFrame(summer[keep + ["minutes"]]).rename(columns={"minutes": "summer_minutes"}).merge(
        pd.DataFrame(winter[["community_id", "minutes"]]).rename(columns={"minutes": "winter_minutes"}),
        on="community_id", how="inner")
    s = merged["summer_minutes"].to_numpy(dtype=float)
    w = merged["winter_minutes"].to_numpy(dtype=float)
    lost = np.isfinite(s) & ~np.isfinite(w)
    slower = np.isfinite(w) & np.isfinite(s) & (w - s >= min_change_min)
    out = merged[lost | slower].assign(
        crosses_threshold=lambda t: (t["summer_minutes"] <= threshold_min) & (t["winter_minutes"] > threshold_min))
    return out.sort_values("population", ascending=False).reset_index(drop=True)


def winter_roads_line(roads: pd.DataFrame) -> str:
    """One sentence naming the roads winter closes and slows.

    Parameters
    ----------
    roads : pandas.DataFrame
        :func:`winter_roads` output (name, status, km).

    Returns
    -------
    str
        ``"closed in winter: A (104 km), B (81 km); slowed (avalanche risk): C (240 km)"``,
        or a sentence saying that no road of the network is closed or slowed.
    """
    if not len(roads):
        return "closed in winter: none (no road of the network is tagged as closed or slowed in winter)"
    parts = []
    for status, label in (("closed", "closed in winter"), ("slowed", "slowed (avalanche risk)")):
        rows = roads[roads["status"] == status]
        names = ", ".join(f"{name or 'unnamed road'} ({km:,.0f} km)" for name, km in zip(rows["name"], rows["km"],
                                                                                         strict=True))
        parts.append(f"{label}: {names or 'none'}")
    return "; ".join(parts)
