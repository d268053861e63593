"""gan.share: permalinks read and written, what a link may name, bundled style examples."""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from gan.card import model_app_link
from gan.errors import InvalidInputError
from gan.share import (
    Permalink,
    bundled_example,
    link_model,
    parse_permalink,
    permalink_query,
    permalink_url,
    style_link_settings,
)
from gan.style import StyleConfig

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "weights" / "style-examples"


def parse(query: str, **kwargs) -> Permalink:
    return parse_permalink(parse_qsl(query, keep_blank_values=True), **kwargs)


def test_a_link_reads_back_as_the_same_settings():
    link = Permalink(
        tab="style", model="owner/some-gan", revision="0123456789abcdef0123456789abcdef01234567",
        generate={"seed": 42, "count": 3, "truncation": 0.7}, content="content-temple.jpg",
        styles=("style-mosaic.png", "style-flower.jpg"),
        style={"blend": "2, 1", "size": 256, "steps": 30, "content_weight": 1.5, "style_weight": 100.0,
               "tv_weight": 0.0, "preserve_colors": "luminance", "style_scale": 0.75, "levels": 2,
               "coarse_steps": 10, "init": "noise", "style_seed": 7},
    )  # fmt: skip
    query = permalink_query(link)
    assert query.startswith("tab=style&model=owner/some-gan&revision=0123") and "truncation=0.7&" in query
    assert parse(query) == link
    url = permalink_url("http://127.0.0.1:7860/", link)
    assert url == f"http://127.0.0.1:7860?{query}" and parse(urlsplit(url).query) == link


def test_the_issues_example_link_parses_and_opens_the_generate_tab():
    link = parse("model=user/repo&seed=42&truncation=0.7")
    assert (link.model, link.revision, link.generate, link.notices) == (
        "user/repo", None, {"seed": 42, "truncation": 0.7}, [])  # fmt: skip
    assert link.opens == "generate" and link.model_name == "user/repo"
    assert parse("content=content-temple.jpg").opens == "style" and parse("tab=hub&seed=1").opens == "hub"
    hub_url = parse("model=https://huggingface.co/owner/name/tree/v2")
    assert (hub_url.model, hub_url.revision, hub_url.model_name) == ("owner/name", "v2", "owner/name@v2")
    assert parse("model=mnist-dcgan&count=4").model == "mnist-dcgan"


def test_unknown_and_malformed_parameters_are_ignored_each_with_a_notice():
    link = parse("seed=abc&truncation=2&count=0&tab=nowhere&colour=blue&model=../../etc&styles=../secret&seed2=&"
                 "count=5&size=20000&preserve_colors=sepia")  # fmt: skip
    assert link.generate == {"count": 5} and link.model is None and link.tab is None and not link.styles
    text = "\n".join(link.notices)
    for expected in ("`seed=abc`: seed must be a whole number", "`truncation=2`: truncation must be from 0 to 1",
                     "`tab=nowhere`: tab must be one of generate, finetune, style, hub",
                     "`colour=blue`: not a setting this app reads", "`model=../../etc`: model must be",
                     "`styles=../secret`: styles must name a bundled example", "`seed2=`: not a setting",
                     "`count` was given 2 times: the last one was used", "`size=20000`: size must be from 32 to 4096",
                     "`preserve_colors=sepia`: preserve_colors must be one of none, luminance, histogram"):  # fmt: skip
        assert expected in text, (expected, text)
    assert len(link.notices) == 10  # count=0 was overridden by the later count=5: only the repeat is noted


def test_gradio_and_hub_parameters_pass_silently_and_limits_narrow_ranges():
    assert parse("__theme=dark&view=api&__sign=abc.def").notices == []
    link = parse("count=65&size=2048", limits={"count": (1, 64), "size": (64, 1024)})
    assert link.generate == {} and link.style == {}
    assert ["count must be from 1 to 64" in n for n in link.notices] == [True, False]


def test_a_link_never_reads_or_repeats_a_token():
    secret = "hf_abcdefghijklmnopqrstuvwxyz"
    link = parse(f"token={secret}&seed=3&hf_token=x&note={secret}&model=owner/name&password=hunter2")
    assert (link.model, link.generate) == ("owner/name", {"seed": 3})
    assert len(link.notices) == 4 and all("never carries a token or password" in n for n in link.notices)
    assert secret not in "".join(link.notices) and "hunter2" not in "".join(link.notices)
    assert secret not in permalink_query(link) and "token" not in permalink_query(link)


def test_blend_weights_must_match_the_style_images_and_revisions_need_a_hub_model():
    link = parse("styles=style-mosaic.png&blend=2,1&model=mnist-dcgan&revision=main")
    assert "blend" not in link.style and link.revision is None
    assert any("2 style weights given for 1 style image" in n for n in link.notices)
    assert any("ignored `revision`: the link names no Hub model" in n for n in link.notices)


def test_long_values_are_refused_and_quoted_short():
    link = parse("model=" + "a" * 400)
    assert link.model is None and "longer than 300 characters" in link.notices[0] and "a" * 41 not in link.notices[0]


def test_link_model_names_embedded_and_pulled_models_and_refuses_session_only_ones(tmp_path, tiny_checkpoint):
    assert link_model("mnist-dcgan", None, {"mnist-dcgan"}) == ("mnist-dcgan", None)
    with pytest.raises(InvalidInputError, match="unknown model"):
        link_model("nope", None, {"mnist-dcgan"})
    pulled = tmp_path / "pulled"
    shutil.copytree(tiny_checkpoint, pulled)
    source = {"repo_id": "owner/name", "revision": "f" * 40, "format": "gan-studio", "weights": "model.safetensors"}
    (pulled / "source.json").write_text(json.dumps(source))
    assert link_model("owner/name", pulled, set()) == ("owner/name", "f" * 40)
    with pytest.raises(InvalidInputError, match=r"my-dcgan-1 exists only in this session.*push it to the Hub"):
        link_model("my-dcgan-1", tiny_checkpoint, set())


def test_bundled_examples_are_recognised_by_content_not_by_name(tmp_path):
    copy = tmp_path / "upload.jpg"
    shutil.copyfile(EXAMPLES / "content-temple.jpg", copy)
    assert bundled_example(copy, EXAMPLES) == "content-temple.jpg"
    impostor = tmp_path / "content-temple.jpg"
    impostor.write_bytes(b"not the bundled image")
    assert bundled_example(impostor, EXAMPLES) is None and bundled_example(None, EXAMPLES) is None


def test_style_settings_of_a_result_read_back_into_the_config():
    config = StyleConfig(size=128, steps=5, style_blend=(2.0, 0.5), preserve_colors="histogram", seed=9)
    settings = style_link_settings(json.loads(json.dumps(asdict(config))))  # as a result PNG stores it
    assert settings["blend"] == "2, 0.5" and settings["style_seed"] == 9 and settings["size"] == 128
    link = Permalink(styles=("a.png", "b.png"), style=settings)
    assert parse(permalink_query(link)).style == settings


def test_model_cards_link_to_the_app_on_their_model_with_a_permalink():
    link = model_app_link("alice/tiny-gan")
    assert link == "https://huggingface.co/spaces/gan-studio/gan-studio?model=alice/tiny-gan"
    assert parse(urlsplit(link).query) == Permalink(model="alice/tiny-gan")
    assert model_app_link("a/b", "bob/demo", "http://hub.test/") == "http://hub.test/spaces/bob/demo?model=a/b"
