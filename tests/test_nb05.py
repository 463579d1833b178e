"""Notebook 05 never lets the test set choose anything.

The check reads the notebook's code structurally (Python's ``ast``), not by running it:

1. **Taint.** The test data (``x_test``, ``y_test``, ``x_test_all``, ``y_test_all``, ``test_ds``) is
   tainted, and so is every name assigned from an expression that reads a tainted name (``TEST_ACC =
   ... evaluate(test_ds) ...``, then ``scores = TEST_ACC``, ...), every loop variable drawn from one
   (a comprehension's variable only inside the comprehension), every function whose body reads one, and
   every container filled with test data through a method call (``scores.append(TEST_ACC[n])``,
   ``ranked.update(TEST_ACC)``, ``d.setdefault(k, ...)``, ...). This is propagated over the whole notebook
   until nothing changes, so aliases, containers and helper functions cannot hide a test read.
2. **Where.** Code may read tainted names only in the final reporting section (the code cells under the
   heading ``## <n>. Test accuracy, once``). Before it, a cell may only *define* test data (assignments
   whose targets are all test names, e.g. ``x_test, y_test = x_test_all[:n], ...``). After it (Summary,
   Exercises, Solutions) nothing may read test data.
3. **How.** Even in the reporting cells, test data must not feed a selection: no tainted name inside
   ``sorted``/``.sort``/``argmax``/``argmin``/``argsort``/``idxmax``/``idxmin``/``.index`` (as in
   ``scores.index(max(scores))``), inside ``max``/``min`` with a ``key=``, inside a comparison, or in the test of an ``if``/``while``/conditional expression; and no cell
   that trains (``train_run``, ``search``, ``fit``) may read it.

``test_checker_catches_*`` show that the check fails on notebooks that select on test data (the kind of
selection issue 17 found in the old notebook, and the two ways a reviewer slipped past an earlier version of
this check: a list filled with ``append`` then ``.index(max(...))``, and a dict filled with ``update`` then
``sorted``).

4. **Validation.** ``test_validation_is_what_selection_reads`` checks the selection positively: the cell that
   makes the choice calls ``best_trials`` on the tuning records, ``best_trials`` compares the ``"val_acc"`` field,
   that field is the last entry of the validation history of a run on the tuning seed (``TUNING_SEED``, not an
   evaluation seed), and the runs validate on
   ``val_ds``, built from ``x_val``/``y_val``. A variant that compares another field fails it. In the ``cpu``
   profile the search is not run by default (``RUN_TUNING``): ``TRIALS = search(...) if RUN_TUNING else
   stored_trials()``, and ``stored_trials`` must load through ``load_trials(..., tuning_settings())``, which
   refuses a file made with other settings.

5. **The stored search.** ``test_stored_search_matches_the_notebook`` reads the tracked
   ``results/05_optimizer_comparison/tuning_trials.json`` and compares its settings with the ``cpu`` settings
   computed from the notebook's source by ``refingerprint.current_settings`` (CI runs ``quick``, where the search
   is live, so the notebook's own refusal never runs there): the ``CFG`` sizes a trial reads, tuning seed,
   optimizers, schedules, warm-up, ``NO_DECAY``, spaces, Halton unit points (computed independently), loss, split
   (seed and permutation) and the code fingerprint of every function a trial runs (the notebook's and the
   ``helpers`` ones they call); every record's unit point and settings are checked too. Variants show that a
   change of each kind is caught, and that changes which do not touch a trial (``seeds``, ``target``, a
   comment) are not. ``test_committed_table_shows_the_stored_trials`` ties the committed notebook's output to
   the file's ``val_acc`` values (an edited record is caught there), and ``test_regenerate_refuses_quick``
   shows that ``regenerate.py`` cannot overwrite the file from the ``quick`` profile.
"""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
import json
import math
import pathlib
import re

import pytest

NOTEBOOK = pathlib.Path(__file__).resolve().parent.parent / "notebooks" / "05_optimizer_comparison.ipynb"
TEST_DATA = frozenset({"x_test", "y_test", "x_test_all", "y_test_all", "test_ds"})
REPORT_HEADING = re.compile(r"^## \d+\. Test accuracy, once", re.M)
SECTION_HEADING = re.compile(r"^## ", re.M)
SELECTORS = frozenset({"sorted", "sort", "argmax", "argmin", "argsort", "nanargmax", "nanargmin",
                       "idxmax", "idxmin", "best_trials", "index", "ranking", "nlargest", "nsmallest"})
