import math

import pytest
import torch

import gan.train as train_module
from gan.checkpoint import load_checkpoint, save_checkpoint
from gan.config import DCGANConfig, FastGANConfig
from gan.errors import CheckpointError, InvalidInputError
from gan.models import build_discriminator, build_generator
from gan.train import (
    FEW_SHOT_MAX_IMAGES,
    RunState,
    TrainConfig,
    auto_augment_policy,
    diversity,
    r1_penalty,
    recalibrate_batchnorm,
    train,
)

TINY = DCGANConfig(resolution=32, channels=1, latent_dim=8, width=4, max_width=16)
FAST = TrainConfig(steps=6, batch_size=4, event_every=2, preview_every_s=0.0, preview_count=4)


def tiny_data(count: int = 40) -> torch.Tensor:
    torch.manual_seed(1)
    return torch.rand(count, 1, 32, 32) * 2 - 1


def run(config: TrainConfig = FAST, **kwargs):
    return list(train(tiny_data(), TINY, config, device="cpu", **kwargs))


def test_a_few_steps_give_finite_losses_health_an_ema_generator_and_previews():
    events = run()
    assert [e.step for e in events] == [2, 4, 6, 6]
    assert all(math.isfinite(v) for e in events[1:] for v in e.losses.values())
    assert events[0].preview is not None and events[0].preview.shape[0] == 1
    assert -1.0 <= events[-1].health.r_t <= 1.0 and events[-1].health.badges()
    result = events[-1].result
    assert result is not None and all(e.result is None for e in events[:-1])
    assert result.metadata["steps"] == 6 and result.metadata["stopped_by"] == "step budget"
    assert result.metadata["augment_policy"] == "translation,cutout"  # 40 greyscale images: few-shot policy
    assert not result.generator.training
    assert result.generator(torch.randn(2, 8)).shape == (2, 1, 32, 32)


def test_ema_generator_moves_away_from_its_initial_weights():
    config = TrainConfig(steps=5, batch_size=4, event_every=100, ema_half_life_images=1, ema_rampup=0)
    result = run(config)[-1].result
    torch.manual_seed(config.seed)
    fresh = build_generator("dcgan", TINY)
    assert any(not torch.equal(a, b) for a, b in zip(fresh.parameters(), result.generator.parameters(), strict=True))


def test_stop_request_ends_cleanly_with_usable_weights():
    calls = {"n": 0}

    def stop_after_three() -> bool:
        calls["n"] += 1
        return calls["n"] >= 3

    result = run(TrainConfig(steps=1000, batch_size=4), should_stop=stop_after_three)[-1].result
    assert result.metadata["steps"] == 3 and result.metadata["stopped_by"] == "stop requested"
    assert torch.isfinite(result.generator(torch.randn(1, 8))).all()


def test_resume_continues_the_step_count_optimiser_state_and_rng(tmp_path):
    first = run(TrainConfig(steps=4, batch_size=4, event_every=2))[-1].result
    first.run_state.save(tmp_path)
    state = RunState.load(tmp_path)
    assert state.step == 4
    assert state.opt_g["state"][0]["step"].item() == 4
    events = list(train(tiny_data(), None, TrainConfig(steps=7, batch_size=4, event_every=1), "cpu", resume=state))
    assert [e.step for e in events[:-1]] == [5, 6, 7]
    assert events[0].notes == ["resumed at step 4"]
    assert events[-1].result.run_state.opt_g["state"][0]["step"].item() == 7


def test_a_corrupt_run_state_is_refused(tmp_path):
    with pytest.raises(CheckpointError, match="nothing to resume"):
        RunState.load(tmp_path)
    (tmp_path / "run_state.pt").write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="not a resumable run state"):
        RunState.load(tmp_path)


def test_nan_losses_restore_the_last_good_state_then_give_up():
    data = torch.full((8, 1, 32, 32), float("nan"))
    config = TrainConfig(steps=50, batch_size=4, max_nan_recoveries=2, augment="")
    events = list(train(data, TINY, config, "cpu"))
    result = events[-1].result
    assert result.metadata["stopped_by"] == "repeated NaN losses"
    assert result.metadata["nan_recoveries"] == 3
    assert all(torch.isfinite(p).all() for p in result.generator.parameters())
    assert any("halved the learning rates" in note for e in events for note in e.notes)


