"""Progress with the time left, for the cells a learner waits on (notebooks 04, 05 and 07).

Keras' own progress bar (``verbose=1``) shows the time left within an epoch
but redraws itself many times a second, which bloats a stored notebook;
``verbose=2`` prints one line per epoch but no estimate. :class:`TimeLeft`
prints one line per epoch *with* the time left for the whole run, and
:func:`time_left` gives the same estimate for a loop of runs.
:class:`OnTheClock` trains for a fixed time budget instead of a number of
epochs (notebooks 04 and 07): the learning rate follows the fraction of the
budget spent, so a slow machine gets fewer steps, never a longer wait.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import keras
import numpy as np


def format_duration(seconds: float) -> str:
    """``42 s``, ``3 min 05 s`` or ``1 h 02 min``: short enough for a progress line."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def time_left(done: int, total: int, elapsed: float) -> str:
    """``"3/8 done, 1 min 10 s so far, about 1 min 57 s left"``, assuming the rest goes at the same pace.

    Args:
        done: units of work finished (epochs, runs); at least 1.
        total: units of work in all.
        elapsed: seconds spent on the ``done`` units.

    Raises:
        ValueError: ``done`` outside 1..``total``.
    """
    if not 1 <= done <= total:
        raise ValueError(f"done must be between 1 and total={total}, not {done}")
    left = elapsed / done * (total - done)
    return f"{done}/{total} done, {format_duration(elapsed)} so far, about {format_duration(left)} left"


class TimeLeft(keras.callbacks.Callback):
    """Print one line per epoch: its metrics, the time so far and the estimated time left.

    Use it with ``fit(..., verbose=0, callbacks=[TimeLeft()])``.

    Args:
        metrics: the ``logs`` keys to print, when present (others are skipped).
        every: print every ``every``-th epoch, and always the last one.
    """

    def __init__(self, metrics: Sequence[str] = ("loss", "accuracy", "val_loss", "val_accuracy"),
                 every: int = 1) -> None:
        super().__init__()
        if every < 1:
            raise ValueError(f"every must be at least 1, not {every}")
        self.metrics = tuple(metrics)
        self.every = every
        self._start = 0.0

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        total = int(self.params.get("epochs", epoch + 1))
        done = epoch + 1
        if done % self.every and done != total:
            return
        logs = logs or {}
        shown = " - ".join(f"{k} {float(logs[k]):.4f}" for k in self.metrics if k in logs)
        elapsed = time.perf_counter() - self._start
        print(f"epoch {done}/{total} - {shown} | {time_left(done, total, elapsed)}", flush=True)


class OnTheClock(keras.callbacks.Callback):
    """Train for a time budget: the learning rate follows the fraction of the budget spent; stop when it is spent.

    Before every step the learning rate is set to ``schedule(seconds trained / budget_s)``; after the step that
    spends the budget, training stops. An epoch whose first step (which also fills the shuffle buffer) would no
    longer fit is not started. Time spent between epochs (scoring ``x_curve``) is not counted. Prints one line per
    epoch with the time left. Use it with ``fit(..., epochs=<an upper bound>, verbose=0, callbacks=[clock])``.

    Args:
        schedule: the learning rate as a function of the fraction of the budget spent (0 to 1).
        budget_s: seconds of training.
        x_curve, y_curve: optional images and integer labels scored after every epoch (``curve``).
        curve_name: what ``x_curve`` is, for the printed line ("test", "validation").
        clock: the clock, in seconds (tests pass a fake one).

    Attributes:
        train_s: seconds of training so far. steps: steps taken. curve: ``(train_s, epoch, accuracy)`` after each
        epoch (when ``x_curve`` is given). longest_step_s, first_step_s: the longest step, and the last epoch's
        first step (each with its wait for the input pipeline). rates: ``(train_s, learning rate)`` for every step,
        the seconds trained when the step began and the rate read back from the optimizer after it (what Keras used).
    """

    def __init__(self, schedule: Callable[[float], float], budget_s: float, x_curve: np.ndarray | None = None,
                 y_curve: np.ndarray | None = None, *, curve_name: str = "test",
                 clock: Callable[[], float] = time.perf_counter) -> None:
        super().__init__()
        if budget_s <= 0:
            raise ValueError(f"budget_s must be positive, not {budget_s}")
        if (x_curve is None) != (y_curve is None):
            raise ValueError("give both x_curve and y_curve, or neither")
        self.schedule, self.budget_s, self.clock = schedule, float(budget_s), clock
        self.x_curve, self.y_curve, self.curve_name = x_curve, y_curve, curve_name
        self.train_s, self.steps, self.curve, self.rates = 0.0, 0, [], []
        self.longest_step_s, self.first_step_s = 0.0, 0.0
        self._last, self._spent = 0.0, 0.0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._last = self.clock()                         # the clock was stopped between epochs

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self._spent = self.train_s + self.clock() - self._last
        self.model.optimizer.learning_rate = float(self.schedule(min(1.0, self._spent / self.budget_s)))

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        now = self.clock()
        step_s, self._last = now - self._last, now        # the step, with its wait for the input pipeline
        self.train_s += step_s
        self.steps += 1
        self.rates.append((self._spent, float(self.model.optimizer.learning_rate)))
        self.longest_step_s = max(self.longest_step_s, step_s)
        if batch == 0:
            self.first_step_s = step_s
        if self.train_s >= self.budget_s:
            self.model.stop_training = True

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}                                 # the clock stopped at the last step: scoring is not training
        line = (f"epoch {epoch + 1}: {format_duration(self.train_s)} of {format_duration(self.budget_s)} trained, "
                f"about {format_duration(max(0.0, self.budget_s - self.train_s))} left")
        if "accuracy" in logs:
            line += f"; training accuracy {float(logs['accuracy']):.1%}"
        if self.x_curve is not None:
            pred = self.model.predict(self.x_curve, batch_size=1000, verbose=0).argmax(axis=1)
            self.curve.append((self.train_s, epoch + 1, float(np.mean(pred == np.ravel(self.y_curve)))))
            line += f", {self.curve_name} accuracy {self.curve[-1][2]:.1%}"
        if self.budget_s - self.train_s < self.first_step_s:   # the next epoch's first step would overrun
            self.model.stop_training = True
        print(line, flush=True)

    @property
    def within_budget(self) -> bool:
        """Did training stop within the budget plus one step (the step that crossed it)?"""
        return self.train_s <= self.budget_s + self.longest_step_s
