"""Every dashboard page through Streamlit's AppTest: renders, reacts, sorts."""

from __future__ import annotations

import pytest
from conftest import PROJECT_ROOT
from streamlit.testing.v1 import AppTest

from coverage.views.names import display_names

PAGES = ["app.py", "pages/1_Underserved_communities.py", "pages/2_Reach.py", "pages/3_About_the_data.py"]


def _run(page: str) -> AppTest:
    at = AppTest.from_file(str(PROJECT_ROOT / page), default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _metric(at: AppTest, start: str) -> str:
    return next(m.value for m in at.metric if m.label.startswith(start))


def _people(text: str) -> int:
    return int(text.replace(",", ""))


def _table(at: AppTest, *columns: str):
    """The first table shown (interactive or static) whose columns include ``columns``; a
    static table's index comes back as its first column, ``org`` for "Organisation"."""
    frames = [df.value for df in at.dataframe]
    frames += [t.value.reset_index().rename(columns={"Organisation": "org"}) for t in at.table]
    return next(frame for frame in frames if set(columns) <= set(frame.columns))


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_without_exception(app_env, page):
    at = _run(page)
    assert at.title, "every page has a title"


def test_map_page_threshold_changes_headline_figures(app_env):
    at = _run("app.py")
    within_60 = _people(_metric(at, "Women within"))
    beyond_60 = _people(_metric(at, "Women beyond"))
    at.sidebar.slider(key="threshold").set_value(180).run()
    assert not at.exception
    within_180 = _people(_metric(at, "Women within"))
    beyond_180 = _people(_metric(at, "Women beyond"))
    assert within_180 > within_60
    assert within_180 + beyond_180 == within_60 + beyond_60  # the same people, split differently
    assert "180 min" in next(m.label for m in at.metric if m.label.startswith("Women within"))


def test_map_page_type_and_season_change_figures(app_env):
    at = _run("app.py")
    shelter_within = _people(_metric(at, "Women within"))
    at.sidebar.multiselect(key="service_types").set_value(["shelter", "crisis_centre", "support_service"]).run()
    assert _people(_metric(at, "Women within")) > shelter_within
    at.sidebar.multiselect(key="service_types").set_value(["shelter"]).run()
    at.sidebar.slider(key="threshold").set_value(240).run()
    summer = _people(_metric(at, "Women within"))
    at.sidebar.radio(key="season").set_value("winter").run()
    assert not at.exception
    assert _people(_metric(at, "Women within")) < summer  # avalanche-prone roads are slower in winter


def test_underserved_table_is_sorted_by_people_affected(app_env):
    at = _run("pages/1_Underserved_communities.py")
    table = at.dataframe[0].value
    assert len(table) > 100
    women = table["women"].tolist()
    assert women == sorted(women, reverse=True)
    at.sidebar.slider(key="threshold").set_value(200).run()
    fewer = at.dataframe[0].value
    assert len(fewer) < len(table)
    assert fewer["women"].tolist() == sorted(fewer["women"].tolist(), reverse=True)
    at.sidebar.radio(key="measure").set_value("population").run()
    people = at.dataframe[0].value
    assert "women" not in people and people["population"].tolist() == sorted(people["population"], reverse=True)


def test_women_by_default_all_people_as_an_option_matching_the_library(app_env):
    """The Map page's headline and district figures count women by default and all people
    when chosen, each equal to the library's own analysis; the choice lives in the URL."""
    from coverage import analysis
    from dashboard import loaders

    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120)
    at.query_params["district"] = "Panj"
    at.run()
    assert not at.exception
    data = loaders.inputs()
    runs = {m: analysis.analyse(data, loaders.travel_times("summer"), ["shelter"], 60, regions=["Khatlon", "Sughd"],
                                measure=m) for m in ("women", "population")}
    women = runs["women"].totals.set_index("region").loc["All"]
    assert _people(_metric(at, "Women within 60 min")) == women["population_within"]
    assert _people(_metric(at, "Women beyond 60 min")) == women["population_beyond"]
    panj = data.districts.set_index("district").loc["Panj"]
    assert _people(_metric(at, "Women (census 2020)")) == panj["women"]
    assert any("female share" in c.value for c in at.caption)
    at.sidebar.radio(key="measure").set_value("population").run()
    assert not at.exception
    people = runs["population"].totals.set_index("region").loc["All"]
    assert _people(_metric(at, "People within 60 min")) == people["population_within"]
    assert _people(_metric(at, "People beyond 60 min")) == people["population_beyond"]
    assert _people(_metric(at, "Population (census 2020)")) == panj["population"]
    assert at.query_params["count"] == ["people"] or at.query_params["count"] == "people"
    assert women["population_within"] < people["population_within"]


