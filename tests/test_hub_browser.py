"""The Hub tab as a visitor meets it, in headless Chromium (Debian's), driven by Playwright."""

from __future__ import annotations

import pytest
from conftest import fill_number, noise_pngs, open_page

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def page(app_url):
    with open_page(app_url, viewport={"width": 1280, "height": 1000}) as page:
        yield page


def test_loading_a_hub_model_puts_it_in_the_generate_tab(page, hub):
    from hub_repos import huggan_bin_files, trained_sprint_generator

    hub.add_repo("huggan/dcgan-browser", huggan_bin_files(trained_sprint_generator(), license="mit"))
    page.get_by_role("tab", name="Hub").click()
    page.locator("#hub-repo textarea").fill("https://huggingface.co/huggan/dcgan-browser")
    page.locator("#hub-load").click()
    page.locator("#pull-report").get_by_text("huggan_dcgan, 64x64 RGB").wait_for(timeout=30_000)
    assert page.locator("#hub-token input").get_attribute("type") == "password"  # a token is never shown
    assert page.locator("#push-model input").input_value() == "huggan/dcgan-browser"  # the newest model
    page.get_by_role("tab", name="Generate").click()
    page.get_by_text("huggan/dcgan-browser: huggan_dcgan 64x64, RGB").wait_for(timeout=30_000)
    page.locator("#generate-run").click()
    page.locator('#gallery img[src*="huggan--dcgan-browser_seed0_"]').first.wait_for(timeout=30_000)


def test_a_failed_load_replaces_the_message_and_marks_nothing_else(page, hub):
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Hub").click()
    report = page.locator("#pull-report")
    expect(report).to_contain_text("Loaded")  # the previous test's load
    page.locator("#hub-repo textarea").fill("nobody/nothing")
    page.locator("#hub-load").click()
    expect(page.locator(".toast-body")).to_contain_text("repo nobody/nothing was not found", timeout=30_000)
    expect(report).not_to_contain_text("Loaded")  # the new outcome replaced the old message
    page.locator(".toast-body button").first.click()
    assert "Error" not in page.locator("#push-model").inner_text()
    for tab, other in (("Generate", "#generate-model"), ("Fine-tune", "#train-start")):
        page.get_by_role("tab", name=tab).click()  # no error badge on another tab's model list
        expect(page.locator(other)).to_be_visible()
        assert "Error" not in page.locator(other).inner_text(), other


def test_push_offers_a_fresh_fine_tune_first_never_silently_the_default(app_url, page, tmp_path):
    from playwright.sync_api import expect

    fresh = page.context.browser.new_page(viewport={"width": 1280, "height": 1000})  # a visitor with no models yet
    try:
        fresh.goto(app_url)
        fresh.get_by_role("tab", name="Hub").click()
        assert fresh.locator("#push-model input").input_value() == ""  # nothing chosen for them
        fresh.get_by_role("tab", name="Fine-tune").click()
        fresh.get_by_text("Advanced settings").click()
        fresh.locator("#train-colour input[value=greyscale]").check()
        fresh.locator("#train-resolution input").click()
        fresh.get_by_role("option", name="32", exact=True).click()
        paths = [str(path) for path in noise_pngs(tmp_path, count=10, side=32, seed=6)]
        fresh.locator("#train-uploads input[type=file]").set_input_files(paths)
        expect(fresh.locator("#train-count")).to_contain_text("Uploaded: 10 images", timeout=30_000)
        fill_number(fresh.get_by_label("Step budget for this run"), "3")
        fresh.locator("#train-run").click()
        expect(fresh.locator("#train-status")).to_contain_text("Saved as **my-dcgan-1**".replace("**", ""),
                                                               timeout=120_000)  # fmt: skip
        fresh.get_by_role("tab", name="Hub").click()
        expect(fresh.locator("#push-model input")).to_have_value("my-dcgan-1", timeout=15_000)
    finally:
        fresh.close()
