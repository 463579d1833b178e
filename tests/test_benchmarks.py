"""Smoke test for the benchmark scripts in tests/benchmarks (the full runs are not part of CI)."""

from __future__ import annotations

import pathlib
import subprocess
import sys

BENCHMARKS = pathlib.Path(__file__).resolve().parent / "benchmarks"


def test_cifar10_speed_runs_on_a_tiny_subset() -> None:
    """Both models train one epoch on 256 images and the summary table is printed."""
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / "cifar10_speed.py"), "--train-size", "256", "--test-size", "128",
         "--tutorial-epochs", "1", "--ours-epochs", "1", "--batch-size", "128", "--evals-per-epoch", "2", "--target", "0"],
        capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "Using 256 train / 128 test images" in out
    assert "ours: build_fast_cnn()" in out and "tutorial: TF CNN tutorial model" in out
    assert "Time to 0% test accuracy" in out
    assert "ratio ours / tutorial" in out
    assert "Traceback" not in result.stderr
