"""Shared fixtures.

``prepared_data_dir`` runs the data step once per test session from the offline mirror
(``COVERAGE_MIRROR`` or ../shared/data) into a temporary folder and returns that folder;
its layout is the project's ``data/`` layout (boundaries/districts.gpkg,
communities/communities.gpkg, health/health_facilities.gpkg, manifest.json).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from coverage import config

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def in_ci() -> bool:
    """True on the CI runner (``CI`` set to anything but empty/0/false)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def require(condition: bool, reason: str) -> None:
    """A test's precondition: on a developer's machine a missing one skips the test
    (with ``reason``); in CI it FAILS, so a green CI never hides tests that did not run."""
    if condition:
        return
    if in_ci():
        pytest.fail(f"CI cannot run this test: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def mirror_path() -> Path:
    """The offline data mirror (``COVERAGE_MIRROR`` or ../shared/data); see :func:`require`."""
    mirror = config.mirror_dir()
    require(mirror is not None and Path(mirror).is_dir(),
            "no offline data mirror: set COVERAGE_MIRROR or put the mirror in ../shared/data")
    return Path(mirror)


@pytest.fixture(scope="session")
def prepared_data_dir(tmp_path_factory, mirror_path) -> Path:
    """The data step run once from the mirror into a temporary data folder."""
    from coverage.data.sources import run_data_step

    data_dir = tmp_path_factory.mktemp("data")
    run_data_step(mirror_path, data_dir=data_dir)
    return data_dir


@pytest.fixture(scope="session")
def districts(prepared_data_dir):
    """The districts layer the data step wrote (EPSG:4326)."""
    from coverage.data.boundaries import load_districts

    return load_districts(prepared_data_dir / "boundaries/districts.gpkg")


@pytest.fixture(scope="session")
def regions(prepared_data_dir):
    """The regions layer the data step wrote (EPSG:4326)."""
    from coverage.data.boundaries import load_regions

    return load_regions(prepared_data_dir / "boundaries/districts.gpkg")


@pytest.fixture(scope="session")
def prepared_manifest(prepared_data_dir) -> dict:
    return json.loads((prepared_data_dir / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def app_env(prepared_data_dir, tmp_path_factory):
    """Environment for running the dashboard in tests: the prepared data, no map tiles
    (no internet here), and a private folder for the registry and users file."""

    private = tmp_path_factory.mktemp("private")
    env = {
        "COVERAGE_DATA_DIR": str(prepared_data_dir),
        "COVERAGE_MAP_TILES": "none",
        "COVERAGE_STORE": str(private / "registry.gpkg"),
        "COVERAGE_USERS": str(private / "users.yaml"),
        "COVERAGE_COOKIE_SECRET": "test-secret-" + "x" * 40,
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    yield env
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_streamlit(env: dict[str, str], log_path: Path, *extra_args: str):
    """``streamlit run app.py`` (through ``dashboard.serve``, as the README starts it) on a
    free localhost port with ``env`` added to this process's environment, output in
    ``log_path``; yields the base URL and stops the server (terminate, then kill) when the
    block ends."""
    port = _free_port()
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "dashboard.serve", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
             *extra_args],
            cwd=PROJECT_ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.time() + 60
            while time.time() < deadline:
                try:
                    with urllib.request.urlopen(base + "/_stcore/health", timeout=2) as resp:
                        if resp.status == 200:
                            break
                except OSError:
                    time.sleep(0.3)
            else:
                raise RuntimeError("streamlit did not start:\n" + log_path.read_text())
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture(scope="session")
def streamlit_server(app_env, tmp_path_factory):
    """``streamlit run app.py`` on a free localhost port; yields (base URL, log path)."""
    log_path = tmp_path_factory.mktemp("server") / "streamlit.log"
    with running_streamlit(app_env, log_path) as base:
        yield base, log_path


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium driven by Playwright (installed by scripts/setup.sh --browser)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: run `bash scripts/setup.sh --browser` (apt-get install chromium)")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


# --- privacy tests: a registry holding a shelter at a known exact point ---------------------
# Used only by tests/test_privacy_output.py, with a store and a server of its own, so tests
# that count the shipped services never see this row.

SECRET_SHELTER = {
    "service_id": "TEST-SECRET-SHELTER",
    "name": "Privacy test shelter",
    "organisation": "Privacy test organisation",
    "org": "Privacy test org",
    "type": "shelter",
    "town": "Khujand",
    "district": "Bobojon Ghafurov",
    "region": "Sughd",
    "lon": 69.63917,
    "lat": 40.29151,
    "location_precision": "exact",
    "confidential": True,
    "capacity": "8 women",
    "source": "privacy test",
    "source_date": "2025-01-01",
    "confidence": "high",
    "note": "Test note behind the gate at 12 Test Street",
    "address": "12 Test Street",
    "owner_org": "privacy-test-org",
}


@pytest.fixture(scope="session")
def private_store(tmp_path_factory) -> Path:
    """A registry seeded from the shipped list plus SECRET_SHELTER (exact, confidential)."""
    from coverage.registry import store

    path = tmp_path_factory.mktemp("private-registry") / "registry.gpkg"
    store.open_store(path).add(SECRET_SHELTER, "privacy-test-setup")
    return path


@pytest.fixture(scope="session")
def private_streamlit_server(app_env, private_store, tmp_path_factory):
    """Like ``streamlit_server`` but serving ``private_store`` and logging at info level
    (the privacy tests read the log); yields (base URL, log path)."""
    log_path = tmp_path_factory.mktemp("private-server") / "streamlit.log"
    with running_streamlit({**app_env, "COVERAGE_STORE": str(private_store)}, log_path,
                           "--logger.level", "info") as base:
        yield base, log_path


# --- helpers shared by the page tests ----------------------------------------------------------


def component_text(node) -> str:
    """Every text argument a custom component (st_folium) sends to the browser: the map
    script, the feature groups (markers, polygons), the layer control, HTML, header."""
    args = json.loads(node.proto.json_args or "{}")
    return "\n".join(v if isinstance(v, str) else json.dumps(v) for v in args.values())


def rendered_text(at) -> str:
    """Everything an AppTest run put on the page: every element's protobuf (markdown,
    metrics, widgets, component arguments), the folium map's script and layers passed
    to st_folium, and every dataframe's values written out in full."""
    parts = []
    for root in (at.main, at.sidebar):
        for node in root:
            if type(node).__name__ in ("Dataframe", "Table"):  # Arrow data: write the values out
                parts.append(node.value.to_csv())
            elif hasattr(node, "proto"):
                parts.append(str(node.proto))
                if getattr(node.proto, "json_args", ""):
                    parts.append(component_text(node))
    return "\n".join(parts)


def wait_idle(page, timeout_s: float = 90.0) -> None:
    """Wait until Streamlit has finished the current run (no 'Running…' status widget)."""
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if page.locator('[data-testid="stStatusWidget"]').count() == 0:
            return
        time.sleep(0.1)
    raise AssertionError(f"Streamlit still running after {timeout_s:.0f} s")


def execute_behind_the_store(registry, statement: str) -> None:
    """Run one SQL ``statement`` on the registry's database itself (PostGIS, or the
    GeoPackage's SQLite), past the store's own rules: how an older or tampered database
    is made for a test."""
    from coverage.registry.base import StoreURL

    if isinstance(registry.path, StoreURL):
        import psycopg

        with psycopg.connect(str(registry.path), autocommit=True) as con:
            con.execute(statement)
        return
    import sqlite3

    con = sqlite3.connect(registry.path)
    try:
        con.execute(statement)
        con.commit()
    finally:
        con.close()


# --- the registry on both back-ends (as geopandas parametrises its I/O engines) --------------

PG_BIN = Path(os.environ.get("COVERAGE_PG_BIN", "/usr/lib/postgresql/15/bin"))
POSTGIS_CONTROL = Path(os.environ.get("COVERAGE_POSTGIS_CONTROL",
                                      "/usr/share/postgresql/15/extension/postgis.control"))
PG_TEMPLATE_DB = "registry_template"
REGISTRY_BACKENDS = ["gpkg", "postgis"]


@dataclass(frozen=True)
class Cluster:
    port: int
    admin_url: str

    def url(self, database: str, password: str = "") -> str:
        secret = f":{password}" if password else ""
        return f"postgresql://postgres{secret}@127.0.0.1:{self.port}/{database}"


def _run(cmd: list[str]) -> None:
    import subprocess

    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr}")


@pytest.fixture(scope="session")
def pg_cluster():
    """A PostgreSQL 15 cluster in a temporary folder (trust auth, 127.0.0.1 on a free
    port), with a template database holding PostGIS; stopped and removed at the end.
    Without PostgreSQL + PostGIS: fails in CI, skips elsewhere."""
    import shutil
    import subprocess
    import tempfile

    missing = [str(p) for p in (PG_BIN / "initdb", PG_BIN / "pg_ctl", POSTGIS_CONTROL) if not p.exists()]
    require(not missing, f"PostgreSQL 15 + PostGIS not installed ({', '.join(missing)} missing); "
                         "run: bash scripts/setup.sh --postgis")
    import psycopg

    # PostgreSQL refuses to run as root: run its programs as the postgres user then.
    as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    base = Path(tempfile.mkdtemp(prefix="coverage-pg-"))
    if as_pg:
        shutil.chown(base, "postgres", "postgres")
    data, port = base / "data", _free_port()
    options = (f"-k {base} -p {port} -c listen_addresses=127.0.0.1 "
               "-c fsync=off -c full_page_writes=off -c synchronous_commit=off")  # throwaway: speed over safety
    try:
        _run(as_pg + [str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                      "-E", "UTF8", "--locale=C", "--no-sync"])
        _run(as_pg + [str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(base / "server.log"), "-w",
                      "-o", options, "start"])
        server = Cluster(port, f"postgresql://postgres@127.0.0.1:{port}/postgres")
        with psycopg.connect(server.admin_url, autocommit=True) as con:
            con.execute(f"CREATE DATABASE {PG_TEMPLATE_DB}")
        with psycopg.connect(server.url(PG_TEMPLATE_DB), autocommit=True) as con:
            con.execute("CREATE EXTENSION postgis")
        yield server
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(as_pg + [str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                           capture_output=True, timeout=60)
        shutil.rmtree(base, ignore_errors=True)


_pg_numbers = itertools.count()


@pytest.fixture
def pg_database(pg_cluster) -> str:
    """A fresh database with PostGIS (no registry tables yet); its URL."""
    import psycopg

    name = f"registry_{next(_pg_numbers)}"
    with psycopg.connect(pg_cluster.admin_url, autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name} TEMPLATE {PG_TEMPLATE_DB}")
    yield pg_cluster.url(name)
    with psycopg.connect(pg_cluster.admin_url, autocommit=True) as con:
        con.execute(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def gpkg_template(tmp_path_factory) -> Path:
    """One seeded GeoPackage registry, created once; each test works on its own copy."""
    from coverage.registry.store import ServiceStore

    path = tmp_path_factory.mktemp("template") / "registry.gpkg"
    ServiceStore.open_or_create(path)
    assert not Path(str(path) + "-wal").exists()
    return path


@pytest.fixture
def gpkg_store(gpkg_template, tmp_path):
    """A fresh GeoPackage registry (a copy of the seeded template) in a private folder."""
    import shutil

    from coverage.registry.store import ServiceStore

    path = tmp_path / "private" / "registry.gpkg"
    path.parent.mkdir()
    shutil.copy(gpkg_template, path)
    return ServiceStore(path)


@pytest.fixture(params=REGISTRY_BACKENDS)
def registry(request):
    """A fresh registry seeded from the shipped list, once per back-end: a GeoPackage
    file and a PostGIS database (the PostgreSQL cluster starts only when a test asks for
    the ``postgis`` case)."""
    if request.param == "gpkg":
        return request.getfixturevalue("gpkg_store")
    from coverage.registry.postgis import PostgisServiceStore
    from coverage.registry.store import open_store

    store = open_store(request.getfixturevalue("pg_database"))
    assert isinstance(store, PostgisServiceStore)
    return store


def file_digest(path: Path) -> str:
    """sha256 of a GeoPackage file and its WAL (if any): the whole on-disk state."""
    import hashlib

    h = hashlib.sha256(Path(path).read_bytes())
    wal = Path(str(path) + "-wal")
    if wal.exists():
        h.update(wal.read_bytes())
    return h.hexdigest()


def pg_dump(url: str, sequences: bool = True) -> tuple:
    """Every row of both tables (geometry as EWKB hex) and, unless told not to, the
    identity sequences: a write that started and rolled back would have moved them."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as con:
        services_rows = con.execute("SELECT * FROM services ORDER BY fid").fetchall()
        history_rows = con.execute("SELECT * FROM history ORDER BY id").fetchall()
        counters = con.execute("SELECT sequencename, last_value FROM pg_sequences ORDER BY 1").fetchall()
    return services_rows, history_rows, (counters if sequences else None)


def registry_state(store) -> object:
    """Everything a registry holds, byte for byte where the database allows: the
    GeoPackage file and its WAL, or every row and sequence of the PostGIS tables."""
    from coverage.registry.store import StoreURL

    if isinstance(store.path, StoreURL):
        return pg_dump(str(store.path))
    return file_digest(store.path)


# --- rows, users and files the registry tests share --------------------------------------------

SERVICES_HEADER = config.SERVICES_CSV.read_text(encoding="utf-8").splitlines()[0].split(",")
EXACT_LON, EXACT_LAT = 69.63917, 40.29151  # a made-up exact point near Khujand
ADDRESS = "12 Test Street"
# The exact point at 3+ decimals, truncated or rounded, in either order.
FORBIDDEN = ("40.291", "40.292", "40.2915", "69.639", "69.6391", "69.6392", ADDRESS, "Test Street",
             "private staff note")


@dataclass(frozen=True)
class FakeUser:
    username: str
    organisation: str
    role: str = "staff"


def good_row(**changes) -> dict[str, str]:
    """A valid services row (a crisis centre in Kulob), as text, with ``changes``."""
    row = {c: "" for c in SERVICES_HEADER}
    row.update(
        service_id="UP-1", name="Test centre", organisation="Test NGO", type="crisis_centre", town="Kŭlob",
        district="Kulob", region="Khatlon", lon="69.78454", lat="37.91459", location_precision="settlement",
        confidential="false", confidence="medium",
    )
    row.update(changes)
    return row


def csv_bytes(rows: list[dict[str, str]], header: list[str] | None = None) -> bytes:
    import csv
    import io

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=header or list(rows[0]), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def shelter_row(**changes) -> dict:
    """A confidential shelter at the exact test point, with an address and a private note."""
    row = dict(
        service_id="TEST-SH-EXACT", name="Test shelter", organisation="Test NGO", type="shelter",
        town="Khujand", district="Bobojon Ghafurov", region="Sughd", lon=EXACT_LON, lat=EXACT_LAT,
        location_precision="exact", confidential=True, address=ADDRESS, note="private staff note",
    )
    row.update(changes)
    return row


def town_places():
    """Three settlement points confidential services may be shown at."""
    import geopandas as gpd

    return gpd.GeoDataFrame(
        {"name": ["Khujand", "Bokhtar", "Kŭlob"]},
        geometry=gpd.points_from_xy([69.62216, 68.78, 69.78454], [40.28256, 37.8364, 37.91459]),
        crs=config.CRS_STORE,
    )


def no_exact_point_in(text: str) -> None:
    for needle in FORBIDDEN:
        assert needle not in text, needle


def crash_writer(script_and_args: list[str], how: str, while_written=None) -> None:
    """Run ``python -c script args…`` that prints 'written' inside its write transaction
    and then dies: killed with SIGKILL by us (``how='sigkill'``, after calling
    ``while_written()`` if given), or by its own ``os._exit(17)`` (``how='exit'``)."""
    import signal
    import subprocess

    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT))
    proc = subprocess.Popen([sys.executable, "-c", *script_and_args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=PROJECT_ROOT)
    try:
        if how == "sigkill":
            line = proc.stdout.readline()
            assert line.strip() == "written", proc.stderr.read()
            if while_written is not None:
                while_written()
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == (17 if how == "exit" else -signal.SIGKILL), proc.stderr.read()
