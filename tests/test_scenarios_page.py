"""The Scenarios page through Streamlit's AppTest: its before/after figures equal a direct
library run; saving needs sign-in (author = the signed-in user), loading and comparing do not;
a proposed shelter clicked at an exact point never shows there."""

from __future__ import annotations

import pytest
from conftest import EXACT_LAT, EXACT_LON, PROJECT_ROOT, no_exact_point_in, rendered_text
from streamlit.testing.v1 import AppTest

from coverage import config
from coverage.analysis import scenarios as sc
from coverage.views import names

PAGE = str(PROJECT_ROOT / "pages" / "5_Scenarios.py")
PASSWORD = "correct-horse-battery-1"


@pytest.fixture
def page_env(app_env, monkeypatch, tmp_path):
    """A fresh registry and a users file with one Ghamkhori staff user."""
    from coverage.registry import auth, store

    monkeypatch.setattr(auth, "BCRYPT_ROUNDS", 4)
    monkeypatch.setenv("COVERAGE_STORE", str(tmp_path / "registry.gpkg"))
    monkeypatch.setenv("COVERAGE_USERS", str(tmp_path / "users.yaml"))
    auth.add_user(tmp_path / "users.yaml", "ana.k", "Ana K.", "ghamkhori", PASSWORD)
    return store.open_store(tmp_path / "registry.gpkg")


def _page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    _ok(at)
    return at


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def _metric(at: AppTest, start: str) -> tuple[int, str]:
    metric = next(m for m in at.metric if m.label.startswith(start))
    return int(metric.value.replace(",", "")), metric.delta


def _library(scenario: sc.Scenario, season: str = "summer") -> sc.ScenarioResult:
    from dashboard import loaders

    data = loaders.inputs()
    return sc.run_scenario(data, scenario, baseline=sc.Baseline(data, settings=config.load_settings()),
                           baseline_season=season, regions=list(config.FOCUS_REGIONS))


def _frame(at: AppTest, key_column: str):
    for frame in at.dataframe:
        if key_column in frame.value.columns:
            return frame.value
    raise AssertionError(f"no table with {key_column}")


def test_before_after_equal_a_direct_library_run(page_env):
    at = _page()
    within, _delta = _metric(at, "Women within 60 min (before)")
    after, delta = _metric(at, "Women within 60 min (after)")
    assert within == after and not delta  # nothing changed yet
    at.multiselect(key="scn_closed").set_value(["KHT-NK-SH1"]).run()
    at.multiselect(key="scn_roads").set_value(["Danghara – Kŭlob"]).run()
    _ok(at)
    expected = _library(sc.Scenario(closed_services=("KHT-NK-SH1",),
                                    closed_roads=(sc.ClosedRoad(75118365, "Danghara – Kŭlob"),)))
    overall = expected.overall()
    assert _metric(at, "Women within 60 min (before)")[0] == overall["within_before"] == within
    after, delta = _metric(at, "Women within 60 min (after)")
    assert after == overall["within_after"] and delta == f"{int(overall['change']):+,}" and overall["change"] < 0
    districts = _frame(at, "within_after")
    moved = expected.districts[expected.districts["change"] != 0]
    shown = names.display_names(moved, "en", column="district")  # place names in the session's script (Latin)
    assert dict(zip(districts["district"], districts["change"])) == dict(zip(shown, moved["change"]))
    changed = _frame(at, "status_after")
    assert list(changed["name"]) == list(names.display_names(expected.changed, "en")) and len(changed) > 10
    assert set(changed["status_after"]) == {"now beyond"}


def test_a_proposed_site_by_town_and_a_winter_season(page_env):
    at = _page()
    next(b for b in at.button if b.label == "Add site").click().run()  # no town picked: told so, nothing added
    assert any("Pick a town" in str(e.value) for e in at.error) and "scn_sites" not in at.session_state
    at.selectbox(key="scn_add_type").set_value("shelter")
    at.selectbox(key="scn_add_town").set_value("Farkhor")
    at.text_input(key="scn_add_org").set_value("Test org")
    next(b for b in at.button if b.label == "Add site").click().run()
    at.radio(key="scn_season").set_value("winter").run()
    at.multiselect(key="scn_roads").set_value(["M41 Tavildara – Qalaikhumb"]).run()
    _ok(at)
    expected = _library(sc.Scenario(added_sites=(sc.ProposedSite("shelter", town="Farkhor", org="Test org"),),
                                     season="winter", closed_roads=(sc.ClosedRoad(89781688),)))
    assert _metric(at, "Women within 60 min (after)")[0] == expected.overall()["within_after"]
    assert expected.overall()["change"] > 0
    sites = _frame(at, "town")
    assert list(sites["name"]) == ["Test org shelter (Farkhor)"]
    assert any("Not on the winter road network" in str(i.value) and "M41 Tavildara – Qalaikhumb" in str(i.value)
               for i in at.info)


