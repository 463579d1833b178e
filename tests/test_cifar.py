"""Unit tests for helpers.cifar (the CNN, augmentation and pipeline of notebook 04)."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from helpers import cifar  # noqa: E402


def images(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 256, size=(n, 32, 32, 3), dtype=np.uint8),
            rng.integers(0, 10, size=(n, 1)).astype(np.uint8))


def test_build_cnn_shapes_params_and_logits() -> None:
    model = cifar.build_cnn()
    assert model.input_shape == (None, 32, 32, 3)
    assert model.output_shape == (None, 10)
    assert 380_000 < model.count_params() < 450_000  # about 0.41M at width 16
    x, _ = images(4)
    out = model(x.astype("float32"), training=False).numpy()
    assert out.shape == (4, 10)
    assert not np.allclose(out.sum(axis=1), 1.0), "the model must output logits, not probabilities"
    # uint8 input gives the same logits as float input 0-255 (scaling happens inside)
    np.testing.assert_allclose(model.predict(x, verbose=0), out, rtol=1e-4, atol=1e-5)


def test_build_cnn_options() -> None:
    small = cifar.build_cnn(width=8, num_classes=5, dropout=0.2, residual=False, name="small")
    assert small.name == "small" and small.output_shape == (None, 5)
    assert any(isinstance(layer, keras.layers.Dropout) for layer in small.layers)
    assert not any(isinstance(layer, keras.layers.Add) for layer in small.layers)
    assert small.count_params() < cifar.build_cnn(width=8).count_params()


def test_build_cnn_without_skip_keeps_the_convolutions() -> None:
    full, no_skip = cifar.build_cnn(width=8), cifar.build_cnn(width=8, skip=False)
    assert no_skip.count_params() == full.count_params()
    assert sum(isinstance(layer, keras.layers.Add) for layer in full.layers) == 2
    assert not any(isinstance(layer, keras.layers.Add) for layer in no_skip.layers)
    assert [l.name for l in no_skip.layers if isinstance(l, keras.layers.Conv2D)] == \
        [l.name for l in full.layers if isinstance(l, keras.layers.Conv2D)]


def test_count_flops_matches_hand_count() -> None:
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Conv2D(4, 3, padding="same")(inputs)  # 32*32*4 outputs x 27 MACs
    x = keras.layers.GlobalAveragePooling2D()(x)
    out = keras.layers.Dense(10)(x)  # 40 MACs
    model = keras.Model(inputs, out)
    assert cifar.count_flops(model) == 2 * (32 * 32 * 4 * 27 + 40)


def test_augmentation_keeps_shape_and_changes_images() -> None:
    x, _ = images(8)
    aug = cifar.augmentation(seed=1)
    out = np.asarray(aug(x.astype("float32"), training=True))
    assert out.shape == x.shape
    assert not np.array_equal(out, x)
    # every output pixel value comes from the input image (flip and whole-pixel shifts only)
    assert set(np.unique(out[0])) <= set(np.unique(x[0]).astype("float32"))
    np.testing.assert_array_equal(np.asarray(aug(x.astype("float32"), training=False)), x)


def test_make_dataset_eval_keeps_order_and_labels() -> None:
    x, y = images(10)
    ds = cifar.make_dataset(x, y, batch_size=4, training=False)
    batches = list(ds.as_numpy_iterator())
    assert [len(b[0]) for b in batches] == [4, 4, 2]
    xs = np.concatenate([b[0] for b in batches])
    ys = np.concatenate([b[1] for b in batches])
    assert xs.dtype == np.float32
    np.testing.assert_array_equal(xs, x.astype("float32"))
    np.testing.assert_array_equal(ys, y.ravel())


def test_make_dataset_training_shuffles_seeded_and_augments() -> None:
    x, y = images(64)
    first = next(iter(cifar.make_dataset(x, y, batch_size=64, training=True, seed=3)))
    again = next(iter(cifar.make_dataset(x, y, batch_size=64, training=True, seed=3)))
    np.testing.assert_array_equal(first[1].numpy(), again[1].numpy())  # same seed, same order
    assert not np.array_equal(first[1].numpy(), y.ravel())  # shuffled
    aug = next(iter(cifar.make_dataset(x, y, batch_size=64, training=True, augment=True, seed=3)))
    np.testing.assert_array_equal(aug[1].numpy(), first[1].numpy())
    assert not np.array_equal(aug[0].numpy(), first[0].numpy())  # augmented
    hot = next(iter(cifar.make_dataset(x, y, batch_size=64, training=False, one_hot=True)))
    np.testing.assert_array_equal(hot[1].numpy().argmax(axis=1), y.ravel())


def test_make_dataset_refuses_augmented_evaluation() -> None:
    x, y = images(4)
    with pytest.raises(ValueError, match="augment"):
        cifar.make_dataset(x, y, batch_size=2, training=False, augment=True)
    with pytest.raises(ValueError, match="labels"):
        cifar.make_dataset(x, y[:3], batch_size=2, training=True)


def test_one_cycle_schedule() -> None:
    sched = cifar.one_cycle(0.4, epochs=2, steps_per_epoch=50, warmup_fraction=0.25, start_fraction=0.1)
    lrs = np.array([float(sched(s)) for s in range(0, 101)])
    assert lrs[0] == pytest.approx(0.04)
    assert lrs.max() == pytest.approx(0.4) and lrs.argmax() == 25
    assert lrs[100] == pytest.approx(0.0, abs=1e-7)
    assert np.all(np.diff(lrs[:26]) > 0) and np.all(np.diff(lrs[25:]) < 0)
    again = cifar.OneCycle.from_config(sched.get_config())
    assert float(again(60)) == pytest.approx(float(sched(60)))
    assert sched.at_fraction(0.0) == pytest.approx(0.04)
    assert sched.at_fraction(0.25) == pytest.approx(0.4)
    assert sched.at_fraction(0.6) == pytest.approx(float(sched(60)))
    assert sched.at_fraction(1.0) == pytest.approx(0.0, abs=1e-7)


def test_tta_averages_flipped_logits() -> None:
    x, y = images(6)
    model = cifar.build_cnn(width=4)
    plain = model.predict(x, verbose=0)
    flipped = model.predict(x[:, :, ::-1], verbose=0)
    np.testing.assert_allclose(cifar.predict_tta(model, x), (plain + flipped) / 2, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(cifar.predict_tta(model, x, flip=False), plain, rtol=1e-6)
    acc = cifar.evaluate_tta(model, x, y)
    assert acc == pytest.approx(np.mean(((plain + flipped) / 2).argmax(1) == y.ravel()))


def test_patch_whitening_decorrelates_patches() -> None:
    rng = np.random.default_rng(0)
    # correlated images: a smooth random field (neighbouring pixels and channels move together) plus noise
    base = rng.normal(size=(400, 16, 16, 1)).repeat(2, axis=1).repeat(2, axis=2)
    x = np.clip(128 + 40 * base + 10 * rng.normal(size=(400, 32, 32, 3)), 0, 255)
    kernel = cifar.patch_whitening(x, eps=0.0)
    assert kernel.shape == (2, 2, 3, 24) and kernel.dtype == np.float32
    np.testing.assert_allclose(kernel[..., 12:], -kernel[..., :12])  # the negatives, for a ReLU after it
    z = (x / 255 - np.array(cifar.CIFAR10_MEAN)) / np.array(cifar.CIFAR10_STD)
    patches = z.reshape(400, 16, 2, 16, 2, 3).transpose(0, 1, 3, 2, 4, 5).reshape(-1, 12)
    assert np.abs(np.corrcoef(patches, rowvar=False)[0, 1]) > 0.5  # the input is correlated ...
    out = patches @ kernel[..., :12].reshape(12, 12)
    np.testing.assert_allclose(np.cov(out, rowvar=False), np.eye(12), atol=1e-3)  # ... the output is white
    with pytest.raises(ValueError, match="multiple of the patch size"):
        cifar.patch_whitening(x[:, :31, :31], patch=2)


def test_build_fast_cnn_shapes_and_fixed_whitening() -> None:
    x, _ = images(64)
    model = cifar.build_fast_cnn(x, widths=(8, 16, 32), num_classes=7)
    assert model.input_shape == (None, 32, 32, 3) and model.output_shape == (None, 7)
    whiten = model.get_layer("whiten")
    assert not whiten.trainable and whiten.output.shape[1:] == (16, 16, 24)
    np.testing.assert_allclose(whiten.kernel.numpy(), cifar.patch_whitening(x), rtol=1e-6)
    assert all(v.path != whiten.kernel.path for v in model.trainable_variables)
    assert cifar.count_flops(cifar.build_fast_cnn(x)) < cifar.count_flops(cifar.build_cnn()) / 2
    logits = model.predict(x[:4], verbose=0)
    assert logits.shape == (4, 7) and not np.allclose(logits.sum(axis=1), 1.0)


def test_build_fast_cnn_two_convs_per_stage() -> None:
    """The airbench-style variant: two convolutions per stage, the first before the pooling; momentum reaches BN."""
    x = np.random.default_rng(0).integers(0, 256, (64, 32, 32, 3), dtype=np.uint8)
    one = cifar.build_fast_cnn(x, widths=(8, 16, 32))
    two = cifar.build_fast_cnn(x, widths=(8, 16, 32), convs_per_stage=2, bn_momentum=0.6)
    assert two(x[:2].astype("float32")).shape == (2, 10)
    convs = [l for l in two.layers if isinstance(l, keras.layers.Conv2D) and l.name != "whiten"]
    assert [l.name for l in convs] == ["stage1a_conv", "stage1b_conv", "stage2a_conv", "stage2b_conv",
                                       "stage3a_conv", "stage3b_conv"]
    # stage 2's first convolution sees stage 1's 16x16 map; its pooling then halves it
    assert tuple(two.get_layer("stage2a_conv").output.shape[1:3]) == (16, 16)
    assert tuple(two.get_layer("stage2b_conv").output.shape[1:3]) == (8, 8)
    assert tuple(two.get_layer("stage3b_conv").output.shape[1:3]) == (4, 4)
    assert {l.momentum for l in two.layers if isinstance(l, keras.layers.BatchNormalization)} == {0.6}
    assert {l.momentum for l in one.layers if isinstance(l, keras.layers.BatchNormalization)} == {0.9}
    hand = (2 * 16 * 16 * 24 * 4 * 3 + 2 * 16 * 16 * 8 * 9 * 24 + 2 * 16 * 16 * 8 * 9 * 8
            + 2 * 16 * 16 * 16 * 9 * 8 + 2 * 8 * 8 * 16 * 9 * 16 + 2 * 8 * 8 * 32 * 9 * 16 + 2 * 4 * 4 * 32 * 9 * 32
            + 2 * 32 * 10)
    assert cifar.count_flops(two) == hand
    with pytest.raises(ValueError, match="convs_per_stage"):
        cifar.build_fast_cnn(x, convs_per_stage=3)
