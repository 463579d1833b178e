"""Maintainers: re-derive the "settings" block of tuning_trials.json from unchanged code, keeping its records.

When the *check* changes (what the settings hold, how code is fingerprinted) but nothing a trial runs has changed,
the stored trials are still exactly what the search would compute, and re-running the 36 trials (about 10 minutes
here) would only reproduce them. This script then rewrites the file's ``settings`` block in the new form, and
refuses unless it can show that the trial code is unchanged since the file was made:

1. every setting of the stored block that the current notebook can still compute in the old form must be
   equal (``cfg``, seeds, optimizers, schedules, warm-up, ``NO_DECAY``, spaces, unit points, split sizes), and
   the stored ``code`` hash must equal the old-style hash of the notebook's trial functions (SHA-256 of their
   source text, as the notebook computed it when it stored the file);
2. the ``helpers`` modules that the new fingerprint covers must have no commit since the file's provenance date
   and no uncommitted change (``git log --since``, ``git diff HEAD``).

The records are not touched (checked: their lines are byte-identical before and after). The provenance gains
``profile`` (moved out of the settings) and ``settings_rederived``: when, from which commit, and why it was safe.

The settings are computed from the notebook's *source* (no kernel, no training): the functions are defined
with ``exec`` from their cells, the literals read with ``ast``; ``load_trials`` in the notebook's own ``cpu``
run then checks the result against what the kernel computes. From the repository root::

    .venv/bin/python results/05_optimizer_comparison/refingerprint.py          # check and rewrite
    .venv/bin/python results/05_optimizer_comparison/refingerprint.py --check  # only say whether it is current

``tests/test_nb05.py`` uses :func:`current_settings` to compare the tracked file with the notebook's source.
"""

from __future__ import annotations

import argparse
import ast
import datetime
import hashlib
import json
import linecache
import pathlib
import subprocess
import sys
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "05_optimizer_comparison.ipynb"
STORED = ROOT / "results" / "05_optimizer_comparison" / "tuning_trials.json"
N_CIFAR_TRAIN = 50_000  # the permutation's length: CIFAR-10's training file
#: The functions whose source the first version of the file hashed (its settings["code"]), in that order.
OLD_TRIAL_CODE = ["search", "train_run", "new_model", "new_batches", "make_optimizer", "learning_rate", "settings"]

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def load_cells(path: pathlib.Path = NOTEBOOK) -> list[tuple[str, str]]:
    """(cell type, source) of every cell."""
    nb = json.loads(path.read_text())
    return [(c["cell_type"], "".join(c["source"])) for c in nb["cells"]]


def halton(k: int, base: int) -> float:
    """The k-th radical inverse, written independently of the notebook's blank."""
    value, place = 0.0, 1.0 / base
    while k:
        k, digit = divmod(k, base)
        value += digit * place
        place /= base
    return value


def _assignment(cells: list[tuple[str, str]], name: str) -> ast.Assign:
    """The last top-level assignment to ``name`` in the notebook's code."""
    found = [node for kind, src in cells if kind == "code" and src.strip() for node in ast.parse(src).body
             if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)]
    if not found:
        raise LookupError(f"the notebook no longer assigns {name}")
    return found[-1]


def literal(cells: list[tuple[str, str]], name: str) -> Any:
    return ast.literal_eval(_assignment(cells, name).value)


def cpu_cfg(cells: list[tuple[str, str]]) -> dict[str, Any]:
    """The ``cpu=dict(...)`` of the notebook's ``CFG = choose(...)``."""
    call = _assignment(cells, "CFG").value
    cpu = next(k.value for k in call.keywords if k.arg == "cpu")
    return {k.arg: ast.literal_eval(k.value) for k in cpu.keywords}


def function_sources(cells: list[tuple[str, str]]) -> dict[str, str]:
    """Each top-level function's source lines, as ``inspect.getsource`` gives them in the kernel."""
    out = {}
    for kind, src in cells:
        if kind != "code" or not src.strip():
            continue
        lines = src.splitlines()
        for node in ast.parse(src).body:
            if isinstance(node, ast.FunctionDef):
                out[node.name] = "".join(line + "\n" for line in lines[node.lineno - 1:node.end_lineno])
    return out


def notebook_namespace(cells: list[tuple[str, str]]) -> dict[str, Any]:
    """The notebook's imports and every top-level function, defined (not run) as the kernel defines them."""
    ns: dict[str, Any] = {"__name__": "__main__"}
    imports = next(src for kind, src in cells if kind == "code" and "from helpers.results import" in src)
    exec(compile(imports, "<notebook 05: imports>", "exec"), ns)  # noqa: S102 - the course's own notebook
    for i, (kind, src) in enumerate(cells):
        if kind != "code" or not src.strip():
            continue
        tree = ast.parse(src)
        defs = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
        if not defs:
            continue
        filename = f"<notebook 05: cell {i}>"
        lines = [line + "\n" for line in src.splitlines()]
        linecache.cache[filename] = (len(src), None, lines, filename)  # so that inspect.getsource finds them
        exec(compile(ast.Module(body=defs, type_ignores=[]), filename, "exec"), ns)  # noqa: S102
    return ns


