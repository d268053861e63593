"""The Hub tab: load community checkpoints into the visitor's lists; push their models with a card (zip first);
publish the app as their own Space."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import gradio as gr

from gan.card import LICENSES, read_source, write_bundle
from gan.deploy import OFFERED_HARDWARE, DeployConfig, deploy
from gan.errors import GanError, HubError
from gan.formats import BROWSE_FILTERS, FAMILIES, family
from gan.hub import HubModel, PullResult, browse, pull, push
from gan.hub import endpoint as hub_endpoint
from gan.jobs import file_label, publication_state, short_name, without_paths, zip_files
from gan.models import trainable
from gan.zoo import DEFAULT_MODEL, embedded_models
from ui.common import Session, Studio, display_note, fresh_output_dir, user_errors, visitor_token
from ui.finetune import start_choices
from ui.links import card_space

INHERIT = "inherit"  # the licence choice that keeps the model's own
ANY_FAMILY = "any"  # the browse list's "every family" choice


def oauth_configured() -> bool:
    """True on a Space with `hf_oauth: true` (it sets OAUTH_CLIENT_ID); then the Hub tab shows a login button.

    Off a Space, Gradio's login button asks the Hub who the local user is when the app
    starts, which fails offline: there the tab offers a token field instead.
    """
    return bool(os.environ.get("OAUTH_CLIENT_ID"))


def write_token(
    token_text: str | None, oauth_token: gr.OAuthToken | None, oauth: bool, doing: str, after: str = ""
) -> str:
    """The visitor's token for a write (`doing`, e.g. "pushing"), or a HubError saying how to log in."""
    token = visitor_token(token_text, oauth_token)
    if not token:
        how = "log in with Hugging Face" if oauth else "paste a token with write access"
        raise HubError(f"{doing} needs a Hugging Face login: {how}." + (f" {after}" if after else ""))
    return token


def family_label(model: HubModel) -> str:
    """The family a browse row's tags point to (a guess until it loads), in a person's words."""
    known = family(model.family or "")
    if known is not None:
        return known.label
    return "StyleGAN3: recognised, refused on load" if "stylegan3" in model.tags else "unknown: decided when it loads"


def browse_families(search: str, family_name: str, token: str | None) -> list[HubModel]:
    """Community checkpoints of one family (by its Hub tags and libraries, then by the family the tags point
    to), or of every family GAN studio reads."""
    wanted = family(family_name) if family_name and family_name != ANY_FAMILY else None
    found = browse(search or "", wanted.hub_filters if wanted else BROWSE_FILTERS, token=token)
    return [m for m in found if wanted is None or m.family == wanted.name]


def loaded_report(result: PullResult) -> str:
    """What was loaded, from where (family, repo, commit, licences), how it is shown here and if it fine-tunes:
    never a path of this machine."""
    lines = [*result.describe(), *display_note(result.resolution),
             f"fine-tuning: {trainable(result.architecture) or 'yes, in the Fine-tune tab'}"]  # fmt: skip
    head = f"Loaded **{short_name(result.name)}**: now selected in the Generate tab, for this session only."
    return "\n".join([head, "", *(f"- {without_paths(line)}" for line in lines)])


def chosen(name: str | None) -> str:
    if not name:
        raise GanError("pick a model first")
    return name


