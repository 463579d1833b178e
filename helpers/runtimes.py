"""How long will each notebook take on *this* machine? The probe and the prediction of notebook 00.

The probe measures three rates in well under 30 s: TensorFlow's float32 matrix
multiply (GFLOP/s), training steps of the course's CNN (images/s) and a plain
Python loop (million iterations/s, for the notebooks whose time goes into
small NumPy arrays, plotting and start-up). Each
notebook's ``cpu``-profile run time was measured on a reference machine and
split into the part that scales with each rate (and a fixed part, such as
notebook 04's training budget, which is the same on every machine). The
prediction scales each part by the ratio of the reference rate to this
machine's rate.

When a notebook's measured time changes (its header's run-time table),
update :data:`REFERENCE` here as well.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Probe:
    """The three rates the prediction scales with."""

    gflops: float             #: float32 matrix multiply in TensorFlow, GFLOP/s
    cnn_images_per_s: float   #: training images per second of ``build_cnn(width=16)``, batch 256
    python_mops: float        #: iterations per second of a plain Python loop, in millions


@dataclass(frozen=True)
class Work:
    """One notebook's ``cpu``-profile time on the reference machine, in seconds, split by what it scales with."""

    cnn_s: float = 0.0      #: convolution training: scales with the CNN images/s
    matmul_s: float = 0.0   #: dense layers, large NumPy products: scales with the matmul GFLOP/s
    python_s: float = 0.0   #: small arrays, Python loops, plotting, start-up: scales with the Python loop rate
    fixed_s: float = 0.0    #: a time budget that is the same on every machine

    @property
    def total_s(self) -> float:
        return self.cnn_s + self.matmul_s + self.python_s + self.fixed_s


#: The reference machine's probe: AMD EPYC (Zen 5) with AVX-512, 2 cores, quiet: the median of six probes. This
#: virtual machine's CNN rate is bimodal (matrix multiply 376-442 GFLOP/s; Python loop 40-46 M/s), so a single
#: probe there can be off by up to a factor of about 2.
REFERENCE_MACHINE = "AMD EPYC with AVX-512, 2 cores"
REFERENCE_PROBE = Probe(gflops=422.0, cnn_images_per_s=1377.0, python_mops=43.4)
#: The lowest and highest CNN rates single probes gave on the reference machine (runs minutes apart, quiet machine).
REFERENCE_CNN_RATE_RANGE = (795.0, 1664.0)

#: Each notebook's measured ``cpu``-profile time on the reference machine (one notebook at a time, load
#: average about 1), split by the kind of work that dominates it.
REFERENCE: dict[str, Work] = {
    "00_start_here": Work(python_s=12.9),
    "01_backprop_numpy": Work(matmul_s=20.0),
    # 02 mixes small NumPy problems and Keras runs: split half and half (a guess made after its emulated run,
    # so that check is not independent).
    "02_optimizers_from_scratch": Work(matmul_s=21.6, python_s=21.6),
    "03_keras_mlp_mnist": Work(matmul_s=111.7),
    # 827.8 s, of which 540 s the fixed training budget (9 minutes on the clock)
    "04_keras_cnn_cifar10": Work(cnn_s=287.8, fixed_s=540.0),
    "05_optimizer_comparison": Work(cnn_s=180.0),   # the stored tuning search (RUN_TUNING False); a live search adds about 579 s
    "06_conv_backprop_numpy": Work(python_s=12.9),
    # 1,044.8 s, of which 900 s the fixed training budget; section 6's grid loaded from results/ (RUN_GRID False)
    "07_fast_training_cpu": Work(cnn_s=144.8, fixed_s=900.0),
}


