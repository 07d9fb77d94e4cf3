"""The data step: mirror run, manifest, download path (local HTTP server), atomicity."""

from __future__ import annotations

import csv
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import Point, box, mapping

from coverage import config
from coverage.data import sources
from coverage.data.boundaries import load_districts, load_regions
from coverage.data.communities import load_communities
from coverage.data.sources import DataStepError, run_data_step
from coverage.digests import file_sha256

NATIONAL_TOTAL = 9_657_005


# --- mirror run -----------------------------------------------------------------------------


def test_mirror_outputs_exist(prepared_data_dir):
    for rel in ("boundaries/districts.gpkg", "communities/communities.gpkg", "health/health_facilities.gpkg",
                "manifest.json"):  # fmt: skip
        assert (prepared_data_dir / rel).is_file(), rel
    layers = {name for name, _ in pyogrio.list_layers(prepared_data_dir / "boundaries/districts.gpkg")}
    assert layers == {"districts", "regions"}
    assert [n for n, _ in pyogrio.list_layers(prepared_data_dir / "communities/communities.gpkg")] == ["communities"]
    # no temporary files left behind
    assert not [p for p in prepared_data_dir.rglob("*") if ".tmp" in p.name]


def test_mirror_counts(prepared_data_dir):
    d = load_districts(prepared_data_dir / "boundaries/districts.gpkg")
    r = load_regions(prepared_data_dir / "boundaries/districts.gpkg")
    c = load_communities(prepared_data_dir / "communities/communities.gpkg")
    assert len(d) == 59 and len(r) == 5
    assert int(d.population.sum()) == NATIONAL_TOTAL == int(r.population.sum()) == int(c.population.sum())
    assert len(c) > 2600


def test_manifest_checksums(prepared_data_dir, prepared_manifest, mirror_path):
    m = prepared_manifest
    assert m["mode"] == "mirror"
    assert m["totals"]["population"] == NATIONAL_TOTAL
    assert m["totals"]["districts"] == 59
    for key in ("geoboundaries_adm2", "geoboundaries_adm1", "census2020", "osm_settlements", "geonames",
                "crosswalk", "osm_health_points", "osm_health_polygons"):  # fmt: skip
        rec = m["inputs"][key]
        assert len(rec["sha256"]) == 64, key
        assert rec["licence"] and rec["source"] and rec["retrieved"] and rec["rows"] > 0, key
    census = m["inputs"]["census2020"]
    assert census["sha256"] == file_sha256(mirror_path / census["path"])
    assert census["rows"] == 59
    assert m["inputs"]["osm_settlements"]["rows"] == 2786
    for key, rec in m["outputs"].items():
        path = prepared_data_dir / rec["path"]
        assert rec["sha256"] == file_sha256(path), key
        assert rec["rows"] > 0 and rec["inputs"], key
    assert m["outputs"]["districts"]["layers"] == {"districts": 59, "regions": 5}


def test_health_facilities(prepared_data_dir):
    h = pyogrio.read_dataframe(prepared_data_dir / "health/health_facilities.gpkg", layer="health_facilities")
    assert len(h) > 300
    assert set(h.geometry.geom_type) == {"Point"}
    assert h.facility_id.is_unique
    assert h.district_id.notna().all()
    assert not (h.amenity == "pharmacy").any()
    assert {"point", "polygon centroid"} <= set(h.osm_geometry)
    # the columns coverage.services.load_health_facilities reads
    assert {"osm_type", "osm_id", "name", "addr:city", "district", "region"} <= set(h.columns)
    assert (h.facility_id == "osm-" + h.osm_type + "-" + h.osm_id.astype(str)).all()


def test_mirror_missing_errors(tmp_path):
    with pytest.raises(DataStepError, match="lacks"):
        run_data_step(tmp_path, data_dir=tmp_path / "data")
    assert not (tmp_path / "data").exists()


# --- a tiny synthetic country, for the download path and the failure tests ------------------
# ADM1: Khatlon (2 districts), DRS (Rudaki, enclosing Dushanbe), Dushanbe (no ADM2 unit).

