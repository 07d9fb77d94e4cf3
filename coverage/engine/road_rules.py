"""OSM tag rules of the road network: which ways are drivable, their speed in a season,
their ``length`` tag and their direction.

One set of rules for both builders: :mod:`coverage.engine.osm_network` (pyosmium → numpy,
the fast path) applies them once per distinct tag combination, and the osmnx reference path
in :mod:`coverage.engine.roads` applies them per graph edge.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from coverage.config import Settings

NO_ACCESS = frozenset({"no", "private"})
TUNNEL_VALUES = frozenset({"yes", "building_passage", "avalanche_protector", "culvert"})
# osmnx's one-way rules (osmnx.graph._add_paths), exact and case-sensitive: these `oneway`
# values make a way one-way, the second set reverses its node order; `junction=roundabout`
# is one-way too.
ONEWAY_VALUES = frozenset({"yes", "true", "1", "-1", "reverse", "T", "F"})
REVERSED_VALUES = frozenset({"-1", "reverse", "T"})
# Way tags the speed and access rules read (their combination decides a way's minutes/km).
RULE_TAGS: tuple[str, ...] = (
    "highway", "surface", "smoothness", "terrain", "tunnel", "maxspeed", "hazard", "seasonal:winter", "winter_road",
    "access:conditional", "motor_vehicle:conditional", "area", "access", "motor_vehicle", "motorcar",
)


def way_direction(oneway: str | None, junction: str | None) -> int:
    """1 = one-way along the node order, -1 = one-way against it, 0 = both ways (osmnx rules)."""
    if oneway is not None and oneway in ONEWAY_VALUES:
        return -1 if oneway in REVERSED_VALUES else 1
    return 1 if junction == "roundabout" else 0


_LENGTH_RE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*(m|km|mi|ft|')?\s*$", re.IGNORECASE)
_LENGTH_UNIT_M = {None: 1.0, "m": 1.0, "km": 1000.0, "mi": 1609.344, "ft": 0.3048, "'": 0.3048}


def parse_length_m(value: str | None) -> float | None:
    """An OSM ``length`` tag in metres ("5040", "5.04 km"); None when absent or unparseable."""
    if not value:
        return None
    match = _LENGTH_RE.match(value)
    if not match:
        return None
    unit = match.group(2).lower() if match.group(2) else None
    return float(match.group(1)) * _LENGTH_UNIT_M[unit]


def _as_list(value: Any) -> list[Any]:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    return list(value) if isinstance(value, (list, tuple, set)) else [value]


def _values(value: Any) -> list[str]:
    """Tag value(s) as lower-case strings; osmnx gives lists after simplification and
    OSM uses ``;`` for several values."""
    out: list[str] = []
    for item in _as_list(value):
        out += [part.strip().lower() for part in str(item).split(";") if part.strip()]
    return out


def highway_class(value: Any, speeds: Mapping[str, float]) -> str | None:
    """The first class in ``value`` (str or osmnx list) that has a speed, else None."""
    for cls in _values(value):
        if cls in speeds:
            return cls
    return None


def parse_maxspeed_kph(value: Any) -> float | None:
    """Lowest numeric ``maxspeed`` in km/h ("50", "30 mph", lists); None for "RU:rural" etc."""
    found: list[float] = []
    for item in _values(value):
        match = re.match(r"^([0-9]+(?:\.[0-9]+)?)\s*(mph|km/h|kmh|kph)?$", item)
        if match:
            kph = float(match.group(1)) * (1.609344 if match.group(2) == "mph" else 1.0)
            if kph > 0:
                found.append(kph)
    return min(found) if found else None


_WINTER_WORDS = ("winter", "nov", "dec", "jan", "feb", "mar")


def closed_in_winter(data: Mapping[str, Any]) -> bool:
    """``seasonal:winter=closed|no`` (our authored tag), or an ``access:conditional`` /
    ``motor_vehicle:conditional`` of ``no @ (…)`` whose condition names winter months."""
    if {"closed", "no"} & set(_values(data.get("seasonal:winter"))):
        return True
    for key in ("access:conditional", "motor_vehicle:conditional"):
        for rule in _values(data.get(key)):
            value, _, condition = rule.partition("@")
            if value.strip() == "no" and any(word in condition for word in _WINTER_WORDS):
                return True
    return False


def avalanche_hazard(data: Mapping[str, Any]) -> bool:
    """``hazard=avalanche``: the way stays open in winter but is slowed."""
    return "avalanche" in _values(data.get("hazard"))


def edge_speed_kph(data: Mapping[str, Any], settings: Settings, season: str) -> float | None:
    """Driving speed on one edge in km/h, or None when the edge is closed in ``season``.

    class speed (``highway``) × terrain factor (project tag ``terrain``) × the worse of the
    ``surface`` and ``smoothness`` factors; tunnels at most ``tunnel_speed_kph``; a numeric
    ``maxspeed`` caps it; in winter ``hazard=avalanche`` multiplies it by
    ``winter_avalanche_speed_factor`` and closed passes give None.
    """
    if season == "winter" and closed_in_winter(data):
        return None
    if season == "summer" and "yes" in _values(data.get("winter_road")):
        return None  # ice/snow roads exist only in winter
    cls = highway_class(data.get("highway"), settings.highway_speed_kph)
    speed = settings.highway_speed_kph.get(cls, settings.default_speed_kph)
    terrain = [settings.terrain_speed_factor[t] for t in _values(data.get("terrain"))
               if t in settings.terrain_speed_factor]
    if terrain:
        speed *= min(terrain)  # a simplified edge over several terrains drives like its worst
    factors = [settings.surface_speed_factor[s] for s in _values(data.get("surface"))
               if s in settings.surface_speed_factor]
    factors += [settings.smoothness_speed_factor[s] for s in _values(data.get("smoothness"))
                if s in settings.smoothness_speed_factor]
    if factors:
        # A road drives like its worst condition (surface or smoothness) and its worst part
        # when a simplified edge mixes several.
        speed *= min(factors)
    if TUNNEL_VALUES & set(_values(data.get("tunnel"))):
        # Tunnels are slow, but a tunnel on a residential street is no faster than the street.
        speed = min(speed, settings.tunnel_speed_kph)
    cap = parse_maxspeed_kph(data.get("maxspeed"))
    if cap is not None:
        speed = min(speed, cap)
    if season == "winter" and avalanche_hazard(data):
        speed *= settings.winter_avalanche_speed_factor
    return speed


def is_drivable(data: Mapping[str, Any], speeds: Mapping[str, float]) -> bool:
    if highway_class(data.get("highway"), speeds) is None:
        return False
    if "yes" in _values(data.get("area")):
        return False
    for key in ("access", "motor_vehicle", "motorcar"):
        if NO_ACCESS & set(_values(data.get(key))):
            return False
    return True
