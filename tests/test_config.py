"""The test command's own configuration: empty selections fail, sanitizers mask only what varies."""

from __future__ import annotations

import configparser
import json
import os
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_empty_selection_fails():
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-k", "no_test_has_this_name", "tests/test_config.py"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode not in (0, 5), result.stdout
    assert "No tests were collected" in result.stdout


def sanitize(text: str) -> str:
    parser = configparser.ConfigParser()
    parser.read(ROOT / "nbval_sanitize.cfg")
    for section in parser.sections():
        text = re.sub(parser[section]["regex"], parser[section]["replace"], text)
    return text


def test_sanitizers_mask_setup_lines_and_timings():
    cpu = "Profile: cpu (default without a GPU)\nHardware: 2 CPU cores, no GPU\n40/40 - 3s - 75ms/step - loss: 0.3"
    quick = "Profile: quick (set by COURSE_PROFILE)\nHardware: 8 CPU cores, 1 GPU\n40/40 - 1s - 12ms/step - loss: 0.3"
    assert sanitize(cpu) == sanitize(quick)


def test_sanitizers_mask_error_magnitudes_but_not_verdicts():
    """Another CPU changes the digits of an error, never the verdict beside it."""
    here = "conv backward: max relative error 1.5e-10 (should be < 1e-07) OK"
    other_cpu = "conv backward: max relative error 3.5e-10 (should be < 1e-07) OK"
    assert sanitize(here) == sanitize(other_cpu)
    assert sanitize("max relative error 0.0e+00") == sanitize("max relative error 2.5e-16")
    assert sanitize("W1: max absolute error 3.8e-09") == sanitize("W1: max absolute error 2.8e-09")
    # a check that now fails must still fail the comparison, whatever its magnitude
    assert sanitize(here) != sanitize(other_cpu.replace(") OK", ") FAILED"))
    assert sanitize(here) != sanitize("conv backward: not implemented yet")
    # the threshold is compared: loosening a check is a visible change
    assert sanitize(here) != sanitize(here.replace("< 1e-07", "< 1e-03"))


def test_sanitizers_leave_results_alone():
    for text in ("conv backward: OK (should be < 1e-07)",
                 "best learning rate 3e-03, 12 of 20 runs reached the target",
                 "MNIST: 5,000 train / 10,000 test images from data/mnist.npz",
                 "test accuracy 97.6%"):
        assert sanitize(text) == text


def _run_nbval_on(tmp_path: pathlib.Path, printed: str, stored: str) -> subprocess.CompletedProcess:
    """Run nbval with the course's sanitizers on a one-cell notebook whose stored output is `stored`."""
    nb = {"cells": [{"cell_type": "code", "execution_count": 1, "id": "c1", "metadata": {},
                     "source": f"print({printed!r})",
                     "outputs": [{"output_type": "stream", "name": "stdout", "text": stored + "\n"}]}],
          "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
          "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "check.ipynb").write_text(json.dumps(nb))
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval", "--nbval-current-env",
         f"--nbval-sanitize-with={ROOT / 'nbval_sanitize.cfg'}", "--rootdir", str(tmp_path), "-c", os.devnull,
         str(tmp_path / "check.ipynb")],
        cwd=tmp_path, capture_output=True, text=True, timeout=300)


def test_nbval_ignores_magnitude_but_fails_on_verdict(tmp_path):
    """End to end through nbval: other digits pass, another verdict fails."""
    stored = "dx: max relative error 1.5e-10 (should be < 1e-07) OK"
    same = _run_nbval_on(tmp_path, stored.replace("1.5e-10", "3.5e-10"), stored)
    assert same.returncode == 0, same.stdout[-2000:]
    failed = _run_nbval_on(tmp_path, stored.replace("1.5e-10", "3.5e-01").replace(") OK", ") FAILED"), stored)
    assert failed.returncode == 1 and "FAILED" in failed.stdout, failed.stdout[-2000:]


def test_sanitizers_mask_figure_pixels_not_panels():
    assert sanitize("<Figure size 900x360 with 1 Axes>") == sanitize("<Figure size 720x288 with 1 Axes>")
    assert sanitize("<Figure size 900x360 with 1 Axes>") != sanitize("<Figure size 900x360 with 2 Axes>")
