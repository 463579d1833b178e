"""Notebook 03's training-step blank coaches a learner: typical wrong answers get FAILED and the hint.

The instructor notebook's nbval run shows that the right answer passes (and that the loop built on it
reproduces `fit`); these tests fill the student edition's `train_step` blank with classic mistakes and
with the solution, and run it up to the check after it (quick profile).
"""

from __future__ import annotations

import json

import pytest

from helpers import student, template

NAME = "03_keras_mlp_mnist.ipynb"


def cells(nb: dict) -> dict[str, str]:
    return {c["id"]: "".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"}


@pytest.fixture(scope="module")
def train_step_blank() -> tuple[str, str, dict]:
    inst = json.loads((template.NOTEBOOK_DIR / NAME).read_text())
    stud = json.loads((student.STUDENT_DIR / NAME).read_text())
    blank_id, solution = next((cid, src) for cid, src in cells(inst).items()
                              if "BEGIN SOLUTION" in src and "def train_step(" in src)
    return blank_id, solution, stud


def test_train_step_without_the_optimizer_step_fails_and_falls_back(train_step_blank):
    blank_id, solution, stud = train_step_blank
    wrong = solution.replace("    optimizer.apply_gradients(zip(grads, model.trainable_variables))\n", "")
    assert wrong != solution
    printed = student.run_until_check(stud, blank_id, wrong)
    assert "loss of the batch" in printed and "OK" in printed, printed  # the loss itself is right
    assert "W1 after one Adam step" in printed and "FAILED" in printed and "hint:" in printed, printed
    assert "the cells below use the course's train_step" in printed, printed


def test_train_step_solution_passes(train_step_blank):
    blank_id, solution, stud = train_step_blank
    printed = student.run_until_check(stud, blank_id, solution)
    assert printed.count(" OK") == 5 and "FAILED" not in printed and "not implemented" not in printed, printed


def _defs(*markers: str) -> dict:
    """Run the instructor notebook's code cells that contain each marker (definition-only cells)."""
    inst = json.loads((template.NOTEBOOK_DIR / NAME).read_text())
    namespace: dict = {}
    exec("import keras\nimport numpy as np", namespace)
    for marker in markers:
        exec(next(src for src in cells(inst).values() if marker in src), namespace)
    return namespace


def test_tuned_schedule_warms_up_to_the_peak_and_reaches_zero_at_the_last_step():
    """CosineDecay decays over decay_steps *after* the warm-up: decay_steps must be steps - warm-up steps."""
    pytest.importorskip("keras")
    ns = _defs("def build_mlp(", "def tuned_schedule(")
    steps = 400
    schedule = ns["tuned_schedule"](steps)
    assert float(schedule(0)) == 0.0
    assert abs(float(schedule(steps // 20)) - ns["PEAK_LR"]) < 1e-9, "the warm-up does not end at the peak"
    assert float(schedule(steps)) < 1e-9, f"the rate at the end is {float(schedule(steps)):.1e}, not zero"
    assert 0 < float(schedule(steps - 1)) < 1e-3 * ns["PEAK_LR"], "the last step's rate is not close to zero"


def test_ablation_without_the_schedule_keeps_the_peak_rate():
    """The "without the schedule" variant changes one thing: a constant rate at the schedule's peak."""
    pytest.importorskip("keras")
    ns = _defs("def build_mlp(", "def tuned_schedule(")
    model = ns["build_tuned"](2, 512, schedule=False)
    assert abs(float(model.optimizer.learning_rate) - ns["PEAK_LR"]) < 1e-9
