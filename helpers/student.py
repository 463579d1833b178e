"""The student edition: blanks cut from the notebooks, and the checks that coach.

The committed notebooks in ``notebooks/`` are the instructor edition: executed, with outputs,
and with every part a learner should write between nbgrader's markers::

    def relu_backward(dout, x):
        ### BEGIN SOLUTION
        return dout * (x > 0)
        ### END SOLUTION

``python -m helpers.student [NN_name.ipynb ...]`` writes the student edition of every notebook that has markers into
``student/``: each marked region becomes ``# YOUR CODE HERE`` and a ``raise NotImplementedError``
that names the blank, outputs from the first blank on are cleared, the ``## Solutions`` section is
removed and the Colab badge points at the student copy. ``--check`` only reports whether
``student/`` is current (``tests/test_student.py`` runs it).

In a notebook, the cell after each blank calls :func:`check_blank`. It prints one of three things:
"not implemented yet" with the hint, a ``FAILED`` line per wrong result with the hint, or an
``OK`` line per result with its error. It returns the learner's function if every result is
right, and otherwise the course's reference version (the solution in the instructor notebook,
which a learner may read), so that the cells after it still run. ``00_start_here`` explains this.
"""

from __future__ import annotations

import ast
import copy
import json
import pathlib
import re
import sys
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from . import template
from .checks import rel_error

STUDENT_DIR = template.REPO_ROOT / "student"
BEGIN, END = "BEGIN SOLUTION", "END SOLUTION"
BEGIN_RE = re.compile(r"^(?P<indent>[ \t]*)### BEGIN SOLUTION(?::\s*(?P<task>.*\S))?\s*$")
END_RE = re.compile(r"^[ \t]*### END SOLUTION\s*$")
DEF_RE = re.compile(r"^\s*def (\w+)\(")
STUDENT_NOTE = ("> **Student edition.** Write the code where a cell says `# YOUR CODE HERE`, then run the check "
                "below it: it says *not implemented yet*, *FAILED* with a hint, or *OK*. Until yours passes, later "
                "cells use the course's reference version, so Run All always works "
                "(see [00 · Start here](00_start_here.ipynb)).")


# --- the generator -------------------------------------------------------------------------

def split_regions(source: str) -> list[str | tuple[str, str, str]]:
    """Split a cell's source into plain text and ``(indent, task, region)`` solution regions.

    ``region`` keeps its marker lines, so joining the pieces back gives the source unchanged.

    Raises:
        ValueError: on a nested or unclosed region, or an END without a BEGIN.
    """
    pieces: list[str | tuple[str, str, str]] = []
    text: list[str] = []
    region: list[str] | None = None
    indent = task = ""
    last_def = ""
    for line in source.splitlines(keepends=True):
        begin, end = BEGIN_RE.match(line.rstrip("\n")), END_RE.match(line.rstrip("\n"))
        if region is None:
            if end or (END in line and not begin):
                raise ValueError(f"'{END}' without '{BEGIN}': {line.strip()!r}")
            if begin:
                pieces.append("".join(text))
                text, region = [], [line]
                indent, task = begin["indent"], begin["task"] or last_def
            else:
                if DEF_RE.match(line):
                    last_def = DEF_RE.match(line)[1]
                text.append(line)
        else:
            if begin or BEGIN in line:
                raise ValueError(f"nested '{BEGIN}' in the region for {task!r}")
            region.append(line)
            if end:
                pieces.append((indent, task, "".join(region)))
                region = None
    if region is not None:
        raise ValueError(f"'{BEGIN}' for {task!r} is never closed by '{END}'")
    pieces.append("".join(text))
    return pieces


def stub(indent: str, task: str) -> str:
    """What a learner sees in place of a solution region."""
    return (f"{indent}# YOUR CODE HERE\n"
            f"{indent}raise NotImplementedError({('blank: ' + task)!r})\n")


def _source(cell: dict) -> str:
    return "".join(cell["source"])


def has_blanks(nb: dict) -> bool:
    """True if any code cell holds a solution region."""
    return any(c["cell_type"] == "code" and BEGIN in _source(c) for c in nb["cells"])