@dataclass(frozen=True)
class Check:
    """A recorded test of the prediction: a notebook's measured time on a machine other than the reference."""

    machine: str          #: the machine, as named in notebook 00
    notebook: str         #: which notebook (and version) was timed
    work: Work            #: its split on the machine it was measured against
    reference: Probe      #: that machine's rates
    probe: Probe          #: the other machine's rates
    measured_s: float     #: its measured run time there
    independent: bool = True  #: False when the check's own run times stood in for the probe (a circular check)

    @property
    def predicted_s(self) -> float:
        return predict_seconds(self.work, self.probe, self.reference)

    @property
    def scaling_error(self) -> float:
        """The relative error on the part of the time that scales with the machine (the fixed budget, exact by
        construction, left out): (predicted - measured) / (measured - fixed)."""
        return (self.predicted_s - self.measured_s) / (self.measured_s - self.work.fixed_s)


#: The reference machine as an AVX2 machine (.ci/older-cpu: NumPy, OpenBLAS and oneDNN limited to AVX2 or
#: less): its probe (median of three) and each notebook's measured cpu-profile time there (None: not measured).
EMULATED_AVX2_PROBE = Probe(gflops=228.0, cnn_images_per_s=824.0, python_mops=43.0)   # median of six
EMULATED_AVX2: dict[str, float | None] = {
    "00_start_here": 14.7,          # the mean of two runs: 15.2 s and 14.2 s
    "01_backprop_numpy": 41.8,
    "02_optimizers_from_scratch": 62.2,
    "03_keras_mlp_mnist": 157.6,    # the mean of two runs: 145.8 s and 169.3 s
    # the version before its review fixes (commit abc0a1e), 9.0 epochs in the 540 s budget; a quick run shared the
    # cores for about 40 s (results/04_keras_cnn_cifar10/avx2_emulated_run.md)
    "04_keras_cnn_cifar10": 969.1,
    "05_optimizer_comparison": 247.9,  # stored search; load average 1.8 before and 3.4 after (other work on the cores)
    "06_conv_backprop_numpy": 13.0,
    "07_fast_training_cpu": 1102.2,  # commit 74fe757, 14.9 epochs in the 900 s budget; the one-epoch version: CHECKS
}

#: Recorded checks of the prediction; notebook 00 prints their errors.
CHECKS: list[Check] = [
    *(Check("reference machine as AVX2 (emulated)", name, REFERENCE[name], REFERENCE_PROBE, EMULATED_AVX2_PROBE,
            seconds) for name, seconds in EMULATED_AVX2.items() if seconds is not None),
    # Notebook 07 before its fifteen-minute section: 199.3 s here, 251.2 s as AVX2 (emulated).
    Check("reference machine as AVX2 (emulated)", "07_fast_training_cpu (the one-epoch version)", Work(cnn_s=199.3),
          REFERENCE_PROBE, EMULATED_AVX2_PROBE, 251.2),
    # A real 2-core AVX2 laptop (the course's issue tracker, issue 20), running an earlier version of notebook 04:
    # 1,418 s on the machine that made its outputs, whose final training ran at 675 images/s; 74 min on the
    # laptop, whose final training ran at 215 images/s. Those training rates stand in for the probe.
    Check("a real AVX2 laptop, 2 cores", "04_keras_cnn_cifar10 (an earlier version)", Work(cnn_s=1418.0),
          Probe(gflops=1.0, cnn_images_per_s=675.0, python_mops=1.0),
          Probe(gflops=1.0, cnn_images_per_s=215.0, python_mops=1.0), 74 * 60.0,   # only the CNN rate counts here
          independent=False),
]


@dataclass(frozen=True)
class Slowdown:
    """A measured ratio: how many times longer a machine took than the reference machine for the same work."""

    what: str            #: the work that was timed on both machines
    reference_s: float   #: its time on the reference machine, in seconds
    measured_s: float    #: its time on the other machine, in seconds

    @property
    def factor(self) -> float:
        return self.measured_s / self.reference_s


