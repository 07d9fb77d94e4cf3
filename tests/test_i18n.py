"""Languages (issue 14): catalogues complete, errors translated at the edge, the language per
browser session, place names in one script, a clean printed page."""

from __future__ import annotations

import ast
import importlib.util
import re
import string
from pathlib import Path

import pandas as pd
import pytest
from conftest import PROJECT_ROOT, require
from streamlit.testing.v1 import AppTest
from test_error_family import PACKAGE, _family_calls

from coverage import config, errors
from coverage.views import i18n, messages, names

TAJIK_LETTERS = set("ӣӯҳҷқғӢӮҲҶҚҒ")
LATIN = re.compile(r"[A-Za-z]")
CYRILLIC = re.compile(r"[\u0400-\u04FF]")


def _tool():
    spec = importlib.util.spec_from_file_location("i18n_tool", PROJECT_ROOT / "tools" / "i18n.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tool():
    return _tool()


@pytest.fixture(scope="module")
def template(tool):
    return tool.extract()


# --- catalogues ---------------------------------------------------------------------------

@pytest.mark.parametrize("language", ["ru", "tg"])
def test_every_string_of_the_code_is_translated(tool, template, language):
    """Extracted from the sources now (not from a committed list), so a string added on any
    branch without a translation fails here: run `python tools/i18n.py update`, translate."""
    assert len([m for m in template if m.id]) > 300
    problems = tool.problems(language, template)
    assert not problems, "\n".join(problems[:40])


@pytest.mark.parametrize("language", ["ru", "tg"])
def test_every_catalogue_entry_is_translated_with_the_same_placeholders(tool, language):
    catalogue = tool.read(language)
    entries = [m for m in catalogue if m.id]
    assert entries
    for entry in entries:
        assert entry.string and entry.string.strip(), entry.id
        assert tool.placeholders(entry.string) == tool.placeholders(entry.id), (entry.id, entry.string)
        assert not entry.fuzzy, entry.id


def test_tajik_is_written_with_tajik_letters(tool):
    text = " ".join(m.string for m in tool.read("tg") if m.id)
    assert set("ӣӯҳҷқғ") <= set(text)
    ru = " ".join(m.string for m in tool.read("ru") if m.id)
    assert not set(ru) & set("ӣӯҳҷқғ"), "Russian uses Russian letters"


def test_domain_words_are_consistent(tool):
    tg, ru = tool.read("tg"), tool.read("ru")
    assert (tg["Shelter"].string, tg["Crisis centre"].string, tg["Resource centre"].string) == (
        "Паноҳгоҳ", "Маркази бӯҳронӣ", "Маркази захиравӣ")
    assert (ru["Shelter"].string, ru["Crisis centre"].string, ru["Resource centre"].string) == (
        "Приют", "Кризисный центр", "Ресурсный центр")


def test_the_catalogues_are_read_from_the_po_files_no_binary_to_go_stale(tmp_path):
    # A .po edited a moment ago is what a new process shows: there is no .mo to recompile.
    po = i18n.catalogue_path("tg", locale_dir=tmp_path)
    po.parent.mkdir(parents=True)
    po.write_text('msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8\\n"\n\nmsgid "Map"\nmsgstr "Харита"\n\n'
                  '#, fuzzy\nmsgid "Reach"\nmsgstr "Unchecked"\n', encoding="utf-8")
    gettext = i18n.translator("tg", locale_dir=tmp_path)
    assert gettext("Map") == "Харита"
    assert gettext("Reach") == "Reach"  # fuzzy: not shown until checked
    assert i18n.translator("xx")("Map") == "Map" and i18n.translator("TG")("Map") == "Харита"
    assert not list((PROJECT_ROOT / "locale").rglob("*.mo")), "no compiled catalogue is kept"
    assert set(i18n.LANGUAGES) == set(config.LANGUAGES)


# --- errors and upload problems --------------------------------------------------------------

def _ids_in_code() -> set[str]:
    """Every message id the package can raise: message_id constants at the raise sites, the
    classes' default ids, and the ids held in strings (upload problems)."""
    prefixes = {c.value.split(".")[0] for *_x, call in _family_calls() for k in call.keywords
                if k.arg == "message_id" and isinstance(c := k.value, ast.Constant)}
    found = {obj.default_id for obj in vars(errors).values()
             if isinstance(obj, type) and issubclass(obj, errors.CoverageError)}
    alternatives = "|".join(sorted(prefixes))
    pattern = re.compile(rf"^({alternatives})\.[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and pattern.match(node.value) \
                    and node.value.rsplit(".", 1)[1] not in {"csv", "gpkg", "json", "toml", "osm", "pbf", "yaml"}:
                found.add(node.value)
    return found


def test_every_message_id_in_the_code_has_a_template():
    ids = _ids_in_code()
    assert len(ids) > 120 and "table.too_large" in ids and "services.empty" in ids
    missing = sorted(ids - set(messages.TEMPLATES))
    assert not missing, "add a template to coverage/views/messages.py TEMPLATES: " + ", ".join(missing)
    stale = sorted(set(messages.TEMPLATES) - ids)
    assert not stale, "templates for ids the code no longer raises: " + ", ".join(stale)


def _fields(text: str) -> set[str]:
    return {name.split(".")[0].split("[")[0] for _l, name, _s, _c in string.Formatter().parse(text) if name}


def test_every_template_is_filled_by_what_its_raise_sites_give():
    for rel, _function, line, name, call in _family_calls():
        keywords = {k.arg: k.value for k in call.keywords}
        message_id = keywords.get("message_id")
        if None in keywords or not isinstance(message_id, ast.Constant):
            continue  # **params or an id chosen at run time
        given = {k for k in keywords if k} | {"field", "row"}
        if name == "Problem":
            given |= {"column"}
            params = keywords.get("params")
            given |= {k.value for k in params.keys} if isinstance(params, ast.Dict) else set()
        needed = _fields(messages.TEMPLATES[message_id.value])
        assert needed <= given, f"{rel}:{line} {message_id.value} lacks {needed - given}"


@pytest.mark.parametrize("language", ["ru", "tg"])
def test_errors_and_upload_problems_are_translated_at_the_edge(language):
    gettext = i18n.translator(language)
    err = errors.TableError(0, "the file is 9,000,000 bytes; the limit is 5,000,000", message_id="table.too_large",
                            size_bytes=9_000_000, max_bytes=5_000_000)
    text = messages.error_text(err, gettext=gettext)
    assert text == gettext("the file is {size_bytes:,} bytes; the limit is {max_bytes:,}").format(
        size_bytes=9_000_000, max_bytes=5_000_000) and "9,000,000" in text and CYRILLIC.search(text)
    problem = errors.Problem(3, "lat", "is empty", "S-1", message_id="services.empty")
    upload = errors.ServicesError("upload.csv", [problem])
    lines = messages.error_text(upload, gettext=gettext).splitlines()
    assert lines[0].startswith("upload.csv: ") and "3" in lines[1] and gettext("is empty") in lines[1]
    # English keeps the raise site's own text, word for word
    english = i18n.translator("en")
    assert messages.error_text(err, gettext=english) == str(err)
    assert messages.error_text(upload, gettext=english) == str(upload)


def test_the_command_line_speaks_the_chosen_language():
    from test_cli_errors import run_cli

    missing = str(PROJECT_ROOT / "tests")  # a folder: network.not_a_file
    english = run_cli("route", "Kulob", "Bokhtar", "--network", missing)
    tajik = run_cli("--lang", "tg", "route", "Kulob", "Bokhtar", "--network", missing)
    by_env = run_cli("route", "Kulob", "Bokhtar", "--network", missing, env={"COVERAGE_LANG": "ru"})
    assert english.returncode == tajik.returncode == by_env.returncode == 2
    assert "Traceback" not in tajik.stderr + tajik.stdout
    assert not CYRILLIC.search(english.stdout + english.stderr)
    assert set(tajik.stdout) & TAJIK_LETTERS, tajik.stdout
    assert CYRILLIC.search(by_env.stdout) and not set(by_env.stdout) & TAJIK_LETTERS, by_env.stdout
    bad = run_cli("route", "Kulob", "Bokhtar", env={"COVERAGE_LANG": "fr"})
    assert bad.returncode == 2 and "COVERAGE_LANG" in bad.stdout and "language" in bad.stdout


# --- place names ---------------------------------------------------------------------------

@pytest.mark.parametrize("cyrillic, latin", [
    ("Хуҷанд", "Khujand"), ("Кӯлоб", "Kulob"), ("Ғафуров", "Ghafurov"), ("Шаҳритус", "Shahritus"),
    ("Ҷайҳун", "Jayhun"), ("Ёвон", "Yovon"), ("Қубодиён", "Qubodiyon"),
])
def test_tajik_names_go_to_latin_and_back(cyrillic, latin):
    assert names.to_latin(cyrillic) == latin
    assert names.to_tajik_cyrillic(latin) == cyrillic.replace("ӯ", "у")  # Latin u cannot tell у from ӯ
    assert names.search_key(cyrillic) == names.search_key(latin)


def test_russian_spells_the_tajik_letters_the_russian_way():
    assert names.to_russian("Хуҷанд") == "Худжанд" and names.to_russian("Khujand") == "Худжанд"
    assert names.to_latin("Xo'jand") == "Khujand"  # Uzbek-style Latin of some OSM names


def test_the_datas_own_name_wins_over_transliteration():
    frame = pd.DataFrame({"name": ["Kulob", "Панҷ"], "name_ru": ["Куляб", None]})
    assert list(names.display_names(frame, "ru")) == ["Куляб", "Пандж"]
    assert list(names.display_names(frame, "en")) == ["Kulob", "Panj"]
    districts = pd.DataFrame({"district": ["Kulob", "Dusti"],
                              "district_aliases": ["Kulob District;Kulyab;Kŭlob;Кӯлоб", "Jilikul;Дӯстӣ"]})
    own = names.own_names(districts)
    assert own["tg"] == {"Kulob": "Кӯлоб", "Dusti": "Дӯстӣ"} and own["ru"]["Dusti"] == "Дусти"
    assert list(names.display_names(districts, "tg", column="district", known=own["tg"])) == ["Кӯлоб", "Дӯстӣ"]


def test_community_names_come_in_one_script_per_language(app_env):
    from dashboard import loaders

    communities = loaders.inputs().communities
    mixed = communities["name"].map(names.is_cyrillic).mean()
    assert 0.2 < mixed < 0.8  # the data mixes scripts ...
    for language, other in (("en", CYRILLIC), ("tg", LATIN), ("ru", LATIN)):
        shown = names.display_names(communities, language)
        wrong = shown[shown.str.contains(other)]
        assert len(wrong) == 0, (language, list(wrong[:5]))  # ... the display does not


# --- the dashboard ---------------------------------------------------------------------------

def _app(**params: str) -> AppTest:
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120)
    at.query_params.update(params)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_switching_to_tajik_shows_tajik_headings(app_env):
    at = _app()
    assert at.title[0].value == "Who can reach help? Women's crisis services in Tajikistan"
    at.sidebar.slider(key="threshold").set_value(120).run()
    at.sidebar.radio(key="season").set_value("winter").run()
    at.sidebar.selectbox(key="language").set_value("tg").run()
    assert not at.exception
    # the other choices survive the change of language (widgets keep their keys, labels change)
    assert (at.sidebar.slider(key="threshold").value, at.sidebar.radio(key="season").value) == (120, "winter")
    title = at.title[0].value
    assert title == i18n.translator("tg")("Who can reach help? Women's crisis services in Tajikistan")
    assert set(title) & TAJIK_LETTERS
    assert at.sidebar.header[0].value == "Чӣ ва дар куҷо"
    metric = at.metric[0].label
    assert set(metric) & TAJIK_LETTERS, metric
    assert at.query_params["lang"] in ("tg", ["tg"])  # remembered in the URL


def test_the_language_comes_from_the_link_and_sessions_do_not_share_it(app_env):
    tajik = _app(lang="tg")
    russian = _app(lang="ru")
    english = _app()
    tajik.sidebar.slider(key="threshold").set_value(90).run()  # tajik runs again after the others
    assert set(tajik.title[0].value) & TAJIK_LETTERS
    assert russian.title[0].value == "Кто может получить помощь? Кризисные службы для женщин в Таджикистане"
    english.sidebar.slider(key="threshold").set_value(90).run()
    assert english.title[0].value == "Who can reach help? Women's crisis services in Tajikistan"


@pytest.mark.parametrize("page", ["pages/1_Underserved_communities.py", "pages/2_Reach.py",
                                  "pages/3_About_the_data.py", "pages/4_Services_(staff).py", "pages/6_Capacity.py",
                                  "pages/7_Report.py", "pages/5_Scenarios.py", "pages/8_Next_site.py"])
def test_every_page_renders_in_tajik(app_env, page):
    at = AppTest.from_file(str(PROJECT_ROOT / page), default_timeout=120)
    at.query_params["lang"] = "tg"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert CYRILLIC.search(at.title[0].value) and not LATIN.search(at.title[0].value), at.title[0].value
    main = at.main  # the page's own words, not the sidebar's
    words = " ".join(e.value for kind in (main.markdown, main.subheader, main.caption, main.info) for e in kind)
    assert set(words) & TAJIK_LETTERS


def test_district_picker_finds_either_spelling(app_env):
    at = _app(lang="tg")
    labels = list(at.selectbox(key="district_picker").options)  # what the search box matches
    kulob = [label for label in labels if "Kulob" in label]
    assert len(kulob) == 1 and kulob[0].startswith("Кӯлоб (Хатлон) · Kulob"), kulob  # the data's own Tajik name
    assert all(CYRILLIC.search(label.split(" (")[0]) for label in labels)  # shown first in the session's script
    english = list(_app().selectbox(key="district_picker").options)
    assert any(label.startswith("Kulob (Khatlon) · Кӯлоб") for label in english), english[:5]


# --- the browser: print stylesheet and a screenshot in Tajik -----------------------------------

SHOTS = Path("/tmp/shots/i18n")


@pytest.mark.e2e
def test_printed_page_is_clean_and_tajik_renders(streamlit_server, browser):
    require(Path("/usr/bin/chromium").exists(), "Chromium is missing")
    from conftest import wait_idle

    base, _log = streamlit_server
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    page.goto(base + "/?lang=tg")
    page.wait_for_selector('[data-testid="stMetricValue"]', timeout=90_000)
    page.frame_locator('iframe[title="streamlit_folium.st_folium"]').first.locator(
        ".leaflet-interactive").first.wait_for(timeout=60_000)
    wait_idle(page)
    heading = page.get_by_role("heading", level=1).first.inner_text()
    assert set(heading) & TAJIK_LETTERS, heading
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "map_tg_1366x768.png"))
    sidebar = page.get_by_test_id("stSidebar")
    assert sidebar.is_visible()
    page.emulate_media(media="print")
    assert not sidebar.is_visible()
    assert not page.get_by_test_id("stHeader").is_visible()
    assert page.get_by_role("heading", level=1).first.is_visible()
    page.screenshot(path=str(SHOTS / "map_tg_print.png"), full_page=True)
    pdf = page.pdf(format="A4", landscape=True, print_background=True)
    (SHOTS / "map_tg_print.pdf").write_bytes(pdf)
    assert pdf[:4] == b"%PDF" and len(pdf) > 20_000
    page.close()


