"""GAN studio's web UI: one module per tab over the `gan` package.

A handler turns widget values into one call of a `gan` job and its result back into widgets. The objects
shared by all visitors (a bounded cache of loaded checkpoints, the interactive-first priority, the waiting
lines) are made here and handed to the tabs; everything per visitor lives in gr.State (ui.common.Session).
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import gradio as gr
import torch

from gan.config import APP, TABS
from gan.jobs import start_model
from gan.serving import InteractivePriority
from gan.style import VGG19WeightsCache, default_weights_source
from gan.zoo import ModelCache, configured_default_model
from ui.common import OUTPUT_FOLDERS, Session, Studio, WaitingLines, forget_session
from ui.finetune import build_finetune_tab
from ui.generate import build_generate_tab, first_samples
from ui.gradio_internals import set_launch_defaults, set_page_style
from ui.hub import build_hub_tab, oauth_configured
from ui.links import notice_text, wire_permalinks
from ui.style import build_style_tab
from ui.training import DEFAULT_CALL_S

TAB_LABELS = dict(zip(TABS, ("Generate", "Fine-tune", "Style transfer", "Hub"), strict=True))
START_FILES = Path(tempfile.gettempdir()) / "gan-studio-start"  # what pages show before anyone clicks
CSS = """
.toast-message-text { white-space: pre-line; }  /* error messages keep their line breaks */
#gallery .grid-wrap, #style-examples .grid-wrap {  /* as tall as their rows: no empty band, no inner scrolling */
  height: auto !important; min-height: 0 !important; max-height: none !important;
}
@media (max-width: 640px) {
  .tab-container button { padding: 0 7px !important; }  /* all four tabs fit: no hidden overflow menu */
  #gallery .grid-container { grid-template-columns: repeat(4, minmax(0, 1fr)) !important; }  /* wrap, no scroll */
}
"""


def tab(key: str) -> gr.Tab:
    return gr.Tab(TAB_LABELS[key], id=key)


def build_app(
    cache: ModelCache | None = None,
    oauth: bool | None = None,
    style_weights: str | Path | None = None,
    queue_size: int = APP.queue_max_size,
    session_ttl_s: float = APP.run_max_age_s,
    default_model: str | None = None,
    train_call_s: float | None = DEFAULT_CALL_S,
) -> gr.Blocks:
    """The whole UI. `oauth`: show Hugging Face login (default: when running on a Space with OAuth).
    `style_weights`: VGG19 weights for style transfer, a file or a Hub repo id; None reads $GAN_STYLE_WEIGHTS
    now, else uses torchvision's cache or the default Hub repo, loaded on first use.
    `queue_size`: events that may wait at once. `session_ttl_s`: a visitor's models and runs are
    forgotten this long after their last change (Gradio also ends a session an hour after its tab closes).
    `default_model`: the model shown first, an embedded name or a Hub repo id (pulled now); None reads
    $GAN_STUDIO_DEFAULT_MODEL, else weights/default_model.txt, else the embedded default.
    `train_call_s`: a fine-tune runs as a chain of calls of at most this many seconds, each resuming the last
    (APP.train_max_call_s on ZeroGPU); None trains in one call."""
    cache = cache or ModelCache(max_models=APP.cached_models)
    first_model, start_models, start_notice = start_model(default_model or configured_default_model())
    start = Session(models=start_models)
    # Generation runs ahead of training and style steps. On a CPU they compete for the same cores, so long
    # jobs wait out each request; a GPU overlaps them, so there a long job only yields a moment.
    priority = InteractivePriority(grace_s=0.0, max_wait_s=0.05) if torch.cuda.is_available() else InteractivePriority()
    networks = VGG19WeightsCache(style_weights or default_weights_source())
    oauth = oauth_configured() if oauth is None else oauth
    START_FILES.mkdir(parents=True, exist_ok=True)
    files = Path(tempfile.mkdtemp(dir=START_FILES))
    atexit.register(shutil.rmtree, files, True)
    first = first_samples(cache, first_model, start.folder(first_model), files)
    # Result files are written once into a fresh random folder and never changed: served from where they lie,
    # Gradio skips hashing and copying each into its cache (a tenth of the app's CPU under load, profiled).
    gr.set_static_paths([OUTPUT_FOLDERS.root, START_FILES])
    with gr.Blocks(title="GAN studio", delete_cache=(APP.output_max_age_s, APP.output_max_age_s)) as demo:
        session = gr.State(
            start, time_to_live=session_ttl_s, delete_callback=lambda ended: forget_session(ended, cache)
        )
        linked = gr.State(None)
        studio = Studio(demo, cache, priority, WaitingLines(demo, APP.line_max_waiting), session, linked, train_call_s)
        gr.Markdown("# GAN studio\nGenerate images with GANs, fine-tune them on your pictures, load and share them "
                    "on the Hugging Face Hub, transfer styles.")  # fmt: skip
        notice = gr.Markdown(notice_text(start_notice, []), visible=bool(start_notice), elem_id="notice")
        with gr.Tabs() as tabs:
            with tab("generate"):
                generate = build_generate_tab(studio, first_model, start, first)
            with tab("finetune"):
                finetune_start = build_finetune_tab(studio, generate.inputs["model"])
            with tab("style"):
                style = build_style_tab(studio, networks, generate.grid, files)
            with tab("hub") as hub_tab:
                build_hub_tab(studio, hub_tab, generate.inputs["model"], finetune_start, oauth)
        wire_permalinks(studio, notice, tabs, generate.inputs, style.inputs, start_notice)
    demo.queue(default_concurrency_limit=1, max_size=queue_size)
    set_page_style(demo, CSS, gr.themes.Soft())
    set_launch_defaults(demo, max_file_size=APP.max_upload_bytes)  # Gradio has no cap of its own on an upload
    return demo
