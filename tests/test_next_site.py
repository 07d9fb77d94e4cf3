"""Where to open next: `allocation.plan_sites` for a planner's area, and the page that shows
its suggestions and puts them into the Scenarios page's scenario in one click."""

from __future__ import annotations

import pytest
from conftest import PROJECT_ROOT
from streamlit.testing.v1 import AppTest

from coverage import config
from coverage.analysis import allocation
from coverage.errors import InputError
from coverage.views import names

PAGE = str(PROJECT_ROOT / "pages" / "8_Next_site.py")


def _inputs():
    from dashboard import loaders

    return loaders.inputs()


def test_plan_sites_counts_and_suggests_only_inside_the_regions(app_env):
    data = _inputs()
    plan = allocation.plan_sites(data, "crisis_centre", method="mclp", k=2, threshold_min=60, regions=["Sughd"])
    sughd = data.communities[data.communities["region"] == "Sughd"]
    assert plan.total == int(round(sughd["women"].sum()))
    assert set(plan.sites["region"]) == {"Sughd"}
    assert plan.adds > 0 and plan.sites["adds"].sum() == plan.adds
    whole = allocation.plan_sites(data, "crisis_centre", method="mclp", k=2, threshold_min=60)
    assert whole.total == int(round(data.communities["women"].sum())) > plan.total


def test_plan_sites_refuses_an_unknown_method(app_env):
    with pytest.raises(InputError) as err:
        allocation.plan_sites(_inputs(), "shelter", method="greedy", k=1, threshold_min=60)
    assert err.value.message_id == "allocation.bad_method"


def test_the_page_shows_the_library_plan_and_adds_it_to_the_scenario(app_env):
    # through the entry page, whose navigation knows the Scenarios page the success note links to
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=180)
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.metric, "nothing is computed before the planner asks"
    at.selectbox(key="next_site_type").set_value("crisis_centre")
    at.number_input(key="next_site_k").set_value(2)
    at.button[0].click()  # the form's "Suggest sites"
    at.run()
    assert not at.exception, [e.value for e in at.exception]

    expected = allocation.plan_sites(_inputs(), "crisis_centre", method="mclp", k=2,
                                     threshold_min=config.DEFAULT_THRESHOLD_MIN,
                                     regions=list(config.FOCUS_REGIONS))
    today = next(m for m in at.metric if "today" in m.label)
    after = next(m for m in at.metric if m.label.startswith("With the suggested sites"))
    assert int(today.value.replace(",", "")) == expected.covered_before
    assert int(after.value.replace(",", "")) == expected.covered_after
    table = next(f.value for f in at.dataframe if "adds" in f.value.columns)
    assert list(table["name"]) == list(names.display_names(expected.sites, "en"))  # in the session's script
    assert list(table["adds"]) == list(expected.sites["adds"])

    at.button(key="next_site_add").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    from dashboard import scenario_cache

    assert at.session_state[scenario_cache.SITES_KEY] == [
        {"type": "crisis_centre", "town": str(name), "org": ""} for name in expected.sites["name"]]
    assert any("Added 2 proposed" in s.value for s in at.success)