FILLERS = frozenset({"append", "extend", "insert", "update", "add", "setdefault", "appendleft", "extendleft",
                     "__setitem__", "push"})  # methods that put their arguments into the container
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
                elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                        and node.func.attr in FILLERS and any(_loads(a, tainted) for a in
                                                              [*node.args, *(k.value for k in node.keywords)]):
                    base = node.func.value  # scores.append(x) or self.d[k].update(x): the container's root name
                    while isinstance(base, (ast.Attribute, ast.Subscript)):
                        base = base.value
                    if isinstance(base, ast.Name):
                        new.add(base.id)
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


def _functions(trees: list[ast.Module]) -> dict[str, ast.FunctionDef]:
    return {n.name: n for tree in trees for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}


def _is_key(node: ast.AST, key: str) -> bool:
    """node is `something["key"]`."""
    return isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and node.slice.value == key


def validation_selection_problems(cells: list[tuple[str, str]]) -> list[str]:
    """Why the notebook's choice might not be read from validation results (empty if it is)."""
    trees = [ast.parse(src) for kind, src in cells if kind == "code" and src.strip()]
    funcs = _functions(trees)
    problems = []
    # 1. the choice: CHOSEN = best_trials(TRIALS), TRIALS = search(...)
    assigns = {t.id: n.value for tree in trees for n in ast.walk(tree) if isinstance(n, ast.Assign)
               for t in n.targets if isinstance(t, ast.Name)}
    chosen = assigns.get("CHOSEN")
    if not (isinstance(chosen, ast.Call) and _call_name(chosen) == "best_trials"
            and {a.id for a in chosen.args if isinstance(a, ast.Name)} == {"TRIALS"}):
        problems.append("CHOSEN is not best_trials(TRIALS)")
    trials = assigns.get("TRIALS")
    if isinstance(trials, ast.IfExp):  # TRIALS = search(...) if RUN_TUNING else stored_trials(): a stored search
        stored = trials.orelse
        if not (isinstance(trials.test, ast.Name) and trials.test.id == "RUN_TUNING"
                and isinstance(stored, ast.Call) and _call_name(stored) == "stored_trials"):
            problems.append("TRIALS is neither the output of search(...) nor stored_trials() when RUN_TUNING is off")
        loader = funcs.get("stored_trials")
        if not loader or not any(isinstance(n, ast.Call) and _call_name(n) in ("load_results", "load_trials")
                                 and any(isinstance(a, ast.Call) and _call_name(a) == "tuning_settings"
                                         for a in n.args) for n in ast.walk(loader)):
            problems.append("stored_trials does not load through load_trials(..., tuning_settings())")
        trials = trials.body
    if not (isinstance(trials, ast.Call) and _call_name(trials) == "search"):
        problems.append("TRIALS is not the output of search(...)")
    # 2. best_trials compares the "val_acc" field, and nothing else
    best = funcs.get("best_trials")
    compares = [n for n in ast.walk(best) if isinstance(n, ast.Compare)
                and isinstance(n.ops[0], (ast.Gt, ast.GtE, ast.Lt, ast.LtE))] if best else []
    operands = [o for c in compares for o in (c.left, *c.comparators)]  # r["val_acc"], best[...]["val_acc"]
    fields = {o.slice.value if isinstance(o, ast.Subscript) and isinstance(o.slice, ast.Constant) else None
              for o in operands}
    if fields != {"val_acc"}:
        problems.append(f"best_trials compares the fields {sorted(fields)}, not only 'val_acc'")
    # 3. search stores val_acc=run["val_acc"][-1] of train_run on the tuning seed (TUNING_SEED, 100 and up)
    search = funcs.get("search")
    stored = [k.value for n in ast.walk(search) if isinstance(n, ast.Call) and _call_name(n) == "dict"
              for k in n.keywords if k.arg == "val_acc"] if search else []
    if not (len(stored) == 1 and isinstance(stored[0], ast.Subscript) and _is_key(stored[0].value, "val_acc")):
        problems.append("search does not store the run's validation history as val_acc")
    seeds = [k.value for n in ast.walk(search) if isinstance(n, ast.Call) and _call_name(n) == "train_run"
             for k in n.keywords if k.arg == "seed"] if search else []
    seed = seeds[0] if len(seeds) == 1 else None
    if isinstance(seed, ast.Name):  # seed=TUNING_SEED: follow the name to its constant
        seed = assigns.get(seed.id)
    if isinstance(seed, ast.BinOp):  # seed=100 + k (an earlier version): its constant base
        seed = seed.left
    tuning_seed = seed.value if isinstance(seed, ast.Constant) and isinstance(seed.value, int) else None
    if tuning_seed is None or tuning_seed < 100:
        problems.append("search does not train on a tuning seed (100 and up)")
    # 4. train_run validates on val_ds, and val_ds is built from x_val, y_val
    run = funcs.get("train_run")
    vdata = [k.value for n in ast.walk(run) if isinstance(n, ast.Call) and _call_name(n) == "fit"
             for k in n.keywords if k.arg == "validation_data"] if run else []
    if not (len(vdata) == 1 and isinstance(vdata[0], ast.Name) and vdata[0].id == "val_ds"):
        problems.append("train_run does not validate on val_ds")
    val_ds = assigns.get("val_ds")
    if val_ds is None or _loads(val_ds, {"x_val", "y_val"}) != {"x_val", "y_val"} or _loads(val_ds, set(TEST_DATA)):
        problems.append("val_ds is not built from x_val, y_val alone")
    # 5. the evaluation seeds are not tuning seeds
    cfg = assigns.get("CFG")
    seed_lists = [k.value for n in ast.walk(cfg) if isinstance(n, ast.Call)
                  for k in n.keywords if k.arg == "seeds"] if cfg else []
    if not seed_lists or any(isinstance(e, ast.Constant) and (e.value >= 100 or e.value == tuning_seed)
                             for s in seed_lists for e in getattr(s, "elts", [])):
        problems.append("an evaluation seed overlaps the tuning seeds (100 and up)")
    return problems


