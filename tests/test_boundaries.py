"""Districts and regions: today's names, aliases, seats, census join, ADM1/ADM2 derivation."""

from __future__ import annotations

import pandas as pd
import pyogrio
import pytest
from conftest import require
from shapely.geometry import Point

from coverage.data import boundaries
from coverage.data.boundaries import alias_list, find_district, normalise_name

REGIONS = {
    "Khatlon",
    "Sughd",
    "Gorno-Badakhshan (GBAO)",
    "Districts of Republican Subordination (DRS)",
    "Dushanbe",
}


def test_schema(districts, regions):
    assert list(districts.columns) == boundaries.DISTRICT_COLUMNS
    assert list(regions.columns) == boundaries.REGION_COLUMNS
    assert districts.crs.to_epsg() == 4326 and regions.crs.to_epsg() == 4326
    assert districts.district_id.is_unique and districts.district.is_unique
    assert set(districts.region) == REGIONS == set(regions.region)
    assert set(districts.geometry.geom_type) <= {"Polygon", "MultiPolygon"}
    assert districts.geometry.is_valid.all()


def test_counts_and_population(districts, regions):
    assert len(districts) == 59
    assert districts.region.value_counts().to_dict() == {
        "Khatlon": 24,
        "Sughd": 14,
        "Districts of Republican Subordination (DRS)": 13,
        "Gorno-Badakhshan (GBAO)": 7,
        "Dushanbe": 1,
    }
    assert int(districts.population.sum()) == 9_657_005
    assert regions.set_index("region").population.to_dict() == {
        "Gorno-Badakhshan (GBAO)": 227_916,
        "Sughd": 2_769_261,
        "Khatlon": 3_436_420,
        "Districts of Republican Subordination (DRS)": 2_275_157,
        "Dushanbe": 948_251,
    }


def test_todays_names(districts):
    names = set(districts.district)
    for today in ("Dusti", "Jayhun", "Jaloliddini Balkhi", "Shamsiddin Shohin", "Devashtich", "Kushoniyon",
                  "Levakant", "Abdurahmoni Jomi", "Mir Sayyid Ali Hamadoni", "Shahritus", "Qubodiyon",
                  "Lakhsh", "Sangvor", "Bobojon Ghafurov", "Kulob", "Dushanbe"):  # fmt: skip
        assert today in names, today
    for old in ("Jilikul", "Qumsangir", "Rumi", "Shuro-obod", "Ghonchi", "Sarband", "Dzhami"):
        assert old not in names, old


def test_aliases_find_the_same_district(districts):
    a = find_district(districts, "Jilikul")
    b = find_district(districts, "Dusti")
    assert a["district_id"] == b["district_id"] == "16282066B29862957146199"
    assert "Jilikul" in alias_list(a["district_aliases"])
    for spelling in ("jilikul", "JILIKUL DISTRICT", "Jilikŭl", "Dusti district", "Дӯстӣ"):
        assert find_district(districts, spelling)["district"] == "Dusti", spelling


@pytest.mark.parametrize(
    ("name", "today"),
    [
        ("Qumsangir", "Jayhun"),
        ("Kumsangir", "Jayhun"),
        ("Rumi", "Jaloliddini Balkhi"),
        ("Kolkhozobod", "Jaloliddini Balkhi"),
        ("Jaloliddin Balkhi", "Jaloliddini Balkhi"),
        ("Shuro-obod", "Shamsiddin Shohin"),
        ("Shurobod", "Shamsiddin Shohin"),
        ("Shamsiddin Shohin (former Shurobod)", "Shamsiddin Shohin"),
        ("Ghonchi", "Devashtich"),
        ("Bokhtar District", "Kushoniyon"),
        ("Bokhtar city (former Kurgan-Tyube/Qurghonteppa)", "Kushoniyon"),
        ("Kurgan-Tyube", "Kushoniyon"),
        ("Qurghonteppa", "Kushoniyon"),
        ("Sarband", "Levakant"),
        ("Levakant city (former Sarband)", "Levakant"),
        ("Dzhami", "Abdurahmoni Jomi"),
        ("Hamadoni", "Mir Sayyid Ali Hamadoni"),
        ("Mir Said Alii Hamadoni", "Mir Sayyid Ali Hamadoni"),
        ("Moskovsky", "Mir Sayyid Ali Hamadoni"),
        ("Shahrtuz", "Shahritus"),
        ("Shahrituz (Shaartuz)", "Shahritus"),
        ("Qabodiyon", "Qubodiyon"),
        ("Bobojon Ghafurov (Ghafurov) district", "Bobojon Ghafurov"),
        ("Khujand", "Bobojon Ghafurov"),
        ("Khujand city", "Bobojon Ghafurov"),
        ("Хуҷанд", "Bobojon Ghafurov"),
        ("Kanibadam (Konibodom)", "Konibodom"),
        ("Kanibadam", "Konibodom"),
        ("Vose", "Vose'"),
        ("VOSE'", "Vose'"),
        ("Kulob city", "Kulob"),
        ("Kŭlob", "Kulob"),
        ("Jirgatol", "Lakhsh"),
        ("Tavildara", "Sangvor"),
        ("Sharinav", "Shahrinav"),
        ("Dushanbe", "Dushanbe"),
        ("Khorog", "Shughnon"),
    ],
)
def test_alias_lookup(districts, name, today):
    assert find_district(districts, name)["district"] == today


