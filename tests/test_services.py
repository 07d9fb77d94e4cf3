"""The shipped services list and row-level validation of services files."""

from __future__ import annotations

import csv
import io
import json

import pandas as pd
import pytest

from coverage import config
from coverage.data import services
from coverage.data.services import ServicesError, load_services, read_services

SHIPPED = config.SERVICES_CSV.read_bytes()
HEADER = SHIPPED.decode("utf-8").splitlines()[0]


def _csv(rows: list[dict[str, str]]) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=HEADER.split(","))
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def _good_row(**changes: str) -> dict[str, str]:
    row = {c: "" for c in HEADER.split(",")}
    row.update(
        service_id="T-1", name="Test centre", organisation="Test NGO", type="crisis_centre", town="Kŭlob",
        district="Kulob", region="Khatlon", lon="69.78454", lat="37.91459", location_precision="settlement",
        confidential="false", confidence="medium",
    )
    row.update(changes)
    return row


def _problems(data: bytes, name: str = "upload.csv") -> list[services.Problem]:
    with pytest.raises(ServicesError) as err:
        read_services(data, name)
    assert name in str(err.value)
    return err.value.problems


def test_shipped_services_load_and_follow_the_facts():
    table = load_services()
    assert table["service_id"].is_unique
    assert set(table["type"]) <= set(config.SERVICE_TYPES)
    shelters = table[table["type"] == "shelter"]
    # The three organisations' shelters (plus Gulrukhsor's second, district-level one).
    assert {"Khujand", "Bokhtar", "Kŭlob"} <= set(shelters["town"])
    assert shelters["confidential"].all()
    assert (shelters["location_precision"] != "exact").all()
    # Najoti Kudakon's five districts of the Kulob zone all have self-help groups.
    shg = table[(table["type"] == "self_help_group") & table["organisation"].str.contains("Najoti")]
    assert {"Kulob", "Mir Sayyid Ali Hamadoni", "Shamsiddin Shohin", "Farkhor", "Khovaling"} <= set(shg["district"])
    assert table.crs.to_string() == config.CRS_STORE
    district_level = table[table["location_precision"] == "district"]
    assert district_level["note"].str.contains("district seat|district", case=False).all()


def test_shipped_services_carry_no_street_address():
    text = SHIPPED.decode("utf-8").lower()
    for word in ("street", " str.", "ул.", "kayum abdurakhimov"):
        for row in csv.DictReader(io.StringIO(SHIPPED.decode("utf-8"))):
            if row["type"] == "shelter":
                assert word not in " ".join(row.values()).lower()
    assert "address_public" not in text


def test_cyrillic_and_tajik_letters_load_unchanged():
    name = "Маркази бӯҳронӣ ҳ ҷ қ ғ ӣ ӯ"
    table = read_services(_csv([_good_row(name=name, town="Кӯлоб")]), "tajik.csv")
    assert table.loc[0, "name"] == name
    assert table.loc[0, "town"] == "Кӯлоб"


@pytest.mark.parametrize(
    "data, name, expected",
    [
        (b"", "empty.csv", "empty"),
        (b"   \n", "blank.csv", "empty"),
        ("service_id,name\nA,Центр\n".encode("cp1251"), "latin1.csv", "not UTF-8"),
        (HEADER.encode() + b"\n", "header_only.csv", "no rows"),
    ],
)
def test_file_level_problems(data, name, expected):
    problems = _problems(data, name)
    assert any(expected in p.message for p in problems)


def test_missing_column_is_named():
    rows = [_good_row()]
    data = pd.read_csv(io.BytesIO(_csv(rows)), dtype=str).drop(columns=["lat"]).to_csv(index=False).encode()
    problems = _problems(data)
    assert [(p.column, p.row) for p in problems] == [("lat", 0)]
    assert "missing" in problems[0].message


@pytest.mark.parametrize(
    "changes, column, fragment",
    [
        ({"type": "spa"}, "type", "not a known service type"),
        ({"lon": "81.2"}, "lat/lon", "outside Tajikistan"),
        ({"lon": "37.91459", "lat": "69.78454"}, "lat/lon", "swapped"),
        ({"lat": "north"}, "lat", "not a number"),
        ({"lon": ""}, "lon", "empty"),
        ({"location_precision": "street"}, "location_precision", "must be one of"),
        ({"confidential": "maybe"}, "confidential", "true or false"),
        ({"name": "=HYPERLINK(\"http://x\")"}, "name", "formula"),
    ],
)
def test_row_problems_name_row_column_and_problem(changes, column, fragment):
    data = _csv([_good_row(service_id="OK-1"), _good_row(service_id="BAD-1", **changes)])
    problems = _problems(data)
    assert len(problems) == 1, problems
    problem = problems[0]
    assert problem.row == 3  # header is line 1, the bad row is line 3
    assert problem.column == column
    assert fragment in problem.message
    assert problem.service_id == "BAD-1"
    assert "row 3" in str(problem)


@pytest.mark.parametrize("changes", [
    {"type": "shelter", "confidential": "true", "lon": "37.91459", "lat": "69.78454"},  # swapped
    {"type": "shelter", "confidential": "false", "lon": "81.23456", "lat": "37.91459"},  # outside; a shelter all the same
    {"type": "crisis_centre", "confidential": "yes", "lon": "37.91459", "lat": "69.78454"},
])
def test_problems_never_repeat_a_confidential_point(changes):
    problems = _problems(_csv([_good_row(service_id="SECRET-1", **changes)]))
    assert problems and problems[0].column == "lat/lon"
    text = " ".join(str(p) for p in problems)
    for value in (changes["lon"], changes["lat"]):
        assert value[:6] not in text


def test_duplicate_ids_point_at_first_use():
    problems = _problems(_csv([_good_row(), _good_row(name="Other")]))
    assert problems[0].row == 3 and "duplicate" in problems[0].message and "row 2" in problems[0].message


def test_every_problem_is_reported_at_once():
    data = _csv([_good_row(service_id="A", type="x"), _good_row(service_id="B", lat=""), _good_row(service_id="C")])
    problems = _problems(data)
    assert sorted(p.row for p in problems) == [2, 3]


def test_geojson_and_xlsx_uploads(tmp_path):
    row = _good_row()
    props = {k: v for k, v in row.items() if k not in ("lon", "lat")}
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": props, "geometry": {"type": "Point", "coordinates": [69.78454, 37.91459]}}
    ]}
    table = read_services(json.dumps(doc).encode(), "upload.geojson")
    assert table.loc[0, "lon"] == pytest.approx(69.78454)
    xlsx = tmp_path / "upload.xlsx"
    pd.DataFrame([row]).to_excel(xlsx, index=False)
    table = read_services(xlsx.read_bytes(), "upload.xlsx")
    assert table.loc[0, "service_id"] == "T-1"
    bad = pd.DataFrame([_good_row(lat="69.78454", lon="37.91459")])
    bad.to_excel(xlsx, index=False)
    problems = _problems(xlsx.read_bytes(), "upload.xlsx")
    assert problems[0].row == 2 and "swapped" in problems[0].message


def test_neutralise_formulas_in_exports():
    frame = pd.DataFrame({"name": ["=cmd()", "+1", "-2", "@x", "ok", " =pad"], "n": [1, 2, 3, 4, 5, 6]})
    safe = services.neutralise_formulas(frame)
    assert list(safe["name"]) == ["'=cmd()", "'+1", "'-2", "'@x", "ok", "' =pad"]
    assert list(safe["n"]) == [1, 2, 3, 4, 5, 6]
