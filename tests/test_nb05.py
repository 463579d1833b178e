"""Notebook 05 never lets the test set choose anything.

The check reads the notebook's code structurally (Python's ``ast``), not by running it:

1. **Taint.** The test data (``x_test``, ``y_test``, ``x_test_all``, ``y_test_all``, ``test_ds``) is
   tainted, and so is every name assigned from an expression that reads a tainted name (``TEST_ACC =
   ... evaluate(test_ds) ...``, then ``scores = TEST_ACC``, ...), every loop variable drawn from one
   (a comprehension's variable only inside the comprehension), and every function whose body reads one. This is propagated over the whole notebook
   until nothing changes, so aliases and helper functions cannot hide a test read.
2. **Where.** Code may read tainted names only in the final reporting section (the code cells under the
   heading ``## <n>. Test accuracy, once``). Before it, a cell may only *define* test data (assignments
   whose targets are all test names, e.g. ``x_test, y_test = x_test_all[:n], ...``). After it (Summary,
   Exercises, Solutions) nothing may read test data.
3. **How.** Even in the reporting cells, test data must not feed a selection: no tainted name inside
   ``sorted``/``.sort``/``argmax``/``argmin``/``argsort``/``idxmax``/``idxmin``, inside ``max``/``min`` with a
   ``key=``, inside a comparison, or in the test of an ``if``/``while``/conditional expression; and no cell
   that trains (``train_run``, ``search``, ``fit``) may read it.

``test_checker_catches_*`` show that the check fails on notebooks that select on test data (the kind of
selection issue 17 found in the old notebook).
"""

from __future__ import annotations

import ast
import json
import pathlib
import re

import pytest

NOTEBOOK = pathlib.Path(__file__).resolve().parent.parent / "notebooks" / "05_optimizer_comparison.ipynb"
TEST_DATA = frozenset({"x_test", "y_test", "x_test_all", "y_test_all", "test_ds"})
REPORT_HEADING = re.compile(r"^## \d+\. Test accuracy, once", re.M)
SECTION_HEADING = re.compile(r"^## ", re.M)
SELECTORS = frozenset({"sorted", "sort", "argmax", "argmin", "argsort", "nanargmax", "nanargmin",
                       "idxmax", "idxmin", "best_trials"})
KEYED = frozenset({"max", "min"})  # selections when called with key=
TRAINERS = frozenset({"train_run", "search", "fit"})


def load_cells(path: pathlib.Path = NOTEBOOK) -> list[tuple[str, str]]:
    """(cell type, source) of every cell."""
    nb = json.loads(path.read_text())
    return [(c["cell_type"], "".join(c["source"])) for c in nb["cells"]]


def _loads(node: ast.AST, names: set[str]) -> set[str]:
    """The names of `names` that `node` reads."""
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
            and n.id in names}


def _target_names(target: ast.AST) -> set[str]:
    """Names bound by an assignment target (for d[k] = ... or d.attr = ..., the container d)."""
    out = set()
    for n in ast.walk(target):
        if isinstance(n, ast.Name):
            out.add(n.id)
    return out


def _call_name(call: ast.Call) -> str:
    f = call.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""


def tainted_names(trees: list[ast.Module]) -> set[str]:
    """Every name that carries test data, propagated over all cells until nothing changes."""
    tainted = set(TEST_DATA)
    changed = True
    while changed:
        changed = False
        for tree in trees:
            for node in ast.walk(tree):
                new: set[str] = set()
                if isinstance(node, ast.Assign) and _loads(node.value, tainted):
                    for t in node.targets:
                        new |= _target_names(t)
                elif isinstance(node, (ast.AugAssign, ast.AnnAssign)) and node.value is not None \
                        and _loads(node.value, tainted):
                    new |= _target_names(node.target)
                elif isinstance(node, ast.NamedExpr) and _loads(node.value, tainted):
                    new |= _target_names(node.target)
                elif isinstance(node, ast.For) and _loads(node.iter, tainted):
                    new |= _target_names(node.target)  # (comprehension variables stay local: see below)
                elif isinstance(node, (ast.FunctionDef, ast.Lambda)) and any(
                        _loads(stmt, tainted) for stmt in (node.body if isinstance(node.body, list)
                                                           else [node.body])):
                    if isinstance(node, ast.FunctionDef):
                        new.add(node.name)
                if new - tainted:
                    tainted |= new
                    changed = True
    return tainted


def _defines_test_data_only(tree: ast.Module, tainted: set[str]) -> bool:
    """True if every top-level statement that reads test data only assigns test-named variables."""
    for stmt in tree.body:
        if not _loads(stmt, tainted):
            continue
        if not isinstance(stmt, ast.Assign):
            return False
        targets = set().union(*(_target_names(t) for t in stmt.targets))
        if not targets or not all("test" in name for name in targets):
            return False
    return True