def test_a_proposed_shelter_at_a_clicked_point_shows_at_its_town_only(page_env):
    at = _page()
    at.session_state["scn_click"] = (EXACT_LAT, EXACT_LON)
    at.run()
    at.selectbox(key="scn_add_type").set_value("shelter")
    at.selectbox(key="scn_add_town").set_value("__clicked__")
    next(b for b in at.button if b.label == "Add site").click().run()
    _ok(at)
    assert len(at.session_state["scn_sites"]) == 1
    sites = _frame(at, "town")
    assert sites["name"].iloc[0].startswith("Proposed site shelter (")
    no_exact_point_in(rendered_text(at))


def test_saving_needs_sign_in_loading_and_comparing_do_not(page_env):
    at = _page()
    assert not [b for b in at.button if b.label == "Save scenario"]
    assert any("Sign in" in str(c.value) for c in at.caption)
    at.text_input(key="sidebar_signin_username").set_value("ana.k")
    at.text_input(key="sidebar_signin_password").set_value(PASSWORD)
    at.button(key="sidebar_signin_submit").click().run()
    _ok(at)
    at.multiselect(key="scn_closed").set_value(["KHT-NK-SH1"]).run()
    at.sidebar.slider(key="threshold").set_value(90).run()
    at.text_input(key="scn_save_name").set_value("Kulob shelter closes")
    at.button(key="scn_save").click().run()
    _ok(at)
    saved = page_env.load_scenario("Kulob shelter closes")
    assert saved["author"] == "ana.k"
    assert saved["body"]["closed_services"] == ["KHT-NK-SH1"] and saved["body"]["threshold_min"] == 90
    page_env.save_scenario("Winter", sc.Scenario(season="winter", service_types=("crisis_centre",), closed_roads=(
        sc.ClosedRoad(75118365, "a name the road had once"),)).to_dict(), "cli")
    # a new visitor (not signed in) loads it: the page's and the sidebar's widgets follow
    fresh = _page()
    fresh.selectbox(key="scn_load_name").set_value("Kulob shelter closes")
    fresh.button(key="scn_load").click().run()
    _ok(fresh)
    assert fresh.multiselect(key="scn_closed").value == ["KHT-NK-SH1"]
    assert fresh.sidebar.slider(key="threshold").value == 90
    expected = _library(sc.Scenario(closed_services=("KHT-NK-SH1",), threshold_min=90))
    assert _metric(fresh, "Women within 90 min (after)")[0] == expected.overall()["within_after"]
    fresh.multiselect(key="scn_compare").set_value(["Kulob shelter closes", "Winter"]).run()
    _ok(fresh)
    compared = _frame(fresh, "left_out").set_index("name")
    assert compared.loc["Kulob shelter closes", "change"] == expected.overall()["change"]
    winter = _library(sc.Scenario(season="winter", service_types=("crisis_centre",),
                                  closed_roads=(sc.ClosedRoad(75118365),)))
    assert compared.loc["Winter", "after"] == winter.overall()["within_after"]
    # a saved road is found by its way id, whatever name it was saved under
    fresh.selectbox(key="scn_load_name").set_value("Winter")
    fresh.button(key="scn_load").click().run()
    _ok(fresh)
    assert fresh.multiselect(key="scn_roads").value == ["Danghara – Kŭlob"]
    assert fresh.radio(key="scn_season").value == "winter"
    assert fresh.sidebar.multiselect(key="service_types").value == ["crisis_centre"]
    assert page_env.services().equals(page_env.services())  # the registry itself is untouched
    assert "KHT-NK-SH1" in set(page_env.services()["service_id"])


def test_other_pages_can_propose_sites_for_the_scenario(page_env):
    script = ("from coverage.analysis.scenarios import ProposedSite\n"
              "from dashboard import scenario_cache\n"
              "scenario_cache.propose_sites([ProposedSite('crisis_centre', town='Farkhor')])\n")
    at = AppTest.from_string(script, default_timeout=60)
    at.run()
    _ok(at)
    assert at.session_state["scn_sites"] == [{"type": "crisis_centre", "town": "Farkhor", "org": ""}]
