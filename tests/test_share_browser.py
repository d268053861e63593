"""Permalinks in a real headless Chromium (Debian's): a link reproduces a result, bad parameters give a notice."""

from __future__ import annotations

import io
import re

import pytest
from conftest import open_page
from hub_repos import folder_files
from PIL import Image

from gan.cli import main

pytestmark = pytest.mark.browser


def served_png(page, image) -> Image.Image:
    """The PNG the page shows in `image`, as the server sent it."""
    src = image.get_attribute("src") or ""
    return Image.open(io.BytesIO(page.request.get(src).body()))


def test_a_permalink_shows_the_same_image_as_the_cli_and_so_does_its_copy_link(hub, app_url, tiny_checkpoint, tmp_path):
    from playwright.sync_api import expect

    hub.add_repo("alice/tiny-link", folder_files(tiny_checkpoint))
    assert main(["pull", "alice/tiny-link", "--out", str(tmp_path / "pulled")]) == 0
    assert main(["generate", "--model", str(tmp_path / "pulled"), "--seed", "42", "--count", "1", "--truncation",
                 "0.7", "--out", str(tmp_path / "cli")]) == 0  # fmt: skip
    (cli_png,) = (tmp_path / "cli").glob("*_seed42_psi0.7.png")
    with Image.open(cli_png) as expected:
        cli_pixels = (expected.mode, expected.size, expected.tobytes())
    sha = hub.repos["alice/tiny-link"].branches["main"]

    with open_page(f"{app_url}/?model=alice/tiny-link&seed=42&count=1&truncation=0.7") as page:
        image = page.locator('#gallery img[src*="alice--tiny-link_seed42_psi0.7"]').first
        image.wait_for(timeout=60_000)
        with served_png(page, image) as shown:
            assert (shown.mode, shown.size, shown.tobytes()) == cli_pixels
        link = page.locator("#generate-link textarea")
        expect(link).to_have_value(re.compile(r"revision="), timeout=30_000)
        copied = link.input_value()
        assert copied == f"{app_url}?model=alice/tiny-link&revision={sha}&seed=42&count=1&truncation=0.7"
        assert page.locator("#notice").is_hidden()

    hub.add_repo("alice/tiny-link", {"README.md": b"a later commit: the link still opens the one it names"})
    with open_page(copied) as page:  # the copied link, opened by someone else (an "@" is served as %40)
        image = page.locator(f'#gallery img[src*="alice--tiny-link%40{sha}_seed42_psi0.7"]').first
        image.wait_for(timeout=60_000)
        with served_png(page, image) as shown:
            assert (shown.mode, shown.size, shown.tobytes()) == cli_pixels
        assert page.get_by_label("First seed").input_value() == "42"
        assert page.locator("#generate-model input").input_value() == f"alice/tiny-link@{sha[:7]}"  # a short name
        description = page.locator("#generate-model-info")
        expect(description).to_contain_text(f"pinned to commit {sha}", timeout=30_000)  # the commit in its details
        assert "/tmp" not in description.inner_text() and str(tmp_path) not in description.inner_text()


def test_malformed_parameters_are_ignored_with_a_notice_and_the_rest_applies(app_url):
    from playwright.sync_api import expect

    secret = "hf_secretsecretsecret"
    query = f"seed=abc&truncation=7&colour=blue&tab=nowhere&token={secret}&count=2&model=../../etc/passwd"
    with open_page(f"{app_url}/?{query}") as page:
        notice = page.locator("#notice")
        expect(notice).to_contain_text("Part of this link was ignored", timeout=30_000)
        for text in ("seed=abc", "truncation=7", "colour=blue: not a setting this app reads", "tab=nowhere",
                     "token: a link never carries a token", "model=../../etc/passwd"):  # fmt: skip
            expect(notice).to_contain_text(text)
        assert secret not in page.content()
        images = page.locator("#gallery img")  # count=2 still applied, with the page's own model and seed
        images.nth(1).wait_for(timeout=60_000)
        assert images.count() == 2 and "mnist-dcgan_seed0_psi1" in (images.first.get_attribute("src") or "")
        assert page.get_by_role("tab", name="Generate", selected=True).count() == 1


def test_a_style_link_opens_the_style_tab_on_bundled_examples_and_stylises(app_url):
    from playwright.sync_api import expect

    query = "content=content-temple.jpg&styles=style-mosaic.png&size=64&steps=2&levels=1&coarse_steps=0&style_seed=3"
    with open_page(f"{app_url}/?{query}", viewport={"width": 1400, "height": 1800}) as page:
        expect(page.get_by_role("tab", name="Style transfer", selected=True)).to_have_count(1, timeout=30_000)
        expect(page.locator("#style-status")).to_contain_text("done: 2 steps", timeout=90_000)
        link = page.locator("#style-link textarea")
        expect(link).to_have_value(re.compile("content=content-temple.jpg"), timeout=30_000)
        copied = link.input_value()
        assert "styles=style-mosaic.png" in copied and "&size=64&steps=2&" in copied and "style_seed=3" in copied
        assert "_styled_64px_seed3.png" in (page.locator("#style-output img").get_attribute("src") or "")
