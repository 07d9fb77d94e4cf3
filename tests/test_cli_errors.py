"""Issue 10 item 6: what reached users as a traceback (or a hang) now gets one clear
message and a non-zero exit, from the real ``python -m coverage`` command; a damaged
registry is refused on open and never written to; a full disk loses nothing."""

from __future__ import annotations

import hashlib
import os
import resource
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from coverage.errors import OutputError, RegistryError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
GOOD_ROW = ("{sid},Test centre {sid},Test NGO,,crisis_centre,Kulob,Kulob,Khatlon,69.78454,37.91459,settlement,false,"
            ",,,,medium,")
HEADER = ("service_id,name,organisation,org,type,town,district,region,lon,lat,location_precision,confidential,"
          "capacity,opened_year,source,source_date,confidence,note")


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 120, limit_file_bytes: int | None = None,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``python -m coverage ARGS`` in a fresh interpreter (``limit_file_bytes``: no file it
    writes may grow beyond this, as on a full disk)."""

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write beyond the limit fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_file_bytes, limit_file_bytes))

    return subprocess.run([sys.executable, "-m", "coverage", *args], capture_output=True, text=True, timeout=timeout,
                          cwd=cwd or PROJECT_ROOT, preexec_fn=limit if limit_file_bytes else None,
                          env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1", COLUMNS="200", **(env or {})))


def main_in_process(*args: str) -> subprocess.CompletedProcess:
    """``coverage.cli.main(ARGS)`` in this process, as a CompletedProcess: faster than a
    fresh interpreter for the many variants of one case (an exception that escapes
    ``main`` fails the test, as a traceback would)."""
    import contextlib
    import io

    from coverage import cli

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        cli.console.file = out
        try:
            code = cli.main(list(args))
        except SystemExit as done:  # argparse refusing a flag
            code = done.code if isinstance(done.code, int) else 1
        finally:
            # back to following sys.stdout (as made): restoring the file read inside the
            # redirect would pin the console to `out`, and later tests would read nothing
            cli.console.file = None
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


def _one_clear_message(done: subprocess.CompletedProcess, fragment: str) -> str:
    output = " ".join((done.stdout + done.stderr).split())
    assert done.returncode != 0, output
    assert "Traceback" not in output
    assert fragment in output, output
    return output


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- files that are not files --------------------------------------------------------------


def test_check_services_refuses_dev_zero():
    _one_clear_message(run_cli("check-services", "/dev/zero", timeout=60), "is a device, not a regular file")


def test_check_services_refuses_a_folder(tmp_path):
    folder = tmp_path / "services.csv"
    folder.mkdir()
    _one_clear_message(run_cli("check-services", str(folder)), "is a folder")


def test_check_services_refuses_a_fifo_without_hanging(tmp_path):
    fifo = tmp_path / "services.csv"
    os.mkfifo(fifo)
    _one_clear_message(run_cli("check-services", str(fifo), timeout=60), "is a pipe, not a regular file")


def test_check_services_names_a_missing_file(tmp_path):
    _one_clear_message(run_cli("check-services", str(tmp_path / "nothing.csv")), "no such file")


@pytest.mark.parametrize("content, fragment", [
    (b'{"features":5}', "no 'features' list"),
    (b"[" * 200_000 + b"]" * 200_000, "nested too deeply"),
])
def test_check_services_malformed_geojson(tmp_path, content, fragment):
    path = tmp_path / "services.geojson"
    path.write_bytes(content)
    _one_clear_message(run_cli("check-services", str(path)), fragment)


# --- analyse: flags checked before any computing ------------------------------------------


@pytest.mark.parametrize("value", ["-5", "nan"])
def test_threshold_out_of_range_is_refused_by_the_command(value, tmp_path):
    done = run_cli("--data-dir", str(tmp_path / "no-data"), "analyse", f"--threshold={value}")
    _one_clear_message(done, "threshold must be a number of minutes above 0")
    assert done.returncode == 2


@pytest.mark.parametrize("value", ["-5", "0", "nan", "inf", "-inf", "100000", "soon", ""])
def test_threshold_out_of_range_is_refused(value, tmp_path):
    done = main_in_process("--data-dir", str(tmp_path / "no-data"), "analyse", f"--threshold={value}")
    _one_clear_message(done, "threshold")
    assert done.returncode == 2
    assert not (tmp_path / "no-data").exists(), "nothing was computed"


def test_threshold_in_range_is_accepted():
    from coverage import analysis, config

    assert analysis.check_threshold("90") == 90.0
    assert analysis.check_threshold(config.MAX_THRESHOLD_MIN) == config.MAX_THRESHOLD_MIN


def test_analyse_out_suffix_is_checked_by_the_command_before_computing(tmp_path):
    done = run_cli("--data-dir", str(tmp_path / "no-data"), "analyse", "--out", "x.txt")
    _one_clear_message(done, "choose a file ending in .gpkg")
    assert not (tmp_path / "no-data").exists(), "nothing was computed"


@pytest.mark.parametrize("out, fragment", [
    ("x.txt", "choose a file ending in .gpkg"),
    ("results", "choose a file ending in .gpkg"),
    ("/dev/full", "is not a regular file"),
    ("/proc/self/no/such/results.csv", "cannot write in"),
])
def test_analyse_out_is_checked_before_computing(tmp_path, out, fragment):
    """With no data folder the analysis would fail (or download) first: the --out check
    must come before it."""
    done = main_in_process("--data-dir", str(tmp_path / "no-data"), "analyse", "--out", out)
    _one_clear_message(done, fragment)
    assert not (tmp_path / "no-data").exists(), "nothing was computed"


def test_out_folder_that_is_a_file(tmp_path):
    from coverage import cli

    (tmp_path / "taken").write_text("a file, not a folder")
    with pytest.raises(OutputError) as caught:
        cli.check_out_path(tmp_path / "taken" / "results.csv", cli.RESULT_SUFFIXES)
    assert caught.value.message_id == "cli.out_not_writable"


# --- export and the registry ---------------------------------------------------------------


@pytest.fixture
def registry_path(tmp_path) -> Path:
    from coverage.registry.store import open_store

    path = tmp_path / "private" / "registry.gpkg"
    open_store(path)
    return path


def test_export_to_dev_full_is_refused(registry_path, tmp_path):
    done = run_cli("export-services", "--staff", "--format", "csv", "--out", "/dev/full", "--store", str(registry_path))
    _one_clear_message(done, "is not a regular file")


def test_export_on_a_full_disk_says_so_and_leaves_no_partial_file(registry_path, tmp_path):
    from coverage.registry.store import open_store

    rows = "\n".join(GOOD_ROW.format(sid=f"BULK-{i:04d}") for i in range(300))
    open_store(registry_path).import_bytes(f"{HEADER}\n{rows}\n".encode(), "bulk.csv", "test")
    out = tmp_path / "staff.csv"
    before = sha256(registry_path)
    # 48 KB: room for SQLite's 32 KB shared-memory file, not for the ~100 KB export.
    done = run_cli("export-services", "--staff", "--format", "csv", "--out", str(out), "--store", str(registry_path),
                   limit_file_bytes=48 * 1024)
    _one_clear_message(done, "writing failed")
    assert not out.exists(), "a partial export was left behind"
    assert sha256(registry_path) == before


def test_registry_import_on_a_full_disk_saves_nothing(registry_path):
    """An import whose write-ahead log cannot grow (a full disk) is a RegistryError and the
    registry keeps its rows."""
    rows = "\n".join(GOOD_ROW.format(sid=f"BULK-{i:04d}") for i in range(2000))
    upload = registry_path.parent / "bulk.csv"
    upload.write_text(f"{HEADER}\n{rows}\n", encoding="utf-8")
    before = sha256(registry_path)
    script = (
        "import resource, signal, sys\n"
        "from coverage.registry.store import open_store\n"
        "from coverage.errors import CoverageError\n"
        "store = open_store(sys.argv[1])\n"
        "data = open(sys.argv[2], 'rb').read()\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))\n"
        "try:\n"
        "    store.import_bytes(data, 'bulk.csv', 'test')\n"
        "except CoverageError as err:\n"
        "    print(err.message_id, err)\n"
        "    sys.exit(2)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(registry_path), str(upload)], capture_output=True,
                          text=True, timeout=300, env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "Traceback" not in output
    assert output.split()[0] in ("registry.disk_full", "registry.write_failed"), output
    from coverage.registry.store import open_store

    assert sha256(registry_path) == before or not any(
        sid.startswith("BULK-") for sid in open_store(registry_path).ids()), "a half import was saved"
    assert not any(sid.startswith("BULK-") for sid in open_store(registry_path).ids())


UNSUPPORTED_STORE = "'ftp://…' is not supported; give a file path or a postgresql:// URL"


def test_an_unsupported_store_url_is_one_message_from_the_command(tmp_path):
    """``--store ftp://…``: one message naming the scheme (never the URL's password),
    exit 2, no traceback, nothing written."""
    out = tmp_path / "services.csv"
    done = run_cli("export-services", "--staff", "--format", "csv", "--out", str(out),
                   "--store", "ftp://user:s3cret@x/registry", timeout=60)
    output = _one_clear_message(done, UNSUPPORTED_STORE)
    assert done.returncode == 2 and output.count("not supported") == 1
    assert "s3cret" not in output and not out.exists()


def test_an_unsupported_store_url_in_the_environment_is_one_message(tmp_path, monkeypatch):
    monkeypatch.setenv("COVERAGE_STORE", "ftp://x")
    out = tmp_path / "services.csv"
    done = main_in_process("export-services", "--public", "--format", "csv", "--out", str(out))
    output = _one_clear_message(done, UNSUPPORTED_STORE)
    assert done.returncode == 2 and output.count("not supported") == 1 and not out.exists()


def _damaged_copies(good: bytes) -> dict[str, bytes]:
    page = 4096
    return {
        "truncated_half": good[: len(good) // 2],
        "truncated_to_header": good[:100],
        "truncated_odd": good[: len(good) - 1000],
        "zeroed": b"\x00" * len(good),
        "random": os.urandom(len(good)),
        "empty": b"",
        "text": b"service_id,name\n" * 500,
        "zeroed_pages": good[: 2 * page] + b"\x00" * (3 * page) + good[5 * page:],
        "bad_page_size": good[:16] + b"\x00\x03" + good[18:],
    }


@pytest.fixture(scope="module")
def good_registry_bytes(tmp_path_factory) -> bytes:
    from coverage.registry.store import open_store

    path = tmp_path_factory.mktemp("good") / "registry.gpkg"
    open_store(path)
    return path.read_bytes()


@pytest.mark.parametrize("kind", list(_damaged_copies(b"x" * 40_000)))
def test_damaged_registry_is_refused_on_open_and_never_written(kind, good_registry_bytes, tmp_path):
    from coverage.registry.store import open_store

    path = tmp_path / "registry.gpkg"
    path.write_bytes(_damaged_copies(good_registry_bytes)[kind])
    before = sha256(path)
    with pytest.raises(RegistryError) as caught:
        open_store(path)
    assert caught.value.message_id == "registry.damaged", str(caught.value)
    assert "damaged" in str(caught.value)
    assert sha256(path) == before
    out = tmp_path / "public.csv"
    run = run_cli if kind == "zeroed" else main_in_process  # one fresh interpreter is enough
    done = run("export-services", "--public", "--format", "csv", "--out", str(out), "--store", str(path))
    _one_clear_message(done, "the registry file is damaged")
    assert sha256(path) == before
    assert not out.exists()


def test_another_sqlite_file_is_not_a_registry(tmp_path):
    from coverage.registry.store import open_store

    path = tmp_path / "other.gpkg"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE t (x)")
    con.close()
    before = sha256(path)
    with pytest.raises(RegistryError) as caught:
        open_store(path)
    assert caught.value.message_id == "registry.not_a_registry"
    assert sha256(path) == before


def test_a_folder_is_not_a_registry(tmp_path):
    from coverage.registry.store import open_store

    (tmp_path / "registry.gpkg").mkdir()
    with pytest.raises(RegistryError) as caught:
        open_store(tmp_path / "registry.gpkg")
    assert caught.value.message_id == "registry.not_a_file"


def test_a_whole_registry_still_opens(good_registry_bytes, tmp_path):
    from coverage.registry.store import open_store

    path = tmp_path / "registry.gpkg"
    path.write_bytes(good_registry_bytes)
    assert len(open_store(path).ids()) > 0


def test_population_layer_and_network_must_be_regular_files(tmp_path):
    from coverage.data import communities
    from coverage.engine import roads
    from coverage.errors import CommunityError, NetworkFormatError

    fifo = tmp_path / "people.geojson"
    os.mkfifo(fifo)
    with pytest.raises(CommunityError) as caught:
        communities.load_user_population(fifo, districts=None)
    assert caught.value.message_id == "table.not_a_file"
    pipe_csv = tmp_path / "people.csv"
    os.mkfifo(pipe_csv)
    with pytest.raises(CommunityError) as caught:
        communities.load_user_population(pipe_csv, districts=None)
    assert caught.value.message_id == "table.not_a_file"
    (tmp_path / "roads.osm").mkdir()
    with pytest.raises(NetworkFormatError) as caught:
        roads.load_graph(tmp_path / "roads.osm", season="summer")
    assert caught.value.message_id == "network.not_a_file"


def test_route_with_a_pipe_as_network_does_not_hang(tmp_path):
    fifo = tmp_path / "roads.osm"
    os.mkfifo(fifo)
    done = main_in_process("route", "Khujand", "Bokhtar", "--network", str(fifo))
    _one_clear_message(done, "not a regular file")


def test_route_in_winter_names_the_closed_and_slowed_roads():
    winter = main_in_process("route", "Dushanbe", "Khorugh", "--season", "winter")
    text = " ".join(winter.stdout.split())
    assert winter.returncode == 0, text
    assert "Closed in winter: Darband – Tavildara (104 km), Tavildara – Qalaikhumb (81 km);" in text
    assert "slowed (avalanche risk): Qalaikhumb – Khorugh (240 km)" in text
    summer = main_in_process("route", "Dushanbe", "Khorugh")
    assert summer.returncode == 0 and "Closed in winter" not in summer.stdout
