"""Dashboard speed in a real browser: time to first map and time for a threshold change.

Starts ``streamlit run app.py`` on a free localhost port (no map tiles, as offline),
opens it in headless Debian Chromium through Playwright and prints:

* ``first_map_cold_s``: fresh server, first page load until the map has drawn
  (includes reading the data and computing travel times once);
* ``first_map_warm_s``: a second browser tab, until the map has drawn (cached);
* ``threshold_change_s``: median over several slider moves, from the key press until
  the headline figure and the map legend both show the new threshold;
* ``figure_change_s``: the same moves, until the headline figure alone changed (the
  server's part; the rest is the browser redrawing the map layers);
* ``baseline_page_s``: the About page (no map, no travel times) in the same run, and
  ``threshold_vs_baseline``: the ratio of the two.

Target: threshold_change_s < 1.0 on the default data. Run:
``.venv/bin/python bench/ui.py [--changes 8]``.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from coverage import analysis, config

ROOT = Path(__file__).resolve().parent.parent

METRIC = '[data-testid="stMetricValue"]'
MAP_FRAME = 'iframe[title="streamlit_folium.st_folium"]'
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            with urllib.request.urlopen(base + "/_stcore/health", timeout=2):
                return proc, base
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("streamlit did not start")


def wait_idle(page) -> None:
    while page.locator('[data-testid="stStatusWidget"]').count():
        time.sleep(0.02)


def time_first_map(page, url: str) -> float:
    start = time.perf_counter()
    page.goto(url)
    page.wait_for_selector(METRIC, timeout=180_000)
    page.frame_locator(MAP_FRAME).first.locator(".coverage-legend").wait_for(timeout=180_000)
    return time.perf_counter() - start


def time_threshold_change(page, key: str) -> tuple[float, float, str]:
    slider = page.get_by_role("slider", name="Threshold (minutes by road)")
    before = page.locator(METRIC).first.inner_text()
    slider.focus()
    start = time.perf_counter()
    page.keyboard.press(key)
    page.wait_for_function(
        "([sel, before]) => document.querySelector(sel).innerText !== before", arg=[METRIC, before], timeout=60_000
    )
    figure = time.perf_counter() - start
    value = slider.input_value()
    page.frame_locator(MAP_FRAME).first.locator(".leaflet-control-layers").get_by_text(
        f"Districts: share within {value} min").wait_for(state="attached", timeout=60_000)
    elapsed = time.perf_counter() - start
    wait_idle(page)
    return elapsed, figure, value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=8, help="threshold moves to time")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        data_dir = config.load_settings().data_dir
        analysis.ensure_data(data_dir)
        env = {**os.environ, "COVERAGE_DATA_DIR": str(data_dir), "COVERAGE_MAP_TILES": "none",
               "COVERAGE_STORE": str(Path(tmp) / "registry.gpkg"), "COVERAGE_USERS": str(Path(tmp) / "users.yaml")}
        proc, base = start_server(env)
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1400, "height": 1100})
                cold = time_first_map(page, base + "/")
                wait_idle(page)
                warm_page = browser.new_page(viewport={"width": 1400, "height": 1100})
                warm = time_first_map(warm_page, base + "/")
                wait_idle(warm_page)
                warm_page.close()
                keys = ["ArrowRight", "ArrowRight", "End", "Home", "PageUp", "ArrowLeft", "PageDown", "End"]
                timed = [time_threshold_change(page, keys[i % len(keys)]) for i in range(args.changes)]
                changes = [t[0] for t in timed]
                figures = [t[1] for t in timed]
                about = browser.new_page(viewport={"width": 1400, "height": 1100})
                start = time.perf_counter()
                about.goto(base + "/")
                about.wait_for_selector(METRIC, timeout=60_000)
                about.get_by_test_id("stSidebarNav").get_by_role("link", name="About the data", exact=True).click()
                about.get_by_role("heading", name="About the data").wait_for(timeout=60_000)
                wait_idle(about)
                baseline = time.perf_counter() - start
                browser.close()
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    median = statistics.median(changes)
    print(f"first_map_cold_s      {cold:.2f}")
    print(f"first_map_warm_s      {warm:.2f}")
    print(f"threshold_change_s    {median:.3f}  (median of {len(changes)}; min {min(changes):.3f}, max {max(changes):.3f})")
    print(f"figure_change_s       {statistics.median(figures):.3f}  (median; key press until the headline figure changed)")
    print(f"baseline_page_s       {baseline:.2f}  (About page: app start + navigation, no map)")
    print(f"threshold_vs_baseline {median / baseline:.2f}")
    print(f"target threshold_change_s < 1.0: {'met' if median < 1.0 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
