"""The bad-input corpus (issue 10, items 5-7): every hostile or broken services file
gets one clear message and its message id, from the command line and from the
registry's upload call, never a traceback; the registry stays byte-for-byte as it was;
checking a file never takes 1 GB of memory; a confidential row's coordinates are never
repeated.

``tests/bad_inputs/`` holds the small text files; ``make_corpus.py`` writes the large and
binary ones (XLSX bombs, sparse sheets, deep GeoJSON) into a temporary folder at test
time; ``expected.csv`` lists, for each file, a fragment of the expected message, the
expected message id, and (``absent``, ';'-separated) text that must not appear.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from coverage.errors import CoverageError, ServicesError

HERE = Path(__file__).resolve().parent / "bad_inputs"


def _load_script(name: str):
    """A script beside the corpus (not part of any package), loaded by its path."""
    spec = importlib.util.spec_from_file_location(f"bad_inputs_{name}", HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_make_corpus = _load_script("make_corpus")
corpus, make_corpus = _make_corpus.corpus, _make_corpus.make_corpus

EXPECTED = list(csv.DictReader((HERE / "expected.csv").open(encoding="utf-8")))
PEAK_MEMORY_LIMIT_KB = 1024 * 1024  # 1 GiB
COMMITTED = sorted(p.name for p in HERE.iterdir() if p.is_file() and p.suffix in (".csv", ".xlsx", ".geojson", ".json")
                   and p.name != "expected.csv")


def test_the_corpus_is_complete():
    """Every file in the corpus has an expectation and every expectation a file; at least 50."""
    listed = {row["file"] for row in EXPECTED}
    present = set(COMMITTED) | set(corpus())
    assert listed == present
    assert len(listed) >= 50
    assert len(EXPECTED) == len(listed), "a file is listed twice"


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("bad_inputs")
    for name in COMMITTED:
        shutil.copyfile(HERE / name, folder / name)
    make_corpus(folder)
    return folder


@pytest.fixture(scope="module")
def cli_results(corpus_dir) -> dict[str, dict]:
    """For every file, ``python -m coverage check-services FILE`` (``cli``) and the staff
    page's upload check (``upload``), each in its own child of one warm parent (see
    check_files.py), with each child's output, exit code and peak memory."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", COLUMNS="200")
    paths = [str(corpus_dir / row["file"]) for row in EXPECTED]
    done = subprocess.run([sys.executable, str(HERE / "check_files.py"), *paths], capture_output=True, text=True,
                          env=env, timeout=900, check=True)
    results = json.loads(done.stdout)
    return {Path(path).name: result for path, result in results.items()}


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    from coverage.registry.store import open_store

    return open_store(tmp_path_factory.mktemp("registry") / "registry.gpkg")


def _fingerprint(path: Path) -> dict[str, str]:
    """sha256 of the registry file and any journal beside it."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(path.parent.glob(path.name + "*")) if p.is_file()}


def _absent(row: dict[str, str]) -> list[str]:
    return [text for text in row["absent"].split(";") if text]


@pytest.mark.parametrize("row", EXPECTED, ids=[row["file"] for row in EXPECTED])
def test_check_services_command_gives_one_clear_message(row, cli_results):
    result = cli_results[row["file"]]["cli"]
    output = " ".join(result["output"].split())  # rich may wrap a long message
    assert result["returncode"] != 0, output
    assert "Traceback" not in output
    assert row["file"] in output, "the message names the file"
    assert row["fragment"] in output, output
    for text in _absent(row):
        assert text not in output, f"a confidential value ({text}) is repeated"


@pytest.mark.parametrize("row", EXPECTED, ids=[row["file"] for row in EXPECTED])
def test_checking_a_file_stays_under_a_gigabyte(row, cli_results):
    """The staff page's upload check and the command each peak under 1 GB, and the upload
    check refuses the file with the same message."""
    upload, command = cli_results[row["file"]]["upload"], cli_results[row["file"]]["cli"]
    assert upload["returncode"] == 1 and "Traceback" not in upload["output"], upload["output"]
    assert row["fragment"] in " ".join(upload["output"].split())
    assert 0 < upload["maxrss_kb"] < PEAK_MEMORY_LIMIT_KB
    assert 0 < command["maxrss_kb"] < PEAK_MEMORY_LIMIT_KB


@pytest.mark.parametrize("row", EXPECTED, ids=[row["file"] for row in EXPECTED])
def test_registry_upload_refuses_and_changes_nothing(row, corpus_dir, registry):
    data = (corpus_dir / row["file"]).read_bytes()
    before = _fingerprint(registry.path)
    with pytest.raises(ServicesError) as caught:
        registry.import_bytes(data, row["file"], "bad-input-test")
    err = caught.value
    assert isinstance(err, CoverageError)
    assert row["message_id"] in {err.message_id} | {p.message_id for p in err.problems}
    assert all(p.message_id for p in err.problems)
    assert any(row["fragment"] in p.message for p in err.problems), str(err)
    shown = str(err) + repr([dict(p.params) for p in err.problems])
    for text in _absent(row):
        assert text not in shown, f"a confidential value ({text}) is repeated or kept in params"
    assert _fingerprint(registry.path) == before, "the registry changed"
