"""Place names in one script per language: Latin for English, Cyrillic for Russian and Tajik.

The sources mix scripts (OpenStreetMap settlements are about 45 % Cyrillic, the rest Latin;
districts are Latin). A name in the data's own ``name_<lang>`` column (``name_tg``,
``name_ru``, ``name_en``, from OSM ``name:tg`` … where a layer carries them) wins;
otherwise the name is transliterated. Tajik Cyrillic → Latin follows the common Tajik
romanisation (ҷ j, ғ gh, қ q, ҳ h, х kh, ӯ u, ӣ i: *Khujand*, *Ghafurov*), built on
``cyrtranslit``'s Tajik table (whose ISO 9 letters ç ǧ ḩ ū ī are replaced by those); Latin →
Cyrillic reads the same romanisation (and the Uzbek-style o' / sh / ch in OSM's Latin
names) back. Russian gets the Russian spelling of the Tajik letters (ҷ дж, қ к, ғ г,
ҳ х, ӣ и, ӯ у: *Худжанд*).
"""

from __future__ import annotations

import re
from functools import lru_cache

import cyrtranslit
import pandas as pd

_CYRILLIC = re.compile(r"[\u0400-\u04FF]")
LATIN_LETTER = re.compile(r"[A-Za-z\u00C0-\u024F\u1E00-\u1EFF]")

# Tajik Cyrillic → common Latin (cyrtranslit's Tajik table underneath, for anything else).
_TO_LATIN: dict[str, str] = {
    **cyrtranslit.mapping.TRANSLIT_DICT["tj"]["tolatin"],
    "а": "a", "б": "b", "в": "v", "г": "g", "ғ": "gh", "д": "d", "е": "e", "ё": "yo", "ж": "zh", "з": "z",
    "и": "i", "ӣ": "i", "й": "y", "к": "k", "қ": "q", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p",
    "р": "r", "с": "s", "т": "t", "у": "u", "ӯ": "u", "ф": "f", "х": "kh", "ҳ": "h", "ч": "ch", "ҷ": "j",
    "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
    "ц": "ts", "ў": "u", "ң": "ng", "ө": "o", "ү": "u", "ә": "a", "і": "i", "ї": "yi", "є": "ye", "ґ": "g",
}
_TO_LATIN.update({k.upper(): (v[:1].upper() + v[1:]) for k, v in list(_TO_LATIN.items()) if k.islower()})

# Latin → Tajik Cyrillic: longest spelling first.
_FROM_LATIN: list[tuple[str, str]] = sorted({
    "shch": "щ", "kh": "х", "gh": "ғ", "sh": "ш", "ch": "ч", "zh": "ж", "yo": "ё", "yu": "ю", "ya": "я",
    "ts": "тс", "o'": "ӯ", "o‘": "ӯ", "oʻ": "ӯ", "g'": "ғ", "g‘": "ғ", "gʻ": "ғ",
    "a": "а", "b": "б", "c": "к", "d": "д", "e": "е", "f": "ф", "g": "г", "h": "ҳ", "i": "и", "j": "ҷ",
    "k": "к", "l": "л", "m": "м", "n": "н", "o": "о", "p": "п", "q": "қ", "r": "р", "s": "с", "t": "т",
    "u": "у", "v": "в", "w": "в", "x": "х", "y": "й", "z": "з", "'": "ъ", "’": "ъ",
    "ū": "ӯ", "ī": "ӣ", "ç": "ҷ", "ǧ": "ғ", "ḩ": "ҳ", "š": "ш", "č": "ч", "ž": "ж", "ë": "ё",
}.items(), key=lambda kv: -len(kv[0]))
_LATIN_PATTERN = re.compile("|".join(re.escape(k) for k, _v in _FROM_LATIN), re.IGNORECASE)
_FROM_LATIN_MAP = dict(_FROM_LATIN)

_TAJIK_TO_RUSSIAN = {"ҷ": "дж", "қ": "к", "ғ": "г", "ҳ": "х", "ӣ": "и", "ӯ": "у",
                     "Ҷ": "Дж", "Қ": "К", "Ғ": "Г", "Ҳ": "Х", "Ӣ": "И", "Ӯ": "У"}


def is_cyrillic(name: str) -> bool:
    """True when ``name`` holds a Cyrillic letter."""
    return bool(_CYRILLIC.search(str(name)))


_UZBEK_LATIN = re.compile(r"[xX]|[oOgG]['‘ʻ’]")


