"""The student edition: generated from the markers, current, leak-free, and runnable with every blank open."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from helpers import student, template

INSTRUCTOR = {p.name: p for p in sorted(template.NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))}
WITH_BLANKS = [name for name, p in INSTRUCTOR.items() if student.has_blanks(json.loads(p.read_text()))]


def cell_map(nb: dict) -> dict[str, str]:
    return {c["id"]: "".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"}


# --- the generator on a small notebook ------------------------------------------------------

SOURCE = '''def relu_backward(dout, x):
    """dL/dx of ReLU."""
    ### BEGIN SOLUTION
    return dout * (x > 0)
    ### END SOLUTION
'''


def small_notebook() -> dict:
    def md(i, s): return {"cell_type": "markdown", "id": f"m{i}", "metadata": {}, "source": s}
    def code(i, s, out): return {"cell_type": "code", "id": f"c{i}", "metadata": {}, "execution_count": i,
                                 "source": s, "outputs": [{"output_type": "stream", "name": "stdout", "text": out}]}
    return {"cells": [md(0, "# 99 · Test\n\n" + template.badge("99_test.ipynb") + "\n\n**Goals**\n"),
                      code(1, "x = 1", "before"), code(2, SOURCE, "defined"), code(3, "print(2)", "2"),
                      md(4, "## Exercises\n"), md(5, "## Solutions\n"), code(6, "print('answer')", "answer"),
                      md(7, "## Credits\n")],
            "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def test_stub_replaces_the_region_and_names_the_task():
    nb = student.student_edition(small_notebook(), "99_test.ipynb")
    src = cell_map(nb)["c2"]
    assert "BEGIN SOLUTION" not in src and "(x > 0)" not in src
    assert "    # YOUR CODE HERE\n    raise NotImplementedError('blank: relu_backward')\n" in src
    assert '"""dL/dx of ReLU."""' in src  # the signature and docstring stay


def test_outputs_cleared_from_the_first_blank_solutions_removed_badge_moved():
    nb = student.student_edition(small_notebook(), "99_test.ipynb")
    cells = {c["id"]: c for c in nb["cells"]}
    assert cells["c1"]["outputs"] and cells["c1"]["execution_count"] == 1
    assert not cells["c2"]["outputs"] and not cells["c3"]["outputs"] and cells["c3"]["execution_count"] is None
    assert "m5" not in cells and "c6" not in cells and "m7" in cells  # Solutions gone, Credits kept
    header = "".join(cells["m0"]["source"])
    assert template.badge("99_test.ipynb", "student") in header and "Student edition" in header


def test_round_trip_gives_the_instructor_code():
    nb = small_notebook()
    assert student.fill_in(cell_map(student.student_edition(nb, "99_test.ipynb"))["c2"], SOURCE) == SOURCE


@pytest.mark.parametrize("bad", [SOURCE.replace("    ### END SOLUTION\n", ""),
                                 SOURCE.replace("    return", "    ### BEGIN SOLUTION\n    return"),
                                 "x = 1\n### END SOLUTION\n"])
def test_broken_markers_are_refused(bad):
    with pytest.raises(ValueError):
        student.split_regions(bad)


# --- the coaching check ----------------------------------------------------------------------

def relu_backward(dout, x):
    raise NotImplementedError("blank: relu_backward")


def test_check_blank_three_outcomes(capsys, monkeypatch):
    x = np.linspace(-1, 1, 12).reshape(3, 4)
    dout = np.linspace(0.5, 2, 12).reshape(3, 4)
    expected = dout * (x > 0)
    results = lambda f: [("relu dx", f(dout, x), expected)]  # noqa: E731
    fallback = lambda dout, x: dout * (x > 0)  # noqa: E731
    monkeypatch.setattr(student, "reference", lambda name, nb, ns: fallback)
    kw = dict(tol=1e-9, hint="pass the gradient where x > 0", notebook="01_backprop_numpy.ipynb")

    assert student.check_blank(relu_backward, results, **kw) is fallback
    out = capsys.readouterr().out
    assert "relu_backward: not implemented yet. Hint: pass the gradient where x > 0" in out
    assert "the cells below use the course's relu_backward" in out

    def wrong(dout, x):
        return -dout * (x > 0)
    assert student.check_blank(wrong, results, **kw) is fallback
    out = capsys.readouterr().out
    assert "FAILED" in out and "hint: pass the gradient where x > 0; here the sign is flipped" in out

    def transposed(dout, x):
        return (dout * (x > 0)).T
    student.check_blank(transposed, results, **kw)
    assert "shape (4, 3), expected (3, 4) FAILED" in capsys.readouterr().out

    def right(dout, x):
        return dout * (x > 0)
    assert student.check_blank(right, results, **kw) is right
    out = capsys.readouterr().out
    assert out.startswith("relu dx: max relative error") and out.rstrip().endswith("OK") and "FAILED" not in out


# --- the committed student/ folder -------------------------------------------------------------

def test_student_folder_is_current():
    assert WITH_BLANKS, "no notebook has blanks"
    assert student.build(check_only=True) == [], "run `python -m helpers.student` and commit student/"


@pytest.mark.parametrize("name", WITH_BLANKS)
def test_student_notebook_round_trips_and_leaks_nothing(name):
    inst = json.loads(INSTRUCTOR[name].read_text())
    stud = json.loads((student.STUDENT_DIR / name).read_text())
    text = json.dumps(stud)
    assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text and "## Solutions" not in text
    stud_cells, inst_cells = cell_map(stud), cell_map(inst)
    for cid, src in stud_cells.items():
        assert student.fill_in(src, inst_cells[cid]) == inst_cells[cid]


@pytest.mark.parametrize("name", WITH_BLANKS)
def test_student_notebook_runs_with_every_blank_open(name, tmp_path):
    """Run All works in the student edition and every check says "not implemented yet"."""
    nbclient = pytest.importorskip("nbclient")
    import nbformat

    nb = nbformat.read(student.STUDENT_DIR / name, as_version=4)
    os.environ.setdefault("COURSE_PROFILE", "quick")
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(student.STUDENT_DIR)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    printed = "\n".join(o.get("text", "") for o in outputs)
    stubs = sum(src.count("raise NotImplementedError('blank: ") for src in cell_map(nb).values())
    assert printed.count("not implemented yet") >= stubs, "a blank has no check that says so"


# --- a blank filled in by a learner: wrong, then right ----------------------------------------

@pytest.mark.skipif("06_conv_backprop_numpy.ipynb" not in WITH_BLANKS, reason="notebook 06 has no blanks")
def test_conv_backward_blank_coaches_a_wrong_answer_and_accepts_the_right_one():
    """The classic mistake, conv_backward without the kernel flip, gets FAILED and the hint; the solution gets OK."""
    inst = json.loads(INSTRUCTOR["06_conv_backprop_numpy.ipynb"].read_text())
    stud = json.loads((student.STUDENT_DIR / "06_conv_backprop_numpy.ipynb").read_text())
    blank_id, solution = next((cid, src) for cid, src in cell_map(inst).items()
                              if "BEGIN SOLUTION" in src and "w[::-1, ::-1]" in src)
    wrong = solution.replace("w[::-1, ::-1]", "w")
    printed = student.run_until_check(stud, blank_id, wrong)
    assert "FAILED" in printed and "hint:" in printed and "flip" in printed, printed
    assert "the cells below use the course's" in printed
    printed = student.run_until_check(stud, blank_id, solution)
    assert "OK" in printed and "FAILED" not in printed and "not implemented" not in printed, printed