#: A real laptop with AVX2 but no AVX-512, 2 cores (the course's issue 20): its measured slowdowns for the two kinds
#: of CNN work the course trains. Both were measured against a run of notebook 04 on the reference machine in which
#: build_cnn(16) trained at 675 images/s (an earlier version of 04: 12 epochs, batch 512). The reference probe of
#: today trains the same network at 1,377 images/s (this virtual machine's speed is bimodal, and today's pipeline
#: differs), so against today's reference times each slowdown is scaled by 1,377 / 675 (``BASELINE``): the laptop
#: trained at 215 images/s, 6.4 times slower than today's reference probe.
LAPTOP = "a real 2-core AVX2 laptop"
#: The reference machine's training rate of build_cnn(16) in the run the laptop's slowdowns were measured against.
LAPTOP_BASE_RATE = 675.0
BASELINE = REFERENCE_PROBE.cnn_images_per_s / LAPTOP_BASE_RATE
LAPTOP_SLOWDOWNS: dict[str, Slowdown] = {
    # one epoch (50,000 images) of notebook 04's final training of build_cnn(16): 675 images/s on the reference
    # machine then, 215 on the laptop (that whole notebook: 1,418 s against 74 min, also 3.1x), times BASELINE
    "build_cnn": Slowdown("one epoch of notebook 04's final training (build_cnn), against today's reference",
                          50_000 / 675 / BASELINE, 50_000 / 215),
    # one epoch of build_fast_cnn on 45,000 images, in that same notebook 04 run: about 18 s there, 84 s on the
    # laptop (4.7x), times BASELINE
    "build_fast_cnn": Slowdown("one epoch of build_fast_cnn on 45,000 images, against today's reference",
                               18.0 / BASELINE, 84.0),
}
#: The same kind of work on the reference machine with AVX-512 switched off (.ci/older-cpu), for comparison with
#: the laptop: notebook 04's final training (commit abc0a1e), 540 s for 14.6 epochs in its run with AVX-512 and 528 s
#: for 9.0 epochs in its emulated-AVX2 run (both with the learning rate on the clock).
EMULATED_AVX2_SLOWDOWNS: dict[str, Slowdown] = {
    "build_cnn": Slowdown("one epoch of notebook 04's final training (build_cnn)", 540.0 / 14.6, 528.0 / 9.0),
}
#: The slowdown that applies to each notebook's non-fixed time on that laptop: notebooks 05 and 07 mostly train
#: build_fast_cnn; the others use the whole-notebook figure (an overstatement for the short NumPy notebooks,
#: whose time is Python-bound and barely depends on the instruction set).
LAPTOP_KIND: dict[str, str] = {name: "build_fast_cnn" if name[:2] in ("05", "07") else "build_cnn"
                               for name in REFERENCE}
#: The longest a notebook's cpu profile may take on a 2-core AVX2 laptop. Notebooks 04 and 07 train their final
#: model for a fixed time (:class:`helpers.progress.OnTheClock` stops on time on any machine), so only the rest of
#: their work grows on a slower machine.
CAP_S = 45 * 60.0


def laptop_seconds(name: str) -> float:
    """Predicted ``cpu``-profile time of notebook ``name`` on :data:`LAPTOP`: the fixed training budget, plus the rest
    of the reference time multiplied by the laptop's measured slowdown for the notebook's kind of work."""
    work = REFERENCE[name]
    return work.fixed_s + (work.total_s - work.fixed_s) * LAPTOP_SLOWDOWNS[LAPTOP_KIND[name]].factor


def check_errors(scaling_only: bool = False) -> dict[str, float]:
    """The relative error of the prediction in each recorded check of :data:`CHECKS` (+0.1: predicted 10% too long),
    keyed by machine and notebook; with ``scaling_only``, on the part that scales (:attr:`Check.scaling_error`)."""
    return {f"{c.machine}: {c.notebook}": c.scaling_error if scaling_only else c.predicted_s / c.measured_s - 1
            for c in CHECKS}


