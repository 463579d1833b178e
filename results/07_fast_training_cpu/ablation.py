"""Before/after runs for notebook 07's fifteen-minute recipe (section 9): the recipe and five changes.

Usage (from the repository's top folder, under the CPU lock on shared machines):

    python results/07_fast_training_cpu/ablation.py VARIANT --budget 900

(``--budget 300``, the default, gave the five-minute runs of an earlier version of the notebook.)

Trains notebook 04's ``build_cnn(16)`` with section 9's recipe (Nesterov SGD with momentum 0.9, batch 256,
a one-cycle learning rate with peak 0.2 that follows the training clock, label smoothing 0.2, weight decay
5e-4, BatchNorm momentum 0.9, random flips and shifts of up to 4 pixels, seed 0) for a fixed budget of training
seconds on the 45,000 training images of notebook 07's split, and scores it on the 5,000-image validation split
(the same seeded permutation) after every epoch, with the clock stopped, and with flip TTA at the end. The
test set is not loaded. VARIANT changes one ingredient:

- ``baseline``: the recipe as it is;
- ``ls0``: label smoothing 0 instead of 0.2;
- ``bn99``: BatchNorm momentum 0.99 (Keras' default) instead of 0.9, set on every BatchNormalization layer
  after building;
- ``const``: no one-cycle: a constant learning rate of 0.1, fixed before the runs as the one-cycle's mean
  rate (0.50625 x peak = 0.101 for peak 0.2, rounded to 0.1);
- ``air48``: sections 4 and 5's speed-ups in the long run: notebook 07's ``build_fast_cnn`` with a whitened
  2x2 stride-2 stem (fitted on the first 5,000 training images of the split) and two convolutions per stage,
  widths 48/96/192 (the pilots' ``air48``), instead of ``build_cnn(16)``;
- ``b128``: section 6's batch size 128 instead of 256, with the peak scaled with the batch (0.1 instead of 0.2,
  fixed before the run).

The fifteen-minute runs behind the notebook's closing table (``--budget 900``, about 100 minutes in all) write
``ablation_<VARIANT>_900s.json``:

    flock /tmp/course-cpu.lock sh -c 'for v in baseline air48 const ls0 bn99 b128; do
        .venv/bin/python results/07_fast_training_cpu/ablation.py $v --budget 900; done'

Each log holds the settings, per-epoch validation accuracy with the training seconds so far, the final plain and
flip-TTA validation accuracy, the epochs and images per second, the machine, its load and the date. Notebook 07
prints the six logs. One seed per change; the recipe itself also ran with seeds 1 and 2 (``--seed``: the weights,
the data order and the augmentation change, the split does not) to measure the spread from the seed alone:

    flock /tmp/course-cpu.lock sh -c 'for s in 1 2; do
        .venv/bin/python results/07_fast_training_cpu/ablation.py baseline --budget 900 --seed $s; done'

which writes ``ablation_baseline_900s_seed1.json`` and ``..._seed2.json``.
"""
import argparse
import datetime
import json
import os
import pathlib
import platform
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]  # the repository
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from helpers import cifar, load_cifar10  # noqa: E402

RECIPE = dict(network="build_cnn(width=16)", batch=256, peak=0.2, warmup=0.25, start=0.05, momentum=0.9,
              nesterov=True, label_smoothing=0.2, bn_momentum=0.9, weight_decay=5e-4, schedule="one-cycle on the clock",
              augmentation="flips and shifts of up to 4 pixels", seed=0)
VARIANTS = {
    "baseline": {},
    "ls0": dict(label_smoothing=0.0),
    "bn99": dict(bn_momentum=0.99),
    "const": dict(schedule="constant", constant_lr=0.1),
    # added for the fifteen-minute runs (--budget 900), fixed before they ran:
    "air48": dict(network="build_fast_cnn(widths=(48, 96, 192), convs_per_stage=2)"),
    "b128": dict(batch=128, peak=0.1),
}


def one_cycle_at(fraction, peak, warmup=0.25, start=0.05):
    """Notebook 07's one-cycle rate when `fraction` of the budget is used (0 from fraction 1 on)."""
    if fraction < warmup:
        return peak * (start + (1 - start) * fraction / warmup)
    return peak * max(0.0, (1 - fraction) / (1 - warmup))


# This script keeps its own copy of the clock callback: it is the code that made the stored ablation logs. The
# notebook now uses the shared helpers.progress.OnTheClock (the same idea, with the schedule as a function).
class OnTheClock(keras.callbacks.Callback):
    """Notebook 07's OnTheClock, scoring the validation split: the rate follows the training clock."""

    def __init__(self, rate, budget_s, x_val, y_val):
        super().__init__()
        self.rate, self.budget_s, self.x_val, self.y_val = rate, budget_s, x_val, y_val
        self.train_s, self.steps, self.first_step_s, self.epochs = 0.0, 0, 0.0, []

    def _tick(self):
        now = time.perf_counter()
        self.train_s += now - self._last
        self._last = now

    def on_epoch_begin(self, epoch, logs=None):
        self._last = time.perf_counter()

    def on_train_batch_begin(self, batch, logs=None):
        self._tick()
        self.model.optimizer.learning_rate = self.rate(self.train_s / self.budget_s)

    def on_train_batch_end(self, batch, logs=None):
        step_s = time.perf_counter() - self._last
        self._tick()
        self.steps += 1
        if batch == 0:
            self.first_step_s = step_s
        if self.train_s >= self.budget_s:
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        self._tick()
        pred = self.model.predict(self.x_val, batch_size=1000, verbose=0).argmax(axis=1)
        acc = float(np.mean(pred == self.y_val.ravel()))
        self.epochs.append(dict(epoch=epoch + 1, seconds=round(self.train_s, 1), val_acc=acc,
                                train_acc=round(float(logs["accuracy"]), 4), load=round(os.getloadavg()[0], 1)))
        if self.budget_s - self.train_s < self.first_step_s:
            self.model.stop_training = True
        print(f"epoch {epoch + 1}: {self.train_s:5.0f} s  val {acc:.4f}  load {os.getloadavg()[0]:.1f}", flush=True)


