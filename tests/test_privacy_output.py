"""Shelter privacy on real output: a shelter with a known exact point and address goes
into the registry; every public page (AppTest and headless Chromium), every public
export (CLI and store), the server log and the log records must hold neither the point
(3 decimals or finer, either coordinate) nor the address.

The point (69.63917, 40.29151) was chosen so that its 3-decimal strings ("69.639",
"40.291", and "40.292" rounded) occur nowhere in the pages rendered without it: a hit
means a leak, not a district outline that happens to pass nearby.
"""

from __future__ import annotations

import io
import json
import logging
import struct
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import PROJECT_ROOT, SECRET_SHELTER, component_text, rendered_text, wait_idle
from streamlit.testing.v1 import AppTest

LON, LAT = SECRET_SHELTER["lon"], SECRET_SHELTER["lat"]
ADDRESS = SECRET_SHELTER["address"]
NAME = SECRET_SHELTER["name"]  # the registry's own name: never public
# The name the public sees: organisation, type and the town it is shown at.
PUBLIC_NAME = f"{SECRET_SHELTER['org']} shelter ("


def _needles() -> set[str]:
    """The exact point at 3 decimals or finer (a 3-decimal prefix catches every finer
    form), truncated and rounded, plus the address, the private note and the registry's
    own free-text name (the public sees a plain organisation-type-town name)."""
    out = set()
    for value in (LON, LAT):
        out.add(f"{value:.3f}")
        out.add(f"{int(value * 1000) / 1000:.3f}")
    return out | {ADDRESS, "Test Street", "behind the gate", NAME}


NEEDLES = _needles()
PUBLIC_PAGES = ["app.py", "pages/1_Underserved_communities.py", "pages/2_Reach.py", "pages/3_About_the_data.py",
                "pages/4_Services_(staff).py", "pages/5_Scenarios.py", "pages/6_Capacity.py",
                "pages/7_Report.py", "pages/8_Next_site.py"]


def leaks(text: str) -> list[str]:
    return sorted(n for n in NEEDLES if n.lower() in text.lower())


def _binary_leaks(data: bytes) -> list[str]:
    """Needles as text, plus the coordinates as raw doubles (WKB in a GeoPackage)."""
    found = leaks(data.decode("latin-1"))
    for value in (LON, LAT):
        for fmt in ("<d", ">d"):
            if struct.pack(fmt, value) in data:
                found.append(f"double {value} ({fmt})")
    return found


def _map_scripts(at: AppTest) -> list[str]:
    return [component_text(n) for root in (at.main, at.sidebar) for n in root
            if type(n).__name__ == "UnknownElement" and n.proto.component_name.endswith("st_folium")]


@pytest.fixture
def private_env(app_env, private_store, monkeypatch, tmp_path):
    """The app's environment, with the registry that holds the secret shelter and a
    users file of its own."""
    monkeypatch.setenv("COVERAGE_STORE", str(private_store))
    monkeypatch.setenv("COVERAGE_USERS", str(tmp_path / "users.yaml"))
    return private_store


def _run(page: str, token: str | None = None) -> AppTest:
    from dashboard import session

    at = AppTest.from_file(str(PROJECT_ROOT / page), default_timeout=120)
    if token:
        at.session_state[session.SESSION_TOKEN_KEY] = token
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _token(username: str, organisation: str, role: str = "staff") -> str:
    from coverage.registry import auth

    old = auth.BCRYPT_ROUNDS
    auth.BCRYPT_ROUNDS = 4
    try:
        user = auth.add_user(auth.users_file(), username, username, organisation, "a-long-password-1", role)
    finally:
        auth.BCRYPT_ROUNDS = old
    return auth.issue_token(user, auth.cookie_secret())


def test_the_secret_shelter_is_in_the_registry_at_its_exact_point(private_store):
    from coverage.registry import store

    row = store.open_store(private_store).get(SECRET_SHELTER["service_id"])
    assert (row["lon"], row["lat"], row["address"]) == (LON, LAT, ADDRESS)
    assert row["confidential"] and row["location_precision"] == "exact"
    assert leaks(json.dumps(row)), "the needles must find the point where it is allowed to be"


