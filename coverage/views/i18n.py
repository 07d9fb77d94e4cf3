"""Interface language: gettext catalogues under ``locale/`` (English, Russian, Tajik).

The catalogues are the ``.po`` files in git (``locale/<lang>/LC_MESSAGES/coverage.po``);
:func:`translator` compiles one in memory with Babel the first time a process asks for
its language, so there is no ``.mo`` file that could be missing or older than its
``.po`` (a stale binary catalogue would silently show English). ``tools/i18n.py``
extracts the strings and updates the catalogues (README, *Languages*).

No language is a module global: every face asks for the translator of the language it
was given (the CLI's ``--lang``, the browser session's sidebar choice, a brief's
language) and passes the function down as ``gettext=``.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Callable
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from coverage import config

LANGUAGES: dict[str, str] = {"en": "English", "ru": "Русский", "tg": "Тоҷикӣ"}
DEFAULT_LANGUAGE = "en"
LOCALE_DIR = config.PROJECT_ROOT / "locale"
DOMAIN = "coverage"

Gettext = Callable[[str], str]


def N_(message: str) -> str:  # noqa: N802 (the gettext convention's name)
    """Mark ``message`` for extraction without translating it now (a label kept in a
    table and translated where it is shown)."""
    return message


def catalogue_path(language: str, *, locale_dir: Path = LOCALE_DIR) -> Path:
    """The ``.po`` file of ``language``."""
    return locale_dir / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def normalise_language(language: str | None) -> str:
    """``language`` if it is one of :data:`LANGUAGES` (case and region ignored:
    ``"TG"``, ``"ru_RU"``), else :data:`DEFAULT_LANGUAGE`."""
    code = (language or "").strip().lower().replace("-", "_").split("_")[0]
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


@cache
def _translations(language: str, locale_dir: Path) -> gettext.NullTranslations:
    path = catalogue_path(language, locale_dir=locale_dir)
    if language == DEFAULT_LANGUAGE or not path.exists():
        return gettext.NullTranslations()
    with path.open("rb") as handle:
        catalogue = read_po(handle, locale=language, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalogue, use_fuzzy=False)  # fuzzy (unchecked) entries stay English
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def translator(language: str = DEFAULT_LANGUAGE, *, locale_dir: Path = LOCALE_DIR) -> Gettext:
    """The gettext function for ``language`` (one of :data:`LANGUAGES`; anything else
    gives English, the source text).

    Parameters
    ----------
    language : str
        ``"en"``, ``"ru"`` or ``"tg"``.
    locale_dir : Path
        Folder of the catalogues (tests point it elsewhere).

    Returns
    -------
    callable
        ``str -> str``: the translation of an English message, or the message itself
        when the catalogue has none.
    """
    return _translations(normalise_language(language), Path(locale_dir)).gettext
