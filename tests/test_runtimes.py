"""helpers.runtimes: notebook 00's run-time prediction."""

from __future__ import annotations

import pathlib

import pytest

from helpers import runtimes

NOTEBOOKS = sorted(p.stem for p in (pathlib.Path(__file__).parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_every_notebook_has_a_reference_time():
    assert sorted(runtimes.REFERENCE) == NOTEBOOKS
    assert all(work.total_s > 0 for work in runtimes.REFERENCE.values())
    assert min(runtimes.REFERENCE_PROBE.gflops, runtimes.REFERENCE_PROBE.cnn_images_per_s,
               runtimes.REFERENCE_PROBE.python_mops) > 0
    assert sorted(runtimes.EMULATED_AVX2) == NOTEBOOKS


def test_prediction_scales_each_part_by_its_own_rate():
    reference = runtimes.Probe(gflops=100.0, cnn_images_per_s=1000.0, python_mops=50.0)
    work = runtimes.Work(cnn_s=60.0, matmul_s=30.0, python_s=10.0, fixed_s=900.0)
    assert runtimes.predict_seconds(work, reference, reference) == pytest.approx(1000.0)
    # half the GFLOP/s, a quarter of the images/s, a fifth of the Python speed; the fixed budget stays
    slower = runtimes.Probe(gflops=50.0, cnn_images_per_s=250.0, python_mops=10.0)
    assert runtimes.predict_seconds(work, slower, reference) == pytest.approx(900.0 + 240.0 + 60.0 + 50.0)
    with pytest.raises(ValueError):
        runtimes.predict_seconds(work, runtimes.Probe(gflops=1.0, cnn_images_per_s=1.0, python_mops=0.0), reference)


def test_probe_measures_positive_rates_quickly():
    assert 0 < runtimes.matmul_gflops(n=256, repeats=2) < 1e6
    assert 0 < runtimes.cnn_images_per_second(batches=2, batch_size=8) < 1e6
    assert 0 < runtimes.python_mops(n=10_000, repeats=1) < 1e4


def test_no_notebook_goes_over_the_cap_on_the_avx2_laptop():
    """Issue 20: no notebook's cpu profile may take more than 45 minutes on a 2-core AVX2 laptop."""
    assert sorted(runtimes.LAPTOP_KIND) == NOTEBOOKS
    over = {name: round(runtimes.laptop_seconds(name) / 60) for name in NOTEBOOKS
            if runtimes.laptop_seconds(name) > runtimes.CAP_S}
    assert not over, f"predicted over the cap on {runtimes.LAPTOP} (minutes): {over}"


def test_laptop_slowdowns_are_scaled_to_todays_reference():
    """The laptop was compared with a reference run at 675 images/s; today's reference probe is faster."""
    assert runtimes.BASELINE == pytest.approx(runtimes.REFERENCE_PROBE.cnn_images_per_s / 675)
    assert runtimes.LAPTOP_SLOWDOWNS["build_cnn"].factor == pytest.approx(runtimes.REFERENCE_PROBE.cnn_images_per_s / 215)
    assert runtimes.LAPTOP_SLOWDOWNS["build_fast_cnn"].factor == pytest.approx(84 / 18 * runtimes.BASELINE)


def test_laptop_prediction_keeps_the_fixed_budget():
    work = runtimes.REFERENCE["04_keras_cnn_cifar10"]
    factor = runtimes.LAPTOP_SLOWDOWNS["build_cnn"].factor
    assert work.fixed_s > 0
    assert runtimes.laptop_seconds("04_keras_cnn_cifar10") == pytest.approx(
        work.fixed_s + factor * (work.total_s - work.fixed_s))
    assert runtimes.laptop_seconds("07_fast_training_cpu") >= runtimes.REFERENCE["07_fast_training_cpu"].fixed_s


def test_check_errors_are_the_relative_errors_of_the_recorded_checks():
    errors = runtimes.check_errors()
    assert len(errors) == len(runtimes.CHECKS)
    c = runtimes.CHECKS[0]
    guess = runtimes.predict_seconds(c.work, c.probe, c.reference)
    assert errors[f"{c.machine}: {c.notebook}"] == pytest.approx(guess / c.measured_s - 1)


def test_scaling_error_leaves_the_fixed_budget_out():
    """A check with a fixed budget: the error on the part that scales is larger than the error on the total."""
    check = runtimes.Check("m", "n", runtimes.Work(cnn_s=100.0, fixed_s=900.0), runtimes.Probe(1, 100, 1),
                           runtimes.Probe(1, 50, 1), measured_s=1_050.0)   # predicted 900 + 200 = 1,100 s
    assert check.predicted_s == pytest.approx(1_100.0)
    assert check.scaling_error == pytest.approx(50 / 150)
    assert check.predicted_s / check.measured_s - 1 == pytest.approx(50 / 1_050)
    errors = runtimes.check_errors(scaling_only=True)
    assert all(errors[f"{c.machine}: {c.notebook}"] == pytest.approx(c.scaling_error) for c in runtimes.CHECKS)


def test_only_the_laptop_check_is_circular():
    circular = [c.machine for c in runtimes.CHECKS if not c.independent]
    assert circular == ["a real AVX2 laptop, 2 cores"]


def test_vector_instructions_names_the_widest_and_honours_the_onednn_cap(monkeypatch):
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    widest = runtimes.vector_instructions()
    assert widest in ("AVX-512", "AVX2", "neither", "unknown")
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
    capped = runtimes.vector_instructions()
    assert not capped.startswith("AVX-512")
    if widest == "AVX-512":
        assert capped == "AVX2 (AVX-512 switched off by ONEDNN_MAX_CPU_ISA)"


def _header_cpu_row(name: str) -> str:
    import json

    path = pathlib.Path(__file__).parents[1] / "notebooks" / f"{name}.ipynb"
    header = "".join(json.loads(path.read_text())["cells"][0]["source"])
    return next(line for line in header.splitlines() if line.startswith("| `cpu`"))


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_each_header_states_the_reference_time_notebook_00_uses(name):
    """The header's cpu row and runtimes.REFERENCE must not drift apart: the row names the reference total in
    seconds (as "1,242 s")."""
    total = runtimes.REFERENCE[name].total_s
    assert f"{round(total):,} s" in _header_cpu_row(name), (
        f"{name}: runtimes.REFERENCE says {total:.1f} s; the header's cpu row does not say {round(total):,} s")
