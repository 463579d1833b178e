"""Side-by-side CIFAR-10 speed benchmark: TensorFlow's CNN tutorial model vs notebook 07's fast CNN.

Both models train in ONE process on the same machine, one after the other, on
the same data (``helpers.load_cifar10()``). Several times per epoch
(``--evals-per-epoch``, the same for both) the script evaluates on the test set
and prints the test accuracy against the elapsed *training* time (evaluation
time is not counted; graph tracing in the first steps is), then the time each
model needed to first reach the target accuracy and the ratio of the two.

* ``tutorial``: the model of https://www.tensorflow.org/tutorials/images/cnn
  (Conv32-Pool-Conv64-Pool-Conv64-Dense64-Dense10, Adam, batch 32, 10 epochs,
  pixels scaled to [0, 1], NumPy arrays straight into ``fit``).
* ``ours``: by default ``helpers.cifar.build_fast_cnn`` (notebook 07,
  ``07_fast_training_cpu``: a fixed 2x2 PCA-whitening convolution with stride 2, then three
  Conv-BN-ReLU stages; its whitening kernel is computed from the first 5,000
  training images, and that time counts as training time) with the
  ``helpers.cifar.make_dataset`` pipeline, Nesterov SGD with a one-cycle
  schedule over 1 epoch (peak 0.8), label smoothing 0.2, batch 128, no
  augmentation (it pays only in longer runs). ``--model resnet9`` times
  notebook 04's final network (``build_cnn``) instead.

By default both are evaluated after every epoch, as the tutorial does (and the
tutorial model gets NumPy arrays, as in the tutorial); ``--evals-per-epoch 4``
evaluates both four times per epoch (the tutorial then reads a tf.data stream).

Convolutions in TensorFlow's CPU library (oneDNN) run about twice as fast with
AVX-512 as with AVX2 only, so the script prints the CPU's model name and
instruction set (and ``ONEDNN_MAX_CPU_ISA`` if set) at the start and beside the
ratio. On an AVX-512 machine the AVX2 figure can be emulated with::

    ONEDNN_MAX_CPU_ISA=AVX2 NPY_DISABLE_CPU_FEATURES="X86_V4 AVX512_ICL AVX512_SPR" OPENBLAS_CORETYPE=Haswell

The full run (about 4 minutes on 2 free cores) is not part of CI; CI only
runs ``tests/test_benchmarks.py``, a few-second smoke test on a tiny subset.
On the shared course machines run it under the CPU lock so timings are honest::

    flock /tmp/course-cpu.lock .venv/bin/python tests/benchmarks/cifar10_speed.py --deterministic
"""

from __future__ import annotations

import argparse
import math
import os
import pathlib
import platform
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from helpers.course import quiet_stderr  # noqa: E402

with quiet_stderr():
    import keras  # noqa: E402
    import numpy as np  # noqa: E402
    import tensorflow as tf  # noqa: E402

from helpers import cifar, load_cifar10  # noqa: E402


class TrainClock(keras.callbacks.Callback):
    """Accumulates training time only: from each epoch's start to its last training batch."""

    def __init__(self) -> None:
        super().__init__()
        self.elapsed = 0.0
        self.times: list[float] = []
        self._start = 0.0
        self._last = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._start = self._last = time.perf_counter()

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._last = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.elapsed += self._last - self._start
        self.times.append(self.elapsed)


class StopAt(keras.callbacks.Callback):
    """Stops training once the test accuracy reaches ``target`` (if ``enabled``)."""

    def __init__(self, target: float, enabled: bool) -> None:
        super().__init__()
        self.target, self.enabled = target, enabled

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.enabled and logs["val_accuracy"] >= self.target:
            self.model.stop_training = True


class LivePrint(keras.callbacks.Callback):
    """Prints one table row per evaluation as training goes (after the other callbacks)."""

    def __init__(self, clock: TrainClock, tta: list[float] | None = None) -> None:
        super().__init__()
        self.clock, self.tta = clock, tta

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        extra = f"  {self.tta[-1]:19.1%}" if self.tta and self.tta[-1] == self.tta[-1] else ""
        print(f"  {(epoch + 1) / EVALS[0]:6.2f}  {self.clock.elapsed:7.1f}  {logs['val_accuracy']:8.1%}{extra}",
              flush=True)


def tutorial_model() -> keras.Model:
    """TensorFlow's CNN tutorial model, layer for layer (it outputs logits)."""
    return keras.Sequential([
        keras.Input((32, 32, 3)),
        keras.layers.Conv2D(32, (3, 3), activation="relu"),
        keras.layers.MaxPooling2D((2, 2)),
        keras.layers.Conv2D(64, (3, 3), activation="relu"),
        keras.layers.MaxPooling2D((2, 2)),
        keras.layers.Conv2D(64, (3, 3), activation="relu"),
        keras.layers.Flatten(),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(10),
    ], name="tutorial")


