"""How long will each notebook take on *this* machine? The probe and the prediction of notebook 00.

The probe measures two rates in well under 30 s: TensorFlow's float32 matrix
multiply (GFLOP/s) and training steps of the course's CNN (images/s). Each
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
    """The two rates the prediction scales with."""

    gflops: float             #: float32 matrix multiply in TensorFlow, GFLOP/s
    cnn_images_per_s: float   #: training images per second of ``build_cnn(width=16)``, batch 256


@dataclass(frozen=True)
class Work:
    """One notebook's ``cpu``-profile time on the reference machine, in seconds, split by what it scales with."""

    cnn_s: float = 0.0     #: convolution training: scales with the CNN images/s
    other_s: float = 0.0   #: dense layers, NumPy, plotting: scales with the matmul GFLOP/s
    fixed_s: float = 0.0   #: a time budget that is the same on every machine

    @property
    def total_s(self) -> float:
        return self.cnn_s + self.other_s + self.fixed_s


#: The reference machine's probe: AMD EPYC (Zen 5) with AVX-512, 2 cores, quiet: the median of three probes
#: (matrix multiply 367, 462, 486 GFLOP/s; CNN 1,193, 1,194, 1,577 images/s).
REFERENCE_MACHINE = "AMD EPYC with AVX-512, 2 cores"
REFERENCE_PROBE = Probe(gflops=462.0, cnn_images_per_s=1194.0)

#: Each notebook's measured ``cpu``-profile time on the reference machine (one notebook at a time, load
#: average about 1), split by the kind of work that dominates it.
REFERENCE: dict[str, Work] = {
    "00_start_here": Work(other_s=20.0),
    "01_backprop_numpy": Work(other_s=22.8),
    "02_optimizers_from_scratch": Work(other_s=43.2),
    "03_keras_mlp_mnist": Work(other_s=122.9),
    "04_keras_cnn_cifar10": Work(cnn_s=282.0, fixed_s=954.0),
    "05_optimizer_comparison": Work(cnn_s=1418.0),
    "06_conv_backprop_numpy": Work(other_s=12.9),
    "07_fast_training_cpu": Work(cnn_s=202.0),
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


_EMULATED_AVX2 = Probe(gflops=249.0, cnn_images_per_s=1020.0)   # median of three probes under .ci/older-cpu

#: Recorded checks of the prediction; notebook 00 prints their errors.
CHECKS: list[Check] = [
    # This machine with AVX-512 switched off (.ci/older-cpu: NumPy, OpenBLAS and oneDNN limited to AVX2 or less),
    # each notebook run once in the cpu profile right after its reference run.
    Check("reference machine as AVX2 (emulated)", "01_backprop_numpy", REFERENCE["01_backprop_numpy"],
          REFERENCE_PROBE, _EMULATED_AVX2, 41.8),
    Check("reference machine as AVX2 (emulated)", "02_optimizers_from_scratch", REFERENCE["02_optimizers_from_scratch"],
          REFERENCE_PROBE, _EMULATED_AVX2, 62.2),
    Check("reference machine as AVX2 (emulated)", "06_conv_backprop_numpy", REFERENCE["06_conv_backprop_numpy"],
          REFERENCE_PROBE, _EMULATED_AVX2, 13.0),
    # A real 2-core AVX2 laptop (the course's issue tracker, issue 20), running an earlier version of notebook 04:
    # 1,418 s on the machine that made its outputs, whose final training ran at 675 images/s; 74 min on the
    # laptop, whose final training ran at 215 images/s. Those training rates stand in for the probe.
    Check("a real AVX2 laptop, 2 cores", "04_keras_cnn_cifar10 (an earlier version)", Work(cnn_s=1418.0),
          Probe(gflops=1.0, cnn_images_per_s=675.0), Probe(gflops=1.0, cnn_images_per_s=215.0), 74 * 60.0),
]


def predict_seconds(work: Work, here: Probe, reference: Probe | None = None) -> float:
    """Predicted run time on a machine whose probe gave ``here``.

    Raises:
        ValueError: a rate of ``here`` is not positive.
    """
    reference = reference or REFERENCE_PROBE
    if here.gflops <= 0 or here.cnn_images_per_s <= 0:
        raise ValueError(f"the probe's rates must be positive, not {here}")
    return (work.fixed_s + work.cnn_s * reference.cnn_images_per_s / here.cnn_images_per_s
            + work.other_s * reference.gflops / here.gflops)


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


def cnn_images_per_second(batches: int = 16, batch_size: int = 256) -> float:
    """Training images per second of notebook 04's network and recipe, timed over ``batches`` steps after a warm-up."""
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
    start = time.perf_counter()
    model.fit(data, verbose=0, shuffle=False)
    return len(x) / (time.perf_counter() - start)


def probe() -> Probe:
    """Run both measurements (about 6 s on the reference machine, under 30 s on a machine 5 times slower)."""
    return Probe(gflops=matmul_gflops(), cnn_images_per_s=cnn_images_per_second())