def student_edition(nb: dict, name: str) -> dict:
    """The student edition of one instructor notebook (a new dict; ``nb`` is not changed)."""
    nb = copy.deepcopy(nb)
    cells, seen_blank, in_solutions = [], False, False
    for cell in nb["cells"]:
        src = _source(cell)
        if cell["cell_type"] == "markdown" and re.match(r"## ", src):
            in_solutions = src.startswith("## Solutions")
        if in_solutions:
            continue
        if cell["cell_type"] == "code":
            pieces = split_regions(src)
            if len(pieces) > 1:
                seen_blank = True
                src = "".join(p if isinstance(p, str) else stub(p[0], p[1]) for p in pieces)
                cell["source"] = src.splitlines(keepends=True)
            if seen_blank:
                cell["outputs"], cell["execution_count"] = [], None
        cells.append(cell)
    header = _source(cells[0])
    header = template.BADGE_RE.sub(lambda _: template.badge(name, "student"), header, count=1)
    title, _, rest = header.partition("\n")
    cells[0]["source"] = f"{title}\n\n{STUDENT_NOTE}\n{rest}".splitlines(keepends=True)
    nb["cells"] = cells
    return nb


def fill_in(student_source: str, instructor_source: str) -> str:
    """Put the instructor's solution regions back in place of the student's stubs (for tests)."""
    out, pos = student_source, 0
    for piece in split_regions(instructor_source):
        if isinstance(piece, str):
            continue
        indent, task, region = piece
        at = out.index(stub(indent, task), pos)
        out = out[:at] + region + out[at + len(stub(indent, task)):]
        pos = at + len(region)
    return out


def nbgrader_metadata(nb: dict) -> bool:
    """Mark every cell with a solution region as an nbgrader solution cell; True if anything changed."""
    changed = False
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code" and BEGIN in _source(cell):
            meta = {"grade": False, "grade_id": f"blank-{cell.get('id', i)}", "locked": False,
                    "schema_version": 3, "solution": True, "task": False}
            if cell["metadata"].get("nbgrader") != meta:
                cell["metadata"]["nbgrader"] = meta
                changed = True
    return changed


