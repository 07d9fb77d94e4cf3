"""Shared fixtures.

``prepared_data_dir`` runs the data step once per test session from the offline mirror
(``COVERAGE_MIRROR`` or ../shared/data) into a temporary folder and returns that folder;
its layout is the project's ``data/`` layout (boundaries/districts.gpkg,
communities/communities.gpkg, health/health_facilities.gpkg, manifest.json).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from coverage import settings  # noqa: E402


@pytest.fixture(scope="session")
def mirror_path() -> Path:
    mirror = settings.mirror_dir()
    if mirror is None or not Path(mirror).is_dir():
        pytest.skip("no offline mirror (set COVERAGE_MIRROR)")
    return Path(mirror)


@pytest.fixture(scope="session")
def prepared_data_dir(tmp_path_factory, mirror_path) -> Path:
    """The data step run once from the mirror into a temporary data folder."""
    from coverage.sources import run_data_step

    data_dir = tmp_path_factory.mktemp("data")
    run_data_step(mirror_path, data_dir=data_dir)
    return data_dir


@pytest.fixture(scope="session")
def prepared_manifest(prepared_data_dir) -> dict:
    return json.loads((prepared_data_dir / "manifest.json").read_text(encoding="utf-8"))