def test_reach_totals_add_up_over_districts(app_env):
    at = _run("pages/2_Reach.py")
    totals = _table(at, "org", "share_chosen")
    by_district = _table(at, "district", "within_30")
    org = at.selectbox(key="reach_org").value
    total_row = by_district[by_district["district"] == "Total"].iloc[0]
    districts = by_district[by_district["district"] != "Total"]
    for column in ("within_30", "within_60", "within_120"):
        assert districts[column].sum() == total_row[column]
        assert totals.set_index("org").loc[org, column] == total_row[column]
    # Within 30 ≤ 60 ≤ 120 for every organisation.
    assert (totals["within_30"] <= totals["within_60"]).all()
    assert (totals["within_60"] <= totals["within_120"]).all()


def test_about_page_names_every_source_and_licence(app_env):
    at = _run("pages/3_About_the_data.py")
    text = (" ".join(str(m.value) for m in at.markdown) + " ".join(df.value.to_csv() for df in at.dataframe)
            + " ".join(t.value.to_csv() for t in at.table))
    assert len(at.table) == 1 and len(at.table[0].value) >= 7  # one row per source
    for needle in ("OpenStreetMap contributors", "geoBoundaries", "GeoNames", "Census", "ODbL", "CC BY 4.0",
                   "approximate", "estimate"):
        assert needle in text, needle


def test_travel_times_are_computed_once_with_visible_progress(app_env):
    from dashboard import loaders

    loaders._travel_time_tables().clear()
    first = _run("app.py")
    [status] = first.main.get("status")
    assert status.label == "Travel times ready (summer)"
    progress = " ".join(m.value for m in status.markdown)
    assert "Nearest service of each of" in progress and "communities on" in progress
    assert len(loaders._travel_time_tables()) == 1
    again = _run("app.py")  # a second session: the table is shared, nothing is computed or shown again
    assert not again.main.get("status")
    assert len(loaders._travel_time_tables()) == 1


def test_a_real_network_is_not_called_approximate_on_the_map_page(app_env, tmp_path, monkeypatch):
    """With an OSM extract loaded (here the trunk roads rewritten as .osm.pbf) neither the
    sidebar nor the caption calls the roads the approximate default network."""
    import osmium

    from coverage import config

    real = tmp_path / "tj_roads.osm.pbf"
    with osmium.SimpleWriter(str(real)) as writer:
        for obj in osmium.FileProcessor(str(config.DEFAULT_NETWORK)):
            writer.add(obj)
    monkeypatch.setenv("COVERAGE_NETWORK", str(real))
    at = _run("app.py")
    texts = [c.value for c in (*at.caption, *at.sidebar.caption)]
    assert any("tj_roads.osm.pbf" in t for t in texts)
    assert not any("approximate" in t for t in texts), texts


@pytest.mark.parametrize("variable, value, expected", [
    ("COVERAGE_NETWORK", "/nonexistent/roads.osm.pbf", "COVERAGE_NETWORK"),
    ("COVERAGE_STORE", "ftp://user:s3cret@example.org/registry", "not supported"),
])
def test_a_bad_setting_is_one_message_on_the_page_not_a_traceback(app_env, monkeypatch, variable, value, expected):
    """The navigation runs every page behind dashboard.guard: an error of the project's
    family (here a setting the server cannot use) is shown as its message."""
    monkeypatch.setenv(variable, value)
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and expected in errors[0], errors
    assert "s3cret" not in errors[0]


def test_a_link_sets_the_sidebar_and_the_district_in_view(app_env):
    """The URL's choices (types, threshold, season, regions, district by an older
    spelling) open the same view; unknown values are dropped, not obeyed."""
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120)
    at.query_params.update({"types": "shelter,crisis_centre,not_a_type", "threshold": "120", "season": "winter",
                            "regions": "Sughd,Nowhere", "district": "Jilikul"})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.sidebar.multiselect(key="service_types").value == ["shelter", "crisis_centre"]
    assert at.sidebar.slider(key="threshold").value == 120
    assert at.sidebar.radio(key="season").value == "winter"
    assert at.sidebar.multiselect(key="regions").value == ["Sughd"]
    # Jilikul is Dusti's older name; Dusti is in Khatlon, outside the regions chosen
    assert at.selectbox(key="district_picker").value is not None
    assert any("outside the regions" in c.value for c in at.caption)


