"""GAN studio, the Space's entry point: the environment, then the UI package (ui/) over the `gan` package.

Run: python app.py [--host 127.0.0.1] [--port 7860] [--share]   (or: python -m gan app ...)
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import spaces  # noqa: F401  ZeroGPU: must be imported before anything touches CUDA (torch included)

# isort: split
import argparse
from collections.abc import Sequence

from gan.config import APP
from ui import build_app
from ui.links import share_unavailable


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="GAN studio web app")
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", "7860")))
    parser.add_argument("--share", action="store_true", help="ask Gradio for a public share link")
    args = parser.parse_args(argv)
    demo = build_app()
    share = args.share
    if share and (reason := share_unavailable()):
        print(f"* No public link: {reason}. GAN studio runs on this machine only.", flush=True)
        share = False
    quiet = args.share and not share  # else Gradio would advise to "set `share=True`", which was just done
    demo.launch(server_name=args.host, server_port=args.port, share=share, ssr_mode=False, prevent_thread_lock=True,
                quiet=quiet, max_file_size=APP.max_upload_bytes)  # fmt: skip
    if quiet:
        print(f"* Running on local URL:  {demo.local_url}", flush=True)
    if share and not demo.share_url:  # Gradio printed its own reason (often the tunnel program's download)
        print("* No public link: Gradio could not open its share tunnel. GAN studio runs on this machine only.",
              flush=True)  # fmt: skip
    demo.block_thread()


if __name__ == "__main__":
    main()
