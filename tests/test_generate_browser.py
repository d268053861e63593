"""The Generate tab as a visitor meets it, in headless Chromium (Debian's), driven by Playwright."""

from __future__ import annotations

import re

import pytest
from conftest import fill_number, open_page

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def page(app_url):
    with open_page(app_url, viewport={"width": 1280, "height": 1000}) as page:
        yield page


def test_the_page_opens_with_samples_a_grid_and_a_download_already_shown(page):
    images = page.locator("#gallery img")
    images.nth(15).wait_for(state="visible", timeout=30_000)
    assert "mnist-dcgan_seed0_psi1.png" in (images.first.get_attribute("src") or "")
    assert page.locator("#grid img").count() == 1 and page.locator("#downloads a").count() == 1


def test_results_are_outputs_not_upload_zones_and_cannot_be_deleted(page):
    for box in ("#gallery", "#grid", "#downloads"):
        area = page.locator(box)
        assert area.locator("input[type=file]").count() == 0, box
        assert "Drop" not in area.inner_text() and "Upload" not in area.inner_text(), box
        removers = area.locator(
            "button[aria-label='Clear'], button[aria-label*='Remove'], button[aria-label*='Delete']"
        )
        assert removers.count() == 0, box


def test_an_example_generates_when_clicked(page):
    from playwright.sync_api import expect

    page.get_by_text("emoji-smileys, seed 42, ψ 1", exact=True).click()
    first = page.locator("#gallery img").first
    expect(first).to_have_attribute("src", re.compile(r"emoji-smileys_seed42_psi1\.png"), timeout=30_000)
    expect(page.locator("#generate-link textarea")).to_have_value(
        re.compile(r"model=emoji-smileys&seed=42"), timeout=30_000
    )


def test_the_dice_draws_a_seed_and_generates(page):
    from playwright.sync_api import expect

    before = page.locator("#gallery img").first.get_attribute("src")
    page.locator("#generate-dice").click()
    expect(page.locator("#gallery img").first).not_to_have_attribute("src", before or "", timeout=30_000)
    seed = page.locator("#generate-seed input").input_value()
    assert int(seed) >= 0 and f"_seed{seed}_" in (page.locator("#gallery img").first.get_attribute("src") or "")


def test_a_bad_seed_names_the_field_and_the_earlier_results_stay(page):
    from playwright.sync_api import expect

    shown = page.locator("#gallery img").first.get_attribute("src")
    fill_number(page.locator("#generate-seed input"), "-5")
    page.locator("#generate-run").click()
    expect(page.locator(".toast-body")).to_contain_text("seed must be an integer from 0", timeout=30_000)
    images = page.locator("#gallery img")
    assert images.count() >= 16 and images.first.is_visible() and images.first.get_attribute("src") == shown
    assert "Error" not in page.locator("#gallery").inner_text()  # no error badge over the samples
    fill_number(page.locator("#generate-seed input"), "0")


def test_truncation_explains_its_useful_range(page):
    assert "0.5–0.8 trades variety for typical-looking samples" in page.locator("#generate-truncation").inner_text()


def test_at_phone_width_the_samples_wrap_with_no_sideways_scrolling(page, app_url):
    phone = page.context.browser.new_page(viewport={"width": 390, "height": 900})  # one Playwright per process
    try:
        phone.goto(app_url)
        images = phone.locator("#gallery img")
        images.nth(15).wait_for(state="visible", timeout=30_000)
        for index in range(images.count()):
            box = images.nth(index).bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, (index, box)
        scroll = phone.locator("#gallery .grid-wrap").evaluate("el => el.scrollWidth - el.clientWidth")
        assert scroll <= 1 and phone.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        phone.close()