def dumps(nb: dict) -> str:
    """Notebook JSON as Jupyter writes it."""
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def build(check_only: bool = False, only: Iterable[str] = ()) -> list[str]:
    """Write (or, with ``check_only``, compare) ``student/``; return the problems or changes found.

    ``only`` limits the work to the named notebooks (file names); by default it covers them all.
    """
    found = []
    wanted = {}
    only = set(only)
    for path in sorted(template.NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb")):
        if only and path.name not in only:
            continue
        nb = json.loads(path.read_text())
        if not has_blanks(nb):
            continue
        if nbgrader_metadata(nb):
            found.append(f"notebooks/{path.name} lacks nbgrader metadata on its solution cells")
            if not check_only:
                path.write_text(dumps(nb))
        wanted[path.name] = dumps(student_edition(nb, path.name))
    existing = {p.name for p in STUDENT_DIR.glob("*.ipynb")} if STUDENT_DIR.is_dir() else set()
    if only:
        existing &= only
    for name in sorted(existing - set(wanted)):
        found.append(f"student/{name} has no instructor notebook with blanks")
        if not check_only:
            (STUDENT_DIR / name).unlink()
    for name, text in wanted.items():
        target = STUDENT_DIR / name
        if not target.is_file() or target.read_text() != text:
            found.append(f"student/{name} is {'out of date' if target.is_file() else 'missing'}")
            if not check_only:
                STUDENT_DIR.mkdir(exist_ok=True)
                target.write_text(text)
    return found


# --- the checks that coach -----------------------------------------------------------------

def _symptom(actual: np.ndarray, expected: np.ndarray, tol: float) -> str:
    """A hint read off the numbers of a same-shaped wrong result: a flipped sign, a constant factor."""
    if actual.size and rel_error(-actual, expected) < tol:
        return "the sign is flipped"
    mask = np.abs(expected) > 1e-12
    if mask.any():
        ratio = actual[mask] / expected[mask]
        if abs(ratio[0] - 1) > 1e-3 and np.all(np.abs(ratio - ratio[0]) < 1e-6 * max(1.0, abs(ratio[0]))):
            return f"every value is {ratio[0]:.4g} times the expected one (a sum for a mean, or the batch size?)"
    return ""


def reference(name: str, notebook: str, namespace: dict[str, Any]) -> Callable:
    """The course's own ``name``, defined from the instructor notebook inside a copy of ``namespace``."""
    nb = json.loads((template.NOTEBOOK_DIR / notebook).read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        for node in ast.parse(_source(cell)).body:
            if isinstance(node, ast.FunctionDef) and node.name == name:
                scope = dict(namespace)
                exec(compile(ast.Module(body=[node], type_ignores=[]), f"{notebook}:{name}", "exec"), scope)
                return scope[name]
    raise LookupError(f"no function {name!r} in notebooks/{notebook}")


def check_blank(fn: Callable, results: Callable[[Callable], Iterable[tuple[str, Any, Any]]], *, tol: float,
                hint: str, notebook: str, measure: str = "relative") -> Callable:
    """Check a learner's function; return it if right, else the course's reference version.

    Args:
        fn: the learner's function.
        results: called with ``fn``; yields ``(label, actual, expected)`` triples to compare.
            Arrays are compared by ``measure``; other values (shapes, counts) must be equal.
        tol: the largest error that passes.
        hint: what to look at when a result is wrong or missing.
        notebook: the instructor notebook that holds the reference version of ``fn``.
        measure: ``"relative"`` (:func:`helpers.checks.rel_error`) or ``"absolute"``.

    Prints ``<name>: not implemented yet``, a ``FAILED`` line per wrong result, or an ``OK`` line
    per result; it never raises, so Run All goes on.
    """
    name, ok = fn.__name__, True
    try:
        for label, actual, expected in results(fn):
            symptom = ""
            if isinstance(expected, np.ndarray) or isinstance(actual, np.ndarray):
                a, e = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
                if a.shape != e.shape:
                    good, line = False, f"{label}: shape {a.shape}, expected {e.shape}"
                    symptom = "the axes are swapped (a transpose?)" if a.shape == e.shape[::-1] else ""
                elif not a.any() and not e.any():
                    good, line = False, f"{label}: both are all zero, so the check tests nothing"
                else:
                    err = rel_error(a, e) if measure == "relative" else float(np.max(np.abs(a - e), initial=0.0))
                    good = bool(err < tol)
                    line = f"{label}: max {measure} error {err:.1e} (should be < {tol:.0e})"
                    symptom = "" if good else _symptom(a, e, tol)
            else:
                good = bool(actual == expected)
                line = f"{label}: {actual!r} (expected {expected!r})"
            print(f"{line} {'OK' if good else 'FAILED'}")
            if not good:
                ok = False
                print(f"  hint: {hint}" + (f"; here {symptom}" if symptom else ""))
    except NotImplementedError:
        ok = False
        print(f"{name}: not implemented yet. Hint: {hint}")
    except Exception as exc:  # a learner's bug must not stop Run All
        ok = False
        print(f"{name}: FAILED, it raised {type(exc).__name__}: {exc}\n  hint: {hint}")
    if ok:
        return fn
    print(f"  -> until yours passes, the cells below use the course's {name} (from notebooks/{notebook}).")
    return reference(name, notebook, fn.__globals__)


def run_until_check(nb: dict, blank_id: str, source: str) -> str:
    """Run a student notebook with ``source`` in the blank's cell, up to the check after it.

    For instructors and tests: shows what the check prints for a given answer (a classic mistake,
    or the solution). Runs in the active profile (the tests use ``quick``); returns the check's text.
    """
    import nbclient
    import nbformat

    nb = nbformat.reads(json.dumps(nb), as_version=4)  # joins each cell's source lines
    ids = [c.get("id") for c in nb.cells]
    at = ids.index(blank_id)
    check = next(i for i in range(at + 1, len(ids)) if nb.cells[i].cell_type == "code")
    nb.cells = nb.cells[:check + 1]
    nb.cells[at].source = source
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(STUDENT_DIR)}}).execute()
    return "".join(o.get("text", "") for o in nb.cells[check].get("outputs", []))


if __name__ == "__main__":
    check = "--check" in sys.argv[1:]
    names = [pathlib.Path(a).name for a in sys.argv[1:] if not a.startswith("--")]
    problems = build(check_only=check, only=names)
    for line in problems:
        print(("stale: " if check else "wrote: ") + line)
    if check and problems:
        print("Run `python -m helpers.student` and commit student/.")
        sys.exit(1)
    if not problems:
        print("student/ is current")
