"""Start the dashboard: ``python -m dashboard.serve [streamlit options]`` is
``streamlit run app.py [streamlit options]`` with one difference, below.

Why not plain ``streamlit run app.py``: the page scripts live in ``pages/`` (the design's
layout), which Streamlit also reads as its older multipage layout. A freshly started server
keeps to that older layout until the entry page has run once, so the first visitors of a
shared link such as ``…/Scenarios?threshold=90`` would get the page without the entry page's
navigation and shared sidebar (a menu item called "app", the language and choices not
carried over). ``app.py`` always declares the navigation itself (``st.navigation``), so the
older layout is switched off before the server starts.
"""

from __future__ import annotations

import sys

from coverage import config

APP = config.PROJECT_ROOT / "app.py"


def main(argv: list[str] | None = None) -> None:
    """Run ``streamlit run app.py`` with ``argv`` (default: this command's arguments)."""
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.web import cli

    # The flag Streamlit itself sets once st.navigation has run; setting it first means the
    # entry page (and its navigation) runs for every first request, deep links included.
    PagesManager.uses_pages_directory = False
    sys.argv = ["streamlit", "run", str(APP), *(sys.argv[1:] if argv is None else argv)]
    sys.exit(cli.main())


if __name__ == "__main__":
    main()
