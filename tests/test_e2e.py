"""End to end: `streamlit run app.py` on a free localhost port, driven in headless Chromium."""

from __future__ import annotations

import re

import pytest
from conftest import wait_idle

pytestmark = pytest.mark.e2e

METRIC = '[data-testid="stMetricValue"]'
MAP_FRAME = 'iframe[title="streamlit_folium.st_folium"]'


def _open(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector(METRIC, timeout=90_000)
    map_frame = page.frame_locator('iframe[title="streamlit_folium.st_folium"]').first
    map_frame.locator(".leaflet-container").wait_for(timeout=60_000)
    map_frame.locator(".leaflet-interactive").first.wait_for(timeout=60_000)
    wait_idle(page)


def test_threshold_change_updates_figures_in_browser(streamlit_server, browser, tmp_path):
    base, _log = streamlit_server
    page = browser.new_page(viewport={"width": 1400, "height": 1200})
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda err: problems.append(f"page error: {err}"))
    _open(page, base + "/")

    within_before = page.locator(METRIC).first.inner_text()
    page.screenshot(path=str(tmp_path / "map_60min.png"), full_page=True)

    slider = page.get_by_role("slider", name="Threshold (minutes by road)")
    assert slider.input_value() == "60"
    slider.focus()
    page.keyboard.press("End")  # jump to the largest threshold, 240 min
    page.wait_for_function(
        "([sel, before]) => document.querySelector(sel) && document.querySelector(sel).innerText !== before",
        arg=[METRIC, within_before], timeout=30_000,
    )
    wait_idle(page)
    within_after = page.locator(METRIC).first.inner_text()
    assert slider.input_value() == "240"
    assert int(re.sub(r"\D", "", within_after)) > int(re.sub(r"\D", "", within_before))
    assert "240 min" in page.content()

    # The district choropleth and the legend are drawn inside the map with no tiles (offline).
    map_frame = page.frame_locator('iframe[title="streamlit_folium.st_folium"]').first
    map_frame.locator(".leaflet-control-layers").get_by_text("Districts: share within 240 min").wait_for(
        state="attached", timeout=30_000)
    assert map_frame.locator("canvas").count() >= 1  # districts and communities, drawn on a canvas
    assert map_frame.locator(".leaflet-marker-icon").count() >= 3  # the shelters' town-level markers
    shot = tmp_path / "map_240min.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 50_000
    assert not problems, problems


@pytest.mark.parametrize("link, heading, content", [
    ("Underserved communities", "Underserved communities", ['[data-testid="stDataFrame"] canvas', MAP_FRAME]),
    ("Reach", "Reach by organisation", ['[data-testid="stDataFrame"] canvas', ".vega-embed"]),
    ("Capacity", "Capacity: places within reach", ['[data-testid="stDataFrame"] canvas']),
    ("About the data", "About the data", ['[data-testid="stDataFrame"] canvas']),
])
def test_other_pages_render_in_browser(streamlit_server, browser, tmp_path, link, heading, content):
    base, _log = streamlit_server
    page = browser.new_page(viewport={"width": 1400, "height": 1200})
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda err: problems.append(f"page error: {err}"))
    # Open the app and follow the sidebar link, as a user does (a deep link makes Streamlit
    # probe /<page>/_stcore/health first, a 404 that is Streamlit's own, not the app's).
    page.goto(base + "/")
    page.wait_for_selector(METRIC, timeout=90_000)
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=link, exact=True).click()
    page.get_by_role("heading", name=heading).wait_for(timeout=90_000)
    wait_idle(page)
    for selector in content:
        page.locator(selector).first.wait_for(timeout=60_000)
    page.screenshot(path=str(tmp_path / f"{heading.replace(' ', '_')}.png"), full_page=True)
    assert not problems, problems


# Where a district's name label sits on the live map (its representative point), in the
# map's own pixels: clicking there clicks the district polygon (labels take no clicks).
LABEL_POINT = """(name) => {
  const map = Object.values(window).find(v => v && v._leaflet_id && typeof v.eachLayer === 'function');
  let found = null;
  map.eachLayer(layer => {
    const icon = layer.options && layer.options.icon;
    if (!found && layer.getLatLng && icon && icon.options.className === 'district-label'
        && icon.options.html.includes('>' + name + '<')) {
      found = map.latLngToContainerPoint(layer.getLatLng());
    }
  });
  return found && {x: found.x, y: found.y};
}"""


