"""Notebook 01's blanks coach a learner: typical wrong answers get FAILED, a hint and the symptom.

The instructor notebook's nbval run shows that the right answers pass; these tests fill two of
the student edition's blanks with classic mistakes and run it up to the check after each.
"""

from __future__ import annotations

import json


from helpers import student, template

NAME = "01_backprop_numpy.ipynb"


def cells(nb: dict) -> dict[str, str]:
    return {c["id"]: "".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"}


def blank(marker: str) -> tuple[str, str, dict]:
    """The id and instructor source of the blank whose solution contains `marker`, and the student notebook."""
    inst = json.loads((template.NOTEBOOK_DIR / NAME).read_text())
    stud = json.loads((student.STUDENT_DIR / NAME).read_text())
    blank_id, solution = next((cid, src) for cid, src in cells(inst).items()
                              if "BEGIN SOLUTION" in src and marker in src)
    return blank_id, solution, stud


def test_value_mul_that_overwrites_instead_of_adding_fails_at_the_fork():
    blank_id, solution, stud = blank("a.grad += b.data * out.grad")
    wrong = solution.replace("a.grad += ", "a.grad = ").replace("b.grad += ", "b.grad = ")
    printed = student.run_until_check(stud, blank_id, wrong)
    assert "d(a·b)/da, d(a·b)/db" in printed and "d(c·c)/dc" in printed, printed
    assert "FAILED" in printed and "hint:" in printed and "0.5 times" in printed, printed
    assert "the cells below use the course's value_mul" in printed, printed


def test_dense_backward_with_a_transposed_dW_fails_with_the_shape_symptom():
    blank_id, solution, stud = blank("dW = X.T @ dZ")
    wrong = solution.replace("dW = X.T @ dZ", "dW = dZ.T @ X")
    printed = student.run_until_check(stud, blank_id, wrong)
    assert "dense dW: shape (2, 3), expected (3, 2) FAILED" in printed, printed
    assert "a transpose?" in printed and "the cells below use the course's dense_backward" in printed, printed
