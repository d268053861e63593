"""The page in a real headless Chromium (Debian's), driven by Playwright."""

import time

import pytest
from conftest import fill_number, open_page, train_args

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def page(app_url):
    with open_page(app_url) as page:
        yield page


def test_generate_button_fills_the_gallery(page):
    page.get_by_role("button", name="Generate", exact=True).click()
    images = page.locator("#gallery img")
    images.nth(15).wait_for(state="visible", timeout=30_000)
    assert images.count() >= 16
    assert "_seed0_" in (images.first.get_attribute("src") or "")  # served under its seed-bearing file name


def test_tabs_for_later_capabilities_are_present(page):
    for name in ("Generate", "Fine-tune", "Style transfer", "Hub"):
        assert page.get_by_role("tab", name=name).count() == 1


def test_finetune_tab_trains_on_uploads_and_streams_a_preview(page, tmp_path):
    from PIL import Image

    paths = []
    for index in range(10):
        path = tmp_path / f"up{index}.png"
        Image.new("RGB", (48, 48), (25 * index, 100, 200 - 10 * index)).save(path)
        paths.append(str(path))
    page.get_by_role("tab", name="Fine-tune").click()
    page.get_by_text("Advanced settings").click()  # opened first: it mounts its fields while the rest is set
    page.get_by_label("greyscale", exact=True).check()
    page.get_by_label("Resolution (from scratch)").click()
    page.get_by_role("option", name="32", exact=True).click()
    page.locator("#train-uploads input[type=file]").set_input_files(paths)
    page.locator("#train-uploads").get_by_text("up9").wait_for(timeout=30_000)  # uploaded: Train sees every file
    fill_number(page.get_by_label("Step budget for this run"), "20")
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_text("Saved as").wait_for(timeout=120_000)
    assert page.locator("#train-preview img").count() == 1
    assert "r_t" in page.locator("#train-health").inner_text()
    assert "stopped by step budget after 20 steps" in page.locator("#train-status").inner_text()


def test_loading_a_hub_model_puts_it_in_the_generate_tab(page, hub):
    from hub_repos import huggan_bin_files, trained_sprint_generator

    hub.add_repo("huggan/dcgan-browser", huggan_bin_files(trained_sprint_generator(), license="mit"))
    page.get_by_role("tab", name="Hub").click()
    page.locator("#hub-repo textarea").fill("https://huggingface.co/huggan/dcgan-browser")
    page.get_by_role("button", name="Load", exact=True).click()
    page.locator("#pull-report").get_by_text("huggan_dcgan, 64x64 RGB").wait_for(timeout=30_000)
    assert page.locator("#hub-token input").get_attribute("type") == "password"  # a token is never shown
    page.get_by_role("tab", name="Generate").click()
    page.get_by_text("huggan/dcgan-browser: huggan_dcgan 64x64, RGB").wait_for(timeout=30_000)
    page.get_by_role("button", name="Generate", exact=True).click()
    page.locator('#gallery img[src*="huggan--dcgan-browser_seed0_"]').first.wait_for(timeout=30_000)


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
        leaver.get_by_label("greyscale", exact=True).check()
        leaver.get_by_label("Resolution (from scratch)").click()
        leaver.get_by_role("option", name="32", exact=True).click()
        leaver.locator("#train-uploads input[type=file]").set_input_files(paths)
        leaver.locator("#train-uploads").get_by_text("leave9").wait_for(timeout=30_000)
        leaver.get_by_role("button", name="Train", exact=True).click()  # a 2-minute run
        leaver.locator("#train-health").get_by_text("r_t").wait_for(timeout=60_000)  # it is streaming
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