def _selection_reads(tree: ast.Module, tainted: set[str]) -> list[str]:
    """Descriptions of the places in `tree` where test data feeds a selection or a decision."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _call_name(node)
            reads = set()
            if name in SELECTORS:
                reads = _loads(node, tainted)
            elif name in KEYED and any(k.arg == "key" for k in node.keywords):
                reads = _loads(node, tainted)
            if reads:
                found.append(f"{name}(...) reads {sorted(reads)}")
        elif isinstance(node, ast.Compare) and _loads(node, tainted):
            found.append(f"a comparison reads {sorted(_loads(node, tainted))}")
        elif isinstance(node, (ast.If, ast.While, ast.IfExp)) and _loads(node.test, tainted):
            found.append(f"a condition reads {sorted(_loads(node.test, tainted))}")
        elif isinstance(node, ast.comprehension):
            local = tainted | (_target_names(node.target) if _loads(node.iter, tainted) else set())
            for cond in node.ifs:
                if _loads(cond, local):
                    found.append(f"a comprehension filter reads {sorted(_loads(cond, local))}")
    return found


def _trains(tree: ast.Module) -> bool:
    return any(isinstance(n, ast.Call) and _call_name(n) in TRAINERS for n in ast.walk(tree))


def violations(cells: list[tuple[str, str]]) -> list[str]:
    """Every way in which the notebook's code lets test data choose, or reads it outside the report."""
    report = [i for i, (kind, src) in enumerate(cells) if kind == "markdown" and REPORT_HEADING.search(src)]
    if len(report) != 1:
        return [f"expected one '## <n>. Test accuracy, once' section, found {len(report)}"]
    start = report[0]
    end = next((i for i in range(start + 1, len(cells))
                if cells[i][0] == "markdown" and SECTION_HEADING.search(cells[i][1])), len(cells))
    code = [(i, ast.parse(src)) for i, (kind, src) in enumerate(cells) if kind == "code" and src.strip()]
    tainted = tainted_names([tree for _, tree in code])
    problems = []
    report_reads = False
    for i, tree in code:
        reads = _loads(tree, tainted)
        in_report = start < i < end
        if reads and not in_report and not (i < start and _defines_test_data_only(tree, tainted)):
            where = "before" if i < start else "after"
            problems.append(f"cell {i} reads test data {sorted(reads)} {where} the final report section")
        if reads and _trains(tree):
            problems.append(f"cell {i} trains (or tunes) and reads test data {sorted(reads)}")
        problems += [f"cell {i}: {p}" for p in _selection_reads(tree, tainted)]
        report_reads |= in_report and bool(reads & (TEST_DATA | {"TEST_ACC"}))
    if not report_reads:
        problems.append("the final report section never reads the test set: the check would be vacuous")
    return problems


# --- the notebook ----------------------------------------------------------------------------

def test_no_selection_reads_test_data() -> None:
    found = violations(load_cells())
    assert not found, "notebook 05 lets test data choose:\n" + "\n".join(found)


def test_validation_is_what_selection_reads() -> None:
    """The notebook's selections exist, and they read validation results."""
    code = "\n".join(src for kind, src in load_cells() if kind == "code")
    assert re.search(r"val_acc", code) and "best_trials" in code and "BEST_SCHEDULE" in code


# --- the check can fail ----------------------------------------------------------------------

def _variant(edit) -> list[tuple[str, str]]:
    cells = load_cells()
    return edit(cells)


def _append_to(cells, marker: str, extra: str) -> list[tuple[str, str]]:
    """Append `extra` to the first code cell containing `marker`."""
    out, done = [], False
    for kind, src in cells:
        if not done and kind == "code" and marker in src:
            src, done = src + "\n" + extra, True
        out.append((kind, src))
    assert done, f"no code cell contains {marker!r}"
    return out


VARIANTS = {
    # issue 17's error [36]: the test set picks the best two optimizers
    "sorted by test accuracy": ("TEST_ACC = {", "BEST_TWO = sorted(OPTIMIZERS, key=lambda n: TEST_ACC[n].mean(),"
                                               " reverse=True)[:2]"),
    "max with a key on test": ("TEST_ACC = {", "CHOSEN = max(OPTIMIZERS, key=lambda n: np.median(TEST_ACC[n]))"),
    "argmax through an alias": ("TEST_ACC = {", "scores = [np.median(v) for v in TEST_ACC.values()]\n"
                                                "winner = OPTIMIZERS[int(np.argmax(scores))]"),
    # tuning on test: the search scores trials on the test set
    "tuning loop evaluates test": ("WINNERS = best_trials(TRIALS)",
                                   "TUNE_TEST = [train_run('Adam', 'constant', 1e-3, 1e-3, seed=100)['model']"
                                   ".evaluate(test_ds, verbose=0)]"),
    # issue 17's error [48]/[50]: an exercise computes a gap on test and tells the learner to try again
    "comprehension filter on test": ("TEST_ACC = {", "good = [n for n in OPTIMIZERS if np.median(TEST_ACC[n]) > 0.5]"),
    "exercise gap on test": ("check_exercise_3()", "gap = np.median(TEST_ACC['Adam']) - 0.5\n"
                                                   "if gap > 0.02:\n    print('try another peak')"),
    # test data read early, for anything
    "test read before the report": ("SUMMARY = {arm: summary(arm)", "print(RUNS[ARMS[0]][0]['model'].evaluate(test_ds, verbose=0))"),
}


@pytest.mark.parametrize("name", VARIANTS)
def test_checker_catches_test_selection(name: str) -> None:
    marker, extra = VARIANTS[name]
    found = violations(_variant(lambda cells: _append_to(cells, marker, extra)))
    assert found, f"the check missed a notebook variant that reads test data: {name}"


def test_checker_catches_a_missing_report() -> None:
    cells = [(kind, REPORT_HEADING.sub("## 10. Results", src)) for kind, src in load_cells()]
    assert violations(cells)