def test_choices_from_url_drops_what_the_page_does_not_offer(districts):
    from dashboard.sidebar import choices_from_url

    got = choices_from_url({"types": "x", "threshold": "17", "season": "spring", "regions": "", "district": "Nowhere"},
                           service_types=["shelter"], regions=["Sughd"], districts=districts)
    assert got == {}
    got = choices_from_url({"threshold": "90", "district": "DUSTI", "count": "people"}, service_types=["shelter"],
                           regions=["Sughd"], districts=districts)
    dusti = districts.loc[districts["district"] == "Dusti", "district_id"].iloc[0]
    assert got == {"threshold": 90, "district_in_view": dusti, "measure": "population"}
    assert choices_from_url({"count": "girls"}, service_types=["shelter"], regions=["Sughd"], districts=districts) == {}


def test_estimated_village_figures_say_they_are_an_even_share(app_env):
    """Villages whose figure is the district total shared out (all 16 villages of Panj get
    the same number) are labelled as such in the table, never as a count."""
    from coverage.views import labels

    at = _run("pages/1_Underserved_communities.py")
    table = at.dataframe[0].value
    assert set(table["population_note"]) <= {labels.ESTIMATE_NOTE, labels.COUNTED_NOTE}
    panj = table[(table["district"] == "Panj") & (table["population_note"] == labels.ESTIMATE_NOTE)]
    assert len(panj) >= 2 and panj["women"].nunique() <= 2  # an even split (villages; hamlets less)
    assert (table["population_note"] == labels.ESTIMATE_NOTE).sum() > len(table) / 2


def test_farthest_community_has_no_better_or_worse_arrow(app_env):
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120)
    at.query_params["district"] = "Panj"
    at.run()
    assert not at.exception
    farthest = next(m for m in at.metric if m.label == "Farthest community")
    assert farthest.proto.delta  # the minutes are shown under the name
    assert farthest.proto.direction == farthest.proto.MetricDirection.NONE  # no ↑: higher is not better


def test_reach_follows_the_sidebar_and_matches_the_library(app_env):
    """The Reach page's types and threshold change its figures, and its totals and 'what
    this organisation alone adds' equal the library's own computation (public inputs)."""
    from coverage import analysis, config
    from coverage.analysis import reach
    from coverage.engine import roads

    at = _run("pages/2_Reach.py")
    at.sidebar.slider(key="threshold").set_value(90).run()
    assert not at.exception
    totals = _table(at, "org", "share_chosen").set_index("org")
    assert "within_90" in totals.columns
    at.sidebar.multiselect(key="service_types").set_value(["shelter", "crisis_centre"]).run()
    assert not at.exception
    both = _table(at, "org", "share_chosen").set_index("org")
    assert both.loc[reach.ANY_ORGANISATION, "within_90"] > totals.loc[reach.ANY_ORGANISATION, "within_90"]

    settings = config.load_settings()
    data = analysis.load_inputs(settings=settings)
    network = roads.load_network(settings.network_path, season="summer", settings=settings)
    chosen = data.services[data.services["type"].isin(["shelter", "crisis_centre"])]
    times = reach.organisation_times(network, data.communities, chosen, settings)
    regions = list(config.FOCUS_REGIONS)
    expected = reach.reach_table(times, data.communities, thresholds=(30, 60, 90, 120))
    expected = reach.organisation_totals(expected[expected["region"].isin(regions)], (30, 60, 90, 120))
    assert expected.set_index("org")["within_90"].to_dict() == both["within_90"].to_dict()
    alone = reach.sole_reach(times, data.communities, 90)
    alone = alone[alone["region"].isin(regions)].groupby("org")["people_alone"].sum()
    shown = _table(at, "org", "total").set_index("org")["total"]
    assert len(shown) and shown.to_dict() == alone.to_dict()
    assert (shown <= both.loc[shown.index, "within_90"]).all()  # alone ≤ all it reaches


