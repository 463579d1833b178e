"""Notebook 07's stored grid (results/07_fast_training_cpu/grid_trials.json): current, shown, and safe to regenerate."""
import ast
import json
import linecache
import os
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "07_fast_training_cpu.ipynb"
STORED = ROOT / "results" / "07_fast_training_cpu" / "grid_trials.json"
SPLIT = "perm = np.random.default_rng(0).permutation(len(x_train_all))"  # the notebook's split (CIFAR-10: 50,000)


def load_cells():
    nb = json.loads(NOTEBOOK.read_text())
    return [(c["cell_type"], "".join(c["source"])) for c in nb["cells"]]


def cpu_cfg(cells):
    """The cpu=dict(...) of the notebook's CFG = choose(...)."""
    for kind, src in cells:
        if kind != "code":
            continue
        for node in ast.parse(src).body:
            if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "CFG" for t in node.targets):
                cpu = next(k.value for k in node.value.keywords if k.arg == "cpu")
                return {k.arg: ast.literal_eval(k.value) for k in cpu.keywords}
    raise LookupError("no CFG")


def namespace(cells, names):
    """The notebook's imports and its top-level functions `names`, defined (not run) as the kernel defines them."""
    ns = {"__name__": "__main__"}
    imports = next(src for kind, src in cells if kind == "code" and "from helpers.results import" in src)
    exec(compile(imports, "<notebook 07: imports>", "exec"), ns)
    for i, (kind, src) in enumerate(cells):
        if kind != "code" or not src.strip():
            continue
        defs = [n for n in ast.parse(src).body if isinstance(n, ast.FunctionDef) and n.name in names]
        if defs:
            filename = f"<notebook 07: cell {i}>"
            linecache.cache[filename] = (len(src), None, [line + "\n" for line in src.splitlines()], filename)
            exec(compile(ast.Module(body=defs, type_ignores=[]), filename, "exec"), ns)
    return ns


def current_settings(cells):
    """The cpu profile's grid_settings(), computed from the notebook's source (as JSON reads it)."""
    from helpers.results import code_fingerprints, fingerprint, normalise

    assert any(SPLIT in src for kind, src in cells if kind == "code"), "the split changed: update this test"
    source = next(src for kind, src in cells if kind == "code" and "def grid_settings" in src)
    tree = next(n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef) and n.name == "grid_settings")
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "code_fingerprints")
    roots = [e.id for e in call.args[0].elts]
    ns = namespace(cells, roots)
    keys = next(ast.literal_eval(n.iter) for n in ast.walk(tree) if isinstance(n, ast.comprehension))
    cfg = cpu_cfg(cells)
    return normalise({"cfg": {k: cfg[k] for k in keys},
                      "split": fingerprint(np.random.default_rng(0).permutation(50_000)),
                      "code": code_fingerprints([ns[n] for n in roots])})


@pytest.fixture(scope="module")
def stored():
    return json.loads(STORED.read_text())


@pytest.fixture(scope="module")
def cells():
    return load_cells()


def test_stored_grid_matches_the_notebook(stored, cells):
    from helpers.results import differences

    assert differences(stored["settings"], current_settings(cells)) == []
    assert stored["provenance"]["profile"] == "cpu"
    grid = [tuple(g) for g in cpu_cfg(cells)["grid"]]
    assert [(r["batch_size"], r["peak_lr"]) for r in stored["records"]] == grid


@pytest.mark.parametrize("old, new", [
    ("label_smoothing=0.2", "label_smoothing=0.1"),              # the trial's loss
    ("momentum=0.9, nesterov=True", "momentum=0.8, nesterov=True"),  # its optimizer
    ("grid=((128, 0.4), (128, 0.8), (128, 1.6), (512, 0.8), (512, 1.6))", "grid=((128, 0.4), (128, 1.6), (512, 0.8))"),
    ('trial("whitened", batch_size=batch_size, peak_lr=peak_lr)', 'trial("whitened", batch_size=batch_size, peak_lr=peak_lr, seed=1)'),
])
def test_a_change_makes_the_file_stale(stored, cells, old, new):
    from helpers.results import differences

    assert sum(src.count(old) for _, src in cells) >= 1, old
    changed = [(kind, src.replace(old, new)) for kind, src in cells]
    assert differences(stored["settings"], current_settings(changed)) != []


def test_a_comment_does_not(stored, cells):
    from helpers.results import differences

    changed = [(kind, src.replace("def run_grid(grid):\n", "def run_grid(grid):  # a comment\n")) for kind, src in cells]
    assert changed != cells
    assert differences(stored["settings"], current_settings(changed)) == []


def test_committed_notebook_shows_the_stored_grid(stored):
    nb = json.loads(NOTEBOOK.read_text())
    cell = next(c for c in nb["cells"] if c["cell_type"] == "code" and "grid_records = run_grid(" in "".join(c["source"]))
    text = "".join("".join(o.get("text", "")) for o in cell["outputs"])
    assert "(stored run)" in text and "loaded from results/07_fast_training_cpu/grid_trials.json" in text
    for r in stored["records"]:
        line = f"batch {r['batch_size']:3d} peak {r['peak_lr']:.1f} seed {r['seed']}"
        assert re.search(re.escape(line) + r".*validation accuracy " + re.escape(f"{r['val_acc']:.1%}"), text), line


def test_regenerate_refuses_quick():
    before = STORED.read_bytes()
    out = subprocess.run([sys.executable, str(STORED.parent / "regenerate_grid.py")], capture_output=True, text=True,
                         env=dict(os.environ, COURSE_PROFILE="quick"), cwd=ROOT)
    assert out.returncode != 0 and "refused" in (out.stderr + out.stdout)
    assert STORED.read_bytes() == before
