"""Briefs and exports (issue 14): the PDF brief's figures equal the library's, its text is
real text in a font with the Tajik letters, page 1 is rendered to PNG as a test artefact
(``out/test_artefacts/``, git-ignored: look at it), and no brief, map or export of a
district holding a confidential shelter contains the shelter's exact point or address.

PDF text is read with ``pdftotext`` and pages rendered with ``pdftoppm`` (Debian
poppler-utils: ``bash scripts/setup.sh --pdf``).
"""

from __future__ import annotations

import csv
import io
import shutil
import struct
import subprocess
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import PROJECT_ROOT, require

from coverage import analysis, cli, config
from coverage.analysis import briefs, reach
from coverage.errors import InputError
from coverage.views import briefs as brief_views
from coverage.views import exports, labels, static_maps

ARTEFACTS = PROJECT_ROOT / "out" / "test_artefacts"
TAJIK_LETTERS = "ӣӯҳҷқғ"
# A Tajik rendering of a few of the brief's strings (the real catalogue comes with the i18n work).
TAJIK = {
    "Access to help for women: {area}": "Дастрасии занон ба кӯмак: {area}",
    "Nearest help by road": "Кӯмаки наздиктарин бо роҳ",
    "Shelter": "Паноҳгоҳ",
    "Crisis centre": "Маркази бӯҳронӣ",
    "District boundary": "Сарҳади ноҳия",
    "Community: minutes to nearest": "Деҳа: дақиқаҳо то наздиктарин",
}


def tajik(text: str) -> str:
    return TAJIK.get(text, text)


def _need_poppler() -> None:
    require(shutil.which("pdftotext") is not None and shutil.which("pdftoppm") is not None,
            "pdftotext/pdftoppm missing: run `bash scripts/setup.sh --pdf` (Debian poppler-utils)")


def pdf_text(path: Path, *, layout: bool = True) -> str:
    """The PDF's text by pdftotext: laid out as printed (table rows on one line), or in
    reading order (``layout=False``: each box's words together)."""
    _need_poppler()
    done = subprocess.run(["pdftotext", *(["-layout"] if layout else []), str(path), "-"], capture_output=True,
                          text=True, timeout=60, check=True)
    return done.stdout


def pdf_pages(path: Path) -> int:
    done = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, timeout=60, check=True)
    return int(next(line.split()[-1] for line in done.stdout.splitlines() if line.startswith("Pages:")))


def render_page_one(pdf: Path, name: str) -> Path:
    """Page 1 as PNG under out/test_artefacts/ (kept after the run, for a person to look at)."""
    _need_poppler()
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    stem = ARTEFACTS / name
    subprocess.run(["pdftoppm", "-f", "1", "-l", "1", "-r", "110", "-png", "-singlefile", str(pdf), str(stem)],
                   check=True, timeout=120)
    png = stem.with_suffix(".png")
    assert png.stat().st_size > 20_000
    return png


@pytest.fixture(scope="module")
def public(prepared_data_dir):
    """Public inputs and summer travel times of the prepared data."""
    settings = config.load_settings(overrides={"data_dir": prepared_data_dir})
    inputs = analysis.load_inputs(settings=settings)
    return inputs, analysis.travel_times(inputs, season="summer", settings=settings), settings


# --- areas -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Kulob", "KULOB", "kulob", "Kŭlob", "Кӯлоб", "Kulyab"])
def test_a_district_is_found_by_either_spelling_and_any_case(public, name):
    area = briefs.find_area(public[0].districts, district=name)
    assert (area.kind, area.name, area.region, area.seat) == ("district", "Kulob", "Khatlon", "Kulob")
    assert len(area.district_ids) == 1


@pytest.mark.parametrize("name, region", [("khatlon", "Khatlon"), ("SUGHD", "Sughd"),
                                          ("drs", "Districts of Republican Subordination (DRS)")])
def test_a_region_is_found_by_name_or_short_form(public, name, region):
    area = briefs.find_area(public[0].districts, region=name)
    districts = public[0].districts
    assert area.name == region and set(area.district_ids) == set(districts.loc[districts["region"] == region,
                                                                              "district_id"])


