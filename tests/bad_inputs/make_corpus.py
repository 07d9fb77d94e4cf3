"""Write the binary and large members of the bad-input corpus into a folder.

The small text files of the corpus are committed beside this script; these are made
at test time (``python tests/bad_inputs/make_corpus.py DEST``) because they are large,
binary, or both: XLSX zip bombs, sparse and oversized worksheets, an XML entity bomb,
damaged workbooks, and CSV / GeoJSON files just over the row, column, cell and size caps
of :mod:`coverage.config`. Each is small on disk (the largest is the over-size CSV,
a little above ``MAX_UPLOAD_BYTES``) and costs its attack only when opened naively.
"""

from __future__ import annotations

import io
import json
import os
import sys
import zipfile
from pathlib import Path

from coverage import config

_CT = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
       b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
       b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
       b'<Default Extension="xml" ContentType="application/xml"/>'
       b'<Override PartName="/xl/workbook.xml" '
       b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
       b'<Override PartName="/xl/worksheets/sheet1.xml" '
       b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
       b"</Types>")
_RELS = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
         b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
         b'officeDocument" Target="xl/workbook.xml"/></Relationships>')
_WORKBOOK = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
             b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
             b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
             b'<sheets><sheet name="services" sheetId="1" r:id="rId1"/></sheets></workbook>')
_WB_RELS = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            b'worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
_SHEET_HEAD = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
               b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')


def _xlsx(sheet: bytes, extra: dict[str, bytes] | None = None) -> bytes:
    """A minimal workbook around one worksheet XML (deflated)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", _CT)
        zf.writestr("_rels/.rels", _RELS)
        zf.writestr("xl/workbook.xml", _WORKBOOK)
        zf.writestr("xl/_rels/workbook.xml.rels", _WB_RELS)
        zf.writestr("xl/worksheets/sheet1.xml", sheet)
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()


def _cell(ref: str, text: str) -> bytes:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'.encode()


def _sheet(rows: list[bytes], dimension: str | None = None) -> bytes:
    dim = f'<dimension ref="{dimension}"/>'.encode() if dimension else b""
    return _SHEET_HEAD + dim + b"<sheetData>" + b"".join(rows) + b"</sheetData></worksheet>"


def _header_row() -> bytes:
    return b'<row r="1">' + _cell("A1", "service_id") + _cell("B1", "name") + b"</row>"


def _services_workbook(rows: list[dict[str, str]]) -> bytes:
    """A real services workbook written by openpyxl (as Excel would save it)."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    columns = list(rows[0])
    sheet.append(columns)
    for row in rows:
        sheet.append([row[c] for c in columns])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def _good_row(**changes: str) -> dict[str, str]:
    row = {"service_id": "T-1", "name": "Test centre", "organisation": "Test NGO", "org": "", "type": "crisis_centre",
           "town": "Kulob", "district": "Kulob", "region": "Khatlon", "lon": "69.78454", "lat": "37.91459",
           "location_precision": "settlement", "confidential": "false", "confidence": "medium"}
    row.update(changes)
    return row


def corpus() -> dict[str, bytes]:
    """File name → bytes of every generated member of the corpus."""
    rows, cols = config.MAX_TABLE_ROWS, config.MAX_TABLE_COLUMNS
    files: dict[str, bytes] = {}
    # XLSX: a zip bomb (one sheet that unpacks far beyond the cap; ~100 KB packed).
    bomb_rows = b'<row r="2">' + b'<c r="A2"><v>1</v></c>' * 5_000 + b"</row>"
    files["zip_bomb.xlsx"] = _xlsx(_sheet([_header_row()] + [bomb_rows] * 600))
    # XLSX: two cells, one at the last cell Excel allows (XFD1048576); a few KB.
    files["sparse_xfd.xlsx"] = _xlsx(_sheet([_header_row(), b'<row r="1048576">' + _cell("XFD1048576", "x") + b"</row>"],
                                            dimension="A1:XFD1048576"))
    # ... the same without a <dimension>, so only the cell reference gives it away.
    files["sparse_no_dimension.xlsx"] = _xlsx(_sheet([_header_row(), b'<row r="1048576">' + _cell("XFD1048576", "x")
                                                      + b"</row>"]))
    # ... a truthful cell but a <dimension> that claims the whole sheet.
    files["dimension_lies.xlsx"] = _xlsx(_sheet([_header_row()], dimension="A1:XFD1048576"))
    # ... rows without any r= attribute, one more than the cap.
    files["too_many_rows_no_refs.xlsx"] = _xlsx(_sheet([b"<row><c><v>1</v></c></row>"] * (rows + 2)))
    files["too_many_columns.xlsx"] = _xlsx(_sheet([b'<row r="1">' + b"<c><v>1</v></c>" * (cols + 1) + b"</row>"]))
    files["too_many_members.xlsx"] = _xlsx(_sheet([_header_row()]),
                                           {f"xl/media/pad{i}.bin": b"" for i in range(config.XLSX_MAX_MEMBERS)})
    # XML "billion laughs" inside the worksheet.
    laughs = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
              + b"".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode()
                         for i in range(1, 10))
              + b']><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
              + b'<row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>')
    files["billion_laughs.xlsx"] = _xlsx(laughs)
    good = _services_workbook([_good_row()])
    files["truncated.xlsx"] = good[: len(good) // 2]
    files["random_bytes.xlsx"] = os.urandom(4096)
    files["zip_without_sheet.xlsx"] = _zip({"hello.txt": b"hello"})
    # A confidential row with a text coordinate, in a real workbook (item 7, XLSX path).
    files["confidential_lat_text.xlsx"] = _services_workbook([_good_row(service_id="SECRET-6", type="shelter",
                                                                        confidential="true", lat="37.91666N")])
    # Places typed as numbers in a spreadsheet: a whole 6 is fine, 4.5 places on row 3 is not.
    files["places_fraction.xlsx"] = _services_workbook([_good_row(places=6), _good_row(service_id="B-1", places=4.5)])
    # CSV / GeoJSON just beyond the caps.
    files["over_size.csv"] = b"service_id,name\n" + b"A,B\n" * (config.MAX_UPLOAD_BYTES // 4 + 1)
    files["too_many_rows.csv"] = b"service_id,name\n" + b"A,B\n" * (rows + 1)
    files["a_million_commas.csv"] = b"," * 1_000_000 + b"\n"
    files["long_cell.csv"] = b"service_id,name\nA," + b"x" * (config.MAX_CSV_FIELD_CHARS + 1) + b"\n"
    files["deep_200000.geojson"] = b"[" * 200_000 + b"]" * 200_000
    files["deep_object.geojson"] = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
    feature = {"type": "Feature", "properties": {"name": "x"}, "geometry": None}
    files["too_many_features.geojson"] = json.dumps({"type": "FeatureCollection",
                                                     "features": [feature] * (rows + 1)}).encode()
    files["too_many_properties.geojson"] = json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {f"p{i}": i for i in range(cols + 1)}, "geometry": None}]}).encode()
    return files


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def make_corpus(dest: str | os.PathLike[str]) -> list[Path]:
    """Write the generated files into ``dest`` (created); returns their paths."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in corpus().items():
        (dest / name).write_bytes(data)
        written.append(dest / name)
    return written


if __name__ == "__main__":
    for path in make_corpus(sys.argv[1] if len(sys.argv) > 1 else "bad_inputs_generated"):
        print(f"{path.stat().st_size:>10,}  {path}")