# --- the map and the Reach page follow both the language and what is counted ----------------------

def test_map_words_follow_the_language_and_the_measure():
    from coverage.views import maps

    tajik, russian = i18n.translator("tg"), i18n.translator("ru")
    women = maps.legend_html(gettext=tajik, measure="women")
    people = maps.legend_html(gettext=tajik, measure="population")
    assert "занон" in women and "занон" not in people and "одамон" in people
    assert not re.search(r"share of|estimates|Women|People", women + people)  # no English left
    assert "доля женщин" in maps.legend_html(gettext=russian, measure="women")
    assert "доля людей" in maps.legend_html(gettext=russian, measure="population")
    assert maps.legend_html(measure="women").startswith("<b>Districts: share of women<br>")
    assert maps.measure_words("women", gettext=tajik)[1] == "Занон"
    assert maps.measure_words("population") == ("people", "People", "Population (census 2020)")
    with pytest.raises(errors.InputError):
        maps.measure_words("goats", gettext=tajik)


def test_reach_page_in_tajik_names_regions_and_the_any_organisation_row(app_env):
    at = AppTest.from_file(str(PROJECT_ROOT / "pages/2_Reach.py"), default_timeout=120)
    at.query_params["lang"] = "tg"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    tg = i18n.translator("tg")
    frames = [df.value for df in at.dataframe]
    orgs = list(next(f for f in frames if "share_chosen" in f.columns)["org"])  # totals per organisation
    assert tg("Any organisation") in orgs and "Any organisation" not in orgs
    assert tg("Any organisation") in at.selectbox(key="reach_org").options
    regions = [c for c in next(f for f in frames if "region" not in f.columns and "total" not in f.columns
                               and "share_chosen" not in f.columns).columns if c != "org"]  # side by side per region
    assert len(regions) and all(CYRILLIC.search(r) and not LATIN.search(r) for r in regions), regions
    districts = next(f for f in frames if "district" in f.columns)["district"].iloc[:-1]  # last row: the total
    assert districts.str.contains(CYRILLIC).all() and not districts.str.contains(LATIN).any()