def test_unknown_areas_are_input_errors(public):
    with pytest.raises(InputError) as err:
        briefs.find_area(public[0].districts, district="Atlantis")
    assert err.value.message_id == "input.unknown_district"
    with pytest.raises(InputError) as err:
        briefs.find_area(public[0].districts, region="Atlantis")
    assert err.value.message_id == "input.unknown_region"


def test_the_cli_names_an_unknown_district_in_one_line(prepared_data_dir, tmp_path, capsys):
    code = cli.main(["--data-dir", str(prepared_data_dir), "brief", "--district", "Atlantis",
                     "--out", str(tmp_path / "b.pdf")])
    out = capsys.readouterr().out
    assert code == 2 and "no district named 'Atlantis'" in out and "Traceback" not in out
    assert not (tmp_path / "b.pdf").exists()


def test_weighted_median_puts_half_the_weight_below():
    assert briefs.weighted_median(np.array([10.0, 20.0, 30.0]), np.array([1, 1, 10])) == 30.0
    assert briefs.weighted_median(np.array([30.0, 10.0, 20.0]), np.array([1, 10, 1])) == 10.0
    assert briefs.weighted_median(np.array([5.0, np.inf]), np.array([1, 3])) == np.inf
    assert np.isnan(briefs.weighted_median(np.array([5.0]), np.array([0])))


# --- the brief: figures, one page, the artefact ------------------------------------------------


def test_the_kulob_brief_shows_the_librarys_figures(public, prepared_data_dir, tmp_path):
    inputs, times, _settings = public
    out = tmp_path / "brief.pdf"
    assert cli.main(["--data-dir", str(prepared_data_dir), "brief", "--district", "kulob", "--lang", "en",
                     "--threshold", "60", "--out", str(out)]) == 0
    assert out.read_bytes()[:5] == b"%PDF-" and pdf_pages(out) == 1
    text = pdf_text(out)
    flat = " ".join(pdf_text(out, layout=False).split())

    # the library's own figures, computed the dashboard's way (analyse over the chosen region)
    result = analysis.analyse(inputs, times, ["shelter"], 60, regions=["Khatlon"], measure="women")
    row = result.districts.set_index("district").loc["Kulob"]
    for figure in (row["population"], row["population_within"], row["population_beyond"]):
        assert f"{int(figure):,} (est.)" in flat, figure
    assert f"{row['share_within']:.0%} (est.)" in flat
    assert f"{int(row['communities_beyond'])} of {int(row['communities'])} communities" in flat
    worst = result.ranking[result.ranking["district"] == "Kulob"].head(5)
    for community in worst.itertuples(index=False):
        line = next(li for li in text.splitlines() if li.strip().startswith(str(community.name)))
        assert f"{int(community.women):,}" in line and labels.fmt_minutes(community.minutes) in line
    seat_id = briefs._seat_community(result.communities[result.communities["district"] == "Kulob"],
                                     (69.78454, 37.91459))
    shelter_minutes = times[(times["community_id"] == seat_id) & (times["service_type"] == "shelter")]["minutes"]
    assert f"Shelter: {labels.fmt_minutes(float(shelter_minutes.iloc[0]))} (est.) from the district seat (Kulob)" \
        in flat
    for needed in ("Access to help for women: Kulob", "District in Khatlon", "nearest shelter within 60 min",
                   "Sources and licences", "ODbL", "CC BY 4.0", "2020 Population and Housing Census",
                   "est. = estimate", "never at their address"):
        assert needed in flat, needed
    render_page_one(out, "brief_kulob_en")


def test_a_region_brief_with_a_scenario_fits_one_page(public, tmp_path):
    inputs, times, _settings = public
    area = briefs.find_area(inputs.districts, region="Khatlon")
    result = briefs.area_analysis(inputs, times, area, ["shelter", "crisis_centre"], threshold_min=120)
    out = tmp_path / "khatlon.pdf"
    out.write_bytes(briefs.brief_pdf(inputs, times, area, result, scenario_title="A crisis centre in Danghara",
                                     scenario_summary="What changes if one opens there."))
    assert pdf_pages(out) == 1
    flat = " ".join(pdf_text(out, layout=False).split())
    totals = result.totals.set_index("region").loc["Khatlon"]
    assert f"{int(totals['population_within']):,} (est.)" in flat
    assert "Scenario: A crisis centre in Danghara — What changes if one opens there." in flat
    assert "population-weighted median" in flat
    render_page_one(out, "brief_khatlon_scenario_en")