def _click_district(page, name: str, below_px: int = 12) -> None:
    """Click the map just below a district's name label (inside its polygon). The map is
    scrolled into view first and the click made once it stands still: Streamlit scrolls
    smoothly, and a click aimed while the page still moves lands beside the target."""
    frame = page.frame_locator(MAP_FRAME).first
    frame.locator(".district-label").first.wait_for(timeout=60_000)
    container = frame.locator(".leaflet-container")
    container.scroll_into_view_if_needed()
    box = container.bounding_box()
    for _step in range(20):
        page.wait_for_timeout(150)
        moved, box = box, container.bounding_box()
        if moved == box:
            break
    map_frame = next(f for f in page.frames if f.url and "streamlit_folium" in f.url)
    where = map_frame.evaluate(LABEL_POINT, name)
    assert where, f"the label of {name} is on the map"
    page.mouse.click(box["x"] + where["x"], box["y"] + where["y"] + below_px)


def test_clicking_a_district_shows_its_figures(streamlit_server, browser, tmp_path):
    base, _log = streamlit_server
    page = browser.new_page(viewport={"width": 1400, "height": 1200})
    _open(page, base + "/")
    _click_district(page, "Kuhistoni Mastchoh")
    page.get_by_role("heading", name="Kuhistoni Mastchoh (Sughd)").wait_for(timeout=30_000)
    wait_idle(page)
    # the district's metrics arrive with the rerun that drew the heading, possibly a moment later
    metric = page.locator('[data-testid="stMetricLabel"]')
    for text in ("Women (census 2020)", "Farthest community"):
        metric.filter(has_text=text).first.wait_for(timeout=30_000)
    page.get_by_role("heading", name="Kuhistoni Mastchoh (Sughd)").scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / "district_clicked.png"))


def _pick_district(page, typed: str) -> None:
    """Choose a district in the Map page's picker: focus the box, type part of a name, Enter."""
    # While a run is redrawing the page, the picker of the run before may still be shown
    # beside the new one: wait for the run to settle on one.
    page.wait_for_function("() => document.querySelectorAll('input[aria-label=\"District\"]').length === 1",
                           timeout=60_000)
    box = page.get_by_role("combobox", name="District")
    box.focus()
    page.keyboard.type(typed)
    page.keyboard.press("Enter")


def _in_view(page, heading: str) -> None:
    """Wait until the figures of ``heading``'s district are shown and the run is over."""
    page.get_by_role("heading", name=heading).wait_for(timeout=30_000)
    wait_idle(page)


def test_a_click_on_the_map_still_switches_after_a_district_was_picked(streamlit_server, browser):
    """Picker and map take turns: a click on the map after a pick shows the clicked district,
    also when it is the district the map had returned last (the map's last click does not
    change; its click count does)."""
    base, _log = streamlit_server
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    _open(page, base + "/")
    _click_district(page, "Kuhistoni Mastchoh")
    _in_view(page, "Kuhistoni Mastchoh (Sughd)")
    _pick_district(page, "Jilikul")
    _in_view(page, "Dusti (Khatlon)")
    _click_district(page, "Kuhistoni Mastchoh", below_px=6)  # the district the map returned last
    _in_view(page, "Kuhistoni Mastchoh (Sughd)")
    assert page.get_by_role("combobox", name="District").input_value().startswith("Kuhistoni Mastchoh")  # it follows
    _pick_district(page, "Panj")
    _in_view(page, "Panj (Khatlon)")
    _click_district(page, "Shahriston")  # another district
    _in_view(page, "Shahriston (Sughd)")
    assert "district=Shahriston" in page.url
    page.close()


def test_the_map_has_few_tab_stops(streamlit_server, browser):
    """Tab from the district picker into the map and out again: the map holds at most 10
    stops (the map itself, zoom, legend, layer control), not one per label and symbol."""
    base, _log = streamlit_server
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    _open(page, base + "/")
    page.get_by_role("combobox", name="District").focus()
    inside = 0
    for _press in range(200):
        page.keyboard.press("Tab")
        in_map = page.evaluate("(sel) => document.activeElement === document.querySelector(sel)", MAP_FRAME)
        if in_map:
            inside += 1
        elif inside:
            break
    else:
        raise AssertionError(f"200 Tab presses did not leave the map ({inside} inside)")
    assert 1 <= inside <= 10, inside
    map_frame = next(f for f in page.frames if f.url and "streamlit_folium" in f.url)
    markers = map_frame.evaluate("() => document.querySelectorAll('.leaflet-marker-icon').length")
    assert markers > 50  # the labels and symbols are there, only not tab stops
    page.close()


