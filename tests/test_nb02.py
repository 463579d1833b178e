"""Notebook 02's blanks coach: a classic Adam mistake is caught after step 1, and the solution passes.

Runs the student edition of 02 up to the check after the ``adam_step`` blank (quick profile), once with
the mistake and once with the instructor's solution.
"""

from __future__ import annotations

import json

import pytest

from helpers import student, template

NAME = "02_optimizers_from_scratch.ipynb"


def source(cell: dict) -> str:
    return "".join(cell["source"])


@pytest.mark.skipif(not (student.STUDENT_DIR / NAME).is_file(), reason="no student edition of 02")
def test_adam_blank_catches_a_step_counter_that_does_not_advance():
    inst = json.loads((template.NOTEBOOK_DIR / NAME).read_text())
    stud = json.loads((student.STUDENT_DIR / NAME).read_text())
    blank_id, solution = next((c["id"], source(c)) for c in inst["cells"]
                              if c["cell_type"] == "code" and "def adam_step(" in source(c))
    returned = "return theta - alpha * m / (np.sqrt(v) + epsilon), m, v, t\n"
    assert returned in solution
    wrong = solution.replace(returned, "return theta - alpha * m / (np.sqrt(v) + epsilon), m, v, t - 1\n")
    printed = student.run_until_check(stud, blank_id, wrong)
    lines = printed.splitlines()
    assert any("after step 1" in line and line.endswith("OK") for line in lines), printed
    assert any("after 50 steps" in line and "FAILED" in line for line in lines), printed
    assert "hint: right at step 1 but drifting later: check t" in printed
    assert "the cells below use the course's adam_step" in printed
    printed = student.run_until_check(stud, blank_id, solution)
    assert "FAILED" not in printed and "not implemented" not in printed and printed.count("OK") == 2, printed