@pytest.mark.parametrize("page", PUBLIC_PAGES)
def test_no_public_page_renders_the_exact_point(private_env, page, caplog):
    caplog.set_level(logging.DEBUG)
    at = _run(page)
    text = rendered_text(at)
    assert not leaks(text), leaks(text)
    assert not leaks(caplog.text)
    # The shelter is there, at town level: the test looks at output that includes it.
    if page in ("app.py", "pages/1_Underserved_communities.py", "pages/5_Scenarios.py"):
        scripts = _map_scripts(at)
        assert scripts and any(PUBLIC_NAME in s for s in scripts), "the shelter is drawn on the map (at its town)"
    if page == "pages/2_Reach.py":
        assert SECRET_SHELTER["org"] in text  # reach is computed with it
    if page == "pages/6_Capacity.py":
        assert PUBLIC_NAME in text  # listed (places unknown) under its public name only
    if page.startswith("pages/4"):
        assert not at.dataframe and not _map_scripts(at)
        assert "signed-in staff" in text


def test_the_public_map_shows_the_shelter_at_its_town(private_env):
    """The marker's only place in the map script is the settlement point."""
    from coverage import analysis
    from coverage.registry import store
    from coverage.views.privacy import public_services
    from dashboard import loaders

    at = _run("app.py")
    script = next(s for s in _map_scripts(at) if PUBLIC_NAME in s)
    data = analysis.load_inputs(loaders.data_dir(), services_table=store.open_store(private_env).services())
    public = public_services(data.services, data.places).set_index("service_id").loc[SECRET_SHELTER["service_id"]]
    assert public["location_precision"] == "settlement"
    assert f"[{public.geometry.y}, {public.geometry.x}]" in script


def test_signed_in_staff_of_another_organisation_do_not_see_it(private_env):
    token = _token("other.staff", "gulrukhsor")
    for page in ("app.py", "pages/4_Services_(staff).py"):
        at = _run(page, token)
        text = rendered_text(at)
        assert not leaks(text), (page, leaks(text))
    assert "Signed in as" in text and SECRET_SHELTER["service_id"] in text  # listed, at town level


def test_staff_of_the_owning_organisation_see_the_exact_point(private_env):
    """Control: the gate is the sign-in, the point itself is intact."""
    token = _token("owner.staff", SECRET_SHELTER["owner_org"])
    at = _run("pages/4_Services_(staff).py", token)
    registry = at.dataframe[0].value.set_index("service_id")
    assert registry.loc[SECRET_SHELTER["service_id"], "lon"] == LON
    assert registry.loc[SECRET_SHELTER["service_id"], "address"] == ADDRESS
    at = _run("app.py", token)
    assert any(f"[{LAT}, {LON}]" in s for s in _map_scripts(at))


# --- exports -----------------------------------------------------------------------------------


def _check_public_file(data: bytes, fmt: str, with_places: bool) -> None:
    assert not _binary_leaks(data), _binary_leaks(data)
    if fmt == "csv":
        frame = pd.read_csv(io.BytesIO(data), dtype={"service_id": str})
        points = frame[["lon", "lat"]].to_numpy(dtype=float)
        ids = frame["service_id"]
    else:
        import geopandas as gpd
        import pyogrio

        if fmt == "geojson":
            frame = gpd.read_file(io.BytesIO(data))
        else:
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "services.gpkg"
                path.write_bytes(data)
                frame = pyogrio.read_dataframe(path, layer="services")
        points = np.column_stack([frame.geometry.x, frame.geometry.y])
        ids = frame["service_id"]
    assert "address" not in frame.columns and "note" not in frame.columns and "owner_org" not in frame.columns
    distance = np.hypot(points[:, 0] - LON, points[:, 1] - LAT)
    assert distance.min() > 0.005, "no point within ~500 m of the shelter"
    assert (SECRET_SHELTER["service_id"] in set(ids)) == with_places  # at its town, or left out


