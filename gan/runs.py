"""A finished training run on disk: checkpoint, resumable state, samples, record, zip.

The CLI and the app save runs the same way, so a run folder made by either can
be loaded (gan.checkpoint), resumed (gan.train.RunState), pushed or downloaded.
"""

from __future__ import annotations

import platform
import zipfile
from pathlib import Path
from typing import Any

import torch

from gan.card import model_card, public_metadata, read_source
from gan.checkpoint import load_checkpoint, save_checkpoint
from gan.images import save_png, to_pil
from gan.outputs import mark_output_folder
from gan.train import TrainResult


def save_run(folder: str | Path, result: TrainResult, samples: torch.Tensor, extra: dict[str, Any]) -> Path:
    """Write the run: config.json + model.safetensors (+ discriminator/), run_state.pt, samples.png,
    TRAINING.md and a model card (README.md) ready for the Hub.

    samples: the final (C, H, W) preview grid in [0, 1]. extra: record fields (command, data description...).
    The record names files and folders by name, never by local path: it is pushed with the weights. The
    folder is then marked as a training run GAN studio wrote (gan.outputs), so it may be written again.
    """
    folder = Path(folder)
    metadata = public_metadata(dict(result.metadata, **extra))
    metadata["machine"] = f"{platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}"
    save_checkpoint(folder, result.architecture, result.model_config, result.generator, result.discriminator, metadata)
    result.run_state.save(folder)
    save_png(to_pil(samples[None])[0], folder / "samples.png", {"seeds": "0-15", "model": folder.name})
    write_training_record(folder, metadata)
    checkpoint = load_checkpoint(folder, with_discriminator=True)
    card = model_card(checkpoint, f"your-name/{folder.name}", source=read_source(folder), with_discriminator=True)
    (folder / "README.md").write_text(card, encoding="utf-8")
    mark_output_folder(folder, "run")
    return folder


def write_training_record(folder: Path, metadata: dict[str, Any]) -> Path:
    """A short human-readable TRAINING.md beside the weights: command, data, steps, time, machine."""
    config = metadata.get("train_config", {})
    policy = metadata.get("augment_policy", config.get("augment"))
    rates = metadata.get("learning_rates", {})  # as used: the config says 0 where they were chosen by data size
    lines = [
        f"# How `{folder.name}` was trained",
        "",
        f"- command: `{metadata.get('command', '?')}`",
        f"- data: {metadata.get('data', '?')} ({metadata.get('dataset_size', '?')} images, tensor shape "
        f"{metadata.get('data_shape', '?')})",
        f"- architecture: {metadata.get('architecture', 'dcgan')}"
        + (f", fine-tuned from {metadata['fine_tuned_from']}" if metadata.get("fine_tuned_from") else ""),
        f"- steps: {metadata.get('steps')} ({metadata.get('images_seen')} images seen), stopped by "
        f"{metadata.get('stopped_by')}",
        f"- time: {metadata.get('seconds')} s on {metadata.get('device')} ({metadata.get('machine', '?')})",
        f"- loss {config.get('loss')}, batch {config.get('batch_size')}, "
        f"lr G/D {rates.get('g', config.get('lr_g'))}/{rates.get('d', config.get('lr_d'))}, DiffAugment '{policy}', "
        f"real-image jitter {metadata.get('real_jitter', config.get('jitter'))}, "
        f"EMA half-life {config.get('ema_half_life_images')} images",
        "",
        "`samples.png`: seeds 0-15 from the EMA generator; `previews/`: the same fixed seeds during training.",
    ]
    path = folder / "TRAINING.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def zip_run(folder: str | Path, destination: str | Path | None = None, with_state: bool = False) -> Path:
    """Zip a run folder for download: weights, configs, samples and record (run_state.pt only if asked)."""
    folder = Path(folder)
    destination = Path(destination) if destination else folder.with_suffix(".zip")
    with zipfile.ZipFile(destination, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and (with_state or path.name != "run_state.pt"):
                archive.write(path, Path(folder.name) / path.relative_to(folder))
    return destination
