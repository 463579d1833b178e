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
