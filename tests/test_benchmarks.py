"""Smoke tests for the benchmark scripts in tests/benchmarks (the full runs are not part of CI)."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest

BENCHMARKS = pathlib.Path(__file__).resolve().parent / "benchmarks"
TINY = ["--train-size", "256", "--test-size", "128", "--tutorial-epochs", "1", "--ours-epochs", "1",
        "--batch-size", "128", "--evals-per-epoch", "2", "--target", "0"]


def run_speed(*extra: str) -> str:
    result = subprocess.run([sys.executable, str(BENCHMARKS / "cifar10_speed.py"), *TINY, *extra],
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    return result.stdout


@pytest.mark.parametrize("model, name", [("fast", "ours: build_fast_cnn()"),
                                         ("resnet9", "ours: build_cnn(width=16)")])
def test_cifar10_speed_runs_on_a_tiny_subset(model: str, name: str) -> None:
    """Both models train one epoch on 256 images; the summary names the CPU's instruction set."""
    out = run_speed("--model", model)
    assert "Using 256 train / 128 test images" in out
    assert name in out and "tutorial: TF CNN tutorial model" in out
    assert "Time to 0% test accuracy" in out
    ratio = next(line for line in out.splitlines() if "ratio ours / tutorial" in line)
    assert any(isa in ratio for isa in ("AVX-512", "AVX2", "no AVX2", "instruction set unknown")), ratio
    assert "ONEDNN_MAX_CPU_ISA" in ratio
    assert out.count("CPU: ") == 1


def test_cpu_description_names_the_instruction_set_and_the_onednn_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """The ratio is printed beside the CPU's instruction set, and an emulated (limited) one says so."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("cifar10_speed", BENCHMARKS / "cifar10_speed.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    assert "ONEDNN_MAX_CPU_ISA not set" in module.cpu_description()
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
    text = module.cpu_description()
    assert text.endswith("ONEDNN_MAX_CPU_ISA=AVX2")
    assert any(isa in text for isa in ("AVX-512", "AVX2", "no AVX2", "instruction set unknown"))