@pytest.mark.parametrize("measure, word", [("women", "women"), ("population", "people")])
def test_reach_per_type_and_region_counts_the_chosen_measure_as_the_library_does(app_env, measure, word):
    """Organisations side by side per service type and per region, and what each alone
    adds, in women (default) or all people: each figure equals the library's own
    computation (engine pass over public inputs, then reach's tables), and the text says
    what is counted."""
    from coverage import analysis, config
    from coverage.analysis import reach
    from coverage.engine import roads

    types, regions = ["shelter", "crisis_centre"], list(config.FOCUS_REGIONS)
    at = AppTest.from_file(str(PROJECT_ROOT / "pages/2_Reach.py"), default_timeout=120)
    at.query_params.update({"types": ",".join(types), "threshold": "90", "count": word})
    at.run()
    assert not at.exception, [e.value for e in at.exception]

    settings = config.load_settings()
    data = analysis.load_inputs(settings=settings)
    network = roads.load_network(settings.network_path, season="summer", settings=settings)
    chosen = data.services[data.services["type"].isin(types)]
    typed = reach.organisation_times(network, data.communities, chosen, settings, by_type=True)
    communities = data.communities[data.communities["region"].isin(regions)]
    count = communities[measure]
    # per (organisation, service type): the measure of the communities within 90 min of its nearest
    # service of that type, straight from the engine's minutes
    minutes = typed.merge(communities[["community_id", "region"]].assign(count=count.to_numpy()), on="community_id")
    near = minutes[minutes["minutes"] <= 90]
    expected_type = near.groupby(["org", "service_type"])["count"].sum()
    shown_type = _table(at, "org", "Shelter", "Crisis centre").set_index("org")
    for (org, kind), value in expected_type.items():
        assert shown_type.loc[org, {"shelter": "Shelter", "crisis_centre": "Crisis centre"}[kind]] == value
    nearest = near.drop_duplicates(["community_id", "org"])  # an organisation counts each community once
    expected_region = nearest.groupby(["org", "region"])["count"].sum()
    shown_region = _table(at, "org", "Khatlon", "Sughd").set_index("org")
    for (org, region), value in expected_region.items():
        assert shown_region.loc[org, region] == value
    totals = _table(at, "org", "share_chosen").set_index("org")
    assert totals["within_90"].to_dict() == nearest.groupby("org")["count"].sum().to_dict()
    assert (totals["within_90"] <= count.sum()).all()

    organisations = nearest[nearest["org"] != reach.ANY_ORGANISATION]
    only_one = organisations.groupby("community_id")["org"].transform("size") == 1
    expected_alone = organisations[only_one].groupby("org")["count"].sum()
    assert _table(at, "org", "total").set_index("org")["total"].to_dict() == expected_alone.to_dict()

    text = " ".join(m.value for m in at.markdown)
    assert f"{int(count.sum()):,} {word} in all" in text
    if measure == "women":
        assert "People (2020 census" not in text and "Women (2020 census" in text
        assert any(c.value.startswith("Women within") for c in at.caption)
    else:
        assert "People (2020 census" in text


def test_winter_says_what_it_changes_from_the_library_figures(app_env):
    from coverage import analysis
    from coverage.analysis import seasons
    from dashboard import loaders

    at = _run("app.py")
    at.sidebar.slider(key="threshold").set_value(240).run()
    at.sidebar.radio(key="season").set_value("winter").run()
    assert not at.exception
    assert any(h.value == "What winter changes" for h in at.subheader)
    data = loaders.inputs()
    runs = {s: analysis.analyse(data, loaders.travel_times(s), ["shelter"], 240, season=s,
                                regions=["Khatlon", "Sughd"]) for s in ("summer", "winter")}
    expected = seasons.winter_changes(runs["summer"].communities, runs["winter"].communities, threshold_min=240)
    shown = next(df.value for df in at.dataframe if "summer_minutes" in df.value.columns)
    # names in one script: Latin in English (views.names)
    assert len(expected) and sorted(shown["name"]) == sorted(display_names(expected, "en"))
    assert (expected["winter_minutes"] > expected["summer_minutes"]).all()


