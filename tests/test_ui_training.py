"""ui/training.py: uploads decoded as they stream (counted in the time budget, stopped by closing), training in a chain
of bounded calls whose Stop crosses processes."""

from __future__ import annotations

import pickle
from itertools import count

import pytest
from conftest import TINY, noise_pngs

from gan.data import LoadProgress
from gan.errors import GanError
from gan.jobs import TrainingStart
from gan.serving import InteractivePriority, StopFlag
from gan.train import TrainConfig
from ui import training
from ui.common import RunControl

START = TrainingStart("dcgan", TINY)


def read_all(reading):
    """Drive read_uploads to its end: (the status lines it showed, its Uploads)."""
    shown = []
    while True:
        try:
            shown.append(next(reading))
        except StopIteration as done:
            return shown, done.value


def test_uploads_are_read_with_progress_and_their_time_counts_in_the_budget(tmp_path):
    files = [str(path) for path in noise_pngs(tmp_path, count=9, side=40, seed=0)]
    ticks = count()  # a clock that moves 1 s per reading: decoding 9 files "takes" 9 s or so
    reading = training.read_uploads(files, START, 60.0, RunControl(), str, clock=lambda: float(next(ticks)))
    shown, uploads = read_all(reading)
    assert shown[0] == "Reading the uploads: 1 of 9 files (1 s)..." and len(shown) == 9
    assert uploads.data.shape == (9, 1, 32, 32) and len(uploads.report.used) == 9
    assert uploads.seconds == 10.0  # what the run's time budget loses

    ticks = count(step=10)
    slow = training.read_uploads(files, START, 45.0, RunControl(), str, clock=lambda: float(next(ticks)))
    with pytest.raises(GanError, match=r"took the whole time budget \(45 s\): 50 s for 5 of 9 files, so nothing"):
        read_all(slow)


def test_closing_the_reader_stops_decoding_and_a_stop_ends_it_with_a_message(monkeypatch):
    decoded, closed = [], []

    def endless(files, resolution, channels):  # an upload that would take hours to decode
        try:
            for done in count(1):
                decoded.append(done)
                yield LoadProgress(done, 10**6)
        finally:
            closed.append(len(decoded))

    monkeypatch.setattr(training, "load_images", endless)
    reading = training.read_uploads(["many.zip"], START, 600.0, RunControl(), str, clock=lambda: 0.0)
    assert next(reading).startswith("Reading the uploads: 1 of 1,000,000 files")
    reading.close()  # what Cancel (or a closed tab) does to the handler
    assert closed and len(decoded) < 10**6 and len(decoded) == closed[0]  # decoding ended in its own thread too

    control = RunControl()
    control.request_stop()
    with pytest.raises(GanError, match="stopped while reading the uploads: nothing was trained"):
        read_all(training.read_uploads(["many.zip"], START, 600.0, control, str, clock=lambda: 0.0))


def test_a_stop_reaches_a_pickled_copy_of_the_control_as_a_zerogpu_worker_gets_it(tmp_path):
    control = RunControl(running=True, flag=StopFlag(tmp_path / "run" / "stop"))
    worker_copy = pickle.loads(pickle.dumps(control))
    assert not worker_copy.stop_requested()
    control.request_stop()  # the visitor's Stop, in the app's process
    assert worker_copy.stop_requested() and not worker_copy.stop  # seen through the flag's file alone
    control.flag.clear()
    assert not pickle.loads(pickle.dumps(RunControl())).stop_requested()


def test_a_chain_of_bounded_calls_continues_one_run(tmp_path):
    import torch

    torch.manual_seed(0)
    data = torch.rand(8, 1, 32, 32) * 2 - 1
    config = TrainConfig(steps=4, time_budget_s=60.0, batch_size=4, event_every=2, preview_every_s=1e9)
    control = RunControl(flag=StopFlag(tmp_path / "stop"))
    calls = []
    real = training.run_training

    def counted(*args, **kwargs):
        calls.append(args[4])  # the state each call resumes from
        return real(*args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(training, "run_training", counted)
        events = list(training.training_events(data, START, config, control, InteractivePriority(0, 0), 1e-3))
    result = events[-1].result
    # calls bounded at 1 ms: each trains one step, then the next resumes the last one's state
    # (a call that ends on the last step by its time share leaves one more call that trains nothing)
    assert len(calls) >= 4 and calls[0] is None and [state.step for state in calls[1:]] == list(range(1, len(calls)))
    steps = [event.step for event in events]
    assert steps == sorted(steps) and result.metadata["steps"] == 4 and result.metadata["stopped_by"] == "step budget"
    assert result.run_state.opt_g["state"][0]["step"].item() == 4  # one optimiser, carried through every call
    assert result.metadata["train_config"]["time_budget_s"] == 60.0