def test_validation_is_what_selection_reads() -> None:
    """The notebook's one selection reads validation accuracy of tuning-seed runs."""
    found = validation_selection_problems(load_cells())
    assert not found, "\n".join(found)


VALIDATION_VARIANTS = {
    "best_trials compares another field": ('r["val_acc"] > best[r["name"]]["val_acc"]',
                                           'r["lr"] > best[r["name"]]["lr"]'),
    "search tunes on an evaluation seed": ("seed=TUNING_SEED", "seed=k % 3"),
    "the tuning seed is an evaluation seed": ("TUNING_SEED = 100", "TUNING_SEED = 0"),
    "selection on the fresh-seed runs": ("CHOSEN = best_trials(TRIALS)",
                                         "CHOSEN = best_trials([r for runs in RUNS.values() for r in runs])"),
    "validation on test images": ("val_ds = make_dataset(x_val, y_val", "val_ds = make_dataset(x_test, y_test"),
    "stored trials from elsewhere": ("else stored_trials()", "else json.load(open('trials.json'))"),
    "stored trials loaded unchecked": ("return load_trials(STORED_TRIALS, tuning_settings(),",
                                       "return json.load(open(STORED_TRIALS))['records'] or dict(settings=tuning_settings(),"),
}


@pytest.mark.parametrize("name", VALIDATION_VARIANTS)
def test_validation_check_can_fail(name: str) -> None:
    old, new = VALIDATION_VARIANTS[name]
    cells = load_cells()
    assert any(old in src for _, src in cells), f"the notebook no longer contains {old!r}"
    edited = [(kind, src.replace(old, new)) for kind, src in cells]
    assert validation_selection_problems(edited), f"the validation check missed: {name}"


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
    "tuning loop evaluates test": ("CHOSEN = best_trials(TRIALS)",
                                   "TUNE_TEST = [train_run('Adam', 'constant', 1e-3, 1e-3, seed=100)['model']"
                                   ".evaluate(test_ds, verbose=0)]"),
    # issue 17's error [48]/[50]: an exercise computes a gap on test and tells the learner to try again
    "comprehension filter on test": ("TEST_ACC = {", "good = [n for n in OPTIMIZERS if np.median(TEST_ACC[n]) > 0.5]"),
    "exercise gap on test": ("check_exercise_3()", "gap = np.median(TEST_ACC['Adam']) - 0.5\n"
                                                   "if gap > 0.02:\n    print('try another peak')"),
    # test data read early, for anything
    "test read before the report": ("SUMMARY = {name: summary(name)", "print(RUNS['Adam'][0]['model'].evaluate(test_ds, verbose=0))"),
    # the two variants a reviewer used to slip past an earlier version of this check
    "list.append, then .index(max(...))": ("TEST_ACC = {", "median_test = []\nfor n in OPTIMIZERS:\n"
                                                           "    median_test.append(np.median(TEST_ACC[n]))\n"
                                                           "winner = OPTIMIZERS[median_test.index(max(median_test))]"),
    "dict.update, then sorted": ("TEST_ACC = {", "ranked = {}\nranked.update(TEST_ACC)\n"
                                                 "ranked_names = sorted(ranked, key=lambda n: ranked[n].mean())"),
    "sorted over appended test scores": ("TEST_ACC = {", "pairs = []\nfor n in OPTIMIZERS:\n"
                                                         "    pairs.append((float(TEST_ACC[n].mean()), n))\n"
                                                         "best_name = sorted(pairs)[-1][1]"),
}


