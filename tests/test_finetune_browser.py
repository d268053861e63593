"""The Fine-tune tab as a visitor meets it, in headless Chromium (Debian's), driven by Playwright."""

from __future__ import annotations

import re

import pytest
from conftest import fill_number, noise_pngs, open_page

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def page(app_url):
    with open_page(app_url, viewport={"width": 1280, "height": 1000}) as page:
        page.get_by_role("tab", name="Fine-tune").click()
        yield page


def choose_start(page, name: str) -> None:
    page.locator("#train-start input").click()
    page.get_by_role("option", name=name, exact=True).click()


def test_stop_and_cancel_without_a_run_say_there_is_nothing_to_do(page):
    from playwright.sync_api import expect

    page.locator("#train-stop").click()
    expect(page.locator("#train-status")).to_have_text("There is no training run to stop.", timeout=15_000)
    page.locator("#train-cancel").click()
    expect(page.locator("#train-status")).to_have_text("There is no training run to cancel.", timeout=15_000)


def test_a_model_start_fixes_size_and_colour_and_says_so_and_sizes_follow_the_architecture(page):
    from playwright.sync_api import expect

    choose_start(page, "mnist-dcgan")
    note = page.locator("#train-start-note")
    expect(note).to_contain_text("mnist-dcgan makes greyscale 32×32 px images", timeout=15_000)
    expect(page.locator("#train-resolution input")).to_be_disabled()
    expect(page.locator("#train-colour input[value=greyscale]")).to_be_checked()
    expect(page.locator("#train-colour input[value=colour]")).to_be_disabled()
    choose_start(page, "FastGAN from scratch (few-shot, 64 px and up)")
    expect(page.locator("#train-resolution input")).to_be_enabled(timeout=15_000)
    expect(note).to_contain_text("A new fastgan pair")
    page.locator("#train-resolution input").click()
    options = page.locator("#train-resolution [role=option]")
    expect(options).to_have_count(3)
    assert [text.split()[-1] for text in options.all_inner_texts()] == ["64", "128", "256"]
    options.first.click()
    choose_start(page, "DCGAN from scratch")
    expect(page.locator("#train-colour input[value=colour]")).to_be_enabled(timeout=15_000)


def test_a_hundred_uploads_are_a_thumbnail_strip_and_a_count_and_train_stays_in_view(page, tmp_path):
    from playwright.sync_api import expect

    paths = [str(path) for path in noise_pngs(tmp_path, count=120, side=16, seed=3)]
    page.locator("#train-uploads input[type=file]").set_input_files(paths)
    expect(page.locator("#train-count")).to_contain_text("Uploaded: 120 images", timeout=60_000)
    expect(page.locator("#train-strip img").first).to_be_visible()
    strip = page.locator("#train-strip").bounding_box()
    train = page.locator("#train-run").bounding_box()
    assert strip is not None and strip["height"] <= 160 and train is not None and train["y"] + train["height"] < 1000
    page.locator("#train-uploads button[aria-label='Clear']").first.click()
    expect(page.locator("#train-count")).to_have_text("", timeout=15_000)


def test_refused_uploads_are_named_line_by_line_in_plain_words(page, tmp_path):
    from playwright.sync_api import expect

    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("not a picture")
    (good,) = noise_pngs(tmp_path, count=1, side=16, seed=4)
    page.locator("#train-uploads input[type=file]").set_input_files(
        [str(tmp_path / "empty.png"), str(tmp_path / "notes.txt"), str(good)]
    )
    expect(page.locator("#train-count")).to_contain_text("2 images · 1 other file", timeout=30_000)
    page.locator("#train-run").click()
    toast = page.locator(".toast-body")
    expect(toast).to_contain_text("need at least 8 usable images, got 1", timeout=30_000)
    lines = toast.inner_text().splitlines()
    assert "skipped empty.png: empty file" in lines and "skipped notes.txt: not an image" in lines
    assert not re.search(r"[A-Z][a-z]+Error\b", toast.inner_text())  # plain words, no exception class
    toast.locator("button").first.click()
    page.locator("#train-uploads button[aria-label='Clear']").first.click()


def test_training_streams_a_large_preview_and_health_in_plain_words(page, tmp_path):
    from playwright.sync_api import expect

    paths = [str(path) for path in noise_pngs(tmp_path, count=10, side=48, seed=5)]
    choose_start(page, "DCGAN from scratch")  # the default start is auto (a model by the pictures)
    page.get_by_text("Advanced settings").click()  # opened first: it mounts its fields while the rest is set
    page.locator("#train-colour input[value=greyscale]").check()
    page.locator("#train-resolution input").click()
    page.get_by_role("option", name="32", exact=True).click()
    page.locator("#train-uploads input[type=file]").set_input_files(paths)
    expect(page.locator("#train-count")).to_contain_text("Uploaded: 10 images", timeout=30_000)
    fill_number(page.get_by_label("Step budget for this run"), "20")
    page.locator("#train-run").click()
    expect(page.locator("#train-status")).to_contain_text("Saved as", timeout=120_000)
    assert "stopped by step budget after 20 steps" in page.locator("#train-status").inner_text()
    preview = page.locator("#train-preview img")
    box = preview.bounding_box()
    assert box is not None and box["width"] >= 256
    for label in page.locator("#train-preview label").all():  # nothing lies over the picture
        covered = label.bounding_box()
        assert not covered or covered["y"] + covered["height"] <= box["y"] or not label.is_visible()
    health = page.locator("#train-health")
    assert re.match(r"(Training looks healthy|The discriminator is winning|Samples are getting|A step blew up)",
                    health.inner_text())  # fmt: skip
    numbers = health.locator("details")
    assert "r_t" in (numbers.text_content() or "") and "r_t" not in numbers.inner_text()  # folded until opened


def test_push_offers_the_fresh_fine_tune_first(page):
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Hub").click()
    expect(page.locator("#push-model input")).to_have_value("my-dcgan-1", timeout=15_000)
    page.get_by_role("tab", name="Fine-tune").click()


def test_cancel_says_what_it_did(page, tmp_path):
    from playwright.sync_api import expect

    fill_number(page.get_by_label("Step budget for this run"), "1000000")
    page.locator("#train-run").click()  # the same uploads, a long run
    expect(page.locator("#train-health")).to_contain_text("Numbers", timeout=60_000)
    page.locator("#train-cancel").click()
    expect(page.locator("#train-status")).to_have_text("Cancelled: the run was stopped and nothing was saved.",
                                                       timeout=15_000)  # fmt: skip


def test_before_train_the_tab_says_where_the_run_starts_and_what_the_budget_buys(page, tmp_path):
    from playwright.sync_api import expect

    choose_start(page, "Auto: a model that fits your pictures and the time budget")
    paths = [str(path) for path in noise_pngs(tmp_path, count=8, side=16, seed=5)]  # greyscale pictures
    page.locator("#train-uploads input[type=file]").set_input_files(paths)
    budget = page.locator("#train-budget")
    expect(budget).to_contain_text(re.compile(r"About [\d,]+ steps in 2 minutes on this CPU"), timeout=60_000)
    expect(budget).to_contain_text("starting from mnist-dcgan (dcgan, greyscale 32×32 px) with its 2 lowest")
    page.locator("#train-uploads button[aria-label='Clear']").first.click()
    expect(budget).to_have_text("", timeout=15_000)
