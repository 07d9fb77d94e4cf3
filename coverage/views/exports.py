"""Tables and layers as files: CSV, XLSX (openpyxl), GeoJSON and GeoPackage (pyogrio).

The tables and layers come from :func:`coverage.analysis.briefs.export_tables` /
``export_layers``, built from public inputs (every shelter at its town point, public
columns only). Here they are only written: text cells a spreadsheet would run as a
formula are neutralised (:func:`coverage.data.services.neutralise_formulas`) in CSV and
XLSX alike (openpyxl stores a string starting with "=" as a formula).
"""

from __future__ import annotations

import io
import json
import tempfile
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from coverage import config
from coverage.data import services

FORMATS: tuple[str, ...] = ("csv", "xlsx", "geojson", "gpkg")
SUFFIXES: dict[str, tuple[str, ...]] = {"csv": (".csv",), "xlsx": (".xlsx",), "geojson": (".geojson", ".json"),
                                        "gpkg": (".gpkg",)}
XLSX_SHEET_CHARS = 31  # Excel's limit on a sheet name


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Infinite minutes as empty cells, so no file says 'inf'."""
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_float_dtype(out[column]):
            out[column] = out[column].where(np.isfinite(out[column]))
    return out


def table_csv(table: pd.DataFrame) -> bytes:
    """One table as UTF-8 CSV bytes, formulas neutralised."""
    return services.neutralise_formulas(_plain(table)).to_csv(index=False).encode("utf-8")


def tables_xlsx(tables: Mapping[str, pd.DataFrame]) -> bytes:
    """Every table as one sheet of an XLSX workbook (sheet names cut to 31 characters),
    formulas neutralised."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, table in tables.items():
            frame = services.neutralise_formulas(_plain(table))
            for column in frame.columns:  # openpyxl cannot write pandas' string/boolean extension arrays with NA
                if isinstance(frame[column].dtype, pd.StringDtype):
                    frame[column] = frame[column].astype(object)
            frame.to_excel(writer, sheet_name=name[:XLSX_SHEET_CHARS], index=False)
    return buffer.getvalue()


def layers_geojson(layers: Mapping[str, gpd.GeoDataFrame]) -> bytes:
    """Every layer in one GeoJSON FeatureCollection (EPSG:4326), each feature with a
    ``layer`` property naming its layer."""
    features = []
    for name, layer in layers.items():
        frame = _plain(layer.to_crs(config.CRS_STORE))
        collection = json.loads(frame.to_json(na="null", drop_id=True))
        for feature in collection["features"]:
            feature["properties"] = {"layer": name, **feature["properties"]}
            features.append(feature)
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False).encode("utf-8")


def layers_gpkg(layers: Mapping[str, gpd.GeoDataFrame]) -> bytes:
    """Every layer as a layer of one GeoPackage (EPSG:4326), as bytes."""
    with tempfile.TemporaryDirectory(prefix="coverage-export-") as folder:
        path = Path(folder) / "layers.gpkg"
        for i, (name, layer) in enumerate(layers.items()):
            pyogrio.write_dataframe(_plain(layer.to_crs(config.CRS_STORE)), path, layer=name, append=i > 0)
        return path.read_bytes()


def write_tables_csv(tables: Mapping[str, pd.DataFrame], out: Path) -> list[Path]:
    """The first table to ``out`` and each other one beside it as ``<stem>_<name>.csv``;
    the paths written."""
    written = []
    for i, (name, table) in enumerate(tables.items()):
        path = out if i == 0 else out.with_name(f"{out.stem}_{name}.csv")
        path.write_bytes(table_csv(table))
        written.append(path)
    return written