def _alike_generators(monkeypatch, builds: int) -> list[int]:
    """The first `builds` generators train() builds ignore their noise, so every fake of a batch is the same."""
    real_build, built = train_module._build_nets, []

    def build(*args, **kwargs):
        nets, frozen, notes = real_build(*args, **kwargs)
        built.append(1)
        if len(built) <= builds:
            forward = nets.generator.forward
            nets.generator.forward = lambda z: forward(z * 0)
        return nets, frozen, notes

    monkeypatch.setattr(train_module, "_build_nets", build)
    monkeypatch.setattr(train_module, "COLLAPSE_R_T", -1.0)  # whatever D thinks: the spread alone decides here
    return built


def test_a_collapsed_run_from_scratch_starts_again_from_new_weights(monkeypatch):
    built = _alike_generators(monkeypatch, builds=1)
    events = run(TrainConfig(steps=40, batch_size=4, event_every=1, preview_every_s=1e9))
    result = events[-1].result
    restart = train_module.COLLAPSE_STEPS  # the first step after that many alike steps in a row
    assert len(built) == 2 and result.metadata["collapse_restarts"] == 1 and result.metadata["steps"] == 40
    assert any(f"step {restart}: the generator collapsed" in note for e in events for note in e.notes)
    assert events[0].health.spread < 1e-6 < events[-2].health.spread  # new weights: fakes differ again
    assert "started again 1 time(s) after the generator collapsed" in events[-1].health.badges()


def test_restarts_are_bounded_and_can_be_turned_off(monkeypatch):
    built = _alike_generators(monkeypatch, builds=100)
    bounded = run(TrainConfig(steps=90, batch_size=4, collapse_restarts=2, preview_every_s=1e9))[-1].result
    assert bounded.metadata["collapse_restarts"] == 2 and len(built) == 3 and bounded.metadata["steps"] == 90
    built.clear()
    off = run(TrainConfig(steps=40, batch_size=4, collapse_restarts=0, preview_every_s=1e9))[-1].result
    assert off.metadata["collapse_restarts"] == 0 and len(built) == 1


def test_discriminator_steps_are_skipped_while_it_memorises_but_never_twice_in_a_row():
    config = TrainConfig(steps=7, batch_size=4, d_skip_threshold=-1.0, event_every=1)  # any r_t counts as memorising
    events = run(config)
    assert events[-1].result.metadata["d_steps_skipped"] == 3  # steps 2, 4 and 6: D still learns every other step
    assert [e.health.d_skipping for e in events[:-1]] == [False, True, False, True, False, True, False]
    assert "discriminator winning: skipping D steps" in events[-1].health.badges()


def test_augmentation_strength_adapts_to_r_t():
    rising = run(TrainConfig(steps=6, batch_size=4, augment_strength=0.0, ada_target=-2.0, ada_speed_images=40))
    assert rising[-1].health.augment_strength == pytest.approx(0.6)  # 6 steps x 4 images / 40
    fixed = run(TrainConfig(steps=6, batch_size=4, augment_strength=0.3, adaptive_augment=False))
    assert fixed[-1].health.augment_strength == pytest.approx(0.3)


def test_fine_tuning_a_pair_freezes_the_lowest_discriminator_layers(tmp_path):
    torch.manual_seed(3)
    folder = save_checkpoint(
        tmp_path / "pair", "dcgan", TINY, build_generator("dcgan", TINY), build_discriminator("dcgan", TINY)
    )
    init = load_checkpoint(folder, with_discriminator=True)
    before = {k: v.clone() for k, v in init.discriminator.state_dict().items()}
    result = run(TrainConfig(steps=3, batch_size=4), init=init)[-1].result
    after = result.discriminator.state_dict()
    assert result.metadata["frozen_d_layers"] == 2 and result.metadata["fine_tuned_from"] == "pair"  # a name
    assert torch.equal(after["features.0.parametrizations.weight.original"],
                       before["features.0.parametrizations.weight.original"])  # fmt: skip
    assert not torch.equal(after["to_logit.parametrizations.weight.original"],
                           before["to_logit.parametrizations.weight.original"])  # fmt: skip