ADM1 = [
    ("Khatlon Region", "TJ-KT", "T1-KT", box(69.5, 37.7, 70.1, 38.2)),
    ("Districts of Republican Subordination", "TJ-RA", "T1-RA", box(68.6, 38.4, 69.0, 38.7)),
    ("Dushanbe", "TJ-DU", "T1-DU", box(68.7, 38.5, 68.9, 38.6)),
]
ADM2 = [
    ("Kulob District", "T2-KUL", box(69.5, 37.7, 69.8, 38.2)),
    ("Muminobod District", "T2-MUM", box(69.8, 37.7, 70.1, 38.2)),
    ("Rudaki District", "T2-RUD", box(68.6, 38.4, 69.0, 38.7)),
]
CENSUS = {"T2-KUL": 216830, "T2-MUM": 96881, "T2-RUD": 603337, "T1-DU": 948251}
CENSUS_WOMEN = {"T2-KUL": 107877, "T2-MUM": 48026, "T2-RUD": 297451, "T1-DU": 460321}
PLACES = [  # (osm id, name, place, lon, lat)
    (1, "Кӯлоб", "city", 69.7845, 37.9146),
    (2, "Деҳаи Нав", "village", 69.60, 38.00),
    (3, "Qal'acha", "hamlet", 69.95, 38.10),
    (4, "Душанбе", "city", 68.7854, 38.5767),
    (5, "Somoniyon", "town", 68.7746, 38.4417),
    (6, "Outside", "village", 69.20, 38.00),  # inside the query hull, in no district
]


def _fc(features) -> dict:
    return {"type": "FeatureCollection", "features": features}


def _adm1_geojson() -> dict:
    return _fc([
        {"type": "Feature", "properties": {"shapeName": n, "shapeISO": iso, "shapeID": sid, "shapeGroup": "TJK",
                                           "shapeType": "ADM1"}, "geometry": mapping(g)}
        for n, iso, sid, g in ADM1
    ])  # fmt: skip


def _adm2_geojson() -> dict:
    return _fc([
        {"type": "Feature", "properties": {"shapeName": n, "shapeISO": "", "shapeID": sid, "shapeGroup": "TJK",
                                           "shapeType": "ADM2"}, "geometry": mapping(g)}
        for n, sid, g in ADM2
    ])  # fmt: skip


def _write_census(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    names = {sid: n for n, sid, _ in ADM2} | {"T1-DU": "Dushanbe"}
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["gb_adm2_shapeID", "census_unit_name", "population_total", "population_female_derived",
                    "census_units_tg"])
        for sid, pop in CENSUS.items():
            w.writerow([sid, names[sid], pop, CENSUS_WOMEN[sid], ""])


def _overpass_places() -> dict:
    return {
        "version": 0.6,
        "elements": [
            {"type": "node", "id": i, "lon": x, "lat": y, "tags": {"place": p, "name": n}}
            for i, n, p, x, y in PLACES
        ],
    }


def _overpass_health() -> dict:
    ring = [(101, 69.780, 37.910), (102, 69.781, 37.910), (103, 69.781, 37.911), (104, 69.780, 37.911)]
    return {
        "version": 0.6,
        "elements": [
            {"type": "node", "id": 90, "lon": 69.79, "lat": 37.92,
             "tags": {"amenity": "clinic", "name": "Маркази саломатӣ"}},
            {"type": "node", "id": 91, "lon": 68.78, "lat": 38.56, "tags": {"amenity": "hospital", "name": "Hospital"}},
            *({"type": "node", "id": i, "lon": x, "lat": y} for i, x, y in ring),
            {"type": "way", "id": 500, "nodes": [101, 102, 103, 104, 101],
             "tags": {"amenity": "hospital", "building": "yes", "name": "Беморхонаи вилоятӣ"}},
        ],
    }  # fmt: skip


