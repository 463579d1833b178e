"""helpers.profiles, helpers.course, helpers.checks, helpers.plots and helpers.template."""

from __future__ import annotations

import json
import os
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from helpers import checks, course, plots, profiles, template  # noqa: E402


@pytest.fixture(autouse=True)
def _no_show(monkeypatch):
    """Keep figures open after plt.show() so the tests can inspect them."""
    monkeypatch.setattr(plt, "show", lambda *a, **k: None)
    yield
    plt.close("all")


# --- profiles ---------------------------------------------------------------

def test_profile_from_environment(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "Quick")
    assert profiles.active_profile() == "quick"
    assert profiles.choose(quick=1, cpu=2, full=3) == 1


def test_profile_default_depends_on_gpu(monkeypatch):
    monkeypatch.delenv("COURSE_PROFILE", raising=False)
    monkeypatch.setattr(profiles, "gpu_available", lambda: False)
    assert profiles.active_profile() == "cpu"
    monkeypatch.setattr(profiles, "gpu_available", lambda: True)
    assert profiles.active_profile() == "full"


def test_unknown_profile_is_an_error(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "fast")
    with pytest.raises(ValueError, match="quick, cpu, full"):
        profiles.active_profile()
    with pytest.raises(ValueError):
        profiles.choose(quick=1, cpu=2, full=3, profile="gpu")


def test_choose_with_explicit_profile():
    assert profiles.choose(quick="q", cpu="c", full="f", profile="full") == "f"


# --- course.start and version checks ------------------------------------------

def test_version_checks():
    ok = dict(course.TESTED_VERSIONS)
    assert course.check_versions(ok) == []
    with pytest.raises(RuntimeError, match="Keras 3"):
        course.check_versions({**ok, "keras": "2.15.0"})
    with pytest.raises(RuntimeError, match="2.16"):
        course.check_versions({**ok, "tensorflow": "2.15.1"})
    assert any("numpy 1.26.4" in w for w in course.check_versions({**ok, "numpy": "1.26.4"}))


def test_legacy_keras_flag_is_refused(monkeypatch):
    monkeypatch.setenv("TF_USE_LEGACY_KERAS", "1")
    with pytest.raises(RuntimeError, match="TF_USE_LEGACY_KERAS"):
        course.check_versions(dict(course.TESTED_VERSIONS))


def test_start_prints_profile_hardware_versions(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_PROFILE", "quick")
    assert course.start(seed=3, deterministic=False) == "quick"
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Profile: quick (set by COURSE_PROFILE)")
    assert out[1].startswith(f"Hardware: {os.cpu_count()} CPU cores")
    assert out[2].startswith("Versions: Python ")
    first = np.random.rand()
    course.start(seed=3, deterministic=False)
    assert np.random.rand() == first, "start(seed) must seed NumPy's global generator"


def test_quiet_stderr_silences_file_descriptor_2(capfd):
    with course.quiet_stderr():
        os.write(2, b"noise from C++\n")
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "after\n"


# --- checks -------------------------------------------------------------------

def test_rel_error():
    assert checks.rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.0
    assert checks.rel_error(np.array([1.0]), np.array([3.0])) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        checks.rel_error(np.zeros(2), np.zeros(3))


def test_numerical_gradient_matches_known_gradient():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    grad = checks.numerical_gradient(lambda: float(np.sum(x ** 3)), x)
    np.testing.assert_allclose(grad, 3 * x ** 2, rtol=1e-8)
    np.testing.assert_array_equal(x, [[1.0, -2.0], [0.5, 3.0]])  # restored


def test_numerical_gradient_refuses_float32():
    with pytest.raises(TypeError, match="float64"):
        checks.numerical_gradient(lambda: 0.0, np.zeros(2, dtype=np.float32))


def test_check_close_passes_and_fails(capsys):
    err = checks.check_close("same", np.ones(3), np.ones(3) * (1 + 1e-10), tol=1e-7)
    assert err < 1e-7
    assert "same: max relative error" in capsys.readouterr().out
    with pytest.raises(AssertionError, match="not below"):
        checks.check_close("different", np.ones(3), np.ones(3) * 1.1, tol=1e-7)
    assert "FAILED" in capsys.readouterr().out
    with pytest.raises(AssertionError):
        checks.check_close("abs", np.zeros(2), np.full(2, 1e-3), tol=1e-5, measure="absolute")


# --- plots --------------------------------------------------------------------

def test_show_images_titles_and_marks_mistakes():
    images = np.zeros((3, 28, 28), dtype=np.uint8)
    plots.show_images(images, labels=[1, 2, 3], predictions=[1, 5, 3], confidences=[0.9, 0.6, 0.8], ncols=3)
    axes = plt.gcf().axes
    assert [a.get_title().split("\n")[0] for a in axes] == ["1", "2", "3"]
    assert axes[1].title.get_color() == "#D55E00" and axes[0].title.get_color() == "black"
    assert "pred 5 60%" in axes[1].get_title()


def test_show_images_needs_images():
    with pytest.raises(ValueError):
        plots.show_images(np.zeros((0, 28, 28)))


def test_plot_history_draws_train_and_validation():
    history = {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7], "accuracy": [0.5, 0.8], "val_accuracy": [0.4, 0.7]}
    plots.plot_history({"a": history, "b": history})
    loss_ax, acc_ax = plt.gcf().axes
    assert len(loss_ax.lines) == 4 and len(acc_ax.lines) == 4
    assert [t.get_text() for t in loss_ax.get_legend().get_texts()][:2] == ["a train", "a validation"]
    assert (loss_ax.get_yscale(), loss_ax.get_ylabel()) == ("log", "loss (log scale)")
    assert (acc_ax.get_yscale(), acc_ax.get_ylabel()) == ("linear", "accuracy")


