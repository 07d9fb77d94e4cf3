"""Write ``data/services/services.csv`` from the sourced facts.

The services list is the project's own table, authored row by row from
``tj_dv_services_facts/services_facts.csv`` (a list of sourced statements) and
``../shared/MISSION.md``. Each decision below says which fact row it comes from and
where the service is placed:

* a named town → the GeoNames point of that town, ``location_precision=settlement``;
* only a district → the district seat's GeoNames point, ``location_precision=district``
  (never an invented village; a jamoat named by the source is kept in ``note``);
* shelters are ``confidential`` and only ever placed at town level;
* ``places`` (a whole number) only where a source gives a capacity (see :data:`PLACES`;
  a range gives its lower bound), else empty = unknown.

Rows left out, and why: helplines (no place to travel to), the two perpetrator
programmes (not survivor services), and statements that name only a region
(Sughd CoWFA legal-aid centres; Najoti Kudakon's 12 support groups in six unnamed
districts), which cannot be placed without inventing a district.

Run: ``python tools/author_services.py [--mirror DIR]``; the output is committed.
"""

from __future__ import annotations

import argparse
import csv
import re
from pathlib import Path

from coverage import config

# GeoNames points (geonameid: name as in GeoNames, lat, lon) used as town or seat.
TOWNS: dict[str, tuple[int, str, float, float]] = {
    "Khujand": (1514879, "Khujand", 40.28256, 69.62216),
    "Ghafurov": (1514900, "Ghafurov", 40.21571, 69.72867),
    "Istaravshan": (1220253, "Istaravshan", 39.9142, 69.00328),
    "Ayni": (1222222, "Ayní", 39.39406, 68.53766),
    "Panjakent": (1220798, "Panjakent", 39.49524, 67.60931),
    "Isfara": (1514896, "Isfara", 40.12649, 70.62526),
    "Proletar": (1514839, "Proletar", 40.16713, 69.50163),
    "Shaydon": (1514921, "Shaydon", 40.66992, 70.3502),
    "Konibodom": (1514891, "Konibodom", 40.29414, 70.43122),
    "Bokhtar": (1220747, "Bokhtar", 37.83654, 68.77762),
    "Kulob": (1221194, "Kŭlob", 37.91459, 69.78454),
    "Shurobod": (1220479, "Shŭrobod", 37.84137, 70.04865),
    "Muminobod": (1221091, "Mŭ’minobod", 38.10714, 70.03213),
    "Moskva": (1220988, "Moskva", 37.66101, 69.62849),
    "Farkhor": (1220826, "Farkhor", 37.49219, 69.40356),
    "Khovaling": (1221321, "Khovaling", 38.34194, 69.97531),
    "Obikiik": (1220883, "Obikiik", 38.16033, 68.66605),
    "Bokhtariyon": (1221135, "Bokhtariyon", 37.88176, 68.7297),
    "Levakant": (1221549, "Levakant", 37.87136, 68.92233),
    "Kolkhozobod": (1221259, "Kolkhozobod", 37.58823, 68.65886),
    "Vakhsh": (1220219, "Vakhsh", 37.71485, 68.83456),
    "Shahritus": (1220576, "Shahritus", 37.26206, 68.13849),
    "Panj": (1220750, "Panj", 37.23634, 69.09911),
    "Dusti": (1221871, "Dŭstí", 37.34812, 68.66398),
    "Yovon": (1220112, "Yovon", 38.31408, 69.03784),
    "Hulbuk": (1220163, "Hulbuk", 37.80542, 69.64516),
}