def build_hub_tab(studio: Studio, hub_tab: gr.Tab, generate_model: gr.Dropdown, finetune_start: gr.Dropdown,
                  oauth: bool) -> None:  # fmt: skip
    """Load community checkpoints into this visitor's lists; push their models with a card (zip first)."""
    models = [(short_name(name), name) for name in embedded_models()]
    gr.Markdown(
        "Load a community GAN from the Hugging Face Hub into this session, or push one of your models "
        f"to your account with a model card. Families that load: {', '.join(f.label for f in FAMILIES)}; "
        "pickles are read as data, never run. StyleGAN3 and any pickle that needs code are refused, with the reason."
    )
    with gr.Row():
        if oauth:
            gr.LoginButton()
        token = gr.Textbox("", label="Hugging Face token (private repos and pushing; used for one request, never "
                           "stored)", type="password", placeholder="hf_...", visible=not oauth,
                           elem_id="hub-token")  # fmt: skip
    with gr.Row():
        with gr.Column():
            gr.Markdown("### Load a model")
            with gr.Row(equal_height=True):
                search = gr.Textbox("", label="Search (optional)", placeholder="e.g. mnist, anime")
                family_filter = gr.Dropdown([("every family", ANY_FAMILY), *((f.label, f.name) for f in FAMILIES)],
                                            value=ANY_FAMILY, label="Family", elem_id="hub-family")  # fmt: skip
                browse_button = gr.Button("Find GAN checkpoints", scale=0)
            found_list = gr.Dropdown([], label=f"Community checkpoints (Hub tags {', '.join(BROWSE_FILTERS)})",
                                     elem_id="hub-found-list")  # fmt: skip
            found = gr.Markdown(label="Checkpoints found", elem_id="hub-found")
            repo = gr.Textbox(label="Repo id or URL", placeholder="owner/name or https://huggingface.co/owner/name",
                              elem_id="hub-repo")  # fmt: skip
            revision = gr.Textbox("", label="Revision (optional)", placeholder="main, a tag or a commit")
            pull_button = gr.Button("Load", variant="primary", elem_id="hub-load")
            pull_report = gr.Markdown(label="Loaded", elem_id="pull-report")
        with gr.Column():
            gr.Markdown("### Push a model")
            push_model = gr.Dropdown(models, value=None, label="Model", allow_custom_value=True, elem_id="push-model",
                                     info="your newest model is offered first")  # fmt: skip
            push_repo = gr.Textbox(label="Repo name", placeholder="my-gan (your namespace) or org/my-gan")
            with gr.Row():
                push_visibility = gr.Radio(["public", "private"], value="public", label="Visibility")
                push_license = gr.Dropdown([INHERIT, *LICENSES], value=INHERIT, label="Licence")
            push_with_d = gr.Checkbox(False, label="Include the discriminator (to fine-tune further)")
            push_button = gr.Button("Push to the Hub", variant="primary")
            push_files = gr.File(label="The checkpoint, card and samples (zip): yours even if the push fails",
                                 interactive=False, height=80)  # fmt: skip
            push_result = gr.Markdown(label="Pushed", elem_id="push-result")
    gr.Markdown("### Publish a demo Space\nYour own copy of this app on the Hub, opening on the model you choose "
                "(one you fine-tuned here is copied into it; one from the Hub is loaded when it starts).")  # fmt: skip
    with gr.Row():
        publish_model = gr.Dropdown(models, value=DEFAULT_MODEL, label="Model it shows first",
                                    allow_custom_value=True)  # fmt: skip
        publish_space = gr.Textbox(label="Space name", placeholder="my-gan-demo (your namespace) or org/my-gan-demo")
        publish_hardware = gr.Dropdown([("keep (new Space: free cpu-basic)", ""), *((h, h) for h in OFFERED_HARDWARE)],
                                       value="", label="Hardware (paid hardware bills your account)")  # fmt: skip
        publish_visibility = gr.Radio(["public", "private"], value="public", label="Visibility")
    publish_button = gr.Button("Publish as a Space", variant="primary")
    publish_result = gr.Markdown(label="Published", elem_id="publish-result")

    @user_errors
    def on_browse(search: str, token: str, family_name: str,
                  oauth_token: gr.OAuthToken | None) -> tuple[dict[str, Any], str]:  # fmt: skip
        """GAN checkpoints on the Hub of one family (or any) whose name matches `search` (empty: all), most
        downloaded first; each row names the family its tags point to."""
        found = browse_families(search, family_name, visitor_token(token, oauth_token))
        if not found:
            return gr.update(choices=[], value=None), "No GAN checkpoints matched: type any repo id below instead."
        rows = [f"| [{m.repo_id}]({hub_endpoint()}/{m.repo_id}) | {family_label(m)} | {m.downloads} | {m.likes} |"
                for m in found]  # fmt: skip
        title = f"{len(found)} checkpoint{'s' if len(found) > 1 else ''}, most downloaded first (family: from tags):"
        table = "\n".join([title, "", "| repo | family | downloads | likes |", "|---|---|---|---|", *rows])
        choices = [(f"{m.repo_id}  ·  {family_label(m)}  ·  {m.downloads} downloads", m.repo_id) for m in found]
        return gr.update(choices=choices, value=None), table

    @user_errors
    def on_pull(source: str, revision: str, token: str, session: Session,
                   oauth_token: gr.OAuthToken | None) -> tuple[str, Session]:  # fmt: skip
        """Load a GAN from the Hub (owner/name or its URL, optionally a revision) into this session's models."""
        result = pull(source, (revision or "").strip() or None, visitor_token(token, oauth_token), allow_local=False)
        session.add(result.name, result.folder)
        return loaded_report(result), session

    def offer_newest(session: Session, push_value: str | None, publish_value: str | None) -> tuple[Any, Any]:
        """Push and Publish list this visitor's models and offer the newest first (never silently a default)."""
        choices = session.choices()
        return (gr.update(choices=choices, value=session.recent or push_value),
                gr.update(choices=choices, value=session.recent or publish_value))  # fmt: skip

    def after_pull(session: Session, push_value: str | None, publish_value: str | None) -> tuple[Any, ...]:
        """The loaded model joins every list, selected in Generate and offered first by Push and Publish."""
        return (gr.update(choices=session.choices(), value=session.recent), gr.update(choices=start_choices(session)),
                *offer_newest(session, push_value, publish_value))  # fmt: skip

    @user_errors
    def on_publish(model: str, space: str, hardware: str | None, visibility: str, token: str, session: Session,
                      oauth_token: gr.OAuthToken | None) -> str:  # fmt: skip
        """Publish this app as your own Space (creates or updates it), opening on `model`: a demo of it."""
        key = write_token(token, oauth_token, oauth, "publishing a Space")
        folder = session.folder(chosen(model))
        # A model pulled from the Hub is named by its repo (the Space pulls it); one made here is copied in.
        shown: str | Path = model if model in embedded_models() or read_source(folder).get("repo_id") else folder
        result = deploy(DeployConfig(space, shown, hardware or None, private=visibility == "private"), key)
        return (f"Published [{result.space_id}]({result.url}): {publication_state(result.created, result.private)}, "
                f"showing **{result.default_model}** first. The Hub builds and starts it in a few minutes "
                f"([commit]({result.commit_url})).\n\nLink to it on any model and seed: "
                f"`{result.url}?model=owner/name&seed=0`.")  # fmt: skip

    @user_errors
    def on_package(model: str, repo: str, with_discriminator: bool, license: str, session: Session) -> str:
        """The files a push uploads (weights, config, model card, samples) as a zip, made before pushing."""
        repo_id = (repo or "").strip() or f"your-name/{file_label(chosen(model))}"
        out = fresh_output_dir()
        bundle = out / (re.sub(r"[^A-Za-z0-9_.-]+", "-", repo_id.split("/")[-1]).strip(".-") or "checkpoint")
        files = write_bundle(session.folder(chosen(model)), bundle, repo_id,
                             with_discriminator=bool(with_discriminator),
                             license=None if license in (None, "", INHERIT) else license, app_space=card_space(),
                             endpoint=hub_endpoint())  # fmt: skip
        return str(zip_files([bundle / relative for relative in files], out / f"{bundle.name}-checkpoint.zip", bundle))

    @user_errors
    def on_push(model: str, repo: str, visibility: str, with_discriminator: bool, license: str, token: str,
                   session: Session, oauth_token: gr.OAuthToken | None) -> str:  # fmt: skip
        """Upload a model to your Hub account with its model card (repo: a name in your namespace, or org/name)."""
        key = write_token(token, oauth_token, oauth, "pushing", "Your checkpoint stays downloadable as a zip.")
        result = push(session.folder(chosen(model)), repo, key, private=visibility == "private",
                      with_discriminator=bool(with_discriminator),
                      license=None if license in (None, "", INHERIT) else license, app_space=card_space())  # fmt: skip
        return (f"Pushed **{short_name(model)}** to [{result.repo_id}]({result.url}): "
                f"{publication_state(result.created, result.private)}. [Commit]({result.commit_url}).")  # fmt: skip

    gr.on([browse_button.click, search.submit], on_browse, [search, token, family_filter], [found_list, found],
          api_name="browse_hub")  # fmt: skip
    found_list.input(lambda repo_id: repo_id or "", found_list, repo, queue=False, api_visibility="private")
    offered = [studio.session, push_model, publish_model]
    hub_tab.select(offer_newest, offered, [push_model, publish_model], queue=False, api_visibility="private")
    gr.on([pull_button.click, repo.submit], None, None, pull_report, js="() => ''")  # a new load: a new message
    gr.on([pull_button.click, repo.submit], on_pull, [repo, revision, token, studio.session],
          [pull_report, studio.session], api_name="pull_model").success(
        after_pull, offered, [generate_model, finetune_start, push_model, publish_model], queue=False,
        api_visibility="private")  # fmt: skip
    publish_inputs = [publish_model, publish_space, publish_hardware, publish_visibility, token, studio.session]
    publish_button.click(on_publish, publish_inputs, publish_result, api_name="publish_space")
    push_button.click(on_package, [push_model, push_repo, push_with_d, push_license, studio.session], push_files,
                      api_name="package_checkpoint").success(
        on_push, [push_model, push_repo, push_visibility, push_with_d, push_license, token, studio.session],
        push_result, api_name="push_model")  # fmt: skip
