"""Loading MNIST and CIFAR-10, from a local file or from ``keras.datasets``.

``load_mnist()`` and ``load_cifar10()`` return exactly what
``keras.datasets.mnist.load_data()`` and ``keras.datasets.cifar10.load_data()``
return: ``(x_train, y_train), (x_test, y_test)`` with uint8 images, MNIST
labels shaped ``(n,)`` and CIFAR-10 labels shaped ``(n, 1)``. The returned
tuple also carries ``.info`` (a :class:`DataInfo`): where the data came from,
how many images each split has, and the class names.

Where the data is looked for, in order:

1. the ``data_dir`` argument;
2. the directory in the environment variable ``COURSE_DATA_DIR``;
3. the repository's ``data/`` folder;
4. ``keras.datasets`` (the official files: downloaded once, then cached).

A directory named in 1 or 2 must hold the file: asking for a folder and
silently using something else would hide a mistake. A file that is there but
malformed raises :class:`DataError` naming the file and the problem. Nothing
here ever makes up synthetic data.

Taught in ``00_start_here``; used by every notebook that trains on real data.
"""

from __future__ import annotations

import os
import pathlib
import zipfile
from dataclasses import dataclass

import numpy as np

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
REPO_DATA_DIR = REPO_ROOT / "data"
ENV_VAR = "COURSE_DATA_DIR"

MNIST_CLASSES: tuple[str, ...] = tuple(str(d) for d in range(10))
CIFAR10_CLASSES: tuple[str, ...] = (
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
)
KEYS = ("x_train", "y_train", "x_test", "y_test")


class DataError(RuntimeError):
    """The data set could not be found, or a data file is malformed."""


@dataclass(frozen=True)
class DataInfo:
    """Where a data set came from and how big it is."""

    name: str
    source: str
    n_train: int
    n_test: int
    class_names: tuple[str, ...]
    official: bool

    def __str__(self) -> str:
        return f"{self.name}: {self.n_train:,} train / {self.n_test:,} test images from {self.source}"


class Loaded(tuple):
    """``((x_train, y_train), (x_test, y_test))`` with a ``.info`` attribute."""

    info: DataInfo

    def __new__(cls, train: tuple[np.ndarray, np.ndarray], test: tuple[np.ndarray, np.ndarray],
                info: DataInfo) -> "Loaded":
        self = super().__new__(cls, (train, test))
        self.info = info
        return self


@dataclass(frozen=True)
class _Spec:
    name: str
    filename: str
    image_shape: tuple[int, ...]
    label_shape: tuple[int, ...]  # label shape after the leading n
    class_names: tuple[str, ...]
    keras_module: str
    download_mb: int


_MNIST = _Spec("MNIST", "mnist.npz", (28, 28), (), MNIST_CLASSES, "mnist", 11)
_CIFAR10 = _Spec("CIFAR-10", "cifar10.npz", (32, 32, 3), (1,), CIFAR10_CLASSES, "cifar10", 163)


def _display_path(path: pathlib.Path) -> str:
    """A path relative to the repository when it lies inside it, so printed sources are stable."""
    try:
        return path.resolve().relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return str(path)


def _validate(spec: _Spec, arrays: dict[str, np.ndarray], where: str) -> None:
    missing = [k for k in KEYS if k not in arrays]
    if missing:
        raise DataError(
            f"{where} is not a {spec.name} file in Keras' layout: it lacks {', '.join(missing)} "
            f"(it has {', '.join(sorted(arrays)) or 'no arrays'}; expected {', '.join(KEYS)})."
        )
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.dtype != np.uint8:
            raise DataError(f"{where}: x_{split} has dtype {x.dtype}; expected uint8 pixels 0-255.")
        if x.ndim != 1 + len(spec.image_shape) or x.shape[1:] != spec.image_shape:
            raise DataError(
                f"{where}: x_{split} has shape {x.shape}; expected (n, {', '.join(map(str, spec.image_shape))})."
            )
        if y.shape != (len(x),) + spec.label_shape:
            expected = (len(x),) + spec.label_shape
            raise DataError(f"{where}: y_{split} has shape {y.shape}; expected {expected}, one label per image.")
        if not np.issubdtype(y.dtype, np.integer):
            raise DataError(f"{where}: y_{split} has dtype {y.dtype}; expected integer class labels.")
        if len(x) == 0:
            raise DataError(f"{where}: x_{split} is empty.")
        if y.min() < 0 or y.max() >= len(spec.class_names):
            raise DataError(
                f"{where}: y_{split} has labels from {y.min()} to {y.max()}; "
                f"expected 0 to {len(spec.class_names) - 1}."
            )