def test_winter_names_the_roads_it_closes_and_slows(app_env):
    from coverage.analysis import seasons
    from dashboard import loaders

    at = _run("app.py")
    at.sidebar.radio(key="season").set_value("winter").run()
    assert not at.exception
    expected = seasons.winter_roads(loaders.network_path(), settings=loaders.settings())
    shown = next(df.value for df in at.dataframe if "km" in df.value.columns)
    assert "Darband – Tavildara" in set(shown["name"])  # the pass road the default network closes
    assert list(shown["name"]) == list(expected["name"])
    assert list(shown["km"]) == list(expected["km"])
    assert (shown["status"] == "closed").sum() == (expected["status"] == "closed").sum() >= 1
    text = " ".join(m.value for m in at.markdown)
    assert f"closes **{(expected['status'] == 'closed').sum()}** roads" in text
    at.sidebar.radio(key="season").set_value("summer").run()
    assert not any("km" in df.value.columns for df in at.dataframe)  # summer lists no closed roads


def _folium_scripts(at: AppTest) -> str:
    from conftest import component_text

    return "\n".join(component_text(n) for n in at.main
                     if type(n).__name__ == "UnknownElement" and n.proto.component_name.endswith("st_folium"))


def map_labels(script: str) -> set[str]:
    """The texts of the HTML labels (district and town names) a folium map script draws."""
    import html
    import json
    import re

    found: set[str] = set()
    for items in re.findall(r"var items = (\[.*?\]);\n", script):
        for item in json.loads(items):
            found.add(html.unescape(re.sub(r"<[^>]+>", "", item["icon"])).replace("\u25cf", "").strip())
    return found


def test_the_map_legend_and_tooltips_name_what_is_counted(app_env):
    """Women by default: the legend's district shares, the district tooltips and the
    community tooltips say women; with all people chosen they say people."""
    import re

    at = _run("app.py")
    text = _folium_scripts(at)
    assert "share of women" in text and "share of people" not in text
    assert '"Women within"' in text and '"Women (census 2020)"' in text and '"People within"' not in text
    women, people = re.compile(r"(?:>|u003e)Women: [0-9,]+ [(]"), re.compile(r"(?:>|u003e)People: [0-9,]+")
    assert women.search(text) and not people.search(text)  # community tooltips (HTML escaped in JSON)
    at.sidebar.radio(key="measure").set_value("population").run()
    assert not at.exception
    text = _folium_scripts(at)
    assert "share of people" in text and "share of women" not in text
    assert '"People within"' in text and '"Population (census 2020)"' in text and '"Women within"' not in text
    assert people.search(text) and not women.search(text)


def test_small_map_names_districts_and_towns_without_tiles(app_env):
    """COVERAGE_MAP_TILES=none (the test environment): the underserved page's small map
    carries the project's own district and town names."""
    from coverage.views import maps
    from dashboard import loaders

    at = _run("pages/1_Underserved_communities.py")
    text = _folium_scripts(at)
    assert "district-label" in text and "town-label" in text
    labels = map_labels(text)
    districts = set(loaders.display_districts()["district"])
    communities = loaders.inputs().communities.assign(name=lambda f: display_names(f, "en"))  # one script
    towns = set(communities[communities["place"].isin(maps.TOWN_PLACES)]["name"])
    hamlets = set(communities[communities["place"] == "hamlet"]["name"]) - towns - districts
    assert len(districts) > 20 and len(towns) > 20
    assert districts <= labels and towns <= labels
    assert not hamlets & labels  # towns and cities only, not every hamlet


def test_small_map_with_tiles_leaves_the_names_to_the_tiles(app_env):
    import dataclasses

    from coverage.views import maps
    from dashboard import loaders

    communities = loaders.inputs().communities
    settings = dataclasses.replace(loaders.settings(), map_tiles_url="https://tile.example/{z}/{x}/{y}.png")
    online = maps.point_map(communities.head(3).assign(threshold_min=60.0, minutes=10.0), loaders.public_services(),
                            tiles=True, settings=settings, districts=loaders.display_districts(), towns=communities)
    offline = maps.point_map(communities.head(3).assign(threshold_min=60.0, minutes=10.0), loaders.public_services(),
                             tiles=False, settings=settings, districts=loaders.display_districts(), towns=communities)
    rendered_online = online.get_root().render()
    assert "town-label" not in rendered_online and "district-label" not in rendered_online
    rendered = offline.get_root().render()
    assert "town-label" in rendered and "district-label" in rendered
