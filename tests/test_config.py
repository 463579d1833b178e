"""The test command's own configuration: empty selections fail, sanitizers mask only what varies."""

from __future__ import annotations

import configparser
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


def test_sanitizers_mask_float64_round_off_only():
    a = "Adam vs Keras: max relative error 2.5e-15 (should be < 1e-06) OK"
    b = "Adam vs Keras: max relative error 4.1e-16 (should be < 1e-06) OK"
    assert sanitize(a) == sanitize(b)
    assert sanitize(a) != sanitize(b.replace(") OK", ") FAILED"))  # the verdict is still compared
    assert sanitize("error 2.0e-12") != sanitize("error 3.0e-12")  # above round-off: compared


def test_sanitizers_leave_results_alone():
    for text in ("conv backward: max relative error 3.1e-11 (should be < 1e-07) OK",
                 "MNIST: 5,000 train / 10,000 test images from data/mnist.npz",
                 "test accuracy 97.6%"):
        assert sanitize(text) == text
