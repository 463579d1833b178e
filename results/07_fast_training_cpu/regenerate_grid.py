"""Maintainers: re-run notebook 07's batch-size/peak grid (section 6) live and store it in grid_trials.json.

Runs a copy of notebooks/07_fast_training_cpu.ipynb from the top with RUN_GRID = True and SAVE_GRID = True (the
committed notebook is not changed), always in the `cpu` profile, and stops after the grid's cell: the cells
before it run too, as in a whole run, so the trials see what they would see there (about 2 minutes on the
course's machine). From the repository root, under the course's CPU lock:

    flock /tmp/course-cpu.lock .venv/bin/python results/07_fast_training_cpu/regenerate_grid.py

Then re-run the committed notebook as usual (cpu, RUN_GRID False), re-read the prose numbers of section 6, and
commit both. See README.md in this folder.
"""

from __future__ import annotations

import json
import os
import pathlib
import sys
import time

import nbformat
from nbclient import NotebookClient

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from helpers.results import switched_on  # noqa: E402  (the repository's helpers)
NOTEBOOK = ROOT / "notebooks" / "07_fast_training_cpu.ipynb"
STORED = ROOT / "results" / "07_fast_training_cpu" / "grid_trials.json"
SWITCHES = {"RUN_GRID = choose(quick=True, cpu=False, full=True)": "RUN_GRID = True",
            "SAVE_GRID = False": "SAVE_GRID = True"}
LAST_CELL = "grid_records = run_grid("  # the grid's cell: execution stops after it


def main() -> None:
    if os.environ.get("COURSE_PROFILE", "cpu") != "cpu":
        raise SystemExit(f"refused: COURSE_PROFILE={os.environ['COURSE_PROFILE']}; grid_trials.json holds the cpu "
                         "profile's grid, so regenerate_grid.py runs only in the cpu profile (unset COURSE_PROFILE)")
    os.environ["COURSE_PROFILE"] = "cpu"
    nb = switched_on(nbformat.read(NOTEBOOK, as_version=4), SWITCHES, __file__)
    last = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and LAST_CELL in c.source]
    if len(last) != 1:
        raise SystemExit(f"expected one cell with {LAST_CELL!r}, found {len(last)}: update {__file__}")
    before = STORED.stat().st_mtime if STORED.exists() else None
    start = time.perf_counter()
    client = NotebookClient(nb, timeout=1800, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells[:last[0] + 1]):
            if cell.cell_type == "code":
                client.execute_cell(cell, index)  # raises on an error
    for output in nb.cells[last[0]].outputs:
        print(output.get("text", ""), end="")
    if not STORED.exists() or STORED.stat().st_mtime == before:
        raise SystemExit("the grid ran but grid_trials.json was not written")
    stored = json.loads(STORED.read_text())
    print(f"cpu profile: {time.perf_counter() - start:.0f} s up to the grid; {len(stored['records'])} records stored "
          f"({stored['provenance']['date']})")


if __name__ == "__main__":
    main()
