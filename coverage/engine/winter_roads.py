"""Which roads of an OSM file winter closes or slows, by name and length.

The same tag rules the engine routes with (:mod:`coverage.engine.road_rules`): a drivable way
is *closed* in winter when :func:`~coverage.engine.road_rules.closed_in_winter` holds for its
tags, and *slowed* when it stays open but carries ``hazard=avalanche`` (its speed times
``winter_avalanche_speed_factor``). Knows ways and kilometres, not districts or communities.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from coverage.config import Settings, load_settings
from coverage.engine.osm_network import haversine_m
from coverage.engine.osm_read import WayTable, read_ways
from coverage.engine.road_rules import avalanche_hazard, closed_in_winter, is_drivable

CLOSED = "closed"
SLOWED = "slowed"
COLUMNS = ["name", "status", "km", "ways"]


def way_lengths_km(table: WayTable) -> np.ndarray:
    """Length of every way of ``table`` in kilometres.

    Parameters
    ----------
    table : WayTable
        Ways as read by :func:`coverage.engine.osm_read.read_ways` (EPSG:4326 degrees).

    Returns
    -------
    numpy.ndarray
        One float per way: its ``length`` tag when present, else the great-circle length of
        its node chain (segments with a node missing from the file count zero), in km.
    """
    n_ways = len(table.way_id)
    way_of_ref = np.repeat(np.arange(n_ways, dtype=np.int64), np.diff(table.way_start))
    seg = np.flatnonzero(way_of_ref[1:] == way_of_ref[:-1]) if len(way_of_ref) else np.zeros(0, dtype=np.int64)
    metres = haversine_m(table.lon[seg], table.lat[seg], table.lon[seg + 1], table.lat[seg + 1])
    metres = np.where(np.isnan(metres), 0.0, metres)
    km = np.bincount(way_of_ref[seg], weights=metres, minlength=n_ways) / 1000.0
    tagged = ~np.isnan(table.way_length_m)
    km[tagged] = table.way_length_m[tagged] / 1000.0
    return km


def winter_roads(path: Path | str | None = None, *, settings: Settings | None = None) -> pd.DataFrame:
    """The named roads of a network that winter closes or slows, with their length.

    Parameters
    ----------
    path : path-like, optional
        OSM file (``.osm``, ``.osm.bz2``, ``.osm.gz``, ``.osm.pbf``); default
        ``settings.network_path``.
    settings : Settings, optional
        Highway classes that count as drivable; default :func:`coverage.config.load_settings`.

    Returns
    -------
    pandas.DataFrame
        One row per road name and status: ``name`` (the ways' ``name`` tag, ``""`` for
        unnamed ways), ``status`` (``"closed"``: no car in winter; ``"slowed"``: open, slower
        for ``hazard=avalanche``), ``km`` (summed length of those ways, kilometres) and
        ``ways`` (how many OSM ways). Closed first, then longest first; empty when winter
        changes no road.
    """
    settings = settings if settings is not None else load_settings()
    table = read_ways(Path(path) if path is not None else settings.network_path)
    combos = table.combos
    drivable = np.array([is_drivable(tags, settings.highway_speed_kph) for tags in combos], dtype=bool)
    closed = np.array([closed_in_winter(tags) for tags in combos], dtype=bool) & drivable
    slowed = np.array([avalanche_hazard(tags) for tags in combos], dtype=bool) & drivable & ~closed
    way_closed, way_slowed = closed[table.way_combo], slowed[table.way_combo]
    hit = way_closed | way_slowed
    if not hit.any():
        return pd.DataFrame({"name": pd.Series(dtype=str), "status": pd.Series(dtype=str),
                             "km": pd.Series(dtype=float), "ways": pd.Series(dtype=int)})
    ways = pd.DataFrame({
        "name": np.asarray(table.names)[table.way_name[hit]],
        "status": np.where(way_closed[hit], CLOSED, SLOWED),
        "km": way_lengths_km(table)[hit],
    })
    out = ways.groupby(["status", "name"], as_index=False).agg(km=("km", "sum"), ways=("km", "size"))
    out["order"] = (out["status"] != CLOSED).astype(int)
    return out.sort_values(["order", "km"], ascending=[True, False])[COLUMNS].reset_index(drop=True)