def test_every_services_facts_district_resolves(districts, mirror_path):
    facts = mirror_path / "tj_dv_services_facts/services_facts.csv"
    require(facts.exists(), "no services facts in the mirror")
    df = pd.read_csv(facts, dtype=str, keep_default_na=False)
    for name in sorted(set(df["district"]) - {""}):
        find_district(districts, name)  # raises KeyError if unknown


def test_unknown_name_raises(districts):
    with pytest.raises(KeyError, match="Atlantis"):
        find_district(districts, "Atlantis")
    with pytest.raises(KeyError):
        find_district(districts, "")


def test_aliases_are_unambiguous(districts):
    owner = {}
    for _, row in districts.iterrows():
        for n in [row["district"], *alias_list(row["district_aliases"])]:
            k = normalise_name(n)
            assert owner.setdefault(k, row["district_id"]) == row["district_id"], n


def test_seats(districts):
    assert (districts.seat != "").all()
    for _, row in districts.iterrows():
        pt = Point(row["seat_lon"], row["seat_lat"])
        assert row.geometry.buffer(0.02).contains(pt), row["district"]
    by = districts.set_index("district")
    assert by.loc["Dusti", "seat"] == "Jilikul"
    assert by.loc["Kushoniyon", "seat"] == "Bokhtar"
    assert by.loc["Mir Sayyid Ali Hamadoni", "seat"] == "Moskva"


def test_cyrillic_aliases_survive(districts):
    ghafurov = find_district(districts, "Ghafurov")
    assert "Хуҷанд" in alias_list(ghafurov["district_aliases"])
    kush = find_district(districts, "Kushoniyon")
    assert "Кушониён" in alias_list(kush["district_aliases"])  # "К ушониён" typo in the source fixed


def test_districts_with_region_reproduces_the_mirror(mirror_path):
    """The download path derives the 59 units from raw ADM1/ADM2 like the mirror's file."""
    gb = mirror_path / "geoboundaries_tjk"
    adm1 = pyogrio.read_dataframe(gb / "geoBoundaries-TJK-ADM1_simplified.geojson")
    adm2 = pyogrio.read_dataframe(gb / "geoBoundaries-TJK-ADM2_simplified.geojson")
    units = boundaries.districts_with_region(adm2, adm1)
    ref = pyogrio.read_dataframe(gb / "tjk_adm2_districts_with_region.geojson")
    assert len(units) == 59
    got = units.set_index("shapeID")["region"].to_dict()
    assert got == ref.set_index("shapeID")["region"].to_dict()
    rudaki = units.set_index("district").loc["Rudaki"].geometry
    dushanbe = units.set_index("district").loc["Dushanbe"].geometry
    assert rudaki.intersection(dushanbe).area < 1e-6


def test_normalise_name():
    assert normalise_name("Vose' District") == normalise_name("vose") == normalise_name("Восеъ")
    assert normalise_name("Qumsangir") == normalise_name("Kumsangir")
    assert normalise_name("Shuro-obod") == normalise_name("Shurobod")
    assert normalise_name("Дӯстӣ") == normalise_name("Dusti")
