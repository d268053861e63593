"""The Style transfer tab in a real headless Chromium (Debian's), driven by Playwright."""

from __future__ import annotations

import re

import pytest
from conftest import fill_number, open_page

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def page(app_url):
    with open_page(app_url, viewport={"width": 1400, "height": 1800}) as page:
        page.get_by_role("tab", name="Style transfer").click()
        yield page


def set_slider(page, elem_id: str, value: int) -> None:
    fill_number(page.locator(f"#{elem_id} input[type=number]"), str(value))


def test_an_example_stylises_with_live_preview_and_a_download(page):
    from playwright.sync_api import expect

    page.get_by_text("style-mosaic.png", exact=True).click()  # the bundled example row fills both inputs
    expect(page.locator("#style-content img")).to_be_visible(timeout=15_000)
    expect(page.locator("#style-files a")).to_have_attribute("href", re.compile(r"/style-mosaic\.png$"))
    set_slider(page, "style-size", 64)
    set_slider(page, "style-steps", 3)
    page.locator("#style-run").click()
    status = page.locator("#style-status")
    expect(status).to_contain_text("done: 3 steps", timeout=60_000)
    result = page.locator("#style-output img")
    expect(result).to_be_visible()
    assert "_styled_64px_seed0.png" in (result.get_attribute("src") or "")
    expect(page.locator("#style-download a")).to_have_attribute("href", re.compile(r"_styled_64px_seed0\.png$"))


def test_stop_keeps_the_current_image(page):
    from playwright.sync_api import expect

    set_slider(page, "style-size", 64)
    set_slider(page, "style-steps", 1000)
    page.locator("#style-run").click()
    status = page.locator("#style-status")
    expect(status).to_contain_text(re.compile(r"step \d+/1000"), timeout=60_000)  # a preview has arrived
    page.locator("#style-stop").click()
    expect(status).to_contain_text("Stopped: the current image is kept", timeout=15_000)
    result = page.locator("#style-output img")
    expect(result).to_be_visible()
    assert re.search(r"_step\d+\.png", result.get_attribute("src") or "")  # the last preview, not a blank
    expect(page.locator("#style-download a")).to_have_attribute("href", re.compile(r"_step\d+\.png$"))
