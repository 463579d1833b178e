"""Notebook 06's coaching checks can fail: a plausible wrong answer gets FAILED with its hint, the solution gets OK.

The cells of the instructor notebook run in one namespace, up to the check of the input gradient, with the
solution of ``conv_backward_dx`` either kept or changed to forget the kernel flip.
"""

from __future__ import annotations

import contextlib
import io
import json

import pytest

from helpers import student, template

NAME = "06_conv_backprop_numpy.ipynb"
FLIP = "w[::-1, ::-1]"


def code_cells() -> list[str]:
    nb = json.loads((template.NOTEBOOK_DIR / NAME).read_text())
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]


def dx_solution_cell(cells: list[str]) -> int:
    return next(i for i, src in enumerate(cells) if src.startswith("def conv_backward_dx(") and "BEGIN SOLUTION" in src)


def test_the_flip_is_written_once_inside_the_dx_solution():
    cells = code_cells()
    i = dx_solution_cell(cells)
    assert sum(src.count(FLIP) for src in cells) == 1, f"{FLIP} should appear once, in conv_backward_dx"
    regions = [p for p in student.split_regions(cells[i]) if not isinstance(p, str)]
    assert len(regions) == 1 and FLIP in regions[0][2]


def run_until_dx_check(replace_flip: bool, monkeypatch, replace: tuple[str, str] | None = None) -> str:
    """Run the notebook's code cells up to the dx check; return what that check printed."""
    monkeypatch.chdir(template.NOTEBOOK_DIR)
    monkeypatch.setenv("COURSE_PROFILE", "quick")
    cells = code_cells()
    i = dx_solution_cell(cells)
    namespace: dict = {"__name__": "__main__"}
    for j, src in enumerate(cells[:i + 2]):
        if j == i and replace_flip:
            src = src.replace(FLIP, "w")
        if j == i and replace:
            assert replace[0] in src
            src = src.replace(*replace)
        if src.lstrip().startswith(("def best_time", "for name, t in")):
            continue  # timings: not needed here
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(src, f"{NAME} cell {j}", "exec"), namespace)
    return out.getvalue()


@pytest.mark.parametrize("replace_flip", [True, False], ids=["no-flip", "solution"])
def test_dx_check_coaches(replace_flip, monkeypatch):
    pytest.importorskip("tensorflow")
    printed = run_until_dx_check(replace_flip, monkeypatch)
    if replace_flip:
        assert "FAILED" in printed
        assert "the input gradient is a full convolution with the flipped kernel" in printed
        assert "the cells below use the course's conv_backward_dx" in printed
    else:
        assert "FAILED" not in printed and printed.count(" OK") >= 4


def test_dx_check_catches_float64_promotion(monkeypatch):
    """An answer that allocates float64 arrays passes the float64 gradient check but not the float32 line."""
    pytest.importorskip("tensorflow")
    printed = run_until_dx_check(False, monkeypatch, replace=(", dtype=dout.dtype)", ")"))
    assert "float32 input: dtypes of the results: ('float64',) (expected ('float32',)) FAILED" in printed
    assert "dx: max relative error" in printed and printed.count(" OK") >= 4