def test_plot_history_accepts_a_single_history_and_bands():
    history = {"loss": [1.0, 0.5, 0.4]}
    band = (np.array([0.9, 0.4, 0.3]), np.array([1.1, 0.6, 0.5]))
    plots.plot_history(history, metrics=("loss",), bands={"": {"loss": band}})
    ax = plt.gcf().axes[0]
    assert len(ax.lines) == 1 and len(ax.collections) == 1


def test_confusion_matrix_counts():
    m = plots.confusion_matrix(np.array([0, 0, 1, 2]), np.array([0, 1, 1, 2]), 3)
    np.testing.assert_array_equal(m, [[1, 1, 0], [0, 1, 0], [0, 0, 1]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        drawn = plots.plot_confusion_matrix([0, 1], [1, 1], ["a", "b"])
    np.testing.assert_array_equal(drawn, [[0, 1], [0, 1]])


# --- template -----------------------------------------------------------------

def test_badge_points_at_the_notebook():
    url = template.colab_url("03_x.ipynb")
    assert url.endswith(f"{template.GITHUB_REPO}/blob/main/notebooks/03_x.ipynb")
    assert url in template.badge("03_x.ipynb")


def test_setup_cell_names_the_repository_once():
    assert template.SETUP_CELL.count(template.GITHUB_REPO) == 1
    compile(template.SETUP_CELL, "setup", "exec")


def test_stamp_rewrites_badge_and_setup(tmp_path):
    nb = {"cells": [
        {"cell_type": "markdown", "metadata": {}, "source": [
            "# T\n", "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://old)\n"]},
        {"cell_type": "code", "metadata": {}, "source": ["# Setup: the same cell (old)\n"], "outputs": [],
         "execution_count": 1},
    ], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "07_demo.ipynb"
    path.write_text(json.dumps(nb))
    assert template.stamp(path) is True
    cells = json.loads(path.read_text())["cells"]
    assert template.badge("07_demo.ipynb") in "".join(cells[0]["source"])
    assert "".join(cells[1]["source"]) == template.SETUP_CELL
    assert template.stamp(path) is False


def test_check_close_refuses_all_zero_comparisons():
    """A gradient check on entries that are zero in both cannot fail, so it must not pass."""
    with pytest.raises(AssertionError, match="all zero"):
        checks.check_close("corner pixels", np.zeros(5), np.zeros(5), tol=1e-6)
    assert checks.check_close("one non-zero", np.array([0.0, 1.0]), np.array([0.0, 1.0]), tol=1e-6) == 0.0


def test_course_colours_are_fixed_per_name():
    assert plots.color("Adam") == plots.color("adam") == plots.color("Adam + warmup/cosine")
    assert plots.color("SGD+momentum") == plots.color("momentum") != plots.color("SGD")
    assert len({plots.color(n) for n in ("SGD", "momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam", "AdamW")}) == 7
    assert plots.color("some new model") == plots.color("some new model")
    assert plots.color("SGD, lr=0.45") == plots.color("SGD") and plots.color("Adam (beta1=0.5)") == plots.color("Adam")


def test_confusion_matrix_shows_errors_only_by_default():
    m = plots.plot_confusion_matrix([0, 0, 1, 1], [0, 1, 1, 1], ["a", "b"])
    assert m.tolist() == [[1, 1], [0, 2]]  # counts keep the diagonal
    texts = [(t.get_position(), t.get_text()) for t in plt.gcf().axes[0].texts]
    assert texts == [((1, 0), "1"), ((0, 1), "0")]  # the mistake and the zero; the diagonal stays blank


def test_confusion_matrix_has_a_labelled_colour_bar():
    plots.plot_confusion_matrix([0, 0, 1, 1], [0, 1, 1, 1], ["a", "b"])
    main, bar = plt.gcf().axes
    assert bar.get_ylabel() == "fraction of the true class"
    assert bar.get_ylim() == pytest.approx((0, 0.5))  # the shading spans the mistakes only
