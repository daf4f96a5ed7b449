"""The smoke site in headless Chromium (selenium, Debian's chromium and chromium-driver): the
tables render, a click on a header sorts the rows, every link of the index and of the suite
page opens, and a screenshot goes to artifacts/site.png."""

from __future__ import annotations

from pathlib import Path

import pytest

from hitlbench.publish.site import build_site

webdriver = pytest.importorskip(
    "selenium.webdriver", reason="selenium not installed: pip install '.[test]'"
)
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM, DRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM.is_file() and DRIVER.is_file()),
    reason="chromium and chromium-driver not installed: apt-get install chromium chromium-driver",
)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site") / "site"
    records, figures = ROOT / "leaderboards" / "records", ROOT / "leaderboards" / "figures"
    build_site(out, suites=["smoke"], records_root=records, figures_root=figures)
    return out


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
    ):
        options.add_argument(flag)
    # the system driver, so that selenium-manager never looks for (or downloads) one
    driver = webdriver.Chrome(service=Service(str(DRIVER)), options=options)
    yield driver
    driver.quit()


def method_rows(browser) -> list:
    """The first table's method rows (reference rows excluded), in their current order."""
    table = browser.find_element(By.CSS_SELECTOR, "table.sortable")
    rows = table.find_elements(By.CSS_SELECTOR, "tbody tr")
    return [r for r in rows if "reference" not in (r.get_attribute("class") or "")]


def column(browser, j: int) -> list[float]:
    """The `data-sort` numbers of column `j` in the method rows, top to bottom."""
    cells = [r.find_elements(By.CSS_SELECTOR, "th, td")[j] for r in method_rows(browser)]
    return [float(c.get_attribute("data-sort")) for c in cells]


def names(browser) -> list[str]:
    return [r.find_element(By.TAG_NAME, "th").text for r in method_rows(browser)]


def test_the_tables_render_and_a_header_click_sorts_the_rows(site, browser):
    browser.get((site / "smoke.html").as_uri())
    headers = browser.find_elements(By.CSS_SELECTOR, "table.sortable thead th")
    assert [h.text.strip() for h in headers[:3]] == ["method", "n", "corrections"]
    before = names(browser)
    assert before == ["Random", "Margin"]
    # a column whose first click (ascending) must reorder the rows
    j = next(j for j in range(2, len(headers)) if column(browser, j) != sorted(column(browser, j)))
    headers[j].click()
    assert names(browser) != before
    assert column(browser, j) == sorted(column(browser, j))
    assert headers[j].get_attribute("aria-sort") == "ascending"
    table = browser.find_element(By.CSS_SELECTOR, "table.sortable")
    rows = table.find_elements(By.CSS_SELECTOR, "tbody tr")
    assert "reference" in rows[-1].get_attribute("class")  # reference rows stay below
    (ROOT / "artifacts").mkdir(exist_ok=True)
    assert browser.save_screenshot(str(ROOT / "artifacts" / "site.png"))


@pytest.mark.parametrize("page", ["index.html", "smoke.html"])
def test_every_link_opens(site, browser, page):
    browser.get((site / page).as_uri())
    links = sorted({a.get_attribute("href") for a in browser.find_elements(By.TAG_NAME, "a")})
    assert links
    broken = []
    for url in links:
        browser.get(url)
        fragment = url.partition("#")[2]
        missing = "ERR_FILE_NOT_FOUND" in browser.page_source  # Chromium's page for no file
        if missing or (fragment and not browser.find_elements(By.ID, fragment)):
            broken.append(url)
    assert broken == []