def test_tajik_letters_are_real_text_in_the_pdf_and_drawn_by_the_map(public, tmp_path):
    from fontTools.ttLib import TTFont

    for font in (brief_views.FONT_REGULAR, brief_views.FONT_BOLD):
        cmap = TTFont(font).getBestCmap()
        assert all(ord(letter) in cmap for letter in TAJIK_LETTERS + TAJIK_LETTERS.upper()), font
    inputs, times, _settings = public
    area = briefs.find_area(inputs.districts, district="Кӯлоб")
    result = briefs.area_analysis(inputs, times, area, ["shelter"], threshold_min=60)
    out = tmp_path / "tg.pdf"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph … missing from font(s)"
        pdf = briefs.brief_pdf(inputs, times, area, result, gettext=tajik,
                               scenario_title="Ҳисоботи санҷишӣ: ӣ ӯ ҳ ҷ қ ғ", scenario_summary="Кӯлоб, Ғарм, Ҷиргатол")
    out.write_bytes(pdf)
    text = pdf_text(out)
    assert "Дастрасии занон ба кӯмак: Kulob" in text and "Кӯмаки наздиктарин бо роҳ" in text
    assert "ӣ ӯ ҳ ҷ қ ғ" in text and "Кӯлоб, Ғарм, Ҷиргатол" in text
    fonts = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True, check=True).stdout
    assert "+DejaVuSansBook " in fonts and "+DejaVuSansBold " in fonts  # embedded subsets
    render_page_one(out, "brief_kulob_tajik_letters")


@pytest.mark.parametrize("language", ["tg", "ru", "en"])
def test_a_briefs_place_names_are_in_the_script_of_its_language(public, tmp_path, language):
    """Community, district and region names come in one script per language (Cyrillic for
    Tajik and Russian, Latin for English), the district by the data's own name, and the
    brief's words in its language."""
    import re

    from coverage.views import i18n

    script = re.compile(r"[\u0400-\u04FF]" if language != "en" else r"[A-Za-z]")
    other = re.compile(r"[A-Za-z]" if language != "en" else r"[\u0400-\u04FF]")
    inputs, times, _settings = public
    area = briefs.find_area(inputs.districts, district="Kulob")
    result = briefs.area_analysis(inputs, times, area, ["shelter"], threshold_min=60)
    content = brief_views.brief_in_language(briefs.brief_content(inputs, times, area, result), language,
                                            district_names=briefs._district_names(inputs, language))
    stored = briefs.brief_content(inputs, times, area, result).underserved
    assert len(content.underserved) == len(stored) > 0
    for column in ("name", "district"):
        shown = content.underserved[column]
        assert shown.str.contains(script).all() and not shown.str.contains(other).any(), list(shown)
    assert (content.area, content.region) == {"tg": ("Кӯлоб", "Хатлон"), "ru": ("Кулоб", "Хатлон"),
                                              "en": ("Kulob", "Khatlon")}[language]
    # the seat and the nearest towns named as the district take its own spelling, not a transliteration
    assert {h.seat for h in content.nearest if h.seat} == {content.area}
    assert set(content.underserved["nearest_town"]) == {content.area}
    out = tmp_path / f"kulob_{language}.pdf"
    out.write_bytes(briefs.brief_pdf(inputs, times, area, result, gettext=i18n.translator(language),
                                     language=language))
    text = pdf_text(out)
    for community in content.underserved["name"]:
        assert any(line.strip().startswith(community) for line in text.splitlines()), community
    assert (content.area in text) and content.region in text
    heading = i18n.translator(language)("Nearest help by road")
    assert heading in text and (language == "en" or heading != "Nearest help by road")


# --- the map ---------------------------------------------------------------------------------


