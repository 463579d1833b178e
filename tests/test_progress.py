"""helpers.progress: one line per epoch with the time left."""

from __future__ import annotations

import re

import keras
import numpy as np
import pytest

from helpers import progress


@pytest.mark.parametrize("seconds, text", [(0, "0 s"), (42.4, "42 s"), (59.6, "1 min 00 s"), (185, "3 min 05 s"),
                                           (3725, "1 h 02 min")])
def test_format_duration(seconds, text):
    assert progress.format_duration(seconds) == text


def test_time_left_extrapolates_the_pace():
    assert progress.time_left(2, 8, 60) == "2/8 done, 1 min 00 s so far, about 3 min 00 s left"
    assert progress.time_left(8, 8, 60).endswith("about 0 s left")
    with pytest.raises(ValueError):
        progress.time_left(0, 8, 1.0)
    with pytest.raises(ValueError):
        progress.time_left(9, 8, 1.0)


def test_callback_prints_one_line_per_epoch(capsys):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    x, y = np.random.default_rng(0).normal(size=(32, 3)), np.arange(32) % 2
    model.fit(x, y, epochs=5, batch_size=8, verbose=0, callbacks=[progress.TimeLeft(every=2)],
              validation_data=(x, y))
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" - ")[0] for line in lines] == ["epoch 2/5", "epoch 4/5", "epoch 5/5"]
    assert re.fullmatch(r"epoch 2/5 - loss \d\.\d{4} - accuracy \d\.\d{4} - val_loss \d\.\d{4} - "
                        r"val_accuracy \d\.\d{4} \| 2/5 done, \d+ s so far, about \d+ s left", lines[0])
    assert lines[-1].endswith("about 0 s left")
    with pytest.raises(ValueError):
        progress.TimeLeft(every=0)


class FakeClock:
    """A clock that advances by `step` seconds every time it is read."""

    def __init__(self, step: float) -> None:
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def _tiny_model():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.SGD(0.0), metrics=["accuracy"],
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model, np.random.default_rng(0).normal(size=(32, 3)), np.arange(32) % 2


def test_on_the_clock_stops_when_the_budget_is_spent_and_follows_the_schedule(capsys):
    model, x, y = _tiny_model()
    seen = []
    clock = progress.OnTheClock(lambda f: seen.append(f) or 0.1 * (1 - f), budget_s=10.0, x_curve=x, y_curve=y,
                                clock=FakeClock(0.25))
    model.fit(x, y, epochs=100, batch_size=8, verbose=0, callbacks=[clock])
    # every clock read advances 0.25 s, so the budget of 10 s is spent after a bounded number of steps, not 100 epochs
    assert 0 < clock.steps < 100 * 4
    assert clock.budget_s <= clock.train_s <= clock.budget_s + clock.longest_step_s
    assert clock.within_budget
    assert seen == sorted(seen) and 0 <= seen[0] < 0.1 and seen[-1] <= 1.0    # fractions rise from 0 to at most 1
    assert abs(float(model.optimizer.learning_rate) - 0.1 * (1 - seen[-1])) < 1e-6
    assert len(clock.rates) == clock.steps == len(seen)
    assert all(abs(rate - 0.1 * (1 - f)) < 1e-6 for (_, rate), f in zip(clock.rates, seen))   # what Keras used
    assert all(abs(t / clock.budget_s - f) < 1e-9 for (t, _), f in zip(clock.rates, seen))
    assert [t for t, _ in clock.rates] == sorted(t for t, _ in clock.rates)
    assert len(clock.curve) == len(capsys.readouterr().out.splitlines()) >= 2
    assert [e for _, e, _ in clock.curve] == list(range(1, len(clock.curve) + 1))
    assert all(0.0 <= a <= 1.0 for _, _, a in clock.curve)


def test_on_the_clock_does_not_start_an_epoch_that_cannot_fit(capsys):
    model, x, y = _tiny_model()
    clock = progress.OnTheClock(lambda f: 0.01, budget_s=3.0, clock=FakeClock(0.5))
    model.fit(x, y, epochs=50, batch_size=8, verbose=0, callbacks=[clock])
    lines = capsys.readouterr().out.splitlines()
    assert clock.train_s <= clock.budget_s + clock.longest_step_s
    assert re.fullmatch(r"epoch \d+: \d+ s of 3 s trained, about \d+ s left; training accuracy \d+\.\d%", lines[-1])
    assert clock.curve == []


def test_on_the_clock_rejects_bad_arguments():
    with pytest.raises(ValueError):
        progress.OnTheClock(lambda f: 0.1, budget_s=0)
    with pytest.raises(ValueError):
        progress.OnTheClock(lambda f: 0.1, budget_s=1, x_curve=np.zeros((2, 3)))
