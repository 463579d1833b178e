"""Progress with the time left, for the cells a learner waits on (notebooks 04, 05 and 07).

Keras' own progress bar (``verbose=1``) shows the time left within an epoch
but redraws itself many times a second, which bloats a stored notebook;
``verbose=2`` prints one line per epoch but no estimate. :class:`TimeLeft`
prints one line per epoch *with* the time left for the whole run, and
:func:`time_left` gives the same estimate for a loop of runs.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import keras


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