@pytest.mark.parametrize("fmt", ["csv", "geojson", "gpkg"])
def test_public_exports_never_hold_the_exact_point(private_env, prepared_data_dir, tmp_path, fmt, caplog, capsys):
    from coverage import analysis, cli
    from coverage.registry import store

    caplog.set_level(logging.DEBUG)
    out = tmp_path / f"services_public.{fmt}"
    assert cli.main(["--data-dir", str(prepared_data_dir), "export-services", "--public", "--format", fmt,
                     "--out", str(out), "--store", str(private_env)]) == 0
    _check_public_file(out.read_bytes(), fmt, with_places=True)

    registry = store.open_store(private_env)
    places = analysis.load_inputs(prepared_data_dir, services_table=registry.services()).places
    _check_public_file(registry.export(fmt, public=True, places=places), fmt, with_places=True)
    _check_public_file(registry.export(fmt, public=True), fmt, with_places=False)

    # Control: the staff copy does hold it, so the checks above can see a leak.
    staff = tmp_path / f"services_staff.{fmt}"
    assert cli.main(["export-services", "--staff", "--format", fmt, "--out", str(staff),
                     "--store", str(private_env)]) == 0
    assert _binary_leaks(staff.read_bytes())
    assert staff.stat().st_mode & 0o077 == 0, "the staff copy is readable by its owner only"

    printed = capsys.readouterr()
    assert not leaks(printed.out + printed.err + caplog.text)


# --- the real dashboard in Chromium -------------------------------------------------------------

METRIC = '[data-testid="stMetricValue"]'
MAP = 'iframe[title="streamlit_folium.st_folium"]'
# Every point layer (markers, circles) on the live Leaflet map, with its tooltip text: the
# feature groups are added by script at run time, so they are not in the frame's HTML.
LEAFLET_POINTS = """() => {
  const map = Object.values(window).find(v => v && v._leaflet_id && typeof v.eachLayer === 'function');
  if (!map) return null;
  const points = [], tips = [];
  map.eachLayer(layer => {
    if (layer.getLatLng) { const p = layer.getLatLng(); points.push([p.lng, p.lat]); }
    const tip = layer.getTooltip && layer.getTooltip();
    if (tip) { const c = tip.getContent(); tips.push(typeof c === 'string' ? c : (c && c.outerHTML) || ''); }
  });
  return {points, tips};
}"""


def _wait_for_map(page) -> None:
    frame = page.frame_locator(MAP).first
    frame.locator(".leaflet-container").wait_for(timeout=90_000)
    frame.locator(".leaflet-marker-icon").first.wait_for(timeout=60_000)


def _page_output(page) -> tuple[str, list[list[float]]]:
    """The DOM of the page and of every frame in it plus every map's tooltips, and the
    points on every live map."""
    texts = [page.content()]
    points: list[list[float]] = []
    for frame in page.frames:
        try:
            texts.append(frame.content())
            found = frame.evaluate(LEAFLET_POINTS)
        except Exception:  # a frame navigating away; the page is idle by now, so rare
            continue
        if found:
            points.extend(found["points"])
            texts.extend(found["tips"])
    return "\n".join(texts), points


@pytest.mark.e2e
def test_public_pages_in_chromium_never_hold_the_exact_point(private_streamlit_server, browser, caplog):
    base, log_path = private_streamlit_server
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(base + "/")
    page.wait_for_selector(METRIC, timeout=90_000)
    _wait_for_map(page)
    wait_idle(page)
    outputs = {"map": _page_output(page)}
    # (link, heading, a text further down that shows the page has rendered, has a map)
    for link, heading, text, has_map in (
            ("Underserved communities", "Underserved communities", "Districts beyond", True),
            ("Reach", "Reach by organisation", "Download reach by district", False),
            ("About the data", "About the data", "Where each service is placed", False),
            ("Services (staff)", "Services registry (staff)", "signed-in staff", False)):
        page.get_by_test_id("stSidebarNav").get_by_role("link", name=link, exact=True).click()
        page.get_by_role("heading", name=heading).wait_for(timeout=90_000)
        page.get_by_text(text).first.wait_for(timeout=90_000)
        if has_map:
            _wait_for_map(page)
        wait_idle(page)
        outputs[link] = _page_output(page)
    page.close()

    for name, (text, points) in outputs.items():
        assert not leaks(text), (name, leaks(text))
        if points:
            xy = np.asarray(points, dtype=float)
            assert np.hypot(xy[:, 0] - LON, xy[:, 1] - LAT).min() > 0.005, name
    # Control: the maps were drawn, with the shelter on them at its town.
    map_text, map_points = outputs["map"]
    assert len(map_points) >= 20 and PUBLIC_NAME in map_text and NAME not in map_text
    assert PUBLIC_NAME in outputs["Underserved communities"][0]
    assert "signed-in staff" in outputs["Services (staff)"][0]

    log = log_path.read_text(encoding="utf-8", errors="replace")
    assert not leaks(log), leaks(log)
    assert not leaks(caplog.text)
