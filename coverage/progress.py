"""Progress messages from long steps (data step, network build, travel times).

A long step takes ``progress``: any callable receiving one short status string (the
command line logs it, the dashboard writes it into a status box), or None. The step
wraps it once with :func:`reporter` and calls the result unconditionally.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

Progress = Callable[[str], None]  # receives a short status string, e.g. "Building the routing matrix…"


class Report(Protocol):
    """What :func:`reporter` returns: call it with a status line and an optional fraction done (0–1)."""

    def __call__(self, message: str, fraction: float | None = None) -> None:
        """Report ``message`` (and ``fraction`` of the work done, if known)."""


def reporter(progress: Progress | None, *, stage: str = "") -> Report:
    """``report(message, fraction=None)`` passing ``message`` to ``progress`` (nothing
    when ``progress`` is None). With a ``fraction`` (0–1, clipped) the message reads
    ``"<stage> 40%: <message>"``."""

    def report(message: str, fraction: float | None = None) -> None:
        if progress is None:
            return
        if fraction is not None:
            message = f"{stage} {min(max(fraction, 0.0), 1.0):.0%}: {message}".lstrip()
        progress(message)

    return report