def vector_instructions() -> str:
    """The widest vector instructions this CPU offers TensorFlow: "AVX-512", "AVX2" or "neither" (Linux reads
    /proc/cpuinfo; elsewhere "unknown"). ``ONEDNN_MAX_CPU_ISA=AVX2`` (the course's ``.ci/older-cpu``) caps it."""
    import os
    import pathlib

    try:
        text = pathlib.Path("/proc/cpuinfo").read_text()
    except OSError:
        return "unknown"
    flags = set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            flags = set(value.split())
            break
    cap = os.environ.get("ONEDNN_MAX_CPU_ISA", "").upper()
    if "avx512f" in flags and not cap.startswith(("AVX2", "SSE", "AVX_")) and cap != "AVX":
        return "AVX-512"
    if "avx2" in flags:
        return "AVX2" + (" (AVX-512 switched off by ONEDNN_MAX_CPU_ISA)" if "avx512f" in flags else "")
    return "neither"


def predict_seconds(work: Work, here: Probe, reference: Probe | None = None) -> float:
    """Predicted run time on a machine whose probe gave ``here``.

    Raises:
        ValueError: a rate of ``here`` is not positive.
    """
    reference = reference or REFERENCE_PROBE
    if min(here.gflops, here.cnn_images_per_s, here.python_mops) <= 0:
        raise ValueError(f"the probe's rates must be positive, not {here}")
    return (work.fixed_s + work.cnn_s * reference.cnn_images_per_s / here.cnn_images_per_s
            + work.matmul_s * reference.gflops / here.gflops
            + work.python_s * reference.python_mops / here.python_mops)


def matmul_gflops(n: int = 2048, repeats: int = 5) -> float:
    """Best of ``repeats`` float32 ``n x n`` matrix multiplies in TensorFlow, in GFLOP/s (2 n^3 per multiply)."""
    import tensorflow as tf

    rng = np.random.default_rng(0)
    a = tf.constant(rng.standard_normal((n, n), dtype=np.float32))
    b = tf.constant(rng.standard_normal((n, n), dtype=np.float32))
    float(tf.reduce_sum(tf.linalg.matmul(a, b)))   # warm up: thread pools, first-call set-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        float(tf.reduce_sum(tf.linalg.matmul(a, b)))
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best / 1e9


def cnn_images_per_second(batches: int = 16, batch_size: int = 256, chunks: int = 4) -> float:
    """Training images per second of notebook 04's network and recipe after a warm-up: the median over ``chunks``
    equal runs of consecutive steps (``batches`` steps in all), so that one slow moment does not decide it."""
    import keras

    from . import cifar

    keras.utils.set_random_seed(0)
    model = cifar.build_cnn(width=16)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01, momentum=0.9, nesterov=True),
                  loss=keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.2))
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (batches * batch_size, 32, 32, 3), dtype=np.uint8)
    y = rng.integers(0, 10, batches * batch_size)
    data = cifar.make_dataset(x, y, batch_size=batch_size, training=True, augment=True, one_hot=True)
    model.fit(data.take(3), verbose=0, shuffle=False)   # warm up: trace the training step, start the thread pools
    marks = [time.perf_counter()]
    model.fit(data, verbose=0, shuffle=False, callbacks=[keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: marks.append(time.perf_counter()))])
    per_chunk = max(1, (len(marks) - 1) // chunks)
    rates = [per_chunk * batch_size / (marks[i + per_chunk] - marks[i])
             for i in range(0, len(marks) - per_chunk, per_chunk)]
    return float(np.median(rates))


def python_mops(n: int = 2_000_000, repeats: int = 3) -> float:
    """Best of ``repeats`` runs of a plain Python loop of ``n`` iterations, in millions of iterations per second."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        total = 0
        for i in range(n):
            total += i & 7
        best = min(best, time.perf_counter() - start)
    return n / best / 1e6


def probe() -> Probe:
    """Run the three measurements (about 7 s on the reference machine, under 30 s on a machine 4 times slower)."""
    return Probe(gflops=matmul_gflops(), cnn_images_per_s=cnn_images_per_second(), python_mops=python_mops())