def test_services_sharing_a_point_are_spread_on_a_ring_around_it():
    xy = np.array([[0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [500.0, 500.0]])
    drawn = static_maps.ring_offsets(xy, 100.0)
    assert np.allclose(np.hypot(*drawn[:3].T), 100.0) and np.allclose(drawn[3], xy[3])
    assert np.allclose(drawn[:3].mean(axis=0), 0.0, atol=1e-9)  # centred on the public point
    assert len({tuple(np.round(p, 6)) for p in drawn[:3]}) == 3


def test_scale_bar_and_north_arrow_geometry():
    assert static_maps.nice_scale_km(100_000) == 20 and static_maps.nice_scale_km(480_000) == 50
    assert static_maps.nice_scale_km(2_000) == 1
    from pyproj import Transformer

    to_metric = Transformer.from_crs(config.CRS_STORE, config.CRS_METRIC, always_xy=True)
    assert abs(static_maps.north_angle_deg(*to_metric.transform(69.0, 38.5))) < 0.05  # the central meridian
    east = static_maps.north_angle_deg(*to_metric.transform(71.5, 38.5))
    assert east == pytest.approx(-2.5 * np.sin(np.radians(38.5)), abs=0.1)  # grid convergence, true north to the left


def test_the_map_png_draws_the_public_services(public, tmp_path):
    inputs, times, _settings = public
    area = briefs.find_area(inputs.districts, region="Sughd")
    result = briefs.area_analysis(inputs, times, area, ["shelter"], threshold_min=60)
    fig = briefs.brief_map(inputs, area, result, stand_alone=True)
    drawn = np.vstack([c.get_offsets() for c in fig.axes[0].collections if len(c.get_offsets())])
    public_xy = inputs.services.to_crs(config.CRS_METRIC)
    public_xy = np.column_stack([public_xy.geometry.x, public_xy.geometry.y])
    near = np.hypot(*(public_xy[:, None, :] - drawn[None, :, :]).transpose(2, 0, 1)).min(axis=1)
    in_view = inputs.services["region"].eq("Sughd").to_numpy()
    assert (near[in_view] < 1.0).all(), "every public service point in view is drawn (its ring centre)"
    png = static_maps.figure_png(fig, dpi=100)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    (ARTEFACTS / "map_sughd_en.png").write_bytes(png)


# --- funders: reach per organisation -------------------------------------------------------------


def test_the_funders_summary_shows_reach_per_organisation(public, prepared_data_dir, tmp_path):
    inputs, _times, settings = public
    out = tmp_path / "reach.pdf"
    assert cli.main(["--data-dir", str(prepared_data_dir), "brief", "--region", "Khatlon", "--funders",
                     "--type", "shelter", "crisis_centre", "--threshold", "120", "--out", str(out)]) == 0
    assert pdf_pages(out) == 1
    text = pdf_text(out)
    area = briefs.find_area(inputs.districts, region="Khatlon")
    table, _org_times = briefs.area_reach(inputs, area, ["shelter", "crisis_centre"], settings=settings)
    totals = reach.organisation_totals(table).set_index("org")
    for org in ("Ghamkhori", "Najoti Kudakon"):
        line = next(li for li in text.splitlines() if li.strip().startswith(org))
        assert [f"{int(totals.loc[org, f'within_{t}']):,}" for t in (30, 60, 120)] == line.split()[-5:-2], line
    assert "Gulrukhsor" not in text  # Sughd's organisation reaches no one in Khatlon
    any_line = next(li for li in text.splitlines() if "Any organisation" in li)
    assert f"{int(totals.loc[reach.ANY_ORGANISATION, 'within_120']):,}" in any_line
    render_page_one(out, "reach_khatlon_en")


# --- exports -------------------------------------------------------------------------------------


def test_xlsx_and_csv_neutralise_formulas():
    import openpyxl

    table = pd.DataFrame({"name": ["=HYPERLINK(\"http://x\")", "Kulob"], "minutes": [np.inf, 12.5]})
    book = openpyxl.load_workbook(io.BytesIO(exports.tables_xlsx({"communities": table})))
    cell = book["communities"]["A2"]
    assert cell.data_type == "s" and cell.value.startswith("'=")
    assert book["communities"]["B2"].value is None  # unreachable: empty, not 'inf'
    rows = list(csv.reader(io.StringIO(exports.table_csv(table).decode())))
    assert rows[1][0].startswith("'=") and rows[1][1] == ""


# --- privacy: a confidential shelter at an exact point in the district ---------------------------

EXACT_LON, EXACT_LAT = 69.81719, 37.95812  # made up, in Kulob district, ~5 km from the town point; its
# 3-decimal strings occur in no Kulob output made without it (a hit is a leak, not a village nearby)
ADDRESS = "7 Secret Lane"
SECRET_ROW = {
    "service_id": "TEST-BRIEF-SHELTER", "name": "Brief privacy shelter", "organisation": "Brief test organisation",
    "org": "Brief test org", "type": "shelter", "town": "behind the mill", "district": "Kulob", "region": "Khatlon",
    "lon": f"{EXACT_LON}", "lat": f"{EXACT_LAT}", "location_precision": "exact", "confidential": "true",
    "confidence": "high", "source": "privacy test", "source_date": "2025-01-01",
    "note": f"{ADDRESS}, behind the mill",
}


def _needles() -> list[str]:
    found = {ADDRESS, "Secret Lane", "behind the mill", SECRET_ROW["name"]}
    for value in (EXACT_LON, EXACT_LAT):
        found |= {f"{value:.3f}", f"{int(value * 1000) / 1000:.3f}", f"{value:.4f}", f"{value:.5f}",
                  f"{value:.3f}".replace(".", ",")}
    return sorted(found)


def _leaks(data: bytes) -> list[str]:
    text = data.decode("utf-8", errors="replace") + data.decode("latin-1")
    found = [n for n in _needles() if len(n) > 4 and n.lower() in text.lower()]
    for value in (EXACT_LON, EXACT_LAT):
        for fmt in ("<d", ">d"):
            if struct.pack(fmt, value) in data:
                found.append(f"binary {value} {fmt}")
    return found


@pytest.fixture(scope="module")
def secret_services(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("brief-privacy") / "services.csv"
    shipped = config.SERVICES_CSV.read_text(encoding="utf-8")
    header = shipped.splitlines()[0].split(",")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header)
    writer.writerow({c: SECRET_ROW.get(c, "") for c in header})
    path.write_text(shipped.rstrip("\n") + "\n" + buffer.getvalue(), encoding="utf-8")
    return path


def test_briefs_and_exports_never_hold_the_shelters_exact_point_or_address(prepared_data_dir, secret_services,
                                                                          tmp_path, capsys):
    _need_poppler()
    base = ["--data-dir", str(prepared_data_dir)]
    where = ["--district", "Kulob", "--services", str(secret_services)]
    outputs: dict[str, Path] = {}
    for name, args in {
        "brief.pdf": ["brief", *where],
        "map.png": ["brief", *where],
        "funders.pdf": ["brief", *where, "--funders"],
        "tables.csv": ["export", "--format", "csv", *where],
        "tables.xlsx": ["export", "--format", "xlsx", *where],
        "layers.geojson": ["export", "--format", "geojson", *where],
        "layers.gpkg": ["export", "--format", "gpkg", *where],
    }.items():
        out = tmp_path / name
        assert cli.main([*base, *args, "--out", str(out)]) == 0, name
        outputs[name] = out
    files = [p for p in tmp_path.iterdir() if p.is_file()]
    assert len(files) >= 11  # the CSV export writes one file per table
    for path in files:
        assert not _leaks(path.read_bytes()), (path.name, _leaks(path.read_bytes()))
        if path.suffix == ".pdf":
            text = pdf_text(path)
            info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
            assert not _leaks((text + info).encode()), (path.name, _leaks((text + info).encode()))
        if path.suffix == ".xlsx":
            import zipfile

            with zipfile.ZipFile(path) as book:  # the workbook's XML, uncompressed
                for member in book.namelist():
                    assert not _leaks(book.read(member)), (member, _leaks(book.read(member)))
    printed = capsys.readouterr()
    assert not _leaks((printed.out + printed.err).encode())

    # Control: the shelter is in the exports, at its town point (so the checks looked at output holding it).
    layers = gpd.read_file(outputs["layers.gpkg"], layer="services").set_index("service_id")
    shelter = layers.loc[SECRET_ROW["service_id"]]
    assert shelter["location_precision"] == "settlement" and shelter["town"] in ("Kulob", "Kŭlob")
    assert np.hypot(shelter.geometry.x - EXACT_LON, shelter.geometry.y - EXACT_LAT) > 0.02
    assert shelter["name"].startswith("Brief test org shelter (")
    services_csv = pd.read_csv(tmp_path / "tables_services.csv")
    assert SECRET_ROW["service_id"] in set(services_csv["service_id"])
    assert not {"note", "address", "owner_org"} & set(services_csv.columns)
    # ... and a file made from the exact point would be caught
    assert _leaks(f"{EXACT_LON},{EXACT_LAT}".encode()) and _leaks(struct.pack("<d", EXACT_LAT))


# --- the Report page ---------------------------------------------------------------------------


@pytest.fixture
def downloads(monkeypatch):
    """The bytes behind every download button of an AppTest run: file id → bytes."""
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
    from streamlit.testing.v1 import app_test

    stores: list[MemoryMediaFileStorage] = []

    class Recording(MemoryMediaFileStorage):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            stores.append(self)

    monkeypatch.setattr(app_test, "MemoryMediaFileStorage", Recording)

    def read(button) -> bytes:
        file_id = button.proto.url.rsplit("/", 1)[-1].split(".")[0]
        return stores[-1].get_file(file_id).content

    return read


def _report(district: str | None = None):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(PROJECT_ROOT / "pages/7_Report.py"), default_timeout=180)
    at.run()
    if district:
        at.selectbox(key="report_district").set_value(district).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_report_page_offers_every_file_with_the_librarys_figures(app_env, downloads, tmp_path):
    from dashboard import loaders

    at = _report()
    buttons = {b.key: b for b in at.get("download_button")}
    assert set(buttons) == {"dl_brief", "dl_map", "dl_reach", "dl_csv", "dl_xlsx", "dl_geojson", "dl_gpkg"}
    inputs = loaders.inputs()
    times = loaders.travel_times("summer")
    area = briefs.find_area(inputs.districts, district="Kulob")
    result = briefs.area_analysis(inputs, times, area, ["shelter"], threshold_min=config.DEFAULT_THRESHOLD_MIN)
    content = briefs.brief_content(inputs, times, area, result)
    assert [m.value for m in at.metric][:2] == [f"{content.total:,}", f"{content.within:,}"]
    pdf = tmp_path / "brief.pdf"
    pdf.write_bytes(downloads(buttons["dl_brief"]))
    flat = " ".join(pdf_text(pdf, layout=False).split())
    assert "Access to help for women: Kulob" in flat and f"{content.within:,} (est.)" in flat
    assert downloads(buttons["dl_map"])[:8] == b"\x89PNG\r\n\x1a\n"
    assert downloads(buttons["dl_xlsx"])[:2] == b"PK" and downloads(buttons["dl_gpkg"])[:6] == b"SQLite"
    layers = gpd.read_file(io.BytesIO(downloads(buttons["dl_geojson"])))
    assert set(layers["layer"]) == {"districts", "communities", "services"}
    communities = pd.read_csv(io.BytesIO(downloads(buttons["dl_csv"])))
    assert len(communities) == content.communities and set(communities["district"]) == {"Kulob"}