def run_tutorial(data: tuple, epochs: int, evals_per_epoch: int, seed: int,
                 stop: StopAt) -> tuple[list[float], list[float], list[float] | None]:
    (x, y), (xt, yt) = data
    model = tutorial_model()
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    clock = TrainClock()
    if evals_per_epoch == 1:  # exactly as the tutorial: NumPy arrays into fit
        hist = model.fit(x / 255.0, y, epochs=epochs, batch_size=32, validation_data=(xt / 255.0, yt),
                         callbacks=[clock, LivePrint(clock), stop], verbose=0)
    else:  # the same, as a repeated tf.data stream, so that it can be evaluated several times per epoch
        train = (tf.data.Dataset.from_tensor_slices(((x / 255.0).astype("float32"), y.ravel()))
                 .shuffle(len(x), seed=seed).batch(32).repeat().prefetch(tf.data.AUTOTUNE))
        steps = cifar.steps_per_epoch(len(x), 32)
        hist = model.fit(train, epochs=epochs * evals_per_epoch, steps_per_epoch=math.ceil(steps / evals_per_epoch),
                         validation_data=((xt / 255.0).astype("float32"), yt), callbacks=[clock, LivePrint(clock), stop], shuffle=False,
                         verbose=0)
    return clock.times, hist.history["val_accuracy"], None