def test_the_district_picker_works_on_a_phone_with_the_sidebar_folded(streamlit_server, browser, tmp_path):
    base, _log = streamlit_server
    page = browser.new_page(viewport={"width": 390, "height": 844})
    _open(page, base + "/")
    assert not page.get_by_test_id("stSidebar").is_visible()  # folded on a phone-sized window
    box = page.get_by_role("combobox", name="District")
    assert box.is_visible() and not page.get_by_test_id("stSidebar").locator('[data-testid="stSelectbox"]').filter(
        has_text="District").count()  # the sidebar's one box is the language
    box.click()
    page.keyboard.type("Kuhistoni")
    page.keyboard.press("Enter")
    _in_view(page, "Kuhistoni Mastchoh (Sughd)")
    page.get_by_role("heading", name="Kuhistoni Mastchoh (Sughd)").scroll_into_view_if_needed()
    assert page.locator('[data-testid="stMetricLabel"]').filter(has_text="Women (census 2020)").count() == 1
    page.screenshot(path=str(tmp_path / "phone_picked.png"))
    page.close()


def test_choices_follow_across_pages_and_live_in_the_url(streamlit_server, browser, tmp_path):
    base, _log = streamlit_server
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    _open(page, base + "/")
    slider = page.get_by_role("slider", name="Threshold (minutes by road)")
    slider.focus()
    page.keyboard.press("End")  # 240 min
    page.wait_for_function("() => document.body.innerText.includes('Women within 240 min')", timeout=30_000)
    wait_idle(page)
    _pick_district(page, "Kuhistoni")
    page.get_by_role("heading", name="Kuhistoni Mastchoh (Sughd)").wait_for(timeout=30_000)
    wait_idle(page)

    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Reach", exact=True).click()
    page.get_by_role("heading", name="Reach by organisation").wait_for(timeout=90_000)
    wait_idle(page)
    assert page.get_by_role("slider", name="Threshold (minutes by road)").input_value() == "240"
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Map", exact=True).click()
    page.wait_for_selector(METRIC, timeout=90_000)
    page.get_by_role("heading", name="Kuhistoni Mastchoh (Sughd)").wait_for(timeout=30_000)
    wait_idle(page)
    assert page.get_by_role("slider", name="Threshold (minutes by road)").input_value() == "240"
    assert "Women within 240 min" in page.inner_text("body")
    url = page.url
    assert "threshold=240" in url and "district=Kuhistoni" in url, url
    context.close()

    fresh = browser.new_context(viewport={"width": 1366, "height": 900})  # no session, no cookies
    other = fresh.new_page()
    _open(other, url)
    other.get_by_role("heading", name="Kuhistoni Mastchoh (Sughd)").wait_for(timeout=30_000)
    assert other.get_by_role("slider", name="Threshold (minutes by road)").input_value() == "240"
    assert "Women within 240 min" in other.inner_text("body")
    other.screenshot(path=str(tmp_path / "from_link.png"))
    fresh.close()


def test_a_shared_link_is_the_first_request_of_a_fresh_server(app_env, browser, tmp_path):
    """A link to a page other than the map, opened before anyone has opened the map: the
    page still comes with the entry page's navigation and the link's choices (Streamlit's
    older pages-folder layout would name the map page "app" and drop the shared sidebar)."""
    from conftest import running_streamlit

    with running_streamlit(app_env, tmp_path / "streamlit.log") as base:
        context = browser.new_context(viewport={"width": 1366, "height": 900})
        page = context.new_page()
        page.goto(base + "/Reach?threshold=90&types=crisis_centre")
        page.get_by_role("heading", name="Reach by organisation").wait_for(timeout=90_000)
        wait_idle(page)
        nav = page.get_by_test_id("stSidebarNav")
        assert nav.get_by_role("link", name="Map", exact=True).count() == 1
        assert nav.get_by_role("link", name="app", exact=True).count() == 0
        assert page.get_by_role("slider", name="Threshold (minutes by road)").input_value() == "90"
        context.close()


def test_sign_in_works_on_a_fresh_install_without_a_secret_variable(app_env, browser, tmp_path, monkeypatch):
    """No COVERAGE_COOKIE_SECRET and an empty private folder with only a users file: the
    dashboard generates its session secret there on first use and staff can sign in."""
    from conftest import running_streamlit

    from coverage.registry import auth

    private = tmp_path / "private"
    monkeypatch.setattr(auth, "BCRYPT_ROUNDS", 4)
    auth.add_user(private / "users.yaml", "ana.k", "Ana K.", "ghamkhori", "a-long-password-1")
    env = {**app_env, "COVERAGE_COOKIE_SECRET": "", "COVERAGE_USERS": str(private / "users.yaml"),
           "COVERAGE_STORE": str(private / "registry.gpkg")}
    with running_streamlit(env, tmp_path / "streamlit.log") as base:
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        _open(page, base + "/")
        assert "sign-in is disabled" not in page.inner_text("body")
        sidebar = page.get_by_test_id("stSidebar")
        sidebar.get_by_text("Staff sign-in").first.click()
        sidebar.get_by_role("textbox", name="Username").fill("ana.k")
        sidebar.get_by_role("textbox", name="Password").fill("a-long-password-1")
        sidebar.get_by_role("button", name="Sign in").click()
        sidebar.get_by_text("Signed in as").wait_for(timeout=60_000)
        page.close()
    secret_file = private / "cookie_secret"
    assert secret_file.exists() and (secret_file.stat().st_mode & 0o777) == 0o600