def _read_npz(spec: _Spec, path: pathlib.Path) -> tuple[dict[str, np.ndarray], str]:
    where = _display_path(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        raise DataError(
            f"{where} could not be read as a .npz file ({type(exc).__name__}: {exc}). "
            f"It may be truncated or corrupt: delete it and write it again "
            f"(on the course machines: python ../shared/data/materialize.py data/)."
        ) from exc
    _validate(spec, arrays, where)
    return arrays, where


def _from_keras(spec: _Spec, looked_in: list[str]) -> tuple[dict[str, np.ndarray], str]:
    import keras

    module = getattr(keras.datasets, spec.keras_module)
    try:
        (x_train, y_train), (x_test, y_test) = module.load_data()
    except Exception as exc:  # noqa: BLE001 - any download failure gets the same advice
        places = "\n".join(f"  - {p}" for p in looked_in)
        raise DataError(
            f"{spec.name} is not available.\n"
            f"No local copy was found; looked in:\n{places}\n"
            f"and keras.datasets.{spec.keras_module}.load_data() failed to download it "
            f"({type(exc).__name__}: {exc}).\n"
            f"To fix this, do one of:\n"
            f"  - connect to the internet and run again (Keras downloads about {spec.download_mb} MB once);\n"
            f"  - put {spec.filename} (arrays {', '.join(KEYS)} in Keras' layout) in the repository's data/ folder;\n"
            f"  - put it in another folder and set {ENV_VAR} to that folder, or pass data_dir=...;\n"
            f"  - on the course's offline machines: python ../shared/data/materialize.py data/"
        ) from exc
    arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    where = f"keras.datasets.{spec.keras_module} (official files)"
    _validate(spec, arrays, where)
    return arrays, where


def _load(spec: _Spec, data_dir: str | os.PathLike | None, verbose: bool) -> Loaded:
    explicit = [("data_dir argument", data_dir), (f"${ENV_VAR}", os.environ.get(ENV_VAR) or None)]
    arrays = where = None
    for label, folder in explicit:
        if folder is None:
            continue
        path = pathlib.Path(folder).expanduser() / spec.filename
        if not path.is_file():
            raise DataError(
                f"{spec.name}: {path} does not exist, but the {label} names {folder}. "
                f"Put {spec.filename} there (arrays {', '.join(KEYS)} in Keras' layout), "
                f"or unset it to use data/ or keras.datasets."
            )
        arrays, where = _read_npz(spec, path)
        break
    if arrays is None:
        local = REPO_DATA_DIR / spec.filename
        if local.is_file():
            arrays, where = _read_npz(spec, local)
        else:
            arrays, where = _from_keras(spec, [f"{local} (missing)", f"${ENV_VAR} (not set)"])
    info = DataInfo(
        name=spec.name,
        source=where,
        n_train=len(arrays["x_train"]),
        n_test=len(arrays["x_test"]),
        class_names=spec.class_names,
        official=where.startswith("keras.datasets"),
    )
    if verbose:
        print(info)
    as_keras = {k: (v.astype(np.uint8) if k.startswith("y") else v) for k, v in arrays.items()}
    return Loaded((as_keras["x_train"], as_keras["y_train"]), (as_keras["x_test"], as_keras["y_test"]), info)


def load_mnist(data_dir: str | os.PathLike | None = None, verbose: bool = True) -> Loaded:
    """Load MNIST as ``keras.datasets.mnist.load_data()`` returns it.

    Args:
        data_dir: a folder holding ``mnist.npz``; see the module docstring for
            the order in which sources are tried when it is None.
        verbose: print one line saying where the data came from and how many
            images each split has.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: uint8 images (n, 28, 28)
        and uint8 labels (n,). ``.info`` on the result is a :class:`DataInfo`.

    Raises:
        DataError: no source has the data, or a file is malformed.
    """
    return _load(_MNIST, data_dir, verbose)


def load_cifar10(data_dir: str | os.PathLike | None = None, verbose: bool = True) -> Loaded:
    """Load CIFAR-10 as ``keras.datasets.cifar10.load_data()`` returns it.

    Args:
        data_dir: a folder holding ``cifar10.npz``; see the module docstring for
            the order in which sources are tried when it is None.
        verbose: print one line saying where the data came from and how many
            images each split has.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``: uint8 images (n, 32, 32, 3)
        and uint8 labels (n, 1). ``.info`` on the result is a :class:`DataInfo`
        whose ``class_names`` name the ten classes.

    Raises:
        DataError: no source has the data, or a file is malformed.
    """
    return _load(_CIFAR10, data_dir, verbose)
