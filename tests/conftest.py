"""Shared fixtures.

``prepared_data_dir`` runs the data step once per test session from the offline mirror
(``COVERAGE_MIRROR`` or ../shared/data) into a temporary folder and returns that folder;
its layout is the project's ``data/`` layout (boundaries/districts.gpkg,
communities/communities.gpkg, health/health_facilities.gpkg, manifest.json).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.request
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
    """``streamlit run app.py`` on a free localhost port with ``env`` added to this
    process's environment, output in ``log_path``; yields the base URL and stops the
    server (terminate, then kill) when the block ends."""
    port = _free_port()
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
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
