"""One error family for everything a user may be told went wrong.

Every error the library raises on purpose is a :class:`CoverageError`. Each carries a
stable ``message_id`` (the key a translation catalogue and the tests use), the
``params`` that fill the message, and where known the ``row`` (a line of the user's file,
0 = the whole file) and ``field`` (a column or setting). The CLI and the pages catch
``CoverageError`` once and show ``str(err)``; nothing else of the error (no traceback,
no parameters of a confidential row) leaves the process.

The family, by pipeline stage::

    CoverageError
    ├── ConfigError          settings file, environment variable or flag out of range
    ├── InputError           a user's file or value (also a ValueError)
    │   ├── TableError       a file that cannot be read as a table (size, encoding, format)
    │   ├── ServicesError    a services list that fails validation (every row's problems)
    │   ├── CommunityError   a population layer or settlements table
    │   ├── BoundaryError    a boundary or census input
    │   └── NetworkFormatError  a road network file
    ├── DataStepError        the data step could not run; nothing was written
    ├── OutputError          an output file cannot be written (bad name, folder, full disk)
    ├── RegistryError        the services registry (also ``StoreError``)
    │   ├── UnknownService
    │   └── PermissionDenied
    └── AuthError            users file, passwords, sign-in
        └── AuthConfigError  sign-in is not configured

Modelled on osmnx's ``_errors.py`` (few classes, each meaning one thing to the caller).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class CoverageError(Exception):
    """Base of every error the project raises for a user to read.

    Parameters
    ----------
    message
        The English message, complete and safe to show (never a confidential point).
    message_id
        Stable key of the message (defaults to the class's ``default_id``).
    row
        Line of the user's file the problem is on (0 = the whole file), if any.
    field
        Column, setting or flag the problem is in, if any.
    **params
        Values that fill the message (kept for translation at the edge).
    """

    default_id = "error"

    def __init__(self, message: str = "", *, message_id: str | None = None, row: int | None = None,
                 field: str | None = None, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.message_id = message_id or self.default_id
        self.row = row
        self.field = field
        self.params = params

    def __str__(self) -> str:
        return self.message or self.message_id


class ConfigError(CoverageError, ValueError):
    """A setting (``coverage.toml``, a ``COVERAGE_*`` variable or a flag) is invalid."""

    default_id = "config.invalid"


class InputError(CoverageError, ValueError):
    """Something the user gave (a file, a value) cannot be used."""

    default_id = "input.invalid"


class TableError(InputError):
    """What is wrong with a file: ``line`` (0 = the whole file) and ``message``."""

    default_id = "table.invalid"

    def __init__(self, line: int, message: str, *, message_id: str | None = None, **params: Any) -> None:
        super().__init__(message, message_id=message_id, row=line, **params)
        self.line = line


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one row of a services file.

    ``row`` is the line in the file (0 = the whole file), ``column`` the column (or
    ``lat/lon``), ``message`` the complete English text. ``message_id`` is the stable
    key of the message (``table.*`` for a file that cannot be read, ``services.*`` for
    a row that fails a rule) and ``params`` the values that fill it, so the edge can
    translate; like the message, ``params`` never hold a confidential row's coordinates.
    """

    row: int
    column: str
    message: str
    service_id: str = ""
    message_id: str = "services.problem"
    params: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def __str__(self) -> str:
        where = "file" if self.row == 0 else f"row {self.row}"
        ident = f" (service_id {self.service_id})" if self.service_id else ""
        col = f", column '{self.column}'" if self.column else ""
        return f"{where}{ident}{col}: {self.message}"


class ServicesError(InputError):
    """A services file failed validation; ``problems`` lists every row-level issue."""

    default_id = "services.invalid"
    MAX_SHOWN = 50

    def __init__(self, source: str, problems: list[Problem]):
        # One problem: its own id (``table.too_large`` …); several: the family id.
        ids = {p.message_id for p in problems}
        message_id = ids.pop() if len(ids) == 1 else self.default_id
        self.source = source
        self.problems = problems
        shown = "\n".join(f"  - {p}" for p in problems[: self.MAX_SHOWN])
        more = f"\n  … and {len(problems) - self.MAX_SHOWN} more" if len(problems) > self.MAX_SHOWN else ""
        super().__init__(f"{source}: {len(problems)} problem(s)\n{shown}{more}", message_id=message_id,
                         source=source, count=len(problems))


class CommunityError(InputError):
    """A community or user population input is invalid."""

    default_id = "population.invalid"


class BoundaryError(InputError):
    """A boundary or census input does not fit the expected shape."""

    default_id = "boundaries.invalid"


class NetworkFormatError(InputError):
    """The road file cannot be read (unknown format, damaged, or a missing optional reader)."""

    default_id = "network.unreadable"


class DataStepError(CoverageError, RuntimeError):
    """The data step could not run; nothing was written."""

    default_id = "data_step.failed"


class OutputError(CoverageError):
    """An output file cannot be written: unknown suffix, a folder that cannot be
    written, not a regular file, or the disk filled while writing."""

    default_id = "output.failed"


class RegistryError(CoverageError):
    """The registry cannot do what was asked (unknown id, not a registry file, …)."""

    default_id = "registry.error"


StoreError = RegistryError  # the name the registry code and its callers use


class UnknownService(RegistryError):
    """No service with that id in the registry."""

    default_id = "registry.unknown_service"


class PermissionDenied(RegistryError):
    """The signed-in user's organisation does not own the row."""

    default_id = "registry.permission_denied"


class AuthError(CoverageError):
    """A users-file or sign-in problem (bad username, weak password, broken file …)."""

    default_id = "auth.error"


class AuthConfigError(AuthError, RuntimeError):
    """Sign-in is not configured (no cookie secret)."""

    default_id = "auth.not_configured"
