"""The whole page in a real headless Chromium (Debian's), driven by Playwright; each tab has its own file.

Screenshots of every tab at desktop and phone widths are written to tests/screenshots/ (git-ignored), for a
person to look at.
"""

import time
from pathlib import Path

import pytest
from conftest import open_page, train_args

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def page(app_url):
    with open_page(app_url) as page:
        yield page


SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
TABS = ("Generate", "Fine-tune", "Style transfer", "Hub")


@pytest.mark.parametrize("width", [1280, 390])
def test_every_tab_is_reachable_at_desktop_and_phone_widths_and_photographed(page, width):
    from playwright.sync_api import expect

    page.set_viewport_size({"width": width, "height": 1000})
    SCREENSHOTS.mkdir(exist_ok=True)
    try:
        for name in TABS:
            tab = page.get_by_role("tab", name=name)
            expect(tab).to_be_visible(timeout=10_000)  # not folded into an overflow menu
            tab.click()
            page.get_by_role("tab", name=name, selected=True).wait_for()
            page.wait_for_timeout(500)  # let images and plots settle for the picture
            assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scrolling
            page.screenshot(path=SCREENSHOTS / f"{name.split()[0].lower()}-{width}.png", full_page=True)
    finally:
        page.get_by_role("tab", name="Generate").click()
        page.set_viewport_size({"width": 1280, "height": 720})


def test_generate_button_fills_the_gallery(page):
    page.get_by_role("button", name="Generate", exact=True).click()
    images = page.locator("#gallery img")
    images.nth(15).wait_for(state="visible", timeout=30_000)
    assert images.count() >= 16
    assert "_seed0_" in (images.first.get_attribute("src") or "")  # served under its seed-bearing file name


def test_tabs_for_later_capabilities_are_present(page):
    for name in ("Generate", "Fine-tune", "Style transfer", "Hub"):
        assert page.get_by_role("tab", name=name).count() == 1


def test_closing_the_tab_mid_training_frees_the_machine_for_the_next_visitor(page, app_url, tmp_path):
    from gradio_client import Client, handle_file
    from PIL import Image

    paths = []
    for index in range(10):
        path = tmp_path / f"leave{index}.png"
        Image.new("L", (32, 32), 20 * index).save(path)
        paths.append(str(path))
    leaver = page.context.browser.new_page()  # a second visitor beside the module's page (one Playwright per process)
    try:
        leaver.goto(app_url)
        leaver.get_by_role("tab", name="Fine-tune").click()
        leaver.locator("#train-start input").click()  # the default start is auto: a new pair has a size and colour
        leaver.get_by_role("option", name="DCGAN from scratch", exact=True).click()
        leaver.locator("#train-colour input[value=greyscale]").check()
        leaver.locator("#train-resolution input").click()
        leaver.get_by_role("option", name="32", exact=True).click()
        leaver.locator("#train-uploads input[type=file]").set_input_files(paths)
        leaver.locator("#train-count").get_by_text("Uploaded: 10 images").wait_for(timeout=30_000)
        leaver.get_by_role("button", name="Train", exact=True).click()  # a 2-minute run
        leaver.locator("#train-health").get_by_text("Numbers").wait_for(timeout=60_000)  # it is streaming
    finally:
        leaver.close()
    # The tab is gone: the server closes that run, so the next visitor's run starts at once rather
    # than after the two minutes (one fine-tuning run at a time).
    started = time.monotonic()
    status = Client(app_url, verbose=False).predict(
        *train_args([handle_file(p) for p in paths], steps=5), api_name="/train"
    )[2]
    assert "stopped by step budget after 5 steps" in status
    assert time.monotonic() - started < 60