# (fact row, id, short name, type override or None, town key, precision, district (today's name), region, note)
# `town` is the place the service is said to be in; with precision "district" it is the seat used.
DECISIONS: list[tuple[int, str, str, str | None, str, str, str, str, str]] = [
    (0, "SGH-GUL-SH1", "Gulrukhsor shelter", None, "Khujand", "settlement", "Bobojon Ghafurov", "Sughd",
     "Town level only: the shelter's address is never stored. Khujand city lies inside the Ghafurov district polygon."),
    (1, "SGH-GUL-CC1", "Gulrukhsor crisis centre", None, "Khujand", "settlement", "Bobojon Ghafurov", "Sughd", ""),
    (3, "SGH-GUL-SH2", "Gulrukhsor second shelter (Ghafurov district)", None, "Ghafurov", "district",
     "Bobojon Ghafurov", "Sughd", "Reported opened 2007; no later source. Placed at the district seat."),
    (4, "SGH-WRC-IST", "Women's Resource Centre Istaravshan", None, "Istaravshan", "settlement", "Istaravshan", "Sughd", ""),
    (5, "SGH-WRC-AYN", "Women's Resource Centre Ayni district", None, "Ayni", "district", "Ayni", "Sughd",
     "Only the district is known; placed at the district seat."),
    (6, "SGH-POL-KHJ", "DV police unit Khujand", None, "Khujand", "settlement", "Bobojon Ghafurov", "Sughd", ""),
    (7, "SGH-POL-PNJ", "Gender-sensitive police unit Panjakent", None, "Panjakent", "settlement", "Panjakent", "Sughd", ""),
    (8, "SGH-POL-ISF", "Gender-sensitive police unit Isfara", None, "Isfara", "settlement", "Isfara", "Sughd", ""),
    (10, "SGH-CWF-IST", "CoWFA representative Istaravshan", None, "Istaravshan", "settlement", "Istaravshan", "Sughd",
     "Government focal point, not a dedicated service."),
    (11, "SGH-CWF-JRS", "Women and family sector Jabbor Rasulov", None, "Proletar", "district", "Jabbor Rasulov", "Sughd",
     "Government focal point; only the district is known; placed at the district seat."),
    (13, "SGH-LAW-KHJ", "State legal aid Khujand", None, "Khujand", "settlement", "Bobojon Ghafurov", "Sughd", ""),
    (14, "SGH-LAW-ISF", "State legal aid Isfara", None, "Isfara", "settlement", "Isfara", "Sughd", ""),
    (15, "SGH-LAW-GAF", "State legal aid B. Ghafurov district", None, "Ghafurov", "district", "Bobojon Ghafurov", "Sughd",
     "Only the district is known; placed at the district seat."),
    (16, "SGH-SHG-ASH", "Woman and Society self-help groups Asht", None, "Shaydon", "district", "Asht", "Sughd",
     "Economic-empowerment groups, not a DV service. Only the district is known; placed at the district seat."),
    (17, "SGH-SHG-KON", "Woman and Society self-help groups Konibodom", None, "Konibodom", "district", "Konibodom", "Sughd",
     "Economic-empowerment groups, not a DV service. Only the district is known; placed at the district seat."),
    (18, "KHT-GHM-CC1", "Ghamkhori crisis centre", None, "Bokhtar", "settlement", "Kushoniyon", "Khatlon",
     "Bokhtar city lies inside the former Bokhtar (now Kushoniyon) district polygon."),
    (19, "KHT-GHM-SH1", "Ghamkhori shelter", None, "Bokhtar", "settlement", "Kushoniyon", "Khatlon",
     "Town level only: the shelter's address is never stored."),
    (20, "KHT-NK-SH1", "Najoti Kudakon shelter", None, "Kulob", "settlement", "Kulob", "Khatlon",
     "Town level only: the shelter's address is never stored. Shares one building with the crisis and resource centres."),
    (21, "KHT-NK-CC1", "Najoti Kudakon crisis centre Safobakhsh", None, "Kulob", "settlement", "Kulob", "Khatlon", ""),
    (22, "KHT-NK-RC1", "Najoti Kudakon Women's Resource Center Rushdi Zanon", None, "Kulob", "settlement", "Kulob", "Khatlon", ""),
    (23, "KHT-NK-SSW-SHU", "Najoti Kudakon support service Shamsiddin Shohin", None, "Shurobod", "district",
     "Shamsiddin Shohin", "Khatlon", "Only the district is known; placed at the district seat."),
    (24, "KHT-NK-SSW-MUM", "Najoti Kudakon support service Muminobod", None, "Muminobod", "district", "Muminobod", "Khatlon",
     "Only the district is known; placed at the district seat."),
    (25, "KHT-NK-SSW-HAM", "Najoti Kudakon support service Hamadoni", None, "Moskva", "district",
     "Mir Sayyid Ali Hamadoni", "Khatlon", "Only the district is known; placed at the district seat."),
    (26, "KHT-NK-SSW-FAR", "Najoti Kudakon support service Farkhor", None, "Farkhor", "district", "Farkhor", "Khatlon",
     "Only the district is known; placed at the district seat."),
    (27, "KHT-NK-RC-SHU", "Najoti Kudakon resource centre Shurobod", None, "Shurobod", "district", "Shamsiddin Shohin",
     "Khatlon", "Possibly the same structure as the support service in this district. Placed at the district seat."),
    (29, "KHT-NK-SHG-DUR", "Women's support group Durakhshon", None, "Shurobod", "district", "Shamsiddin Shohin", "Khatlon",
     "The source names Doghiston jamoat, which has no public point; placed at the district seat."),
    (30, "KHT-DIL-BKH", "Dilafruz Bokhtar", None, "Bokhtar", "settlement", "Kushoniyon", "Khatlon", ""),
    (31, "KHT-DIL-KHU", "Dilafruz Khuroson", None, "Obikiik", "district", "Khuroson", "Khatlon",
     "Only the district is known; placed at the district seat."),
    (32, "KHT-HAM-KUS", "Hamroz Kushoniyon", None, "Bokhtariyon", "district", "Kushoniyon", "Khatlon",
     "Only the district is known; placed at the district seat."),
    (33, "KHT-HAM-LEV", "Hamroz Levakant", None, "Levakant", "settlement", "Levakant", "Khatlon", ""),
    (34, "KHT-MAH-BAL", "Mahbuba Jaloliddini Balkhi", None, "Kolkhozobod", "district", "Jaloliddini Balkhi", "Khatlon",
     "Only the district is known; placed at the district seat (Kolkhozobod)."),
    (35, "KHT-MAH-VAK", "Mahbuba Vakhsh", None, "Vakhsh", "district", "Vakhsh", "Khatlon",
     "Only the district is known; placed at the district seat."),
    (36, "KHT-BFA-SHT", "Bonuvoni Fardo Shahritus", None, "Shahritus", "district", "Shahritus", "Khatlon",
     "Only the district is known; placed at the district seat."),
    (37, "KHT-KHZ-PNJ", "Khairkhohi Zamon Panj", None, "Panj", "district", "Panj", "Khatlon",
     "Only the district is known; placed at the district seat."),
    (38, "KHT-BPY-PNJ", "Bonuvoni Pyanj", None, "Panj", "district", "Panj", "Khatlon",
     "Only the district is known; placed at the district seat."),
    (39, "KHT-CHA-SHT", "Chashma rehabilitation centre for women", None, "Shahritus", "district", "Shahritus", "Khatlon",
     "Only the district is known; placed at the district seat."),
    (40, "KHT-CHA-SHG", "Chashma self-help groups", None, "Shahritus", "district", "Shahritus", "Khatlon",
     "The source names Kh. Kholmatov jamoat, which has no public point; placed at the district seat."),
    (41, "KHT-WRC-KHU", "Women's Resource Centre Khuroson", None, "Obikiik", "district", "Khuroson", "Khatlon",
     "Only the district is known; placed at the district seat."),
    (42, "KHT-POL-KUL", "DV police unit Kulob", None, "Kulob", "settlement", "Kulob", "Khatlon", ""),
    (43, "KHT-POL-BKH", "DV police unit Bokhtar", None, "Bokhtar", "settlement", "Kushoniyon", "Khatlon", ""),
    (44, "KHT-POL-JAY", "Gender-sensitive police unit Jayhun (Kumsangir)", None, "Dusti", "district", "Jayhun", "Khatlon",
     "Only the district is known; placed at the district seat Dusti (former Kumsangir town)."),
    (45, "KHT-POL-MUM", "Gender-sensitive police unit Muminobod", None, "Muminobod", "district", "Muminobod", "Khatlon",
     "Only the district is known; placed at the district seat."),
    (46, "KHT-MED-YOV", "Yovon hospital rehabilitation room for women", None, "Yovon", "district", "Yovon", "Khatlon",
     "District hospital; placed at the district seat."),
    (47, "KHT-LAW-YOV", "State legal aid Yovon", None, "Yovon", "district", "Yovon", "Khatlon",
     "Only the district is known; placed at the district seat."),
    (49, "KHT-CWF-BKH", "CoWFA Bokhtar city", None, "Bokhtar", "settlement", "Kushoniyon", "Khatlon",
     "Government focal point, not a dedicated service."),
    (50, "KHT-CWF-VOS", "Women and family department Vose", None, "Hulbuk", "district", "Vose'", "Khatlon",
     "Government focal point; only the district is known; placed at the district seat."),
]

