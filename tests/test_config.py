"""The one settings path: defaults < coverage.toml < COVERAGE_* environment < flags,
the ConfigError messages, and that nothing else reads the environment."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from coverage import cli, config
from coverage.config import Settings, load_settings
from coverage.errors import ConfigError, CoverageError
from coverage.registry import auth
from coverage.registry.base import StoreURL, store_location

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture()
def folders(tmp_path) -> dict[str, Path]:
    names = ("toml-data", "env-data", "flag-data")
    for name in names:
        (tmp_path / name).mkdir()
    return {name: tmp_path / name for name in names}


def write_toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "coverage.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_are_the_module_constants(tmp_path):
    loaded = load_settings(path=write_toml(tmp_path, ""), env={})
    assert loaded == Settings()
    assert loaded.data_dir == config.DATA_DIR and loaded.network_path == config.DEFAULT_NETWORK
    assert loaded.store == config.STORE_PATH and loaded.users_file == config.USERS_FILE
    assert loaded.map_tiles_url == config.MAP_TILES_URL and loaded.population_path is None
    assert loaded.default_threshold_min == config.DEFAULT_THRESHOLD_MIN


def test_toml_then_environment_then_flags(tmp_path, folders):
    toml = write_toml(tmp_path, 'data_dir = "toml-data"\ndefault_threshold_min = 90\n'
                                '[highway_speed_kph]\ntrunk = 70\n')
    from_file = load_settings(path=toml, env={})
    assert from_file.data_dir == folders["toml-data"]  # relative to the file's folder
    assert from_file.default_threshold_min == 90.0
    assert from_file.highway_speed_kph["trunk"] == 70.0
    assert from_file.highway_speed_kph["primary"] == config.HIGHWAY_SPEED_KPH["primary"]  # merged, not replaced

    env = {"COVERAGE_DATA_DIR": str(folders["env-data"])}
    from_env = load_settings(path=toml, env=env)
    assert from_env.data_dir == folders["env-data"]
    assert from_env.default_threshold_min == 90.0  # the file still counts where env says nothing

    from_flag = load_settings(path=toml, env=env, overrides={"data_dir": folders["flag-data"], "network_path": None,
                                                            "highway_speed_kph": {"primary": 50}})
    assert from_flag.data_dir == folders["flag-data"]
    assert from_flag.network_path == config.DEFAULT_NETWORK  # None = flag not given
    assert from_flag.highway_speed_kph["trunk"] == 70.0 and from_flag.highway_speed_kph["primary"] == 50.0


def test_the_settings_file_comes_from_coverage_settings(tmp_path):
    toml = write_toml(tmp_path, "default_threshold_min = 45\n")
    assert load_settings(env={"COVERAGE_SETTINGS": str(toml)}).default_threshold_min == 45.0
    with pytest.raises(ConfigError, match="COVERAGE_SETTINGS") as err:
        load_settings(env={"COVERAGE_SETTINGS": str(tmp_path / "missing.toml")})
    assert "missing.toml" in str(err.value) and err.value.message_id == "config.file_missing"


def test_command_line_flags_win_over_the_environment(tmp_path, folders):
    network = tmp_path / "env.osm"
    network.write_text("<osm/>", encoding="utf-8")
    args = cli.build_parser().parse_args(["--data-dir", str(folders["flag-data"]), "analyse", "--population",
                                          str(tmp_path / "people.csv")])
    env = {"COVERAGE_DATA_DIR": str(folders["env-data"]), "COVERAGE_NETWORK": str(network)}
    loaded = load_settings(path=write_toml(tmp_path, ""), env=env, overrides=cli.settings_overrides(args))
    assert loaded.data_dir == folders["flag-data"]
    assert loaded.network_path == network  # no --network: the environment's
    assert loaded.population_path == tmp_path / "people.csv"
    assert set(cli.settings_overrides(args)) == {"data_dir", "population_path"}


def test_every_documented_variable_reaches_its_field(tmp_path, folders):
    network = tmp_path / "roads.osm"
    people = tmp_path / "people.gpkg"
    for path in (network, people):
        path.write_text("x", encoding="utf-8")
    env = {
        "COVERAGE_DATA_DIR": str(folders["env-data"]),
        "COVERAGE_NETWORK": str(network),
        "COVERAGE_POPULATION": str(people),
        "COVERAGE_MIRROR": str(folders["toml-data"]),
        "COVERAGE_STORE": str(tmp_path / "registry.gpkg"),
        "COVERAGE_USERS": str(tmp_path / "users.yaml"),
        "COVERAGE_MAP_TILES": "https://tiles.example.org/{z}/{x}/{y}.png",
        "COVERAGE_LEAFLET_URL": "/static/leaflet/",
        "COVERAGE_LANG": " TG ",
    }
    loaded = load_settings(path=write_toml(tmp_path, ""), env=env)
    assert set(config.ENV_VARIABLES) == set(env)
    assert (loaded.data_dir, loaded.network_path, loaded.population_path, loaded.mirror_dir) == (
        folders["env-data"], network, people, folders["toml-data"])
    assert loaded.store == tmp_path / "registry.gpkg" and loaded.users_file == tmp_path / "users.yaml"
    assert loaded.map_tiles_url == env["COVERAGE_MAP_TILES"] and loaded.leaflet_url == "/static/leaflet"
    assert config.mirror_dir(settings=loaded) == folders["toml-data"]
    assert config.mirror_dir(tmp_path, settings=loaded) == tmp_path  # an explicit argument wins
    assert loaded.language == "tg"


@pytest.mark.parametrize("word", ["none", "off", "NONE", " Off "])
def test_map_tiles_can_be_switched_off(tmp_path, word):
    assert load_settings(path=write_toml(tmp_path, ""), env={"COVERAGE_MAP_TILES": word}).map_tiles_url is None


def test_an_empty_variable_counts_as_unset(tmp_path):
    env = dict.fromkeys(config.ENV_VARIABLES, "")
    assert load_settings(path=write_toml(tmp_path, ""), env=env) == Settings()


def test_a_database_url_stays_out_of_repr(tmp_path):
    url = "postgresql://coverage:s3cret@db.example.org/coverage"
    loaded = load_settings(path=write_toml(tmp_path, ""), env={"COVERAGE_STORE": url})
    assert loaded.store == url and "s3cret" not in repr(loaded)
    location = store_location(settings=loaded)
    assert isinstance(location, StoreURL) and "s3cret" not in repr(location)


def test_the_cookie_secret_is_read_at_the_call_and_kept_nowhere(tmp_path):
    secret = "k" * 40
    assert config.cookie_secret({"COVERAGE_COOKIE_SECRET": secret}) == secret
    assert config.cookie_secret({}) == ""
    loaded = load_settings(path=write_toml(tmp_path, ""), env={"COVERAGE_COOKIE_SECRET": secret})
    assert secret not in repr(loaded) and secret not in json.dumps(loaded.__dict__, default=str)


def test_library_functions_take_their_paths_from_settings(tmp_path):
    given = Settings(users_file=tmp_path / "u.yaml", store=tmp_path / "r.gpkg")
    assert auth.users_file(settings=given) == tmp_path / "u.yaml"
    assert auth.users_file(tmp_path / "explicit.yaml", settings=given) == tmp_path / "explicit.yaml"
    assert store_location(settings=given) == tmp_path / "r.gpkg"


# --- what a bad value is told -----------------------------------------------------------------


BAD_VALUES = [  # (where: "file" or a variable, value, field, message id, words of the message)
    ("file", "trunk_speed = 70\n", "trunk_speed", "config.unknown_key", "unknown setting(s) ['trunk_speed']"),
    ("file", '[highway_speed_kph]\ntrunk = "fast"\n', "highway_speed_kph.trunk", "config.not_a_number",
     "must be a number (got 'fast')"),
    ("file", "default_speed_kph = true\n", "default_speed_kph", "config.not_a_number", "must be a number"),
    ("file", "default_threshold_min = -30\n", "default_threshold_min", "config.out_of_range", "greater than 0"),
    ("file", "tunnel_speed_kph = 0\n", "tunnel_speed_kph", "config.out_of_range", "greater than 0"),
    ("file", "snap_candidates = 2.5\n", "snap_candidates", "config.not_an_integer", "whole number"),
    ("file", "snap_candidates = 0\n", "snap_candidates", "config.out_of_range", "at least 1"),
    ("file", "highway_speed_kph = 70\n", "highway_speed_kph", "config.not_a_table", "table of numbers"),
    ("file", 'map_tiles_url = "sometimes"\n', "map_tiles_url", "config.bad_tiles", "or one of none, off"),
    ("file", 'network_path = "missing.osm"\n', "network_path", "config.path_missing", "does not exist"),
    ("COVERAGE_MAP_TILES", "sometimes", "map_tiles_url", "config.bad_tiles", "(got 'sometimes')"),
    ("COVERAGE_NETWORK", "TMP/missing.osm.pbf", "network_path", "config.path_missing", "does not exist"),
    ("COVERAGE_POPULATION", "TMP/missing.gpkg", "population_path", "config.path_missing", "does not exist"),
    ("COVERAGE_DATA_DIR", "TMP/a-file", "data_dir", "config.not_a_folder", "must be a folder, not a file"),
    ("COVERAGE_MIRROR", "TMP/a-file", "mirror_dir", "config.not_a_folder", "must be a folder, not a file"),
    ("COVERAGE_USERS", "TMP", "users_file", "config.not_a_file", "must be a file, not a folder"),
    ("COVERAGE_STORE", "TMP", "store", "config.not_a_file", "must be a file, not a folder"),
    ("COVERAGE_NETWORK", "TMP", "network_path", "config.not_a_file", "must be a file, not a folder"),
]


@pytest.mark.parametrize(("where", "value", "field", "message_id", "words"), BAD_VALUES)
def test_a_bad_value_names_its_file_or_variable_and_the_setting(tmp_path, where, value, field, message_id, words):
    (tmp_path / "a-file").write_text("x", encoding="utf-8")
    toml = write_toml(tmp_path, value if where == "file" else "")
    env = {} if where == "file" else {where: value.replace("TMP", str(tmp_path))}
    with pytest.raises(ConfigError) as err:
        load_settings(path=toml, env=env)
    message = str(err.value)
    assert message.startswith(f"{toml if where == 'file' else where}: ") and f"'{field}'" in message
    assert words in message and err.value.field == field and err.value.message_id == message_id
    assert isinstance(err.value, CoverageError) and isinstance(err.value, ValueError)


def test_a_broken_toml_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="not a readable TOML settings file"):
        load_settings(path=write_toml(tmp_path, "trunk = = 3\n"), env={})


def test_a_bad_store_path_never_shows_a_url_password(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_settings(path=write_toml(tmp_path, ""), env={"COVERAGE_STORE": str(tmp_path)})
    assert str(tmp_path) not in str(err.value) and "<hidden>" in str(err.value)


def test_the_command_line_reports_a_bad_setting_as_a_message(monkeypatch):
    monkeypatch.setenv("COVERAGE_MAP_TILES", "sometimes")
    with cli.console.capture() as captured:
        assert cli.main(["check-services", str(config.SERVICES_CSV)]) == 2
    printed = captured.get()
    assert "COVERAGE_MAP_TILES: setting 'map_tiles_url'" in printed and "Traceback" not in printed


# --- nothing else reads the environment ---------------------------------------------------------


def test_only_config_reads_the_environment():
    sources = [*PROJECT_ROOT.joinpath("coverage").rglob("*.py"), *PROJECT_ROOT.joinpath("dashboard").rglob("*.py"),
               *PROJECT_ROOT.joinpath("pages").glob("*.py"), PROJECT_ROOT / "app.py"]
    readers = sorted(str(path.relative_to(PROJECT_ROOT)) for path in sources
                     if any(word in path.read_text(encoding="utf-8") for word in ("os.environ", "getenv(")))
    assert readers == ["coverage/config.py"]


SPY = """
import os, sys
read = []
real = os.environ
class Recorder(dict):
    def __getitem__(self, key):
        read.append(key); return real[key]
    def get(self, key, default=None):
        read.append(key); return real.get(key, default)
    def __contains__(self, key):
        read.append(key); return key in real
os.environ = Recorder(real)
import coverage.views.maps as maps
os.environ = real
print([key for key in read if str(key).startswith("COVERAGE_")])
"""


def test_importing_the_maps_module_reads_no_environment():
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT_ROOT), "COVERAGE_MAP_TILES": "none",
           "COVERAGE_LEAFLET_URL": "/elsewhere"}
    done = subprocess.run([sys.executable, "-c", SPY], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_the_maps_take_tiles_and_leaflet_from_settings():
    from coverage.views import maps

    plain = maps.base_map(settings=Settings(map_tiles_url=None, leaflet_url="/lib/leaflet")).get_root().render()
    assert "tile.openstreetmap.org" not in plain and "/lib/leaflet/leaflet.js" in plain
    tiled = maps.base_map(settings=Settings(map_tiles_url="https://t.example.org/{z}/{x}/{y}.png")).get_root().render()
    assert "https://t.example.org/{z}/{x}/{y}.png" in tiled
    assert "t.example.org" not in maps.base_map(tiles=False, settings=Settings()).get_root().render()