def to_latin(name: str) -> str:
    """A Tajik (or Russian) Cyrillic name in Latin letters (``Хуҷанд`` → ``Khujand``); a
    Latin name in the Uzbek-style spelling of some OSM names (``Xo'jand``) read back into
    the same romanisation (``Khujand``); any other Latin name unchanged."""
    text = str(name)
    if not is_cyrillic(text):
        return to_latin(to_tajik_cyrillic(text)) if _UZBEK_LATIN.search(text) else text
    out = []
    for i, char in enumerate(text):
        latin = _TO_LATIN.get(char, char)
        # е/Е at the start of a word reads "ye" (Еvon → Yevon)
        if char in "еЕ" and (i == 0 or not text[i - 1].isalpha()):
            latin = "Ye" if char == "Е" else "ye"
        if latin.isupper() or (len(latin) > 1 and char.isupper() and i + 1 < len(text) and text[i + 1].isupper()):
            latin = latin.upper()
        out.append(latin)
    return "".join(out)


def _cyrillic_piece(match: re.Match[str]) -> str:
    piece = match.group(0)
    cyrillic = _FROM_LATIN_MAP[piece.lower()]
    return cyrillic.capitalize() if piece[:1].isupper() else cyrillic


def to_tajik_cyrillic(name: str) -> str:
    """A Latin name in Tajik Cyrillic (``Khujand`` → ``Хуҷанд``, ``Xo'jand`` →
    ``Хӯҷанд``); Cyrillic letters stay as they are (a name mixing both is made whole)."""
    text = str(name)
    if not LATIN_LETTER.search(text):
        return text
    return _LATIN_PATTERN.sub(_cyrillic_piece, text)


def to_russian(name: str) -> str:
    """A name in Russian Cyrillic: Tajik letters spelled the Russian way (``Хуҷанд`` →
    ``Худжанд``)."""
    text = to_tajik_cyrillic(name)
    return "".join(_TAJIK_TO_RUSSIAN.get(c, c) for c in text)


_CONVERT = {"en": to_latin, "tg": to_tajik_cyrillic, "ru": to_russian}


@lru_cache(maxsize=65_536)  # the same few thousand names on every page run
def display_name(name: str, language: str) -> str:
    """One name in the script of ``language`` (``en``, ``ru``, ``tg``)."""
    return _CONVERT.get(language, to_latin)(name)


def own_names(districts: pd.DataFrame) -> dict[str, dict[str, str]]:
    """The districts' own Cyrillic names, from the data: the first Cyrillic spelling among
    ``district_aliases`` (the data step keeps the Tajik name there, ``Кӯлоб``) as Tajik, and
    its Russian spelling (``Кулоб``); ``{language: {district: name}}``."""
    tajik: dict[str, str] = {}
    for district, aliases in zip(districts["district"].astype(str), districts["district_aliases"].fillna("")):
        cyrillic = [a.strip() for a in str(aliases).split(";") if is_cyrillic(a)]
        if cyrillic:
            tajik[district] = cyrillic[0]
    return {"tg": tajik, "ru": {k: to_russian(v) for k, v in tajik.items()}}


def display_names(frame: pd.DataFrame, language: str, *, column: str = "name",
                  known: dict[str, str] | None = None) -> pd.Series:
    """``frame[column]`` in the script of ``language``: the data's own ``<column>_<language>``
    where present and not empty, else transliterated (same index).

    Parameters
    ----------
    frame : DataFrame
        A table with a name column (communities ``name``, districts ``district``).
    language : str
        ``"en"`` (Latin), ``"ru"`` or ``"tg"`` (Cyrillic).
    column : str
        The name column.
    known : dict, optional
        Names the data gives for this language, by the name in ``column`` (:func:`own_names`).

    Returns
    -------
    Series
        Names, one script.
    """
    names = frame[column].astype(str)
    converted = names.map(lambda n: display_name(n, language)) if len(names) else names
    if known:
        converted = names.map(known).fillna(converted).astype(str)
    own = f"{column}_{language}"
    if own in frame.columns:
        given = frame[own].where(frame[own].notna() & (frame[own].astype(str).str.strip() != ""))
        converted = given.fillna(converted).astype(str)
    return converted


def search_key(name: str) -> str:
    """A spelling-blind key for matching a typed name against either script (lower-case
    Latin, no apostrophes or doubled letters): ``Хуҷанд``, ``Khujand``, ``Xo'jand`` → ``khujand``-like keys."""
    latin = to_latin(to_tajik_cyrillic(str(name))).lower()
    latin = re.sub(r"[^a-z]", "", latin)
    return re.sub(r"(.)\1+", r"\1", latin)