def current_settings(cells: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    """The ``cpu`` profile's ``tuning_settings()``, computed from the notebook's source (JSON-normalised)."""
    from helpers.results import code_fingerprints, fingerprint, loss_settings, normalise
    import numpy as np

    cells = cells if cells is not None else load_cells()
    ns = notebook_namespace(cells)
    exec(compile(ast.Module(body=[_assignment(cells, "LOSS")], type_ignores=[]), "<notebook 05: LOSS>", "exec"), ns)
    cfg = cpu_cfg(cells)
    split_seed = literal(cells, "SPLIT_SEED")
    call = _assignment(cells, "SEARCH_READS")
    reads = ast.literal_eval(call.value)
    tuning = next(n for kind, src in cells if kind == "code" for n in ast.parse(src).body
                  if isinstance(n, ast.FunctionDef) and n.name == "tuning_settings")
    roots = [k.value for n in ast.walk(tuning) if isinstance(n, ast.Call)
             for k in n.keywords if k.arg == "code"]
    names = [e.id for e in roots[0].args[0].elts]  # code=code_fingerprints([search, train_run, ...])
    settings = dict(
        cfg={k: cfg[k] for k in reads}, tuning_seed=literal(cells, "TUNING_SEED"),
        optimizers=literal(cells, "OPTIMIZERS"), schedules=literal(cells, "SCHEDULES"),
        warmup_fraction=literal(cells, "WARMUP_FRACTION"), no_decay=literal(cells, "NO_DECAY"),
        spaces=literal(cells, "SPACES"),
        unit_points=[(halton(k, 2), halton(k, 3)) for k in range(1, cfg["trials"] + 1)],
        loss=loss_settings(ns["LOSS"]),
        split=dict(seed=split_seed, permutation=fingerprint(np.random.default_rng(split_seed).permutation(N_CIFAR_TRAIN)),
                   n_train=cfg["n_train"], n_val=cfg["n_val"]),
        code=code_fingerprints([ns[n] for n in names]))
    return normalise(settings)


def old_settings(cells: list[tuple[str, str]]) -> dict[str, Any]:
    """The settings block in the form the file was first written in (profile, whole CFG, source-text hash)."""
    from helpers.results import normalise

    cfg = cpu_cfg(cells)
    sources = function_sources(cells)
    code = hashlib.sha256("".join(sources[n] for n in OLD_TRIAL_CODE).encode()).hexdigest()[:16]
    return normalise(dict(
        profile="cpu", cfg=cfg, tuning_seed=literal(cells, "TUNING_SEED"), optimizers=literal(cells, "OPTIMIZERS"),
        schedules=literal(cells, "SCHEDULES"), warmup_fraction=literal(cells, "WARMUP_FRACTION"),
        no_decay=literal(cells, "NO_DECAY"), spaces=literal(cells, "SPACES"),
        unit_points=[(halton(k, 2), halton(k, 3)) for k in range(1, cfg["trials"] + 1)],
        split=dict(n_train=cfg["n_train"], n_val=cfg["n_val"]), code=code))


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()


def helper_files(settings: dict[str, Any]) -> list[str]:
    """The helpers modules the code fingerprint covers, as repository paths."""
    modules = sorted({k.rsplit(".", 1)[0] for k in settings["code"] if k.startswith("helpers.")})
    return [m.replace(".", "/") + ".py" for m in modules]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report whether the settings block is current")
    args = parser.parse_args()
    from helpers.results import differences, results_text

    text = STORED.read_text()
    data = json.loads(text)
    cells = load_cells()
    new = current_settings(cells)
    if data["settings"] == new:
        print(f"{STORED.relative_to(ROOT)}: the settings block is current; nothing to do")
        return 0
    if args.check:
        print("the settings block is not current:\n  " + "\n  ".join(differences(data["settings"], new)))
        return 1
    old = old_settings(cells)
    diff = differences(data["settings"], old)
    if diff:
        print("refused: the stored settings are not those of the current notebook in their first form, so the "
              "trial code or settings may have changed; run regenerate.py instead. Differences:\n  " + "\n  ".join(diff))
        return 1
    since = data["provenance"]["date"]
    files = helper_files(new)
    changed = git("log", f"--since={since}", "--format=%h %s", "--", *files)
    dirty = git("diff", "--stat", "HEAD", "--", *files)
    if changed or dirty:
        print(f"refused: {', '.join(files)} changed since {since} (commits: {changed or 'none'}; uncommitted: "
              f"{dirty or 'none'}); run regenerate.py instead")
        return 1
    head = git("rev-parse", "--short", "HEAD")
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    about = dict(data["provenance"])
    about.setdefault("profile", data["settings"].get("profile", "cpu"))
    about["settings_rederived"] = (
        f"{now} by refingerprint.py at commit {head}, records unchanged: the stored settings matched the notebook in "
        f"their first form (trial-code hash {data['settings']['code']}) and {', '.join(files)} had no change since {since}")
    out = results_text({"format": data["format"], "settings": new, "provenance": about, "records": data["records"]})
    record_lines = lambda t: [line for line in t.splitlines() if line.startswith('  {"name"')]  # noqa: E731
    if record_lines(out) != record_lines(text) or len(record_lines(text)) != len(data["records"]):
        print("refused: the records would not stay byte-identical")
        return 1
    STORED.write_text(out)
    print(f"{STORED.relative_to(ROOT)}: settings block re-derived ({len(data['records'])} records unchanged):\n  "
          + "\n  ".join(differences(data["settings"], new)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