def test_the_report_page_files_never_hold_a_shelters_exact_point(app_env, private_store, monkeypatch, tmp_path,
                                                                  downloads):
    """The registry's shelter at a known exact point (conftest.SECRET_SHELTER, Bobojon Ghafurov):
    no file the page offers for its district holds the point, address, note or registry name."""
    from conftest import SECRET_SHELTER

    monkeypatch.setenv("COVERAGE_STORE", str(private_store))
    monkeypatch.setenv("COVERAGE_USERS", str(tmp_path / "users.yaml"))
    at = _report("Bobojon Ghafurov")
    needles = {SECRET_SHELTER["address"], "Test Street", "behind the gate", SECRET_SHELTER["name"]}
    for value in (SECRET_SHELTER["lon"], SECRET_SHELTER["lat"]):
        needles |= {f"{value:.3f}", f"{int(value * 1000) / 1000:.3f}"}
    files = {b.key: downloads(b) for b in at.get("download_button")}
    for key, data in files.items():
        texts = [data.decode("latin-1")]
        if key in ("dl_brief", "dl_reach"):
            path = tmp_path / f"{key}.pdf"
            path.write_bytes(data)
            texts.append(pdf_text(path))
        found = [n for n in needles if any(n.lower() in t.lower() for t in texts)]
        found += [f"double {v}" for v in (SECRET_SHELTER["lon"], SECRET_SHELTER["lat"])
                  for fmt in ("<d", ">d") if struct.pack(fmt, v) in data]
        assert not found, (key, found)
    services = gpd.read_file(io.BytesIO(files["dl_geojson"]))
    services = services[services["layer"] == "services"].set_index("service_id")
    assert services.loc[SECRET_SHELTER["service_id"], "location_precision"] == "settlement"  # there, at its town