MAP_ZOOM = """() => {
  const map = Object.values(window).find(v => v && v._leaflet_id && typeof v.getZoom === 'function');
  return map.getZoom();
}"""


def test_wheel_over_the_map_scrolls_the_page_not_the_map(streamlit_server, browser):
    base, _log = streamlit_server
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    _open(page, base + "/")
    frame = page.frame_locator(MAP_FRAME).first
    container = frame.locator(".leaflet-container")
    container.scroll_into_view_if_needed()
    map_frame = next(f for f in page.frames if f.url and "streamlit_folium" in f.url)
    zoom = map_frame.evaluate(MAP_ZOOM)
    box = container.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    for _turn in range(5):
        page.mouse.wheel(0, 400)  # a page scrolled down over the map
        page.wait_for_timeout(150)
    page.wait_for_timeout(800)
    assert map_frame.evaluate(MAP_ZOOM) == zoom
    # After a click on the map the wheel zooms it (so the check above could fail), and
    # never further out than the bounded minimum zoom.
    box = container.bounding_box()
    page.mouse.click(box["x"] + 20, box["y"] + box["height"] - 40)
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    for _turn in range(10):
        page.mouse.wheel(0, 400)
        page.wait_for_timeout(150)
    page.wait_for_timeout(800)
    zoomed_out = map_frame.evaluate(MAP_ZOOM)
    assert 5 <= zoomed_out < zoom


def test_a_district_is_picked_by_keyboard_under_an_older_name(streamlit_server, browser, tmp_path):
    """From the threshold slider, Tab reaches the district picker above the map in a few
    steps (not through the map's tab stops); typing an older spelling (Jilikul, today Dusti) and Enter shows
    the district's figures, the same a click on the map shows."""
    base, _log = streamlit_server
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    _open(page, base + "/")
    page.get_by_role("slider", name="Threshold (minutes by road)").focus()
    through_map = False
    for presses in range(1, 41):  # noqa: B007 (the count is checked after the loop)
        page.keyboard.press("Tab")
        through_map |= page.evaluate("(sel) => document.activeElement === document.querySelector(sel)", MAP_FRAME)
        if page.evaluate("() => document.activeElement.getAttribute('role') === 'combobox'"
                         " && document.activeElement.closest('[data-testid=\"stSelectbox\"]') !== null"):
            break
    else:
        raise AssertionError("40 Tab presses from the threshold never reached the district picker")
    page.keyboard.type("Jilikul")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Dusti (Khatlon)").wait_for(timeout=30_000)
    wait_idle(page)
    metric = page.locator('[data-testid="stMetricLabel"]')
    for text in ("Women (census 2020)", "Within 60 min", "Beyond", "Farthest community"):
        metric.filter(has_text=text).first.wait_for(timeout=30_000)
    assert "district=Dusti" in page.url
    page.screenshot(path=str(tmp_path / "picked_by_keyboard.png"))
    # A few steps, never through the map: the sidebar's eight controls after the slider,
    # Streamlit's menu button and main region, then the picker above the map.
    assert not through_map and presses <= 12, presses


@pytest.mark.parametrize("width, height, legend_open", [(1366, 768, True), (390, 844, False)])
def test_the_legend_folds_on_a_phone_sized_window(streamlit_server, browser, tmp_path, width, height, legend_open):
    base, _log = streamlit_server
    page = browser.new_page(viewport={"width": width, "height": height})
    _open(page, base + "/")
    frame = page.frame_locator(MAP_FRAME).first
    legend = frame.locator(".coverage-legend details")
    legend.wait_for(state="attached", timeout=30_000)
    assert legend.evaluate("d => d.open") is legend_open
    frame.locator(".leaflet-container").scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / f"map_{width}x{height}.png"))
    if not legend_open:  # folded to its title, a tap opens it
        box = frame.locator(".coverage-legend").bounding_box()
        map_box = frame.locator(".leaflet-container").bounding_box()
        assert box["width"] * box["height"] < 0.1 * map_box["width"] * map_box["height"]
        frame.locator(".coverage-legend summary").click()
        assert legend.evaluate("d => d.open")
