"""Keep the interface's gettext catalogues in step with the code (Babel).

    python tools/i18n.py update     extract every _()/N_() string and error template into
                                    locale/coverage.pot and merge it into each language's
                                    locale/<lang>/LC_MESSAGES/coverage.po (new entries empty,
                                    vanished ones dropped, translations kept)
    python tools/i18n.py check      list every entry without a translation, with a
                                    placeholder that differs from the English, or marked
                                    fuzzy; exit 1 if there is one
    python tools/i18n.py stats      number of msgids and translated entries per language

Translate by editing the .po files (any PO editor or a text editor), then run ``check``.
There is no .mo to compile: coverage.views.i18n compiles the .po in memory when a process
first asks for a language. The sources scanned are listed in babel.cfg; error messages come
from coverage.views.messages.TEMPLATES (marked with N_).
"""

from __future__ import annotations

import argparse
import io
import re
import string
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALE_DIR = ROOT / "locale"
DOMAIN = "coverage"
LANGUAGES = ("ru", "tg")  # English is the source text
KEYWORDS = {"_": None, "N_": None}
BABEL_CFG = ROOT / "babel.cfg"


def extract() -> Catalog:
    """Every translatable string of the sources listed in babel.cfg, with its places."""
    with BABEL_CFG.open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle, filename=str(BABEL_CFG))
    catalogue = Catalog(project="tj-crisis-coverage", domain=DOMAIN, charset="utf-8")
    folders = {pattern.split("/")[0] for pattern, _method in method_map if "/" in pattern}

    def wanted(path: str) -> bool:  # descend only into the folders babel.cfg names (not data/, .git/)
        return Path(path).relative_to(ROOT).parts[0] in folders and "__pycache__" not in path

    for filename, line, message, comments, _context in extract_from_dir(
            ROOT, method_map, options_map, keywords=KEYWORDS, strip_comment_tags=True, directory_filter=wanted):
        if message:
            catalogue.add(message, locations=[(filename, line)], auto_comments=comments)
    return catalogue


def catalogue_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def read(language: str) -> Catalog:
    with catalogue_path(language).open("rb") as handle:
        return read_po(handle, locale=language, domain=DOMAIN)


def _write(catalogue: Catalog, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    write_po(buffer, catalogue, width=100, sort_output=False, omit_header=False)
    path.write_bytes(buffer.getvalue())


def update() -> int:
    """Write the template and merge it into every language's catalogue."""
    template = extract()
    _write(template, LOCALE_DIR / f"{DOMAIN}.pot")
    for language in LANGUAGES:
        path = catalogue_path(language)
        if path.exists():
            catalogue = read(language)
            catalogue.update(template, no_fuzzy_matching=True)
            catalogue.obsolete.clear()
        else:
            catalogue = Catalog(locale=language, domain=DOMAIN, project="tj-crisis-coverage", charset="utf-8")
            catalogue.update(template, no_fuzzy_matching=True)
        _write(catalogue, path)
        print(f"{path.relative_to(ROOT)}: {len([m for m in catalogue if m.id])} msgids")
    return 0


def placeholders(text: str) -> list[str]:
    """The ``str.format`` fields of ``text`` with their format specs, sorted
    (``"{t:g} min of {what}"`` → ``["t:g", "what"]``)."""
    try:
        return sorted(f"{name}:{spec}" if spec else name for _lit, name, spec, _conv in string.Formatter().parse(text)
                      if name is not None)
    except ValueError:
        return ["<unbalanced braces>"]


MARKUP = re.compile(r"\*\*|`")


def problems(language: str, template: Catalog | None = None) -> list[str]:
    """What is wrong with a language's catalogue against the code's strings."""
    template = template or extract()
    catalogue = read(language)
    found = []
    for message in template:
        if not message.id:
            continue
        entry = catalogue.get(message.id)
        where = f"{language}: {message.id[:70]!r}"
        if entry is None:
            found.append(f"{where}: missing (run python tools/i18n.py update)")
        elif not entry.string or not str(entry.string).strip():
            found.append(f"{where}: not translated")
        elif entry.fuzzy:
            found.append(f"{where}: fuzzy (check the translation and remove the flag)")
        elif placeholders(entry.string) != placeholders(message.id):
            found.append(f"{where}: placeholders {placeholders(entry.string)} differ from {placeholders(message.id)}")
        elif MARKUP.findall(entry.string).count("**") != MARKUP.findall(message.id).count("**"):
            found.append(f"{where}: bold markers (**) differ")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["update", "check", "stats"])
    args = parser.parse_args(argv)
    if args.command == "update":
        return update()
    template = extract()
    if args.command == "stats":
        ids = [m for m in template if m.id]
        print(f"msgids: {len(ids)}")
        for language in LANGUAGES:
            catalogue = read(language)
            done = sum(1 for m in ids if (e := catalogue.get(m.id)) is not None and e.string and not e.fuzzy)
            print(f"{language}: {done}/{len(ids)} translated")
        return 0
    found = [p for language in LANGUAGES for p in problems(language, template)]
    print("\n".join(found) or "every catalogue translates every msgid")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