def test_fastgan_trains_with_its_reconstruction_loss():
    config = FastGANConfig(resolution=64, channels=3, latent_dim=8, width=2, max_width=16)
    discriminator = build_discriminator("fastgan", config)
    images = torch.rand(2, 3, 64, 64) * 2 - 1
    logits, reconstruction = discriminator.reconstruct(images)
    assert logits.shape == (2,) and reconstruction.item() > 0
    data = torch.rand(12, 3, 64, 64) * 2 - 1
    result = list(train(data, config, TrainConfig(steps=2, batch_size=2), "cpu", architecture="fastgan"))[-1].result
    assert result.architecture == "fastgan"
    assert result.generator(torch.randn(1, 8)).shape == (1, 3, 64, 64)


def test_health_helpers():
    assert auto_augment_policy(5000, 1) == "translation"
    assert auto_augment_policy(100, 3) == "color,translation,cutout"
    same = torch.ones(4, 1, 8, 8)
    assert diversity(same) == 0.0
    assert diversity(torch.rand(4, 1, 8, 8)) > 0.1
    discriminator = build_discriminator("dcgan", TINY)
    assert r1_penalty(discriminator, torch.rand(2, 1, 32, 32)).item() > 0


def test_wrongly_shaped_data_and_bad_configs_are_refused():
    with pytest.raises(InvalidInputError, match="data has shape"):
        next(train(torch.zeros(4, 3, 32, 32), TINY, TrainConfig(steps=1)))
    with pytest.raises(InvalidInputError, match="loss must be"):
        TrainConfig(loss="wasserstein")
    with pytest.raises(InvalidInputError, match="unknown augmentation"):
        TrainConfig(augment="translation,rotate")
    with pytest.raises(InvalidInputError, match=r"lr_g must be in \[0, 1\) \(0 = auto\)"):
        TrainConfig(lr_g=-1e-4)
    with pytest.raises(InvalidInputError, match=r"jitter must be -1 \(auto\) or from 0 to 2"):
        TrainConfig(jitter=3.0)


@pytest.mark.parametrize(
    "images, channels, jitter, given, used, jittered",
    [(40, 1, -1.0, (0.0, 0.0), (4e-4, 8e-4), 1.0),  # few-shot greyscale: jitter on, so the doubled rates
     (40, 1, 0.0, (0.0, 0.0), (2e-4, 4e-4), 0.0),  # few-shot without jitter: the usual rates
     (40, 3, -1.0, (0.0, 0.0), (2e-4, 4e-4), 0.0),  # few-shot colour: no jitter by default, the usual rates
     (FEW_SHOT_MAX_IMAGES + 1, 1, -1.0, (0.0, 0.0), (4e-4, 8e-4), 0.0),  # a larger set: no jitter, doubled rates
     (FEW_SHOT_MAX_IMAGES + 1, 1, -1.0, (1e-4, 3e-4), (1e-4, 3e-4), 0.0)],  # given rates always win
)  # fmt: skip
def test_learning_rates_and_jitter_are_chosen_by_data_unless_given(images, channels, jitter, given, used, jittered):
    config = TrainConfig(steps=1, batch_size=2, lr_g=given[0], lr_d=given[1], jitter=jitter, event_every=100)
    model = DCGANConfig(resolution=32, channels=channels, latent_dim=8, width=4, max_width=16)
    data = tiny_data(images).expand(-1, channels, -1, -1).contiguous()
    result = list(train(data, model, config, device="cpu"))[-1].result
    assert result.metadata["learning_rates"] == {"g": used[0], "d": used[1]}
    assert result.metadata["real_jitter"] == jittered
    assert [group["lr"] for group in result.run_state.opt_g["param_groups"]] == [used[0]]
    assert [group["lr"] for group in result.run_state.opt_d["param_groups"]] == [used[1]]


def test_a_given_jitter_strength_is_used_whatever_the_data_size():
    config = TrainConfig(steps=1, batch_size=2, jitter=0.5, event_every=100)
    assert list(train(tiny_data(40), TINY, config, device="cpu"))[-1].result.metadata["real_jitter"] == 0.5


