"""Interface language: gettext catalogues under ``locale/`` (Tajik, Russian, English).

Only English strings exist so far; :func:`translator` already returns a gettext
function so views can wrap every label in ``_()`` and catalogues can be added later
(``pybabel extract`` / ``init`` / ``compile``) without touching the views.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable
from functools import cache

from coverage import config

LANGUAGES: dict[str, str] = {"en": "English", "ru": "Русский", "tg": "Тоҷикӣ"}
LOCALE_DIR = config.PROJECT_ROOT / "locale"
DOMAIN = "coverage"


@cache
def translator(language: str = "en") -> Callable[[str], str]:
    """The gettext function for ``language``; English (the source text) when no
    catalogue exists for it."""
    catalogue = gettext.translation(DOMAIN, localedir=LOCALE_DIR, languages=[language], fallback=True)
    return catalogue.gettext
