"""GAN studio: a Gradio UI over the `gan` package.

This file is layout, wiring and small adapters only: every handler turns
widget values into a `gan` call and the result back into widgets. Per-visitor
state lives in `gr.State`; the one shared object, a bounded cache of loaded
checkpoints, is made in `build_app()` and handed to the handlers.

Run: python app.py [--host 127.0.0.1] [--port 7860] [--share]
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import argparse
import functools
import random
import re
import shutil
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr
import spaces
import torch

from gan.card import write_bundle
from gan.config import MAX_SEED, GenerateConfig, InterpolateConfig, parse_seed_list
from gan.errors import GanError, HubError
from gan.hub import browse, pull, push
from gan.hub import endpoint as hub_endpoint
from gan.images import make_grid, save_gif, save_png, to_pil, upscale
from gan.sampling import generate, interpolate
from gan.zoo import DEFAULT_MODEL, ModelCache, embedded_models, resolve_model

OUTPUT_ROOT = Path(tempfile.gettempdir()) / "gan-studio-outputs"
OUTPUT_MAX_AGE_S = 3600  # result folders older than this are removed when a new one is made
UI_MAX_COUNT = 64  # the slider's top; the API accepts up to GenerateConfig's limit
PREVIEW_MIN_SIDE = 256  # small samples (32 px) are upscaled with nearest-neighbour for display
LICENSES = ["inherit", "apache-2.0", "mit", "cc-by-4.0", "cc-by-sa-4.0", "cc-by-nc-4.0", "openrail", "other"]


def user_errors(handler: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the package's typed errors into a gr.Error message for the visitor."""

    @functools.wraps(handler)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return handler(*args, **kwargs)
        except GanError as error:
            raise gr.Error(str(error)) from error

    return wrapped


def fresh_output_dir() -> Path:
    """A new folder for one request's files; prunes folders older than OUTPUT_MAX_AGE_S."""
    OUTPUT_ROOT.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - OUTPUT_MAX_AGE_S
    for old in OUTPUT_ROOT.iterdir():
        if old.is_dir() and old.stat().st_mtime < cutoff:
            shutil.rmtree(old, ignore_errors=True)
    return Path(tempfile.mkdtemp(dir=OUTPUT_ROOT))


def model_choices(session: dict[str, Any]) -> list[str]:
    return list(embedded_models()) + list(session.get("models", {}))


def file_label(name: str) -> str:
    """A model name as a file-name part: Hub names look like owner/name@revision."""
    return name.replace("/", "--").replace("\\", "--")


def oauth_configured() -> bool:
    """True on a Space with `hf_oauth: true` (it sets OAUTH_CLIENT_ID); then the Hub tab shows a login button.

    Off a Space, Gradio's login button asks the Hub who the local user is when the app
    starts, which fails offline: there the tab offers a token field instead.
    """
    return bool(os.environ.get("OAUTH_CLIENT_ID"))


def visitor_token(token_text: str | None, oauth_token: gr.OAuthToken | None) -> str | None:
    """The logged-in visitor's OAuth token, else the pasted one. Used for one call, never stored."""
    if oauth_token is not None and oauth_token.token:
        return oauth_token.token
    return (token_text or "").strip() or None


def model_folder(name: str, session: dict[str, Any]) -> Path:
    """This visitor's models first (Hub pulls, fine-tunes), then the embedded ones."""
    if name in session.get("models", {}):
        return Path(session["models"][name])
    if name not in embedded_models():
        raise GanError(f"unknown model {name!r}: pick one from the list")
    return resolve_model(name)


# On a ZeroGPU Space these run in a forked worker that holds the GPU: their arguments
# are pickled across, so they take the generator itself and plain configs.
@spaces.GPU(duration=60)
def render_seeds(generator: torch.nn.Module, config: GenerateConfig) -> torch.Tensor:
    return generate(generator, config)


@spaces.GPU(duration=60)
def render_walk(generator: torch.nn.Module, config: InterpolateConfig) -> torch.Tensor:
    return interpolate(generator, config)


