"""The pilot runs behind notebook 07's choice of network for its fifteen-minute run (section 9).

Usage (from the repository's top folder, under the CPU lock on shared machines):

    python results/07_fast_training_cpu/pilot.py MODEL EPOCHS [--batch 256] [--peak 0.2] [--tput]

Trains MODEL for EPOCHS epochs of notebook 04's recipe (Nesterov SGD, one-cycle over the epochs, label
smoothing 0.2, flips and 4-pixel shifts, batch 256, peak 0.2) on 45,000 training images and scores it on
the 5,000-image validation split of notebook 07 (the same seeded permutation): after every epoch, and with flip
TTA at the end. The test set is not loaded for scoring. MODEL is ``cnn16`` (notebook 04's ``build_cnn(16)``) or
``air48`` (``build_air`` below: the same layout as ``cifar.build_fast_cnn(widths=(48, 96, 192),
convs_per_stage=2)``, 79.8 MFLOPs and 658,090 parameters). The logs of the two runs are stored beside this
file as ``pilot_<MODEL>.json``; notebook 07 prints them.
"""
import argparse, os, pathlib, sys, time, math
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))  # the repository
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import keras, numpy as np, tensorflow as tf
from keras import layers
from helpers import cifar, load_cifar10

def conv_bn(x, f, name, wd=5e-4, act="relu", bn_m=0.9, pool=False):
    reg = keras.regularizers.L2(wd / 2)
    x = layers.Conv2D(f, 3, padding="same", use_bias=False, kernel_initializer="he_normal",
                      kernel_regularizer=reg, name=name + "_conv")(x)
    if pool:
        x = layers.MaxPooling2D(2, name=name + "_pool")(x)
    x = layers.BatchNormalization(momentum=bn_m, name=name + "_bn")(x)
    return layers.Activation(act, name=name + "_act")(x)

def build_air(whiten_images, widths=(64, 128, 256), act="relu", bn_m=0.9, stride2=True):
    kernel = cifar.patch_whitening(whiten_images)
    inp = keras.Input((32, 32, 3))
    x = layers.Rescaling(1 / 255)(inp)
    x = layers.Normalization(mean=list(cifar.CIFAR10_MEAN), variance=[s * s for s in cifar.CIFAR10_STD])(x)
    w = layers.Conv2D(kernel.shape[-1], 2, strides=2, use_bias=False, trainable=False, name="whiten")
    x = layers.Activation(act)(w(x)); w.kernel.assign(kernel)
    for i, f in enumerate(widths):
        x = conv_bn(x, f, f"b{i}a", act=act, bn_m=bn_m, pool=i > 0)
        x = conv_bn(x, f, f"b{i}b", act=act, bn_m=bn_m)
    x = layers.GlobalMaxPooling2D()(x)
    x = layers.Dense(10, kernel_regularizer=keras.regularizers.L2(2.5e-4))(x)
    x = layers.Rescaling(0.125)(x)
    return keras.Model(inp, x, name="air")

def build(name, x):
    if name == "cnn16": return cifar.build_cnn(width=16)
    if name == "air": return build_air(x[:5000])
    if name == "air48": return build_air(x[:5000], widths=(48, 96, 192))
    if name == "air96": return build_air(x[:5000], widths=(96, 192, 384))
    if name == "fast": return cifar.build_fast_cnn(x[:5000])
    raise SystemExit(name)

p = argparse.ArgumentParser()
p.add_argument("model"); p.add_argument("epochs", type=int)
p.add_argument("--batch", type=int, default=256); p.add_argument("--peak", type=float, default=0.2)
p.add_argument("--ls", type=float, default=0.2); p.add_argument("--tput", action="store_true")
p.add_argument("--ema", action="store_true")
a = p.parse_args()
keras.utils.set_random_seed(0); tf.config.experimental.enable_op_determinism()
(xa, ya), _ = load_cifar10()
perm = np.random.default_rng(0).permutation(len(xa)); vi, ti = perm[:5000], perm[5000:]
x, y, xv, yv = xa[ti], ya[ti], xa[vi], ya[vi]
m = build(a.model, x)
print(a, f"{cifar.count_flops(m)/1e6:.1f} MFLOPs, {m.count_params():,} params", flush=True)
spe = cifar.steps_per_epoch(len(x), a.batch)
opt = keras.optimizers.SGD(cifar.one_cycle(a.peak, a.epochs, spe), momentum=0.9, nesterov=True,
                           use_ema=a.ema, ema_momentum=0.99)
m.compile(optimizer=opt, loss=keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=a.ls),
          metrics=["accuracy"])
train = cifar.make_dataset(x, y, batch_size=a.batch, training=True, augment=True, one_hot=True)
if a.tput:
    t = train.take(40).cache(); list(t)
    m.fit(t.take(5), verbose=0)
    t0 = time.perf_counter(); m.fit(t, verbose=0); s = time.perf_counter() - t0
    print(f"TPUT {a.model}: {s:.3f} s, {40 * a.batch / s:,.0f} images/s, epoch of 50k = {50000 / (40 * a.batch / s):.0f} s")
    sys.exit()
val = cifar.make_dataset(xv, yv, batch_size=1000, training=False, one_hot=True)
t0 = time.perf_counter()
class P(keras.callbacks.Callback):
    def on_epoch_end(self, e, logs=None):
        print(f"epoch {e+1} {time.perf_counter()-t0:6.0f} s  val {logs['val_accuracy']:.4f} load {os.getloadavg()[0]:.1f}", flush=True)
m.fit(train, epochs=a.epochs, validation_data=val, verbose=0, callbacks=[P()])
print(f"FINAL {a.model} ep {a.epochs}: val {m.evaluate(val, verbose=0)[1]:.4f} tta {cifar.evaluate_tta(m, xv, yv, batch_size=1000):.4f} "
      f"time {time.perf_counter()-t0:.0f}", flush=True)