def run_ours(data: tuple, epochs: float, *, model_name: str, width: int, batch_size: int, peak_lr: float,
             augment: bool, label_smoothing: float, seed: int, evals_per_epoch: int,
             jit_compile: bool) -> tuple[list[float], list[float], list[float]]:
    (x, y), (xt, yt) = data
    start = time.perf_counter()
    model = cifar.build_fast_cnn(x[:5000]) if model_name == "fast" else cifar.build_cnn(width=width)
    setup = time.perf_counter() - start  # the whitening kernel is computed from data: count it
    steps = cifar.steps_per_epoch(len(x), batch_size)
    model.compile(
        optimizer=keras.optimizers.SGD(cifar.OneCycle(peak_lr, round(epochs * steps)), momentum=0.9, nesterov=True),
        loss=keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=label_smoothing),
        metrics=["accuracy"], jit_compile=jit_compile)
    train = cifar.make_dataset(x, y, batch_size=batch_size, training=True, augment=augment, seed=seed,
                               one_hot=True).repeat()
    test = cifar.make_dataset(xt, yt, batch_size=1000, training=False, one_hot=True)
    clock = TrainClock()
    clock.elapsed = setup
    tta: list[float] = []

    n_evals = round(epochs * evals_per_epoch)

    class FlipTTA(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:  # at the end only: it costs time
            tta.append(cifar.evaluate_tta(model, xt, yt, batch_size=1000) if epoch + 1 == n_evals else float("nan"))

    hist = model.fit(train, epochs=n_evals, steps_per_epoch=math.ceil(steps / evals_per_epoch),
                     validation_data=test, callbacks=[clock, FlipTTA(), LivePrint(clock, tta)], shuffle=False, verbose=0)
    return clock.times, hist.history["val_accuracy"], tta


EVALS = [1]  # evaluations per epoch, for printing epoch fractions


def cpu_description() -> str:
    """The CPU's model name and vector instruction set, from /proc/cpuinfo (Linux), and ONEDNN_MAX_CPU_ISA."""
    model, flags = platform.processor() or platform.machine(), set()
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and value.strip():
                model = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
                break
    except OSError:
        pass
    if not flags:
        isa = "instruction set unknown (no /proc/cpuinfo)"
    elif "avx512f" in flags:
        isa = "AVX-512 (avx512f present)"
    elif "avx2" in flags:
        isa = "AVX2 (avx512f absent)"
    else:
        isa = "no AVX2 (avx2 and avx512f absent)"
    limit = os.environ.get("ONEDNN_MAX_CPU_ISA")
    return f"{model}; {isa}; ONEDNN_MAX_CPU_ISA={limit}" if limit else f"{model}; {isa}; ONEDNN_MAX_CPU_ISA not set"


def time_to(target: float, times: list[float], accs: list[float]) -> float | None:
    """Training seconds at the first evaluation whose test accuracy reaches ``target``."""
    return next((t for t, a in zip(times, accs) if a >= target), None)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--train-size", type=int, default=50_000, help="training images (first n)")
    p.add_argument("--test-size", type=int, default=10_000, help="test images (first n)")
    p.add_argument("--target", type=float, default=0.66, help="test accuracy to time")
    p.add_argument("--tutorial-epochs", type=int, default=10)
    p.add_argument("--ours-epochs", type=float, default=1.0, help="length of our one-cycle schedule (may be fractional)")
    p.add_argument("--model", choices=("fast", "resnet9"), default="fast",
                   help="our network: build_fast_cnn (default) or build_cnn(width)")
    p.add_argument("--width", type=int, default=16, help="width of build_cnn (with --model resnet9)")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--peak-lr", type=float, default=0.8)
    p.add_argument("--label-smoothing", type=float, default=0.2)
    p.add_argument("--augment", action="store_true", help="augment our model's training data")
    p.add_argument("--evals-per-epoch", type=int, default=1, help="test evaluations per training epoch (both models)")
    p.add_argument("--jit-compile", action="store_true", help="compile our model's training step with XLA")
    p.add_argument("--stop-at-target", action="store_true", help="stop the tutorial model once it reaches the target")
    p.add_argument("--only", choices=("both", "ours", "tutorial"), default="both")
    p.add_argument("--deterministic", action="store_true", help="enable TF op determinism (as start() does)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    EVALS[0] = args.evals_per_epoch

    keras.utils.set_random_seed(args.seed)
    if args.deterministic:
        tf.config.experimental.enable_op_determinism()
    (x, y), (xt, yt) = load_cifar10()
    data = ((x[:args.train_size], y[:args.train_size]), (xt[:args.test_size], yt[:args.test_size]))
    print(f"Using {len(data[0][0]):,} train / {len(data[1][0]):,} test images; {os.cpu_count()} CPU cores; "
          f"TensorFlow {tf.__version__}, Keras {keras.__version__}, Python {platform.python_version()}; "
          f"op determinism {'on' if args.deterministic else 'off'}; load average at start "
          f"{os.getloadavg()[0]:.1f}")
    print(f"CPU: {cpu_description()}")

    results = {}
    if args.only in ("both", "ours"):
        net = "build_fast_cnn()" if args.model == "fast" else f"build_cnn(width={args.width})"
        desc = (f"ours: {net}, {args.ours_epochs} epochs, batch {args.batch_size}, "
                f"SGD Nesterov one-cycle peak {args.peak_lr}, label smoothing {args.label_smoothing}, "
                f"augmentation {'on' if args.augment else 'off'}, XLA {'on' if args.jit_compile else 'off'}")
        keras.utils.set_random_seed(args.seed)
        print_header(desc, tta=True)  # flip TTA only at the end: it is not part of the timing
        results["ours"] = (desc, *run_ours(data, args.ours_epochs, model_name=args.model, width=args.width,
                                           batch_size=args.batch_size,
                                           peak_lr=args.peak_lr, augment=args.augment,
                                           label_smoothing=args.label_smoothing, seed=args.seed,
                                           evals_per_epoch=args.evals_per_epoch, jit_compile=args.jit_compile))
    if args.only in ("both", "tutorial"):
        desc = f"tutorial: TF CNN tutorial model, {args.tutorial_epochs} epochs, batch 32, Adam"
        keras.utils.set_random_seed(args.seed)
        print_header(desc, tta=False)
        results["tutorial"] = (desc, *run_tutorial(data, args.tutorial_epochs, args.evals_per_epoch, args.seed,
                                                   StopAt(args.target, args.stop_at_target)))

    print(f"\nTime to {args.target:.0%} test accuracy (training seconds, evaluation excluded):")
    reached = {}
    for name, (_, times, accs, _tta) in results.items():
        reached[name] = time_to(args.target, times, accs)
        best = max(accs)
        text = f"{reached[name]:.0f} s" if reached[name] is not None else f"not reached (best {best:.1%})"
        print(f"  {name:9s} {text}; final test accuracy {accs[-1]:.1%} after {times[-1]:.0f} s")
    if reached.get("ours") and reached.get("tutorial"):
        print(f"  ratio ours / tutorial = {reached['ours'] / reached['tutorial']:.2f} "
              f"(speed-up x{reached['tutorial'] / reached['ours']:.1f}) on {cpu_description()}")
    print(f"Load average at end {os.getloadavg()[0]:.1f}")
    return 0


def print_header(desc: str, tta: bool) -> None:
    print(f"\n{desc}")
    print("  epochs  train s  test acc" + ("  test acc (flip TTA)" if tta else ""), flush=True)


if __name__ == "__main__":
    sys.exit(main())
