"""A small, fast CIFAR-10 CNN, its augmentation and its tf.data input pipeline.

Taught in ``04_keras_cnn_cifar10`` (the network, the input pipeline, the training recipe and
data augmentation) and ``07_fast_training_cpu`` (patch whitening and :func:`build_fast_cnn`),
where each piece is built, measured and explained; ``05`` (optimizer comparison) reuses
:func:`build_fast_cnn` from here.

* :func:`build_cnn` - a ResNet-9-style network (Conv-BN-ReLU blocks, max
  pooling, two residual blocks, global max pooling, a dense head). It takes
  raw images (uint8, or floats in 0-255) and scales and normalises them
  inside the model, and it outputs **logits**: compile it with a
  ``from_logits=True`` loss.
* :func:`build_fast_cnn` - a cheaper network for tiny budgets: a fixed 2x2
  stride-2 PCA-whitening convolution (:func:`patch_whitening`), then three
  Conv-BN-ReLU stages at 16x16, 8x8 and 4x4 (or, with ``convs_per_stage=2``, two
  convolutions per stage, for budgets of many epochs); also outputs logits.
* :func:`augmentation` - random horizontal flip plus a random shift of up to
  4 pixels with reflected borders (pad-and-crop), as Keras preprocessing
  layers.
* :func:`make_dataset` - ``tf.data``: shuffle (training only, seeded), batch,
  augment on the fly in a parallel ``map``, ``prefetch(AUTOTUNE)``.
* :class:`OneCycle` / :func:`one_cycle` - a one-cycle learning-rate schedule
  (linear warm-up, then linear decay to zero).
* :func:`predict_tta` / :func:`evaluate_tta` - flip test-time augmentation.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf
from keras import layers

# Per-channel mean and standard deviation of the CIFAR-10 training images
# (pixel values scaled to [0, 1]); the model normalises its input with them.
CIFAR10_MEAN: tuple[float, float, float] = (0.4914, 0.4822, 0.4465)
CIFAR10_STD: tuple[float, float, float] = (0.2470, 0.2435, 0.2616)
IMAGE_SHAPE: tuple[int, int, int] = (32, 32, 3)


def _conv_bn(x: keras.KerasTensor, filters: int, name: str, weight_decay: float, *, pool: bool = False,
             bn_momentum: float = 0.9) -> keras.KerasTensor:
    """3x3 convolution (no bias: BatchNorm adds one), [2x2 max-pool,] BatchNorm, ReLU."""
    reg = keras.regularizers.L2(weight_decay / 2) if weight_decay else None
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False, kernel_initializer="he_normal",
                      kernel_regularizer=reg, name=f"{name}_conv")(x)
    if pool:
        x = layers.MaxPooling2D(2, name=f"{name}_pool")(x)
    x = layers.BatchNormalization(momentum=bn_momentum, name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def build_cnn(width: int = 16, num_classes: int = 10, dropout: float = 0.0, name: str = "cnn", *,
              residual: bool = True, skip: bool = True, weight_decay: float = 5e-4,
              logit_scale: float = 0.125) -> keras.Model:
    """A ResNet-9-style CNN for 32x32 colour images that outputs logits.

    Layout (``w = width``; spatial size in brackets)::

        input uint8/float 0-255 [32] -> Rescaling(1/255) -> Normalization(CIFAR-10 mean/std)
        prep:   conv_bn(w)                              [32]
        layer1: conv_bn(2w) -> maxpool                  [16]  + residual: conv_bn(2w), conv_bn(2w)
        layer2: conv_bn(4w) -> maxpool                  [8]
        layer3: conv_bn(8w) -> maxpool                  [4]   + residual: conv_bn(8w), conv_bn(8w)
        head:   global max pool -> dropout -> dense(num_classes) -> x logit_scale

    ``width=16`` is a quarter of the original ResNet-9 (64): about 0.41M
    parameters and about 24M multiply-adds per image.

    Args:
        width: channels of the first convolution; later stages use 2, 4 and 8 times as many.
        num_classes: number of output logits.
        dropout: dropout rate before the dense head (0 disables it).
        name: the model's name.
        residual: add the two residual blocks (False gives a plain 4-conv network).
        skip: with ``residual``, add each block's input to its output (``x + f(x)``); False keeps the
            blocks' convolutions but drops the addition (``f(x)`` only): a plain 8-conv network.
        weight_decay: weight decay on convolution and dense kernels, as an L2
            penalty ``weight_decay / 2 * sum(w**2)`` added to the loss, so each
            step's gradient gains ``weight_decay * w`` (0 disables it).
        logit_scale: multiplies the logits; a small value keeps the initial
            softmax soft, which trains faster with high learning rates.

    Returns:
        An uncompiled ``keras.Model``: input (n, 32, 32, 3), output (n, num_classes) logits.
    """
    inputs = keras.Input(IMAGE_SHAPE, name="image")
    x = layers.Rescaling(1.0 / 255, name="scale")(inputs)
    x = layers.Normalization(mean=list(CIFAR10_MEAN), variance=[s * s for s in CIFAR10_STD],
                             name="normalize")(x)
    x = _conv_bn(x, width, "prep", weight_decay)

    def stage(x: keras.KerasTensor, filters: int, stage_name: str, with_residual: bool) -> keras.KerasTensor:
        x = _conv_bn(x, filters, stage_name, weight_decay)
        x = layers.MaxPooling2D(2, name=f"{stage_name}_pool")(x)
        if with_residual:
            r = _conv_bn(x, filters, f"{stage_name}_res1", weight_decay)
            r = _conv_bn(r, filters, f"{stage_name}_res2", weight_decay)
            x = layers.Add(name=f"{stage_name}_add")([x, r]) if skip else r
        return x

    x = stage(x, 2 * width, "layer1", residual)
    x = stage(x, 4 * width, "layer2", False)
    x = stage(x, 8 * width, "layer3", residual)
    x = layers.GlobalMaxPooling2D(name="pool")(x)
    if dropout:
        x = layers.Dropout(dropout, name="dropout")(x)
    reg = keras.regularizers.L2(weight_decay / 2) if weight_decay else None
    x = layers.Dense(num_classes, kernel_regularizer=reg, name="logits")(x)
    if logit_scale != 1.0:
        x = layers.Rescaling(logit_scale, name="logit_scale")(x)
    return keras.Model(inputs, x, name=name)


def patch_whitening(images: np.ndarray, patch: int = 2, eps: float = 5e-4) -> np.ndarray:
    """A convolution kernel that whitens non-overlapping ``patch x patch`` patches of normalised images.

    The patches (``patch * patch * 3`` numbers each, after the same scaling and
    normalisation as the models here) are correlated: neighbouring pixels and
    colour channels move together. Projecting a patch on the eigenvectors
    ``v_i`` of the patch covariance and dividing by ``sqrt(lambda_i + eps)``
    gives uncorrelated outputs of unit variance (PCA whitening). The kernel
    holds these ``d = patch * patch * 3`` filters and their negatives, so that a
    following ReLU keeps both signs: ``2 d`` output channels.

    Args:
        images: training images (n, 32, 32, 3), uint8 or floats 0-255; a few thousand are plenty.
        patch: patch size; the convolution that uses the kernel has stride ``patch``.
        eps: added to the eigenvalues so that near-constant directions are not blown up.

    Returns:
        A float32 kernel of shape (patch, patch, 3, 2 * patch * patch * 3) for ``layers.Conv2D``.
    """
    x = np.asarray(images, dtype=np.float32) / 255.0
    x = (x - np.asarray(CIFAR10_MEAN, np.float32)) / np.asarray(CIFAR10_STD, np.float32)
    n, h, w, c = x.shape
    if h % patch or w % patch:
        raise ValueError(f"image size {h}x{w} is not a multiple of the patch size {patch}")
    patches = (x.reshape(n, h // patch, patch, w // patch, patch, c).transpose(0, 1, 3, 2, 4, 5)
               .reshape(-1, patch * patch * c))                     # one row per patch, (dy, dx, channel) order
    eigenvalues, eigenvectors = np.linalg.eigh(np.cov(patches, rowvar=False))
    filters = eigenvectors / np.sqrt(eigenvalues + eps)               # column i whitens direction i
    filters = np.concatenate([filters, -filters], axis=1)
    return filters.reshape(patch, patch, c, -1).astype(np.float32)


def build_fast_cnn(whiten_images: np.ndarray, widths: tuple[int, ...] = (48, 96, 192), num_classes: int = 10,
                   name: str = "fast_cnn", *, convs_per_stage: int = 1, bn_momentum: float = 0.9,
                   weight_decay: float = 5e-4, logit_scale: float = 0.125) -> keras.Model:
    """A CNN that downsamples at once, for short training budgets on a CPU; it outputs logits.

    Layout (spatial size in brackets)::

        input uint8/float 0-255 [32] -> Rescaling(1/255) -> Normalization(CIFAR-10 mean/std)
        whiten: 2x2 convolution, stride 2, fixed PCA-whitening kernel (+ negatives), ReLU   [16]
        conv_bn(widths[0]) -> maxpool -> conv_bn(widths[1]) -> maxpool -> ... -> conv_bn(widths[-1])
        head:   global max pool -> dense(num_classes) -> x logit_scale

    With ``convs_per_stage=2`` each stage is an airbench-style block (Jordan 2024): ``conv -> [maxpool] ->
    BN -> ReLU -> conv -> BN -> ReLU``, where the first convolution of every stage after the first runs
    at the previous stage's resolution, before the pooling. It does about five times the arithmetic of
    the one-convolution network (80 MFLOPs per image with the default widths) and is meant for budgets of
    many epochs (notebook 07's fifteen-minute run).

    Most of :func:`build_cnn`'s time goes into its 32x32 and 16x16 layers; here
    the first convolution already halves the resolution, with a kernel that is
    not learned but computed from the data (:func:`patch_whitening`), so the
    next layers see decorrelated inputs from the first step on. With the
    default widths: about 0.22M parameters and 16 MFLOPs per image (a third of
    :func:`build_cnn`).

    Args:
        whiten_images: training images to compute the whitening kernel from (a few thousand suffice).
        widths: channels of the Conv-BN-ReLU stages (a max-pool between consecutive stages).
        num_classes: number of output logits.
        name: the model's name.
        convs_per_stage: 1 (``conv_bn`` per stage, pooling first) or 2 (the airbench-style block above).
        bn_momentum: the BatchNorm layers' ``momentum``: how much of the running mean and variance each
            training step keeps (Keras' default 0.99 averages over about 100 steps; 0.9 over about 10).
        weight_decay: as in :func:`build_cnn`.
        logit_scale: as in :func:`build_cnn`.

    Returns:
        An uncompiled ``keras.Model``: input (n, 32, 32, 3), output (n, num_classes) logits.
    """
    if convs_per_stage not in (1, 2):
        raise ValueError(f"convs_per_stage must be 1 or 2, not {convs_per_stage}")
    kernel = patch_whitening(whiten_images)
    inputs = keras.Input(IMAGE_SHAPE, name="image")
    x = layers.Rescaling(1.0 / 255, name="scale")(inputs)
    x = layers.Normalization(mean=list(CIFAR10_MEAN), variance=[s * s for s in CIFAR10_STD],
                             name="normalize")(x)
    whiten = layers.Conv2D(kernel.shape[-1], 2, strides=2, use_bias=False, trainable=False, name="whiten")
    x = layers.ReLU(name="whiten_relu")(whiten(x))
    whiten.kernel.assign(kernel)
    for i, filters in enumerate(widths):
        if convs_per_stage == 1:
            if i:
                x = layers.MaxPooling2D(2, name=f"stage{i}_pool")(x)
            x = _conv_bn(x, filters, f"stage{i + 1}", weight_decay, bn_momentum=bn_momentum)
        else:
            x = _conv_bn(x, filters, f"stage{i + 1}a", weight_decay, pool=i > 0, bn_momentum=bn_momentum)
            x = _conv_bn(x, filters, f"stage{i + 1}b", weight_decay, bn_momentum=bn_momentum)
    x = layers.GlobalMaxPooling2D(name="pool")(x)
    reg = keras.regularizers.L2(weight_decay / 2) if weight_decay else None
    x = layers.Dense(num_classes, kernel_regularizer=reg, name="logits")(x)
    if logit_scale != 1.0:
        x = layers.Rescaling(logit_scale, name="logit_scale")(x)
    return keras.Model(inputs, x, name=name)


def augmentation(seed: int | None = None, *, shift: int = 4, flip: bool = True) -> keras.Sequential:
    """Random horizontal flip and a random shift of up to ``shift`` pixels.

    The shift uses reflected borders and nearest-pixel sampling, so it moves
    each image by a whole number of pixels, as padding by ``shift`` and
    cropping a random 32x32 window does. Each image in a batch gets its own
    flip and shift. Call it with ``training=True`` (the tf.data map of
    :func:`make_dataset` does); at inference the layers pass images through.

    Args:
        seed: seeds the random flips and shifts (None: unseeded).
        shift: the largest shift in pixels, up and down and sideways.
        flip: include the horizontal flip.
    """
    steps: list[layers.Layer] = []
    if flip:
        steps.append(layers.RandomFlip("horizontal", seed=seed, name="flip"))
    if shift:
        factor = shift / IMAGE_SHAPE[0]
        steps.append(layers.RandomTranslation(factor, factor, fill_mode="reflect", interpolation="nearest",
                                              seed=None if seed is None else seed + 1, name="shift"))
    return keras.Sequential(steps, name="augmentation")


def make_dataset(x: np.ndarray, y: np.ndarray, *, batch_size: int, training: bool, augment: bool = False,
                 seed: int = 0, aug: keras.Layer | None = None, one_hot: bool = False,
                 num_classes: int = 10, parallel: bool = True, prefetch: bool = True) -> tf.data.Dataset:
    """A ``tf.data`` pipeline of (images, labels) batches.

    Training: shuffle the whole set (seeded, reshuffled each epoch), batch,
    augment each batch on the fly (``augment=True``), prefetch. Evaluation:
    batch and prefetch, in order. Images stay uint8 in memory and are cast to
    float32 (still 0-255: the model scales them) in the ``map``.

    Args:
        x: images (n, 32, 32, 3), uint8 or floats 0-255.
        y: integer labels, shape (n,) or (n, 1).
        batch_size: images per batch (the last batch may be smaller).
        training: shuffle (and allow augmentation); False keeps the order.
        augment: apply ``aug`` (default :func:`augmentation` seeded with ``seed``); only with ``training``.
        seed: seeds the shuffle and the default augmentation.
        aug: the augmentation layer to use instead of the default one.
        one_hot: return one-hot float labels (needed for ``label_smoothing`` in
            ``keras.losses.CategoricalCrossentropy``) instead of integer labels.
        num_classes: the one-hot length.
        parallel: run the ``map`` with ``num_parallel_calls=AUTOTUNE`` (False: one call at a time).
        prefetch: end with ``prefetch(AUTOTUNE)`` so the next batch is prepared while the model trains.

    Raises:
        ValueError: ``augment=True`` without ``training=True``, or x and y of different lengths.
    """
    if augment and not training:
        raise ValueError("augment=True needs training=True: evaluation data must not be augmented")
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} images but y has {len(y)} labels")
    y = np.asarray(y).reshape(-1).astype(np.int32)
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    if training:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    if augment:
        aug = aug if aug is not None else augmentation(seed)

    def prepare(images: tf.Tensor, labels: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        images = tf.cast(images, tf.float32)
        if augment:
            images = aug(images, training=True)
        if one_hot:
            labels = tf.one_hot(labels, num_classes)
        return images, labels

    ds = ds.map(prepare, num_parallel_calls=tf.data.AUTOTUNE if parallel else None)
    if prefetch:
        ds = ds.prefetch(tf.data.AUTOTUNE)
    return ds


@keras.saving.register_keras_serializable(package="course")
class OneCycle(keras.optimizers.schedules.LearningRateSchedule):
    """One-cycle learning rate: linear rise to ``peak``, then linear fall to ``end``.

    Starts at ``peak * start_fraction``, reaches ``peak`` after
    ``warmup_fraction * total_steps`` steps and falls linearly to ``end`` at
    ``total_steps`` (and stays there).
    """

    def __init__(self, peak: float, total_steps: int, warmup_fraction: float = 0.25,
                 start_fraction: float = 0.05, end: float = 0.0) -> None:
        if total_steps < 1:
            raise ValueError(f"total_steps must be at least 1, not {total_steps}")
        self.peak = float(peak)
        self.total_steps = int(total_steps)
        self.warmup_fraction = float(warmup_fraction)
        self.start_fraction = float(start_fraction)
        self.end = float(end)

    def __call__(self, step: tf.Tensor) -> tf.Tensor:
        step = keras.ops.cast(step, "float32")
        warm = max(1.0, self.warmup_fraction * self.total_steps)
        start = self.peak * self.start_fraction
        rising = start + (self.peak - start) * step / warm
        falling = self.peak + (self.end - self.peak) * (step - warm) / max(1.0, self.total_steps - warm)
        lr = keras.ops.where(step < warm, rising, falling)
        return keras.ops.maximum(lr, self.end) if self.end >= 0 else lr

    def at_fraction(self, fraction: float) -> float:
        """The rate when ``fraction`` (0 to 1) of the schedule is done, for a schedule on the clock
        (:class:`helpers.progress.OnTheClock`)."""
        return float(self(fraction * self.total_steps))

    def get_config(self) -> dict:
        return {"peak": self.peak, "total_steps": self.total_steps, "warmup_fraction": self.warmup_fraction,
                "start_fraction": self.start_fraction, "end": self.end}


def one_cycle(peak: float, epochs: int, steps_per_epoch: int, warmup_fraction: float = 0.25,
              start_fraction: float = 0.05) -> OneCycle:
    """A :class:`OneCycle` schedule spanning ``epochs * steps_per_epoch`` steps."""
    return OneCycle(peak, epochs * steps_per_epoch, warmup_fraction, start_fraction)


def steps_per_epoch(n: int, batch_size: int) -> int:
    """Batches per epoch when the last, smaller batch is kept."""
    return math.ceil(n / batch_size)


def predict_tta(model: keras.Model, x: np.ndarray, *, batch_size: int = 500, flip: bool = True) -> np.ndarray:
    """Logits for ``x``, averaged with the logits of the horizontally flipped images when ``flip``."""
    logits = model.predict(x, batch_size=batch_size, verbose=0)
    if flip:
        logits = (logits + model.predict(np.ascontiguousarray(x[:, :, ::-1]), batch_size=batch_size,
                                         verbose=0)) / 2
    return logits


def evaluate_tta(model: keras.Model, x: np.ndarray, y: np.ndarray, *, batch_size: int = 500,
                 flip: bool = True) -> float:
    """Accuracy with flip test-time augmentation: average the logits of each image and its mirror image."""
    pred = predict_tta(model, x, batch_size=batch_size, flip=flip).argmax(axis=1)
    return float(np.mean(pred == np.asarray(y).reshape(-1)))


def count_flops(model: keras.Model) -> int:
    """Multiply-adds x 2 per image of the model's Conv2D and Dense layers (the rest is negligible)."""
    flops = 0
    for layer in model.layers:
        if isinstance(layer, layers.Conv2D):
            out_h, out_w, out_c = layer.output.shape[1:]
            k_h, k_w, in_c, _ = layer.kernel.shape
            flops += 2 * out_h * out_w * out_c * k_h * k_w * in_c
        elif isinstance(layer, layers.Dense):
            flops += 2 * int(np.prod(layer.kernel.shape))
    return int(flops)
