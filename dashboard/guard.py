"""One place where a page's errors meet the user."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from coverage.errors import CoverageError
from coverage.views import messages
from dashboard import texts
from dashboard.texts import _


def run_page(page, *, before: Callable[[], object] | None = None) -> None:  # noqa: ANN001 (a StreamlitPage)
    """Run ``before`` (the entrypoint's shared sidebar), then the chosen page; an error of the project's family (bad settings, a damaged
    registry, a file that cannot be read, …) is shown as its one clear message, in the session's language, instead
    of a traceback. Other exceptions keep Streamlit's handling, whose details the server hides
    from the browser (``client.showErrorDetails = "none"`` in .streamlit/config.toml)."""
    try:
        if before is not None:
            before()
        page.run()
    except CoverageError as err:
        st.error(_("This page cannot be shown: {message}").format(
            message=messages.error_text(err, gettext=texts.gettext())))
