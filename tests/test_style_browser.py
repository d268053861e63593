"""The Style transfer tab in a real headless Chromium (Debian's), driven by Playwright."""

from __future__ import annotations

import re

import pytest
from conftest import fill_number, free_port, open_page

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def page(app_url):
    with open_page(app_url, viewport={"width": 1400, "height": 1800}) as page:
        page.get_by_role("tab", name="Style transfer").click()
        yield page


def set_slider(page, elem_id: str, value: int) -> None:
    fill_number(page.locator(f"#{elem_id} input[type=number]"), str(value))


def test_examples_are_thumbnails_and_every_pass_is_shown(page):
    from playwright.sync_api import expect

    thumbnails = page.locator("#style-examples img")
    expect(thumbnails).to_have_count(5)
    for index in range(5):
        box = thumbnails.nth(index).bounding_box()
        assert box is not None and box["width"] > 40 and box["height"] > 40
    passes = page.locator("#style-passes")
    set_slider(page, "style-size", 256)
    expect(passes).to_have_text("Passes: 128 px: up to 200 steps → 256 px: 200 steps · 400 steps at most")
    set_slider(page, "style-levels", 1)
    expect(passes).to_have_text("Passes: 256 px: 200 steps · 200 steps at most")


def test_an_example_stylises_with_live_preview_and_a_download(page):
    from playwright.sync_api import expect

    page.locator("#style-examples img").nth(2).click()  # grace-hopper × mosaic
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


def test_while_rendering_the_preview_shows_progress_beside_it_stylise_is_off_and_stop_keeps_the_newest(page):
    from playwright.sync_api import expect

    set_slider(page, "style-size", 64)
    set_slider(page, "style-steps", 1000)
    page.locator("#style-run").click()
    status = page.locator("#style-status")
    expect(status).to_contain_text(re.compile(r"step \d+/1000"), timeout=60_000)  # a preview has arrived
    expect(page.locator("#style-run")).to_be_disabled()
    expect(page.locator("#style-output img")).to_be_visible()
    assert page.locator("#style-output .wrap.generating, #style-output .wrap.translucent").count() == 0
    assert page.locator("#style-progress .wrap.generating, #style-progress .wrap.translucent").count() == 1
    page.locator("#style-stop").click()
    expect(status).to_contain_text(re.compile(r"stopped at step \d+ of 1000; kept the current image"), timeout=15_000)
    expect(page.locator("#style-output img")).to_have_attribute("src", re.compile(r"_styled_64px_seed0\.png$"))
    expect(page.locator("#style-download a")).to_have_attribute("href", re.compile(r"_styled_64px_seed0\.png$"))
    expect(page.locator("#style-run")).to_be_enabled()
    page.locator("#style-stop").click()
    expect(status).to_have_text("There is no render to stop.")


def test_without_feature_weights_the_tab_says_so_at_once_and_stylise_is_off(page, hub, tmp_path):
    """Built with a weights file that does not exist: the visitor learns it on opening the tab, not after
    network retries (the test Hub sees no request)."""
    from playwright.sync_api import expect

    import app as studio

    demo = studio.build_app(style_weights=tmp_path / "no-such-vgg19.safetensors")
    demo.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True, ssr_mode=False)
    visitor = page.context.browser.new_page(viewport={"width": 1280, "height": 1000})  # one Playwright per process
    try:
        visitor.goto(demo.local_url)
        visitor.get_by_role("tab", name="Style transfer").click()
        notice = visitor.locator("#style-unavailable")
        expect(notice).to_contain_text("Style transfer is not available on this server", timeout=15_000)
        expect(visitor.locator("#style-run")).to_be_disabled()
        assert "no-such-vgg19" not in notice.inner_text()  # the operator's fix is folded below
        visitor.locator("#style-unavailable summary").click()
        expect(notice).to_contain_text("GAN_STYLE_WEIGHTS")
        assert str(tmp_path) not in notice.inner_text()  # never a path of this machine
        assert hub.requests == []
    finally:
        visitor.close()
        demo.close()


def test_the_generate_tabs_grid_can_be_the_content(page):
    from playwright.sync_api import expect

    page.get_by_role("button", name="Use the Generate tab's grid as content").click()
    expect(page.locator("#style-content img")).to_have_attribute("src", re.compile(r"_grid_seeds0-15_psi1\.png$"))
