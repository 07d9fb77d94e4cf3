"""An uploaded services file, checked before anything is written.

:func:`check_upload` reads the file once (``services.read_table``), swaps latitude and
longitude in the rows the user asked to swap, validates every row against the
registry's ids (``services.validate_services``) and returns the typed table with what
the user should be told; or raises :class:`ServicesError` naming every bad row, and
:func:`swappable_rows` says which of them look like swapped coordinates. The staff
page and :meth:`BaseServiceStore.import_bytes` use this one function.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import geopandas as gpd

from coverage.data import services as svc
from coverage.errors import Problem, ServicesError


@dataclass(frozen=True)
class CheckedUpload:
    """A services file that passed every check.

    Attributes
    ----------
    table
        The validated services (``services.ALL_COLUMNS`` + point geometry, EPSG:4326).
    first_row
        The file line of the first data row (2 for CSV/XLSX, 1 for GeoJSON).
    swapped_rows
        File rows whose latitude and longitude were swapped on request.
    notices
        What was changed on the way in and the user should be told (e.g. a shelter
        marked not confidential, stored as confidential), one per row.
    """

    table: gpd.GeoDataFrame
    first_row: int
    swapped_rows: tuple[int, ...] = ()
    notices: list[Problem] = field(default_factory=list)


def check_upload(data: bytes, filename: str, *, existing_ids: Iterable[str],
                 swap_rows: Iterable[int] = ()) -> CheckedUpload:
    """Read and validate an uploaded CSV/XLSX/GeoJSON services file.

    Parameters
    ----------
    data, filename
        The file's bytes and name (its suffix picks the format).
    existing_ids
        Ids already in the registry: a row may not reuse one.
    swap_rows
        File rows (as in :attr:`Problem.row`) whose ``lat`` and ``lon`` to swap first,
        typically :func:`swappable_rows` of a previous check.

    Returns
    -------
    CheckedUpload

    Raises
    ------
    ServicesError
        Every problem of every row, or one file-level problem (``table.*``: too big,
        not UTF-8, a broken XLSX, ...); nothing of the file is returned.
    """
    frame, first_row = svc.read_table(data, filename)
    frame = frame.rename(columns=lambda c: str(c).strip()).reset_index(drop=True)
    swapped: tuple[int, ...] = ()
    wanted = sorted({int(r) - first_row for r in swap_rows})
    if wanted and {"lon", "lat"} <= set(frame.columns):
        rows = [i for i in wanted if 0 <= i < len(frame)]
        frame.loc[rows, ["lon", "lat"]] = frame.loc[rows, ["lat", "lon"]].to_numpy()
        swapped = tuple(i + first_row for i in rows)
    table = svc.validate_services(frame, filename, first_row=first_row, existing_ids=existing_ids)
    return CheckedUpload(table, first_row, swapped, svc.confidentiality_notices(frame, first_row))


def swappable_rows(err: ServicesError) -> list[int]:
    """File rows of ``err`` whose latitude and longitude look swapped (the problems with
    message id :data:`services.SWAPPED_COORDINATES`)."""
    return sorted({p.row for p in err.problems if p.message_id == svc.SWAPPED_COORDINATES})
