"""Maintainers: re-run notebook 05's tuning search live and store its trials in tuning_trials.json.

Runs a copy of notebooks/05_optimizer_comparison.ipynb top to bottom with RUN_TUNING = True and
SAVE_TUNING = True (the committed notebook is not changed), always in the `cpu` profile (the tracked file is
that profile's search: a COURSE_PROFILE other than cpu is refused, and the notebook's save_trials refuses any
other profile too), and writes the executed copy to --out (never into notebooks/). From the repository root:

    flock /tmp/course-cpu.lock .venv/bin/python results/05_optimizer_comparison/regenerate.py --out /tmp/05_live.ipynb

See README.md in this folder.
"""

from __future__ import annotations

import argparse
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
NOTEBOOK = ROOT / "notebooks" / "05_optimizer_comparison.ipynb"
SWITCHES = {"RUN_TUNING = choose(quick=True, cpu=False, full=True)": "RUN_TUNING = True",
            "SAVE_TUNING = False": "SAVE_TUNING = True"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, required=True, help="where to write the executed copy")
    args = parser.parse_args()
    if os.environ.get("COURSE_PROFILE", "cpu") != "cpu":
        raise SystemExit(f"refused: COURSE_PROFILE={os.environ['COURSE_PROFILE']}; tuning_trials.json holds the cpu "
                         "profile's search, so regenerate.py runs only in the cpu profile (unset COURSE_PROFILE)")
    if args.out.resolve().parent == NOTEBOOK.parent:
        raise SystemExit("--out must not be in notebooks/: the committed notebook keeps RUN_TUNING's default")
    os.environ["COURSE_PROFILE"] = "cpu"
    nb = switched_on(nbformat.read(NOTEBOOK, as_version=4), SWITCHES, __file__)
    start = time.perf_counter()
    NotebookClient(nb, timeout=3600, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    nbformat.write(nb, args.out)
    stored = json.loads((ROOT / "results" / "05_optimizer_comparison" / "tuning_trials.json").read_text())
    print(f"cpu profile: notebook run in {time.perf_counter() - start:.0f} s; "
          f"{len(stored['records'])} records stored ({stored['provenance']['date']}); executed copy in {args.out}")


if __name__ == "__main__":
    main()