def cpu_name():
    try:
        lines = open("/proc/cpuinfo").read().splitlines()
    except OSError:
        return platform.processor() or "unknown"
    model = next((l.split(":", 1)[1].strip() for l in lines if l.startswith("model name")), "unknown")
    flags = next((l.split() for l in lines if l.startswith("flags")), [])
    isa = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "older/unknown"
    limit = os.environ.get("ONEDNN_MAX_CPU_ISA")
    return f"{model} ({isa}{', limited to ' + limit if limit else ''}), {os.cpu_count()} cores"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("variant", choices=sorted(VARIANTS))
    p.add_argument("--budget", type=float, default=300.0, help="training seconds")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the weights, the data order and the augmentation (the split stays the same)")
    p.add_argument("--out", help="where to write the log (default: ablation_<VARIANT>.json beside this file)")
    a = p.parse_args()
    s = dict(RECIPE, **VARIANTS[a.variant], budget_s=a.budget, seed=a.seed)
    started = datetime.datetime.now(datetime.timezone.utc)
    load_before = os.getloadavg()[0]

    keras.utils.set_random_seed(s["seed"])
    tf.config.experimental.enable_op_determinism()
    (xa, ya), _ = load_cifar10()  # the test images are not used
    perm = np.random.default_rng(0).permutation(len(xa))
    vi, ti = perm[:5_000], perm[5_000:]
    x, y, xv, yv = xa[ti], ya[ti], xa[vi], ya[vi]

    if a.variant == "air48":
        model = cifar.build_fast_cnn(x[:5_000], widths=(48, 96, 192), convs_per_stage=2)
    else:
        model = cifar.build_cnn(width=16)
    bns = [l for l in model.layers if isinstance(l, keras.layers.BatchNormalization)]
    for layer in bns:
        layer.momentum = s["bn_momentum"]
    model.compile(optimizer=keras.optimizers.SGD(0.0, momentum=s["momentum"], nesterov=s["nesterov"]),
                  loss=keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=s["label_smoothing"]),
                  metrics=["accuracy"])
    train = cifar.make_dataset(x, y, batch_size=s["batch"], training=True, augment=True, seed=s["seed"],
                               one_hot=True)
    if s["schedule"] == "constant":
        rate = lambda f: s["constant_lr"]  # noqa: E731
    else:
        rate = lambda f: one_cycle_at(f, s["peak"], s["warmup"], s["start"])  # noqa: E731
    clock = OnTheClock(rate, a.budget, xv, yv)
    print(f"{a.variant}: {s}", flush=True)
    model.fit(train, epochs=1_000, callbacks=[clock], shuffle=False, verbose=0)

    plain = float(np.mean(model.predict(xv, batch_size=1000, verbose=0).argmax(axis=1) == yv.ravel()))
    tta = cifar.evaluate_tta(model, xv, yv, batch_size=1000)
    log = dict(
        command=f"python results/07_fast_training_cpu/ablation.py {a.variant}" + (
            f" --budget {a.budget:g}" if a.budget != 300 else "") + (f" --seed {a.seed}" if a.seed else ""),
        variant=a.variant, settings=s, bn_layers=len(bns),
        bn_momentum_set=sorted({float(l.momentum) for l in bns}),
        forward_mflops=round(cifar.count_flops(model) / 1e6, 1), parameters=model.count_params(),
        train_images=len(x), val_images=len(xv), epochs=clock.epochs, steps=clock.steps,
        epochs_trained=round(clock.steps * s["batch"] / len(x), 2), train_seconds=round(clock.train_s, 1),
        images_per_s=round(clock.steps * s["batch"] / clock.train_s, 1),
        final_val_acc=plain, final_val_acc_flip_tta=tta,
        machine=f"{cpu_name()}; load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after",
        versions=f"Python {platform.python_version()}, TensorFlow {tf.__version__}, Keras {keras.__version__}",
        started_utc=started.strftime("%Y-%m-%d %H:%M:%S"),
        ended_utc=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S"),
    )
    suffix = ("" if a.budget == 300 else f"_{a.budget:g}s") + (f"_seed{a.seed}" if a.seed else "")
    out = pathlib.Path(a.out) if a.out else pathlib.Path(__file__).with_name(f"ablation_{a.variant}{suffix}.json")
    out.write_text(json.dumps(log, indent=1) + "\n")
    print(f"FINAL {a.variant}: val {plain:.4f} flip TTA {tta:.4f}, {log['epochs_trained']} epochs, "
          f"{log['images_per_s']:,.0f} images/s -> {out.name}", flush=True)


if __name__ == "__main__":
    main()
