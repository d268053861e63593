"""The Hub tab as a visitor meets it, in headless Chromium (Debian's), driven by Playwright."""

from __future__ import annotations

import pytest
from conftest import open_page

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def page(app_url):
    with open_page(app_url, viewport={"width": 1280, "height": 1000}) as page:
        yield page


def test_loading_a_hub_model_puts_it_in_the_generate_tab(page, hub):
    from hub_repos import huggan_bin_files, trained_sprint_generator

    hub.add_repo("huggan/dcgan-browser", huggan_bin_files(trained_sprint_generator(), license="mit"))
    page.get_by_role("tab", name="Hub").click()
    assert page.locator("#push-model input").input_value() == ""  # no model of their own yet: none chosen for them
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


def test_a_stylegan_picked_from_the_browse_list_names_its_family_licence_and_why_it_cannot_be_fine_tuned(page, hub):
    from hub_repos import stylegan_files
    from playwright.sync_api import expect

    hub.add_repo("lab/sg2-browser", stylegan_files())
    page.get_by_role("tab", name="Hub").click()
    page.get_by_role("button", name="Find GAN checkpoints").click()
    expect(page.locator("#hub-found")).to_contain_text("StyleGAN2-ADA (NVlabs .pkl)", timeout=30_000)
    page.locator("#hub-found-list input").click()
    page.get_by_role("option").filter(has_text="lab/sg2-browser  ·  StyleGAN2-ADA (NVlabs .pkl)").click()
    expect(page.locator("#hub-repo textarea")).to_have_value("lab/sg2-browser")
    page.locator("#hub-load").click()
    expect(page.locator("#pull-report")).to_contain_text("weights licence: NVIDIA Source Code License", timeout=30_000)
    page.get_by_role("tab", name="Generate").click()
    info = page.locator("#generate-model-info")
    expect(info).to_contain_text("format: StyleGAN2-ADA (NVlabs .pkl)", timeout=30_000)
    expect(info).to_contain_text("non-commercial")
    page.get_by_role("tab", name="Fine-tune").click()
    page.locator("#train-start input").click()
    page.get_by_role("option", name="lab/sg2-browser", exact=True).click()
    expect(page.locator("#train-start-note")).to_contain_text(
        "lab/sg2-browser cannot be fine-tuned here: StyleGAN2 training", timeout=15_000
    )
