"""The staff page (pages/4_Services_(staff).py) through Streamlit's AppTest: nothing of the
registry before sign-in; sign-in and lock-out; add, edit, close and reopen through the
forms; an upload is checked row by row and changes nothing before Confirm."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT, rendered_text
from streamlit.testing.v1 import AppTest

PAGE = str(PROJECT_ROOT / "pages" / "4_Services_(staff).py")
PASSWORD = "correct-horse-battery-1"
HEADER = ("service_id,name,organisation,type,town,district,region,lon,lat,location_precision,confidential,"
          "capacity,source\n")


@pytest.fixture
def staff_env(app_env, monkeypatch, tmp_path):
    """A fresh registry (seeded from the shipped list) and a users file with one staff
    user of Ghamkhori and one admin; bcrypt at its lowest cost for speed."""
    from coverage.registry import auth, store

    monkeypatch.setattr(auth, "BCRYPT_ROUNDS", 4)
    monkeypatch.setenv("COVERAGE_STORE", str(tmp_path / "registry.gpkg"))
    monkeypatch.setenv("COVERAGE_USERS", str(tmp_path / "users.yaml"))
    auth.add_user(tmp_path / "users.yaml", "ana.k", "Ana K.", "ghamkhori", PASSWORD)
    auth.add_user(tmp_path / "users.yaml", "boss", "The Admin", "project", PASSWORD, role="admin")
    registry = store.open_store(tmp_path / "registry.gpkg")
    return registry


def _page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    _ok(at)
    return at


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def _sign_in(at: AppTest, username: str = "ana.k", password: str = PASSWORD) -> AppTest:
    at.text_input(key="page_signin_username").set_value(username)
    at.text_input(key="page_signin_password").set_value(password)
    at.button(key="page_signin_submit").click().run()
    _ok(at)
    return at


def _frame(at: AppTest, *columns: str):
    """The dataframe on the page with exactly these columns (AppTest dataframes have no key)."""
    for frame in at.dataframe:
        if set(columns) == set(frame.value.columns):
            return frame.value
    raise AssertionError(f"no table with columns {columns}")


def _messages(at: AppTest) -> str:
    return " ".join(str(e.value) for e in [*at.success, *at.error, *at.info, *at.warning])


def _digest(path: Path) -> str:
    """The registry file and its WAL journal, byte for byte."""
    h = hashlib.sha256()
    for part in (path, path.with_name(path.name + "-wal")):
        if part.exists():
            h.update(part.read_bytes())
    return h.hexdigest()


def test_not_signed_in_shows_nothing_of_the_registry(staff_env):
    at = _page()
    text = rendered_text(at)
    assert "signed-in staff" in text
    assert not at.dataframe and not at.tabs
    for sid in staff_env.ids():
        assert sid not in text
    names = set(staff_env.services(include_closed=True)["name"])
    assert not any(name in text for name in names)
    assert at.text_input(key="page_signin_password").proto.type == at.text_input(
        key="page_signin_password").proto.PASSWORD


def test_without_a_cookie_secret_variable_sign_in_uses_a_generated_one(staff_env, monkeypatch, tmp_path):
    monkeypatch.delenv("COVERAGE_COOKIE_SECRET")
    at = _sign_in(_page())
    assert "Signed in as **Ana K.**" in rendered_text(at)
    assert (tmp_path / "cookie_secret").exists()


def test_sign_in_is_disabled_when_no_secret_can_be_kept(staff_env, monkeypatch, tmp_path):
    monkeypatch.delenv("COVERAGE_COOKIE_SECRET")
    (tmp_path / "cookie_secret").write_text("too short\n")  # a broken file is reported, not replaced
    at = _page()
    assert "sign-in is disabled" in _messages(at)
    assert "session secret in the private folder" in _messages(at)
    assert str(tmp_path) not in rendered_text(at)  # the notice is public: no server paths
    assert not at.dataframe


def test_sign_in_shows_the_registry_and_never_echoes_the_password(staff_env):
    at = _sign_in(_page())
    assert "Signed in as **Ana K.**" in rendered_text(at)
    registry = at.dataframe[0].value
    assert set(registry["service_id"]) == staff_env.ids()
    own = registry[registry["editable"]]
    assert len(own) and set(own["owner_org"]) == {"ghamkhori"}
    assert PASSWORD not in rendered_text(at)
    # Only the user's own services can be edited or closed.
    assert all(i.startswith("KHT-GHM-") for i in at.selectbox(key="staff_edit_id").options)
    # Sign out: back to the public explanation.
    at.button(key="sidebar_signin_signout").click().run()
    _ok(at)
    assert not at.dataframe and "signed-in staff" in rendered_text(at)


def test_add_a_service_through_the_form_then_edit_it(staff_env):
    at = _sign_in(_page())
    at.selectbox(key="staff_add_type").set_value("support_service")
    at.text_input(key="staff_add_id").set_value("KHT-GHM-SSW9")
    at.text_input(key="staff_add_name").set_value("Ghamkhori support service Jomi")
    at.text_input(key="staff_add_organisation").set_value('NGO "Ghamkhori"')
    at.text_input(key="staff_add_town").set_value("Jomi")
    at.selectbox(key="staff_add_district").set_value("Abdurahmoni Jomi")
    at.number_input(key="staff_add_lon").set_value(68.6811)
    at.number_input(key="staff_add_lat").set_value(37.7432)
    at.selectbox(key="staff_add_precision").set_value("settlement")
    at.checkbox(key="staff_add_confidential").uncheck()
    at.text_input(key="staff_add_source").set_value("staff visit")
    at.button(key="staff_add_submit").click().run()
    _ok(at)
    assert "Added KHT-GHM-SSW9" in _messages(at)
    table = at.dataframe[0].value.set_index("service_id")
    assert table.loc["KHT-GHM-SSW9", "name"] == "Ghamkhori support service Jomi"
    assert table.loc["KHT-GHM-SSW9", "owner_org"] == "ghamkhori"
    history = staff_env.history("test", service_id="KHT-GHM-SSW9")
    assert list(history["action"]) == ["create"] and list(history["changed_by"]) == ["ana.k"]
    row = staff_env.get("KHT-GHM-SSW9")
    assert (row["lon"], row["lat"], row["region"]) == (68.6811, 37.7432, "Khatlon")

    # Edit: the capacity, then the history says old → new.
    at.selectbox(key="staff_edit_id").set_value("KHT-GHM-SSW9").run()
    at.text_input(key="staff_edit_KHT-GHM-SSW9_capacity").set_value("20 women")
    at.button(key="staff_edit_submit").click().run()
    _ok(at)
    assert "Saved KHT-GHM-SSW9: capacity" in _messages(at)
    last = staff_env.history("test", service_id="KHT-GHM-SSW9").iloc[-1]
    assert last["action"] == "update" and '"20 women"' in last["new_values"]
    lines = _frame(at, "when (UTC)", "who", "service_id", "action", "field", "old", "new")
    assert ((lines["service_id"] == "KHT-GHM-SSW9") & (lines["field"] == "capacity")
            & (lines["new"] == "20 women")).any()


def test_the_store_refuses_a_bad_form_and_says_why(staff_env):
    at = _sign_in(_page())
    at.text_input(key="staff_add_name").set_value("No point yet")
    at.button(key="staff_add_submit").click().run()
    _ok(at)
    assert "Set the point" in _messages(at)
    at.text_input(key="staff_add_id").set_value("KHT-GHM-SH1")  # taken: a shipped id
    at.number_input(key="staff_add_lon").set_value(68.78)
    at.number_input(key="staff_add_lat").set_value(37.83)
    before = _digest(staff_env.path)
    at.button(key="staff_add_submit").click().run()
    _ok(at)
    assert "was not added" in _messages(at)
    assert "already used" in rendered_text(at)
    assert _digest(staff_env.path) == before


def test_close_and_reopen(staff_env):
    at = _sign_in(_page())
    target = at.selectbox(key="staff_close_id").options[0].split(" — ")[0]
    at.selectbox(key="staff_close_id").set_value(target)
    at.date_input(key="staff_close_date").set_value(date(2025, 3, 1))
    at.button(key="staff_close_button").click().run()
    _ok(at)
    assert staff_env.get(target)["closed_date"] == "2025-03-01"
    assert f"Closed {target}" in _messages(at)
    assert any(o.startswith(target) for o in at.selectbox(key="staff_reopen_id").options)
    at.selectbox(key="staff_reopen_id").set_value(target)
    at.button(key="staff_reopen_button").click().run()
    _ok(at)
    assert staff_env.get(target)["closed_date"] == ""
    assert [a for a in staff_env.history("test", service_id=target)["action"]][-2:] == ["close", "reopen"]


def test_a_bad_upload_is_reported_row_by_row_and_changes_nothing(staff_env):
    at = _sign_in(_page())
    before = _digest(staff_env.path)
    bad = (HEADER
           + "KHT-GHM-N1,Good row,Ghamkhori,shelter,Bokhtar,Bokhtar,Khatlon,68.78,37.83,settlement,true,,test\n"
           + "KHT-GHM-N2,Swapped,Ghamkhori,crisis_centre,Bokhtar,Bokhtar,Khatlon,37.83,68.78,settlement,false,,test\n"
           + "KHT-GHM-N3,Bad type,Ghamkhori,hotel,Bokhtar,Bokhtar,Khatlon,68.78,37.83,settlement,false,,test\n")
    at.file_uploader(key="staff_upload_0").set_value(("new.csv", bad.encode(), "text/csv")).run()
    _ok(at)
    report = _frame(at, "row", "column", "service_id", "problem")
    rows = dict(zip(report["row"], report["problem"]))
    assert set(rows) == {"3", "4"}
    assert "swapped" in rows["3"] and "not a known service type" in rows["4"]
    assert "staff_upload_confirm" not in [b.key for b in at.button]
    assert _digest(staff_env.path) == before

    # "Swap and retry" fixes row 3; row 4 is still wrong, so still nothing to confirm.
    at.button(key="staff_upload_swap").click().run()
    _ok(at)
    report = _frame(at, "row", "column", "service_id", "problem")
    assert list(report["row"]) == ["4"]
    assert _digest(staff_env.path) == before
    assert not {"KHT-GHM-N1", "KHT-GHM-N2", "KHT-GHM-N3"} & staff_env.ids()


def test_a_good_upload_is_previewed_then_imported_on_confirm(staff_env):
    at = _sign_in(_page())
    good = (HEADER
            + "KHT-GHM-N1,New shelter,Ghamkhori,shelter,Bokhtar,Bokhtar,Khatlon,68.78,37.83,settlement,true,,test\n"
            + "KHT-GHM-N2,Swapped,Ghamkhori,crisis_centre,Kulob,Kulob,Khatlon,37.91,69.78,settlement,false,,test\n")
    before = _digest(staff_env.path)
    at.file_uploader(key="staff_upload_0").set_value(("new.csv", good.encode(), "text/csv")).run()
    _ok(at)
    at.button(key="staff_upload_swap").click().run()  # row 3 had lat and lon swapped
    _ok(at)
    preview = _frame(at, "service_id", "name", "type", "organisation", "town", "district", "lon", "lat",
                     "location_precision", "confidential")
    assert list(preview["service_id"]) == ["KHT-GHM-N1", "KHT-GHM-N2"]
    assert preview.set_index("service_id").loc["KHT-GHM-N2", "lon"] == 69.78
    assert any(getattr(n, "type", "") == "component_instance" for n in at.main)  # the preview map
    assert _digest(staff_env.path) == before, "nothing changes before Confirm"

    at.button(key="staff_upload_confirm").click().run()
    _ok(at)
    assert "Imported 2 services from new.csv" in _messages(at)
    assert {"KHT-GHM-N1", "KHT-GHM-N2"} <= staff_env.ids()
    assert staff_env.get("KHT-GHM-N2")["lat"] == 37.91
    assert staff_env.get("KHT-GHM-N1")["owner_org"] == "ghamkhori"
    assert set(staff_env.history("test", service_id="KHT-GHM-N1")["action"]) == {"import"}
    assert "KHT-GHM-N1" in set(at.dataframe[0].value["service_id"])
    assert not at.file_uploader[0].value  # a fresh uploader for the next file


def test_an_edit_shows_on_the_public_pages_at_the_next_run(staff_env):
    """Caches are keyed by the registry version: a closed service leaves the map."""
    at = AppTest.from_file(str(PROJECT_ROOT / "pages" / "3_About_the_data.py"), default_timeout=120)
    at.run()
    _ok(at)
    before = at.dataframe[-1].value.to_numpy().sum()  # services by type and precision
    version = staff_env.version()
    staff_env.close("KHT-GHM-CC1", "2025-01-01", "test")
    assert staff_env.version() > version
    at.run()
    _ok(at)
    assert at.dataframe[-1].value.to_numpy().sum() == before - 1


def test_lock_out_after_five_wrong_passwords(staff_env):
    at = _page()
    for attempt in range(1, 6):
        _sign_in(at, password=f"wrong-password-{attempt}")
        assert "wrong-password" not in rendered_text(at)
        if attempt < 5:
            assert "Wrong username or password" in _messages(at)
    assert "Too many failed attempts, try again in 15 minutes" in _messages(at)
    _sign_in(at, password=PASSWORD)  # the right password is refused while locked
    assert "Too many failed attempts" in _messages(at)
    assert not at.dataframe
    # Another user is not affected.
    _sign_in(at, username="boss")
    assert "Signed in as **The Admin**" in rendered_text(at)


def test_export_buttons_give_the_staff_and_the_public_copy(staff_env):
    at = _sign_in(_page())
    keys = [b.key for b in at.get("download_button")]
    assert {"staff_export_staff", "staff_export_public"} <= set(keys)


def test_travel_times_are_recomputed_only_when_points_change(staff_env):
    """The loaders are keyed by the registry version; travel times by the services'
    ids, types, points and organisations."""
    from dashboard import loaders

    version, key = loaders.registry_version(), loaders.inputs_key()
    staff_env.update("KHT-GHM-SH1", {"capacity": "about 10 women"}, "test")
    assert loaders.registry_version() > version
    assert loaders.inputs_key() == key
    assert loaders.inputs().services.set_index("service_id").loc["KHT-GHM-SH1", "capacity"] == "about 10 women"
    staff_env.update("KHT-GHM-SH1", {"lon": 68.79}, "test")
    assert loaders.inputs_key() != key


def test_cli_add_user_then_sign_in(staff_env, monkeypatch, capsys):
    import io

    from coverage import cli

    monkeypatch.setattr("sys.stdin", io.StringIO("a-new-password-22\n"))
    assert cli.main(["add-user", "--username", "new.one", "--organisation", "gulrukhsor", "--name", "New One",
                     "--password-stdin"]) == 0
    assert "a-new-password-22" not in capsys.readouterr().out
    at = _sign_in(_page(), username="new.one", password="a-new-password-22")
    assert "Signed in as **New One**" in rendered_text(at)
    assert all(i.startswith("SGH-GUL-") for i in at.selectbox(key="staff_edit_id").options)


def test_an_upload_is_read_and_checked_once_not_on_every_rerun(staff_env, monkeypatch):
    from coverage.registry import uploads

    calls = []
    real = uploads.check_upload

    def counted(*args, **kwargs):
        calls.append(kwargs.get("swap_rows"))
        return real(*args, **kwargs)

    monkeypatch.setattr(uploads, "check_upload", counted)
    at = _sign_in(_page())
    good = HEADER + "KHT-GHM-N1,New centre,Ghamkhori,crisis_centre,Bokhtar,Bokhtar,Khatlon,68.78,37.83,settlement,false,,t\n"
    at.file_uploader(key="staff_upload_0").set_value(("new.csv", good.encode(), "text/csv")).run()
    _ok(at)
    assert len(calls) == 1
    at.toggle(key="staff_only_mine").set_value(True).run()  # reruns for other widgets
    at.selectbox(key="staff_history_id").set_value("KHT-GHM-SH1").run()
    _ok(at)
    assert len(calls) == 1, calls
    assert "all 1 rows are valid" in _messages(at)


def test_a_shelter_marked_not_confidential_is_stored_confidential_with_a_notice(staff_env):
    at = _sign_in(_page())
    upload = HEADER + "KHT-GHM-N5,Open shelter,Ghamkhori,shelter,Bokhtar,Bokhtar,Khatlon,68.78,37.83,exact,false,,t\n"
    at.file_uploader(key="staff_upload_0").set_value(("sh.csv", upload.encode(), "text/csv")).run()
    _ok(at)
    assert "row 2: shelters are always confidential; stored as confidential" in _messages(at)
    preview = _frame(at, "service_id", "name", "type", "organisation", "town", "district", "lon", "lat",
                     "location_precision", "confidential")
    assert preview["confidential"].tolist() == [True]

    at.selectbox(key="staff_add_type").set_value("shelter")
    at.text_input(key="staff_add_name").set_value("Form shelter")
    at.number_input(key="staff_add_lon").set_value(68.7811)
    at.number_input(key="staff_add_lat").set_value(37.8432)
    at.checkbox(key="staff_add_confidential").uncheck()
    at.button(key="staff_add_submit").click().run()
    _ok(at)
    assert "Shelters are always confidential; stored as confidential" in _messages(at)
    added = [sid for sid in staff_env.ids() if sid.startswith("GHAMKHORI-SHELTER-")]
    assert len(added) == 1 and staff_env.get(added[0])["confidential"] is True


def test_staff_see_only_their_organisations_history(staff_env):
    staff_env.update("SGH-GUL-SH1", {"capacity": "gulrukhsor's edit"}, "test")
    at = _sign_in(_page())
    lines = _frame(at, "when (UTC)", "who", "service_id", "action", "field", "old", "new")
    assert len(lines) and all(sid.startswith("KHT-GHM-") for sid in lines["service_id"])
    at = _sign_in(_page(), username="boss")
    lines = _frame(at, "when (UTC)", "who", "service_id", "action", "field", "old", "new")
    assert "gulrukhsor's edit" in set(lines["new"])


def test_the_picker_map_names_districts_and_towns_without_tiles(staff_env):
    from conftest import component_text
    from test_pages import map_labels

    from coverage.views import maps, names
    from dashboard import loaders

    at = _sign_in(_page())
    text = "\n".join(component_text(n) for n in at.main
                     if type(n).__name__ == "UnknownElement" and n.proto.component_name.endswith("st_folium"))
    assert "district-label" in text and "town-label" in text
    communities = loaders.inputs().communities
    labels = map_labels(text)
    # in the session's script (English: Latin; coverage.views.names)
    assert set(names.display_names(loaders.display_districts(), "en", column="district")) <= labels
    assert set(names.display_names(communities[communities["place"].isin(maps.TOWN_PLACES)], "en")) <= labels