def build_app(cache: ModelCache | None = None, oauth: bool | None = None) -> gr.Blocks:
    """The whole UI. `oauth`: show Hugging Face login (default: when running on a Space with OAuth)."""
    cache = cache or ModelCache(max_models=4)
    oauth = oauth_configured() if oauth is None else oauth
    defaults = GenerateConfig()
    walk_defaults = InterpolateConfig()

    @user_errors
    def describe_model(name: str, session: dict[str, Any]) -> str:
        checkpoint = cache.get(model_folder(name, session))
        lines = [f"**{name}**: {checkpoint.describe()}"]
        meta = checkpoint.metadata
        if "steps" in meta:
            lines.append(f"trained {meta['steps']} steps in {meta.get('seconds', '?')} s on {meta.get('data', '?')}")
        return "  \n".join(lines)

    def sample(name: str, seed: float, count: float, truncation: float, session: dict[str, Any]):
        config = GenerateConfig(seed=_as_int(seed, "seed"), count=_as_int(count, "count"), truncation=float(truncation))
        return config, render_seeds(cache.get(model_folder(name, session)).generator, config)

    def save_grid(name: str, config: GenerateConfig, images: torch.Tensor, out: Path) -> Path:
        first, last = config.seeds[0], config.seeds[-1]
        return save_png(
            upscale(to_pil(make_grid(images)[None])[0], PREVIEW_MIN_SIDE * 2),
            out / f"{file_label(name)}_grid_seeds{first}-{last}_psi{config.truncation:g}.png",
            {"model": name, "seeds": f"{first}-{last}", "truncation": config.truncation},
        )

    @user_errors
    def on_generate(
        name: str, seed: float, count: float, truncation: float, session: dict[str, Any], progress=gr.Progress()
    ) -> tuple[list[tuple[str, str]], str, str]:
        progress(0, desc="generating")
        config, images = sample(name, seed, count, truncation, session)
        out = fresh_output_dir()
        gallery = []
        for seed_i, image in zip(config.seeds, to_pil(images), strict=True):
            meta = {"model": name, "seed": seed_i, "truncation": config.truncation}
            path = save_png(image, out / f"{file_label(name)}_seed{seed_i}_psi{config.truncation:g}.png", meta)
            gallery.append((str(path), f"seed {seed_i}"))
        grid_path = save_grid(name, config, images, out)
        zip_path = out / f"{file_label(name)}_seeds{config.seeds[0]}-{config.seeds[-1]}_psi{config.truncation:g}.zip"
        with zipfile.ZipFile(zip_path, "w") as archive:
            for path, _caption in gallery:
                archive.write(path, Path(path).name)
            archive.write(grid_path, grid_path.name)
        return gallery, str(grid_path), str(zip_path)

    @user_errors
    def on_grid(name: str, seed: float, count: float, truncation: float, session: dict[str, Any]) -> str:
        """API shortcut: only the grid PNG, for scripts that want one picture per call."""
        config, images = sample(name, seed, count, truncation, session)
        return str(save_grid(name, config, images, fresh_output_dir()))

    @user_errors
    def on_interpolate(
        name: str,
        seeds_text: str,
        steps: float,
        method: str,
        loop: bool,
        truncation: float,
        session: dict[str, Any],
        progress=gr.Progress(),
    ) -> tuple[str, str, list[str]]:
        seeds = parse_seed_list(seeds_text, limit=16)
        config = InterpolateConfig(tuple(seeds), _as_int(steps, "steps"), method, float(truncation), bool(loop))
        progress(0, desc=f"rendering {config.frame_count} frames")
        frames = render_walk(cache.get(model_folder(name, session)).generator, config)
        out = fresh_output_dir()
        pil_frames = [upscale(f, PREVIEW_MIN_SIDE) for f in to_pil(frames)]
        label = f"{file_label(name)}_{config.method}_seeds{'-'.join(map(str, seeds))}"[:120]
        gif = save_gif(pil_frames, out / f"{label}.gif", config.frame_ms, comment=f"model={name} seeds={seeds}")
        strip = frames[:: max(1, len(frames) // 16)][:16]  # (<=16, C, H, W) evenly spaced frames
        grid = save_png(
            upscale(to_pil(make_grid(strip, columns=8)[None])[0], 512),
            out / f"{label}_grid.png",
            {"model": name, "seeds": seeds_text, "method": config.method},
        )
        return str(gif), str(grid), [str(gif), str(grid)]

    def random_seed() -> int:
        return random.randint(0, MAX_SEED)

    # -- Hub tab ---------------------------------------------------------------------------------

    @user_errors
    def on_browse(search: str, token_text: str, oauth_token: gr.OAuthToken | None) -> tuple[dict[str, Any], str]:
        models = browse(search or "", token=visitor_token(token_text, oauth_token))
        if not models:
            return gr.update(choices=[], value=None), "No GAN checkpoints matched: type any repo id below instead."
        rows = [f"| [{m.repo_id}]({hub_endpoint()}/{m.repo_id}) | {m.downloads} | {m.likes} |" for m in models]
        title = f"{len(models)} checkpoint{'s' if len(models) > 1 else ''}, most downloaded first:"
        table = "\n".join([title, "", "| repo | downloads | likes |", "|---|---|---|", *rows])
        return gr.update(choices=[(m.label, m.repo_id) for m in models], value=None), table

    def on_pick(repo_id: str | None) -> str:
        return repo_id or ""

    @user_errors
    def on_pull(
        source: str, revision: str, token_text: str, session: dict[str, Any], oauth_token: gr.OAuthToken | None
    ) -> tuple[str, dict[str, Any], dict[str, Any], dict[str, Any]]:
        result = pull(
            source, (revision or "").strip() or None, visitor_token(token_text, oauth_token), allow_local=False
        )
        session = {**session, "models": {**session.get("models", {}), result.name: str(result.folder)}}
        report = "\n".join(
            [
                f"Loaded **{result.name}**: now selected in the Generate tab, for this session only.",
                "",
                *(f"- {line}" for line in result.describe()),
            ]
        )
        choices = model_choices(session)
        return (
            report,
            gr.update(choices=choices, value=result.name),
            gr.update(choices=choices, value=result.name),
            session,
        )

    @user_errors
    def on_package(name: str, repo: str, with_discriminator: bool, license: str, session: dict[str, Any]) -> str:
        """The folder a push uploads, as a zip: made before pushing, so it stays downloadable if the push fails."""
        repo_id = (repo or "").strip() or f"your-name/{file_label(name)}"
        out = fresh_output_dir()
        bundle = out / (re.sub(r"[^A-Za-z0-9_.-]+", "-", repo_id.split("/")[-1]).strip(".-") or "checkpoint")
        files = write_bundle(
            model_folder(name, session),
            bundle,
            repo_id,
            with_discriminator=bool(with_discriminator),
            license=None if license in (None, "", "inherit") else license,
        )
        zip_path = out / f"{bundle.name}-checkpoint.zip"
        with zipfile.ZipFile(zip_path, "w") as archive:
            for relative in files:
                archive.write(bundle / relative, f"{bundle.name}/{relative}")
        return str(zip_path)

    @user_errors
    def on_push(
        name: str,
        repo: str,
        visibility: str,
        with_discriminator: bool,
        license: str,
        token_text: str,
        session: dict[str, Any],
        oauth_token: gr.OAuthToken | None,
    ) -> str:
        token = visitor_token(token_text, oauth_token)
        if not token:
            how = "log in with Hugging Face" if oauth else "paste a token with write access"
            raise HubError(f"pushing needs a Hugging Face login: {how}. Your checkpoint stays downloadable as a zip.")
        result = push(
            model_folder(name, session),
            repo,
            token,
            private=visibility == "private",
            with_discriminator=bool(with_discriminator),
            license=None if license in (None, "", "inherit") else license,
        )
        state = "created" if result.created else "updated (it existed, so its visibility was left as it was)"
        shown = "private" if result.private else "public"
        return (
            f"Pushed **{name}** to [{result.repo_id}]({result.url}): {shown}, {state}. [Commit]({result.commit_url})."
        )

    with gr.Blocks(title="GAN studio", delete_cache=(3600, 3600)) as demo:
        session = gr.State({"models": {}})  # this visitor's own models: name -> checkpoint folder
        gr.Markdown("# GAN studio\nGenerate images with GANs, fine-tune them on your pictures, transfer styles.")
        with gr.Tabs():
            with gr.Tab("Generate", id="generate"):
                with gr.Row():
                    model = gr.Dropdown(
                        list(embedded_models()), value=DEFAULT_MODEL, label="Model", scale=2, allow_custom_value=True
                    )  # custom values: this visitor's own models are checked by model_folder()
                    model_info = gr.Markdown()
                with gr.Row():
                    seed = gr.Number(defaults.seed, label="First seed", precision=0, minimum=0, maximum=MAX_SEED)
                    dice = gr.Button("🎲 Random seed", scale=0)
                    count = gr.Slider(1, UI_MAX_COUNT, defaults.count, step=1, label="Images")
                    truncation = gr.Slider(0.0, 1.0, defaults.truncation, step=0.05, label="Truncation ψ (1 = off)")
                generate_button = gr.Button("Generate", variant="primary")
                gallery = gr.Gallery(
                    label="Samples (seed in caption and file name)",
                    columns=8,
                    format="png",
                    height="auto",
                    elem_id="gallery",
                )
                with gr.Row():
                    grid_image = gr.Image(label="Grid", format="png", type="filepath", interactive=False)
                    downloads = gr.File(label="Download all PNGs and the grid (zip)")
                grid_only = gr.Button(visible=False)  # carries the API-only /grid endpoint
                with gr.Accordion("Latent interpolation", open=False):
                    with gr.Row():
                        walk_seeds = gr.Textbox(", ".join(map(str, walk_defaults.seeds)), label="Seeds to visit")
                        walk_steps = gr.Slider(2, 60, walk_defaults.steps, step=1, label="Frames per segment")
                        walk_method = gr.Radio(["slerp", "lerp"], value=walk_defaults.method, label="Path")
                        walk_loop = gr.Checkbox(walk_defaults.loop, label="Loop back")
                    walk_button = gr.Button("Interpolate")
                    with gr.Row():
                        walk_gif = gr.Image(label="Animation", type="filepath", format="gif", interactive=False)
                        walk_grid = gr.Image(label="Frames", type="filepath", format="png", interactive=False)
                    walk_files = gr.File(label="Download (GIF, frame grid)", file_count="multiple")
            with gr.Tab("Fine-tune", id="finetune"):
                gr.Markdown("Fine-tuning on your own images is not available yet in this version.")
            with gr.Tab("Style transfer", id="style"):
                gr.Markdown("Style transfer is not available yet in this version.")
            with gr.Tab("Hub", id="hub"):
                gr.Markdown(
                    "Load a community GAN from the Hugging Face Hub into this session, or push one of your models "
                    "to your account with a model card. Formats: GAN studio and HugGAN DCGAN checkpoints; "
                    "pickles that run code (StyleGAN `.pkl`) and lightweight-gan are refused, with the reason."
                )
                with gr.Row():
                    if oauth:
                        gr.LoginButton()
                    hub_token = gr.Textbox(
                        label="Hugging Face token (private repos and pushing; used for one request, never stored)",
                        type="password",
                        placeholder="hf_...",
                        visible=not oauth,
                        elem_id="hub-token",
                    )
                with gr.Row():
                    with gr.Column():
                        gr.Markdown("### Load a model")
                        with gr.Row():
                            hub_search = gr.Textbox(label="Search (optional)", placeholder="e.g. mnist, anime")
                            browse_button = gr.Button("🔎 Find GAN checkpoints", scale=0)
                        hub_list = gr.Dropdown([], label="Community checkpoints (tags gan, huggan, dcgan)")
                        hub_found = gr.Markdown(elem_id="hub-found")
                        hub_repo = gr.Textbox(
                            label="Repo id or URL",
                            placeholder="owner/name or https://huggingface.co/owner/name",
                            elem_id="hub-repo",
                        )
                        hub_revision = gr.Textbox(label="Revision (optional)", placeholder="main, a tag or a commit")
                        pull_button = gr.Button("Load", variant="primary")
                        pull_report = gr.Markdown(elem_id="pull-report")
                    with gr.Column():
                        gr.Markdown("### Push a model")
                        push_model = gr.Dropdown(
                            list(embedded_models()), value=DEFAULT_MODEL, label="Model", allow_custom_value=True
                        )
                        push_repo = gr.Textbox(label="Repo name", placeholder="my-gan (your namespace) or org/my-gan")
                        with gr.Row():
                            push_visibility = gr.Radio(["public", "private"], value="public", label="Visibility")
                            push_license = gr.Dropdown(LICENSES, value="inherit", label="Licence")
                        push_with_d = gr.Checkbox(False, label="Include the discriminator (to fine-tune further)")
                        push_button = gr.Button("Push to the Hub", variant="primary")
                        push_files = gr.File(
                            label="The checkpoint, card and samples (zip): yours even if the push fails"
                        )
                        push_result = gr.Markdown(elem_id="push-result")

        model.change(describe_model, [model, session], model_info, api_name="describe_model")
        demo.load(describe_model, [model, session], model_info, api_name="describe_default_model")
        dice.click(random_seed, None, seed, api_name="random_seed")
        generate_button.click(
            on_generate,
            [model, seed, count, truncation, session],
            [gallery, grid_image, downloads],
            api_name="generate",
            concurrency_id="gpu",
            concurrency_limit=1,
        )
        grid_only.click(on_grid, [model, seed, count, truncation, session], grid_image, api_name="grid")
        gr.on(
            [browse_button.click, hub_search.submit],
            on_browse,
            [hub_search, hub_token],
            [hub_list, hub_found],
            api_name="browse_hub",
        )
        hub_list.input(on_pick, hub_list, hub_repo, api_name="pick_checkpoint")
        gr.on(
            [pull_button.click, hub_repo.submit],
            on_pull,
            [hub_repo, hub_revision, hub_token, session],
            [pull_report, model, push_model, session],
            api_name="pull_model",
        )
        push_button.click(
            on_package,
            [push_model, push_repo, push_with_d, push_license, session],
            push_files,
            api_name="package_checkpoint",
        ).success(
            on_push,
            [push_model, push_repo, push_visibility, push_with_d, push_license, hub_token, session],
            push_result,
            api_name="push_model",
        )
        walk_button.click(
            on_interpolate,
            [model, walk_seeds, walk_steps, walk_method, walk_loop, truncation, session],
            [walk_gif, walk_grid, walk_files],
            api_name="interpolate",
            concurrency_id="gpu",
        )
    demo.queue(default_concurrency_limit=1, max_size=64)
    return demo


def _as_int(value: float | int | None, name: str) -> int:
    """Gradio numbers arrive as floats; refuse 2.5 rather than silently rounding it."""
    if value is None or float(value) != int(value):
        raise GanError(f"{name} must be a whole number, got {value!r}")
    return int(value)


def main() -> None:
    parser = argparse.ArgumentParser(description="GAN studio web app")
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", "7860")))
    parser.add_argument("--share", action="store_true", help="ask Gradio for a public share link")
    args = parser.parse_args()
    build_app().launch(
        server_name=args.host, server_port=args.port, share=args.share, ssr_mode=False, theme=gr.themes.Soft()
    )


if __name__ == "__main__":
    main()