def test_recalibrated_batchnorm_statistics_fit_the_generators_own_weights():
    torch.manual_seed(0)
    generator = build_generator("dcgan", TINY)
    z = torch.randn(256, TINY.latent_dim)
    with torch.no_grad():
        in_train_mode = generator.train()(z)  # normalised by the batch's own statistics
    norms = [m for m in generator.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    for norm in norms:  # statistics that do not belong to these weights, as an EMA generator's copied ones
        norm.running_mean.fill_(0.5)
        norm.running_var.fill_(4.0)
    generator.eval()

    def gap() -> float:
        with torch.no_grad():
            return float((generator(z) - in_train_mode).abs().mean())

    before, rng = gap(), torch.get_rng_state()
    recalibrate_batchnorm(generator, TINY.latent_dim, batches=8, batch_size=64)
    assert not generator.training and all(norm.momentum == 0.1 for norm in norms)  # left as it was found
    assert torch.equal(torch.get_rng_state(), rng)  # its own latents: the run's RNG is untouched
    assert gap() < before / 10


class HostReads(torch.overrides.TorchFunctionMode):
    """Counts what the `gan` package itself reads back to the host (`.item()`, `.tolist()`, `float(t)`...).
    On a GPU each such read waits for the device; torch's own CPU-side bookkeeping (Adam's step counters)
    is not counted."""

    NAMES = frozenset({"item", "tolist", "__bool__", "__float__", "__int__", "__index__", "numpy"})

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if getattr(func, "__name__", "") in self.NAMES:
            import traceback

            caller = traceback.extract_stack(limit=2)[0].filename
            self.count += "/gan/" in caller.replace("\\", "/")
        return func(*args, **(kwargs or {}))


def host_reads(steps: int, read_every: int) -> int:
    config = TrainConfig(steps=steps, batch_size=4, event_every=10**6, preview_every_s=1e9, read_every=read_every)
    with HostReads() as reads:
        list(train(tiny_data(), TINY, config, "cpu"))
    return reads.count


def test_the_loop_reads_its_statistics_to_the_host_once_per_read_interval():
    assert host_reads(48, read_every=8) - host_reads(24, read_every=8) == 3  # 24 more steps: 3 more reads
    assert host_reads(48, read_every=1) - host_reads(24, read_every=1) == 24


def test_with_a_read_interval_events_still_carry_fresh_numbers_and_nan_is_still_caught():
    events = run(TrainConfig(steps=12, batch_size=4, event_every=3, read_every=8, preview_every_s=1e9))
    assert [e.step for e in events] == [3, 6, 9, 12, 12]  # an event step is always a read step
    assert all(math.isfinite(e.losses["d"]) and math.isfinite(e.d_fake) for e in events)
    data = torch.full((8, 1, 32, 32), float("nan"))
    config = TrainConfig(steps=80, batch_size=4, max_nan_recoveries=2, augment="", read_every=4)
    result = list(train(data, TINY, config, "cpu"))[-1].result
    assert result.metadata["stopped_by"] == "repeated NaN losses" and result.metadata["nan_recoveries"] == 3
    assert all(torch.isfinite(p).all() for p in result.generator.parameters())


def test_a_stop_between_reads_never_returns_nan_weights():
    data = torch.full((8, 1, 32, 32), float("nan"))
    calls = {"n": 0}

    def stop_soon() -> bool:
        calls["n"] += 1
        return calls["n"] >= 3  # before the first read at step 8

    config = TrainConfig(steps=80, batch_size=4, augment="", read_every=8, event_every=100)
    events = list(train(data, TINY, config, "cpu", should_stop=stop_soon))
    assert events[-1].result.metadata["steps"] == 3
    assert all(torch.isfinite(p).all() for p in events[-1].result.generator.parameters())
    assert any("NaN losses: kept the state of step 0" in note for note in events[-1].notes)


def _train_in_child(arguments, events) -> None:
    """The body of a forked worker: arguments and events cross the process boundary pickled, as on ZeroGPU."""
    data, config, state, stop = arguments.get()
    for event in train(data, TINY, config, "cpu", should_stop=stop.requested, resume=state):
        events.put(event)
    events.put(None)
    arguments.get()  # stay alive until the app has received everything (torch shares tensors through this process)


def forked_calls(data: torch.Tensor, stop, started: list[int]):
    """A TrainCall that runs each call of train() in a new forked process, the way ZeroGPU runs a GPU function."""
    import multiprocessing
    import queue

    context = multiprocessing.get_context("fork")

    def call(config: TrainConfig, state: RunState | None):
        arguments, events = context.Queue(), context.Queue()
        worker = context.Process(target=_train_in_child, args=(arguments, events), daemon=True)
        worker.start()
        started.append(worker.pid)
        arguments.put((data, config, state, stop))
        try:
            while True:
                try:
                    event = events.get(timeout=1)
                except queue.Empty:
                    assert worker.is_alive(), "the worker died without its final event"
                    continue
                if event is None:
                    break
                yield event
        finally:
            arguments.put("done")
            worker.join(timeout=30)

    return call


def test_a_long_budget_runs_as_a_chain_of_bounded_calls_that_resume_each_other(tmp_path):
    from gan.serving import StopFlag
    from gan.train import train_in_calls

    pids: list[int] = []
    config = TrainConfig(steps=10**6, time_budget_s=3.0, batch_size=4, event_every=2, preview_every_s=0.5)
    call = forked_calls(tiny_data(), StopFlag(tmp_path / "stop"), pids)
    events = list(train_in_calls(call, config, max_call_s=1.0, min_call_s=0.5))
    steps = [e.step for e in events]
    assert 2 <= len(pids) <= 4 and len(set(pids)) == len(pids)  # about three forked calls of a second each
    assert steps == sorted(steps) and len(set(steps[:-1])) == len(steps) - 1  # one run: steps never go back
    assert sum("continuing in a new call" in note for e in events for note in e.notes) == len(pids) - 1
    assert not any(note.startswith("resumed at step") for e in events for note in e.notes)
    result = events[-1].result
    assert result is not None and all(e.result is None for e in events[:-1])
    assert result.metadata["stopped_by"] == "time budget" and result.metadata["steps"] == steps[-1]
    assert result.metadata["train_config"]["time_budget_s"] == 3.0  # the run's budget, not a call's share
    assert result.run_state.opt_g["state"][0]["step"].item() == steps[-1]  # optimiser state carried through
    assert sum(e.preview is not None for e in events) >= 3  # previews keep coming between calls


def test_stop_reaches_a_forked_worker_and_keeps_its_weights(tmp_path):
    from gan.serving import StopFlag
    from gan.train import train_in_calls

    stop = StopFlag(tmp_path / "visitor" / "stop")
    config = TrainConfig(steps=10**6, time_budget_s=600.0, batch_size=4, event_every=2)
    events = []
    for event in train_in_calls(forked_calls(tiny_data(), stop, []), config, max_call_s=300.0):
        events.append(event)
        if len(events) == 1:
            stop.request()  # the visitor's Stop, in this (the app's) process
    result = events[-1].result
    assert result.metadata["stopped_by"] == "stop requested"
    assert torch.isfinite(result.generator(torch.randn(1, 8))).all()


def test_a_stop_wins_over_a_spent_time_share_so_a_chain_of_calls_ends_on_it():
    config = TrainConfig(steps=100, time_budget_s=1e-9, batch_size=4, event_every=100)
    result = run(config, should_stop=lambda: True)[-1].result
    assert result.metadata["stopped_by"] == "stop requested" and result.metadata["steps"] == 1


def test_a_result_with_a_spectral_norm_discriminator_pickles_and_keeps_its_weights():
    import pickle

    result = run(TrainConfig(steps=2, batch_size=4, event_every=100))[-1].result
    copy = pickle.loads(pickle.dumps(result))
    for original, received in ((result.generator, copy.generator), (result.discriminator, copy.discriminator)):
        assert not received.training
        for name, tensor in original.state_dict().items():
            assert torch.equal(tensor, received.state_dict()[name]), name
    assert copy.metadata == result.metadata and copy.run_state.step == result.run_state.step


@pytest.mark.parametrize(
    "field, value, message",
    [("time_budget_s", float("nan"), "time_budget_s must be a finite number"),
     ("time_budget_s", float("inf"), "time_budget_s must be a finite number"),
     ("batch_size", 2.5, "batch_size must be a whole number"),
     ("steps", True, "steps must be a whole number"),
     ("beta2", float("nan"), "beta2 must be a finite number"),
     ("ema_rampup", -0.5, "ema_rampup must be from 0 to 1"),
     ("seed", -5, "seed must be an integer from 0"),
     ("adaptive_augment", "yes", "adaptive_augment must be true or false"),
     ("r1_gamma", -3.0, "r1_gamma must be -1")],
)  # fmt: skip
def test_every_numeric_setting_is_checked_for_type_finiteness_and_range(field, value, message):
    with pytest.raises(InvalidInputError, match=message):
        TrainConfig(**{field: value})