# ``places`` (beds or places: the women, each with her children, a service can house at
# one time) from the fact row's published ``capacity``; a service not listed here has
# unknown places (empty, never zero). Where the sources give a range, the lower bound:
# the capacity analysis must not promise places that may not exist.
PLACES: dict[str, tuple[int, str]] = {
    # fact 0: "6 persons (IWPR, 2005); up to 12 individuals (RFE/RL, 2007)" → 6, the lower
    # bound (12 "individuals" likely counts children too).
    "SGH-GUL-SH1": (6, "6-12 in the sources (IWPR 2005: 6 persons; RFE/RL 2007: up to 12 individuals); "
                       "the lower bound is used"),
    # fact 3: "up to 4 women" (RFE/RL, 2007; status since unknown).
    "SGH-GUL-SH2": (4, "RFE/RL 2007: up to 4 women; no later source"),
    # fact 19: "3 DV victims with their children; stay up to 14 days" (pdv.tj).
    "KHT-GHM-SH1": (3, "pdv.tj: 3 victims with their children, for up to 14 days"),
}

# Najoti Kudakon's own brief (MISSION.md): 24 self-help groups and 12 support services
# for women in five districts of the Kulob zone; the split per district is not public.
MISSION_SOURCE = "Najoti Kudakon project brief, as quoted in the project's MISSION.md"
MISSION_ROWS = [
    ("KHT-NK-SHG-KUL", "Kulob", "Kulob"),
    ("KHT-NK-SHG-HAM", "Moskva", "Mir Sayyid Ali Hamadoni"),
    ("KHT-NK-SHG-SHU", "Shurobod", "Shamsiddin Shohin"),
    ("KHT-NK-SHG-FAR", "Farkhor", "Farkhor"),
    ("KHT-NK-SHG-KHO", "Khovaling", "Khovaling"),
]

