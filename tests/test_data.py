"""helpers.data: source order, the missing-data error and bad files."""

from __future__ import annotations

import pathlib
import types

import numpy as np
import pytest

from helpers import data
from helpers.data import DataError, load_cifar10, load_mnist


def mnist_arrays(n_train: int = 6, n_test: int = 4, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, n_train).astype(np.uint8),
        "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, n_test).astype(np.uint8),
    }


def cifar_arrays(n_train: int = 5, n_test: int = 3) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1)
    return {
        "x_train": rng.integers(0, 256, (n_train, 32, 32, 3), dtype=np.uint8),
        "y_train": rng.integers(0, 10, (n_train, 1)).astype(np.uint8),
        "x_test": rng.integers(0, 256, (n_test, 32, 32, 3), dtype=np.uint8),
        "y_test": rng.integers(0, 10, (n_test, 1)).astype(np.uint8),
    }


def write(folder: pathlib.Path, name: str, arrays: dict[str, np.ndarray]) -> pathlib.Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    np.savez(path, **arrays)
    return path


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No COURSE_DATA_DIR, an empty repo data/ folder, and a keras.datasets that must not be reached."""
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    repo_data = tmp_path / "repo_data"
    repo_data.mkdir()
    monkeypatch.setattr(data, "REPO_DATA_DIR", repo_data)
    calls = []

    def offline():
        calls.append(1)
        raise OSError("no internet here (test)")

    fake = types.SimpleNamespace(mnist=types.SimpleNamespace(load_data=offline),
                                 cifar10=types.SimpleNamespace(load_data=offline))
    import keras

    monkeypatch.setattr(keras, "datasets", fake)
    return types.SimpleNamespace(tmp=tmp_path, repo_data=repo_data, keras_calls=calls, fake=fake)


def test_explicit_dir_wins_over_everything(isolated, monkeypatch, capsys):
    write(isolated.tmp / "explicit", "mnist.npz", mnist_arrays(n_train=7))
    write(isolated.tmp / "env", "mnist.npz", mnist_arrays(n_train=8))
    write(isolated.repo_data, "mnist.npz", mnist_arrays(n_train=9))
    monkeypatch.setenv("COURSE_DATA_DIR", str(isolated.tmp / "env"))
    loaded = load_mnist(isolated.tmp / "explicit")
    assert loaded.info.n_train == 7
    assert loaded.info.source.endswith("explicit/mnist.npz")
    assert "MNIST: 7 train / 4 test images from" in capsys.readouterr().out


def test_env_var_comes_before_repo_data(isolated, monkeypatch):
    write(isolated.tmp / "env", "mnist.npz", mnist_arrays(n_train=8))
    write(isolated.repo_data, "mnist.npz", mnist_arrays(n_train=9))
    monkeypatch.setenv("COURSE_DATA_DIR", str(isolated.tmp / "env"))
    assert load_mnist(verbose=False).info.n_train == 8


def test_repo_data_comes_before_keras(isolated):
    write(isolated.repo_data, "mnist.npz", mnist_arrays(n_train=9))
    assert load_mnist(verbose=False).info.n_train == 9
    assert not isolated.keras_calls


def test_keras_datasets_is_the_last_resort(isolated):
    arrays = mnist_arrays(n_train=3)
    isolated.fake.mnist.load_data = lambda: ((arrays["x_train"], arrays["y_train"]),
                                             (arrays["x_test"], arrays["y_test"]))
    loaded = load_mnist(verbose=False)
    assert loaded.info.official
    assert loaded.info.source == "keras.datasets.mnist (official files)"
    assert loaded.info.n_train == 3


def test_returns_keras_layout(isolated):
    arrays = mnist_arrays()
    write(isolated.repo_data, "mnist.npz", arrays)
    (x_train, y_train), (x_test, y_test) = load_mnist(verbose=False)
    assert x_train.dtype == np.uint8 and x_train.shape == (6, 28, 28)
    assert y_train.dtype == np.uint8 and y_train.shape == (6,)
    np.testing.assert_array_equal(x_test, arrays["x_test"])
    np.testing.assert_array_equal(y_test, arrays["y_test"])


def test_cifar10_layout_and_class_names(isolated):
    write(isolated.repo_data, "cifar10.npz", cifar_arrays())
    loaded = load_cifar10(verbose=False)
    (x_train, y_train), _ = loaded
    assert x_train.shape == (5, 32, 32, 3) and y_train.shape == (5, 1)
    assert loaded.info.class_names[0] == "airplane" and len(loaded.info.class_names) == 10
    assert not loaded.info.official


def test_missing_everywhere_gives_one_clear_error(isolated):
    with pytest.raises(DataError) as err:
        load_mnist()
    message = str(err.value)
    assert isolated.keras_calls, "keras.datasets should have been tried"
    assert "mnist.npz" in message and "COURSE_DATA_DIR" in message
    assert "materialize.py" in message and "internet" in message


def test_named_folder_without_the_file_is_an_error(isolated, monkeypatch):
    write(isolated.repo_data, "mnist.npz", mnist_arrays())
    monkeypatch.setenv("COURSE_DATA_DIR", str(isolated.tmp / "nowhere"))
    with pytest.raises(DataError, match="COURSE_DATA_DIR"):
        load_mnist()
    with pytest.raises(DataError, match="data_dir argument"):
        load_cifar10(isolated.tmp / "nowhere")


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda a: a.pop("y_test"), "lacks y_test"),
        (lambda a: a.update(x_train=a["x_train"].astype(np.float32)), "dtype float32"),
        (lambda a: a.update(x_train=a["x_train"][:, :27]), r"shape \(6, 27, 28\)"),
        (lambda a: a.update(y_train=a["y_train"][:-1]), "one label per image"),
        (lambda a: a.update(y_test=a["y_test"] + 10), "labels from"),
        (lambda a: a.update(y_train=a["y_train"].astype(np.float64)), "integer class labels"),
    ],
    ids=["wrong-keys", "wrong-dtype", "wrong-shape", "label-count", "labels-out-of-range", "float-labels"],
)
def test_bad_files_are_named_with_the_problem(isolated, change, message):
    arrays = mnist_arrays()
    change(arrays)
    write(isolated.repo_data, "mnist.npz", arrays)
    with pytest.raises(DataError, match=message) as err:
        load_mnist()
    assert "mnist.npz" in str(err.value)
    assert not isolated.keras_calls, "a bad local file must not fall back to another source"


def test_cifar_labels_must_be_column_vectors(isolated):
    arrays = cifar_arrays()
    arrays["y_train"] = arrays["y_train"].ravel()
    write(isolated.repo_data, "cifar10.npz", arrays)
    with pytest.raises(DataError, match=r"expected \(5, 1\)"):
        load_cifar10()


@pytest.mark.parametrize("cut", [0.5, 0.0], ids=["truncated", "empty"])
def test_truncated_or_corrupt_file(isolated, cut):
    path = write(isolated.repo_data, "mnist.npz", mnist_arrays())
    raw = path.read_bytes()
    path.write_bytes(raw[: int(len(raw) * cut)])
    with pytest.raises(DataError, match="truncated or corrupt"):
        load_mnist()


def test_garbage_file(isolated):
    (isolated.repo_data / "mnist.npz").write_bytes(b"this is not a zip file at all" * 10)
    with pytest.raises(DataError, match="mnist.npz"):
        load_mnist()


def test_display_path_is_relative_inside_the_repo():
    assert data._display_path(data.REPO_ROOT / "data" / "mnist.npz") == "data/mnist.npz"
    assert data._display_path(pathlib.Path("/elsewhere/mnist.npz")) == "/elsewhere/mnist.npz"
