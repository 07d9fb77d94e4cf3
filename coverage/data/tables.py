"""Reading the tables people bring (a services list, a population layer): UTF-8 text
and CSV into all-text DataFrames, and the Tajikistan bounding-box test for their points.

A problem is a :class:`TableError` with the file line it concerns (0 = the whole
file); each caller turns it into its own error type, naming the file.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from coverage import config
from coverage.errors import TableError


def require_content(data: bytes) -> None:
    """Refuse a file that is empty or holds only white space."""
    if not data.strip():
        raise TableError(0, "the file is empty")


def decode_utf8(data: bytes) -> str:
    """The file's text (a UTF-8 byte-order mark is dropped); a TableError names the
    line of the first byte that is not UTF-8."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise TableError(line, f"not UTF-8 text (byte {err.start}); save the file as UTF-8") from None


def read_csv_text(text: str) -> pd.DataFrame:
    """CSV text → DataFrame of strings, empty cells as '' (nothing guessed as NaN)."""
    try:
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except pd.errors.ParserError as err:
        raise TableError(0, f"not a readable CSV file: {err}") from None
    except pd.errors.EmptyDataError:
        raise TableError(0, "the file has no header row") from None


def inside_tajikistan(lon: np.ndarray | pd.Series, lat: np.ndarray | pd.Series) -> np.ndarray:
    """True where (lon, lat) in WGS 84 degrees lies in :data:`config.TJ_BOUNDS`
    (NaN → False)."""
    b = config.TJ_BOUNDS
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    return (lon >= b["lon_min"]) & (lon <= b["lon_max"]) & (lat >= b["lat_min"]) & (lat <= b["lat_max"])