# Short organisation names for reach figures (a funder asks "how many people can reach
# Ghamkhori?", not "… the Crisis Center of Public Organization Ghamkhori").
ORG_PATTERNS: list[tuple[str, str]] = [
    ("Gulrukhsor", "Gulrukhsor"), ("Ghamkhori", "Ghamkhori"), ("Najoti Kudakon", "Najoti Kudakon"),
    ("OSCE-established Women's Resource Centre", "OSCE Women's Resource Centres"),
    ("Ministry of Internal Affairs", "Police (Ministry of Internal Affairs)"),
    ("State lawyer", "State legal aid"), ("Committee on Women and Family Affairs", "Committee on Women and Family Affairs"),
    ("Women and family affairs", "Committee on Women and Family Affairs"),
    ("Woman and Society", "Woman and Society (Zanon va Jomea)"), ("Dilafruz", "Dilafruz"), ("Hamroz", "Hamroz"),
    ("Mahbuba", "Mahbuba"), ("Bonuvoni Fardo", "Bonuvoni Fardo"), ("Khairkhohi Zamon", "Khairkhohi Zamon"),
    ("Bonuvoni Pyanj", "Bonuvoni Pyanj"), ("Chashma", "Chashma"), ("Yovon district hospital", "Yovon district hospital"),
]


def _org(organisation: str) -> str:
    return next((short for pattern, short in ORG_PATTERNS if pattern in organisation), organisation)


COLUMNS = [
    "service_id", "name", "organisation", "org", "type", "town", "district", "region", "lon", "lat",
    "location_precision", "confidential", "capacity", "places", "opened_year", "source", "source_date",
    "confidence", "note",
]


_ADDRESS_WORDS = re.compile(r"(?i)\b(street|str\.|avenue|ave\.|address|ул\.|кӯч|улиц)")


def _without_address_sentences(text: str) -> str:
    """Drop every sentence that speaks of a street or an address (shelter safety)."""
    sentences = re.split(r"(?<=[.!?])\s+", text)
    return " ".join(s for s in sentences if not _ADDRESS_WORDS.search(s))


def _row(service_id, name, organisation, stype, town_key, precision, district, region, capacity,
         opened, source, source_date, confidence, note) -> dict[str, str]:
    _, town_name, lat, lon = TOWNS[town_key]
    places, places_note = PLACES.get(service_id, ("", ""))
    return {
        "service_id": service_id, "name": name, "organisation": organisation, "org": _org(organisation),
        "type": stype,
        "town": town_name, "district": district, "region": region, "lon": f"{lon:.5f}", "lat": f"{lat:.5f}",
        "location_precision": precision, "confidential": "true" if stype == "shelter" else "false",
        "capacity": capacity, "places": str(places), "opened_year": opened, "source": source, "source_date": source_date,
        "confidence": confidence,
        "note": " ".join(part for part in (note, f"Places: {places_note}." if places_note else "") if part),
    }


def author(mirror: Path) -> list[dict[str, str]]:
    with (mirror / "tj_dv_services_facts" / "services_facts.csv").open(encoding="utf-8") as fh:
        facts = list(csv.DictReader(fh))
    rows = []
    for idx, sid, name, override, town, precision, district, region, note in DECISIONS:
        fact = facts[idx]
        fact_note = fact["note"].strip()
        if fact["service_type"] == "shelter":
            fact_note = _without_address_sentences(fact_note)
        full_note = " ".join(part for part in (note, fact_note) if part)
        rows.append(_row(sid, name, fact["organisation"], override or fact["service_type"], town, precision,
                         district, region, fact["capacity"], fact["opened_year"], fact["source"],
                         fact["source_date"], fact["confidence"], full_note))
    for sid, town, district in MISSION_ROWS:
        rows.append(_row(sid, f"Najoti Kudakon self-help groups {district}", 'NGO "Najoti Kudakon"',
                         "self_help_group", town, "district", district, "Khatlon",
                         "part of 24 self-help groups in 5 districts", "", MISSION_SOURCE, "undated",
                         "medium", "Exact group locations are not public; one row per district, placed at the district seat."))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirror", type=Path, default=config.mirror_dir())
    parser.add_argument("--out", type=Path, default=config.SERVICES_CSV)
    args = parser.parse_args()
    rows = author(args.mirror)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} services to {args.out}")


if __name__ == "__main__":
    main()