class _Server:
    """http.server on 127.0.0.1 (ephemeral port) serving fixture responses."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []
        self.routes: dict[str, bytes] = {}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def _send(self, body: bytes, status: int = 200) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                outer.requests.append(("GET", self.path))
                if self.path in outer.routes:
                    self._send(outer.routes[self.path])
                else:
                    self._send(b'{"error": "not found"}', 404)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                outer.requests.append(("POST", self.path))
                if not self.path.endswith("/interpreter"):
                    self._send(b"{}", 404)
                elif "place" in body:
                    self._send(json.dumps(_overpass_places()).encode())
                else:
                    self._send(json.dumps(_overpass_health()).encode())

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def local_server(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    with _Server() as srv:
        for level, gj in (("ADM1", _adm1_geojson()), ("ADM2", _adm2_geojson())):
            srv.routes[f"/api/current/gbOpen/TJK/{level}/"] = json.dumps(
                {"boundaryISO": "TJK", "boundaryType": level, "boundaryLicense": "Open Data Commons Open Database License 1.0",
                 "buildDate": "Dec 12, 2023", "gjDownloadURL": f"{srv.base}/files/geoBoundaries-TJK-{level}.geojson"}
            ).encode()  # fmt: skip
            srv.routes[f"/files/geoBoundaries-TJK-{level}.geojson"] = json.dumps(gj).encode()
        monkeypatch.setattr(config, "GEOBOUNDARIES_API", f"{srv.base}/api/current")
        monkeypatch.setattr(config, "OVERPASS_URL", f"{srv.base}/overpass/api")
        yield srv


def test_download_path(local_server, tmp_path):
    census_mirror = tmp_path / "mirror"
    _write_census(census_mirror / "census2020_adm2/tjk_adm2_population_census2020.csv")
    data_dir = tmp_path / "data"
    seen = []
    m = run_data_step(census_mirror, data_dir=data_dir, download=True, progress=seen.append)
    assert seen and seen[-1] == "data step 100%: data step done"
    assert m["mode"] == "download"
    # geoBoundaries API → gjDownloadURL, both levels; Overpass only via /interpreter (no /status)
    gets = [p for verb, p in local_server.requests if verb == "GET"]
    assert "/api/current/gbOpen/TJK/ADM2/" in gets and "/files/geoBoundaries-TJK-ADM1.geojson" in gets
    posts = [p for verb, p in local_server.requests if verb == "POST"]
    assert posts == ["/overpass/api/interpreter"] * 2
    assert not any("status" in p for _, p in local_server.requests)
    assert m["inputs"]["geoboundaries_adm2"]["download_url"].startswith(local_server.base)
    assert m["inputs"]["geoboundaries_adm2"]["build_date"] == "Dec 12, 2023"

    d = load_districts(data_dir / "boundaries/districts.gpkg")
    assert sorted(d.district) == ["Dushanbe", "Kulob", "Muminobod", "Rudaki"]
    rudaki = d.set_index("district").loc["Rudaki"]
    assert not rudaki.geometry.contains(Point(68.8, 38.55))  # Dushanbe carved out
    assert d.set_index("district").loc["Dushanbe", "region"] == "Dushanbe"
    assert d.set_index("district").loc["Kulob", "region"] == "Khatlon"
    assert int(d.population.sum()) == sum(CENSUS.values())

    c = load_communities(data_dir / "communities/communities.gpkg")
    sums = c.groupby("district_id").population.sum().to_dict()
    assert sums == CENSUS
    assert "Кӯлоб" in set(c.name) and "Outside" not in set(c.name)
    assert "osm-node-1" in set(c.community_id)

    st = pd.read_csv(data_dir / "downloads/osm_settlements/tj_osm_settlements.csv", keep_default_na=False)
    assert len(st) == len(PLACES)
    assert st.set_index("name").loc["Outside", "region"].startswith("outside")
    assert st.set_index("name").loc["Душанбе", "name_script"] == "cyrillic"

    h = pyogrio.read_dataframe(data_dir / "health/health_facilities.gpkg")
    assert sorted(h.facility_id) == ["osm-node-90", "osm-node-91", "osm-way-500"]
    way = h.set_index("facility_id").loc["osm-way-500"]
    assert way.osm_geometry == "polygon centroid"
    assert abs(way.geometry.x - 69.7805) < 1e-4 and abs(way.geometry.y - 37.9105) < 1e-4
    assert m["outputs"]["health"]["rows"] == 3
    assert (data_dir / "downloads/geoboundaries_tjk/geoBoundaries-TJK-ADM2.geojson").is_file()
    assert not [p for p in data_dir.rglob("*") if ".tmp" in p.name]


def test_download_needs_census_mirror(local_server, tmp_path):
    with pytest.raises(DataStepError, match="census") as err:
        run_data_step(tmp_path / "empty", data_dir=tmp_path / "data", download=True)
    assert "PDF" in str(err.value) and "COVERAGE_MIRROR" in str(err.value)
    assert local_server.requests == []  # fails before downloading anything
    assert not (tmp_path / "data").exists()


def test_download_failure_leaves_nothing(local_server, tmp_path):
    local_server.routes.pop("/files/geoBoundaries-TJK-ADM2.geojson")  # 404
    census_mirror = tmp_path / "mirror"
    _write_census(census_mirror / "census2020_adm2/tjk_adm2_population_census2020.csv")
    with pytest.raises(DataStepError, match="download failed"):
        run_data_step(census_mirror, data_dir=tmp_path / "data", download=True)
    assert not (tmp_path / "data").exists() or not list((tmp_path / "data").rglob("*"))


def _tiny_mirror(root: Path) -> Path:
    """A mirror-shaped folder with the tiny country."""
    gb = root / "geoboundaries_tjk"
    gb.mkdir(parents=True)
    units = gpd.GeoDataFrame(
        [{"shapeID": sid, "shapeName": n, "district": n.replace(" District", ""), "region": r}
         for (n, sid, _), r in zip(ADM2, ["Khatlon", "Khatlon", "Districts of Republican Subordination (DRS)"])]
        + [{"shapeID": "T1-DU", "shapeName": "Dushanbe", "district": "Dushanbe", "region": "Dushanbe"}],
        geometry=[ADM2[0][2], ADM2[1][2], ADM2[2][2].difference(ADM1[2][3]), ADM1[2][3]],
        crs="EPSG:4326",
    )  # fmt: skip
    pyogrio.write_dataframe(units, gb / "tjk_adm2_districts_with_region.geojson", driver="GeoJSON")
    (gb / "geoBoundaries-TJK-ADM1.geojson").write_text(json.dumps(_adm1_geojson()), encoding="utf-8")
    _write_census(root / "census2020_adm2/tjk_adm2_population_census2020.csv")
    st = root / "osm_settlements_cavi/tj_osm_settlements.csv"
    st.parent.mkdir(parents=True)
    pd.DataFrame(
        [{"name": n, "place": p, "lat": y, "lon": x, "source_id": f"cavi#labels[{i}]"} for i, n, p, x, y in PLACES]
    ).to_csv(st, index=False)
    return root


def test_tiny_mirror_runs(tmp_path):
    m = run_data_step(_tiny_mirror(tmp_path / "mirror"), data_dir=tmp_path / "data")
    assert m["totals"]["population"] == sum(CENSUS.values())
    assert m["outputs"]["health"]["rows"] == 0  # the mirror has no health files: empty layer
    c = load_communities(tmp_path / "data/communities/communities.gpkg")
    assert "osm-1" in set(c.community_id)


def test_failed_step_leaves_no_partial_files(tmp_path, monkeypatch):
    mirror = _tiny_mirror(tmp_path / "mirror")
    data_dir = tmp_path / "data"
    (data_dir / "boundaries").mkdir(parents=True)
    old_manifest = data_dir / "manifest.json"
    old_manifest.write_text('{"old": true}', encoding="utf-8")
    old_districts = data_dir / "boundaries/districts.gpkg"
    old_districts.write_bytes(b"old districts")

    real = sources._write_layers
    calls = []

    def flaky(path, layers):
        calls.append(path)
        if len(calls) == 2:  # districts written to its temp file, communities fails
            raise OSError("disk full")
        return real(path, layers)

    monkeypatch.setattr(sources, "_write_layers", flaky)
    with pytest.raises(DataStepError, match="disk full"):
        run_data_step(mirror, data_dir=data_dir)
    assert len(calls) == 2
    files = sorted(str(p.relative_to(data_dir)) for p in data_dir.rglob("*") if p.is_file())
    assert files == ["boundaries/districts.gpkg", "manifest.json"]  # only what was there before
    assert old_manifest.read_text(encoding="utf-8") == '{"old": true}'
    assert old_districts.read_bytes() == b"old districts"
    assert not (data_dir / "communities").exists() and not (data_dir / "health").exists()


def test_bad_census_names_the_row(tmp_path):
    mirror = _tiny_mirror(tmp_path / "mirror")
    census = mirror / "census2020_adm2/tjk_adm2_population_census2020.csv"
    text = census.read_text(encoding="utf-8").replace("96881", "n/a")
    census.write_text(text, encoding="utf-8")
    with pytest.raises(DataStepError, match=r"row 2: population_total 'n/a'"):
        run_data_step(mirror, data_dir=tmp_path / "data")
    assert not (tmp_path / "data").exists()