@pytest.mark.parametrize("name", VARIANTS)
def test_checker_catches_test_selection(name: str) -> None:
    marker, extra = VARIANTS[name]
    found = violations(_variant(lambda cells: _append_to(cells, marker, extra)))
    assert found, f"the check missed a notebook variant that reads test data: {name}"


def test_checker_catches_a_missing_report() -> None:
    cells = [(kind, REPORT_HEADING.sub("## 10. Results", src)) for kind, src in load_cells()]
    assert violations(cells)


# --- the stored tuning search (results/05_optimizer_comparison) ------------------------------

FOLDER = NOTEBOOK.parent.parent / "results" / "05_optimizer_comparison"
STORED = FOLDER / "tuning_trials.json"
RECORD_FIELDS = ["name", "schedule", "trial", "u", "v", "lr", "h2", "val_acc"]


def _refingerprint():
    spec = importlib.util.spec_from_file_location("refingerprint05", FOLDER / "refingerprint.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


REFINGERPRINT = _refingerprint()


def stored_search_problems(cells: list[tuple[str, str]], stored: dict) -> list[str]:
    """Why the stored search does not match the notebook's cpu settings (empty if it does).

    The notebook itself refuses a stale file when it loads it, but only in the cpu profile; CI runs quick, where
    the search is live. So this test computes the cpu settings from the notebook's source and compares them here.
    """
    from helpers.results import differences

    problems = [f"settings: {d}" for d in differences(stored["settings"], REFINGERPRINT.current_settings(cells))]
    settings = stored["settings"]
    records = stored["records"]
    trials = settings.get("cfg", {}).get("trials", 0)
    order = [(n, s, k) for n in settings.get("optimizers", []) for s in settings.get("schedules", [])
             for k in range(1, trials + 1)]
    if [(r.get("name"), r.get("schedule"), r.get("trial")) for r in records] != order:
        problems.append("the records are not one per optimizer, schedule and trial, in the search's order")
    for r in records:
        if list(r) != RECORD_FIELDS:
            problems.append(f"a record has the fields {list(r)}, not {RECORD_FIELDS}")
            break
        (lr_lo, lr_hi), _, (h_lo, h_hi) = settings["spaces"].get(r["name"], ((1, 1), "", (1, 1)))
        u, v = settings["unit_points"][r["trial"] - 1] if r["trial"] <= len(settings["unit_points"]) else (None, None)
        if [r["u"], r["v"]] != [u, v] or not (math.isclose(r["lr"], lr_lo * (lr_hi / lr_lo) ** u, rel_tol=1e-12)
                                              and math.isclose(r["h2"], h_lo * (h_hi / h_lo) ** v, rel_tol=1e-12)):
            problems.append(f"{r['name']} {r['schedule']} trial {r['trial']}: u, v, lr or h2 is not its unit point's")
        if not (isinstance(r["val_acc"], float) and 0.0 <= r["val_acc"] <= 1.0):
            problems.append(f"{r['name']} {r['schedule']} trial {r['trial']}: val_acc {r['val_acc']!r} is not an accuracy")
    if stored.get("provenance", {}).get("function") != "search":
        problems.append("the provenance does not name the notebook's search")
    return problems


def test_stored_search_matches_the_notebook() -> None:
    assert STORED.is_file(), f"{STORED} is missing: see results/05_optimizer_comparison/README.md"
    found = stored_search_problems(load_cells(), json.loads(STORED.read_text()))
    assert not found, ("the stored search is stale (regenerate it: results/05_optimizer_comparison/README.md):\n"
                       + "\n".join(found))


STALE_VARIANTS = {  # each changes what a trial computes: the stored file must be refused
    "cpu steps changed": ("steps=760,", "steps=700,"),
    "a learning-rate range moved": ('"Adam": ((3e-3, 0.3)', '"Adam": ((3e-3, 0.5)'),
    "another tuning seed": ("TUNING_SEED = 100", "TUNING_SEED = 101"),
    "train_run changed": ("shuffle=False, verbose=0)", "shuffle=False, verbose=0, class_weight=None)"),
    "the loss changed": ("SparseCategoricalCrossentropy(from_logits=True)",
                         "SparseCategoricalCrossentropy(from_logits=True, ignore_class=0)"),
    "another validation split": ("SPLIT_SEED = 0", "SPLIT_SEED = 1"),
    "a print in search changed": ("validation {run['val_acc'][-1]:.3f} | ", "val {run['val_acc'][-1]:.3f} | "),
}


@pytest.mark.parametrize("name", STALE_VARIANTS)
def test_stored_search_check_can_fail(name: str) -> None:
    old, new = STALE_VARIANTS[name]
    cells = load_cells()
    assert sum(src.count(old) for _, src in cells) == 1, f"the notebook no longer contains {old!r} once"
    edited = [(kind, src.replace(old, new)) for kind, src in cells]
    assert stored_search_problems(edited, json.loads(STORED.read_text())), f"the stale check missed: {name}"


FREE_VARIANTS = {  # none of these changes a trial: the stored file stays usable
    "more evaluation seeds, another target": ("seeds=(0, 1, 2), target=0.65)", "seeds=(0, 1, 2, 3), target=0.7)"),
    "a smaller test set": ("n_test=10000, widths=(32, 64, 128)", "n_test=5000, widths=(32, 64, 128)"),
    "a comment in train_run": ("# steps between two validation passes", "# validation every `interval` steps"),
    "a docstring in new_model": ('"""A freshly initialised CNN: the seed decides its initial weights."""',
                                 '"""A new CNN; the seed decides its initial weights."""'),
}


@pytest.mark.parametrize("name", FREE_VARIANTS)
def test_stored_search_ignores_what_a_trial_does_not_use(name: str) -> None:
    old, new = FREE_VARIANTS[name]
    cells = load_cells()
    assert sum(src.count(old) for _, src in cells) == 1, f"the notebook no longer contains {old!r} once"
    edited = [(kind, src.replace(old, new)) for kind, src in cells]
    assert not stored_search_problems(edited, json.loads(STORED.read_text())), f"refused for nothing: {name}"


def test_stored_search_check_sees_an_edited_record() -> None:
    stored = json.loads(STORED.read_text())
    stored["records"][3]["lr"] *= 1.01
    assert stored_search_problems(load_cells(), stored)


def committed_table_problems(nb: dict, stored: dict) -> list[str]:
    """Differences between the committed trials table (the output of the TRIALS cell) and the file's val_acc.

    The stale check cannot see an edited ``val_acc``: the records are the data, and the file is their source of
    truth. What ties them to a run is the committed notebook, whose cpu output printed them: an edited value
    (or a file replaced without re-running the notebook) shows here.
    """
    cell = next(c for c in nb["cells"] if c["cell_type"] == "code" and "TRIALS = search(" in "".join(c["source"]))
    text = "".join("".join(o.get("text", "")) for o in cell.get("outputs", []))
    shown = {(m[0], m[1]): m[2].split() for m in re.findall(r"^(\S+)\s+(constant|warmup\+cosine)\s+trials: (.*)$",
                                                            text, re.M)}
    problems = [] if shown else ["the committed TRIALS cell has no trials table"]
    for (name, schedule), values in shown.items():
        stored_values = [f"{r['val_acc']:.3f}" for r in stored["records"] if (r["name"], r["schedule"]) == (name, schedule)]
        if values != stored_values:
            problems.append(f"{name} {schedule}: committed {values}, file {stored_values}")
    if sum(map(len, shown.values())) != len(stored["records"]):
        problems.append(f"the table shows {sum(map(len, shown.values()))} trials, the file holds {len(stored['records'])}")
    return problems


def test_committed_table_shows_the_stored_trials() -> None:
    found = committed_table_problems(json.loads(NOTEBOOK.read_text()), json.loads(STORED.read_text()))
    assert not found, "the committed notebook's trials table is not the stored file's:\n" + "\n".join(found)


def test_committed_table_catches_an_edited_val_acc() -> None:
    stored = json.loads(STORED.read_text())
    stored["records"][7]["val_acc"] += 0.004  # 0.686 -> 0.690: not an lr, the result itself
    assert committed_table_problems(json.loads(NOTEBOOK.read_text()), stored)
    assert not stored_search_problems(load_cells(), stored), \
        "the settings check cannot see it (the records are the data): the committed table is what catches it"


def test_regenerate_refuses_quick() -> None:
    before = STORED.read_bytes()
    done = subprocess.run([sys.executable, str(FOLDER / "regenerate.py"), "--out", "/tmp/never_written_05.ipynb"],
                          env={**__import__("os").environ, "COURSE_PROFILE": "quick"}, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode != 0 and "refused" in (done.stdout + done.stderr)
    assert STORED.read_bytes() == before


def test_refingerprint_says_the_file_is_current() -> None:
    done = subprocess.run([sys.executable, str(FOLDER / "refingerprint.py"), "--check"], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0 and "is current" in done.stdout, done.stdout + done.stderr
