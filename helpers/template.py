"""The notebook template: the one place the repository's address lives.

Every notebook opens with the same header (title, "Open in Colab" badge,
goals, prerequisites, run time per profile) followed by the same setup cell.
``tests/test_notebooks.py`` checks each notebook against this module.

If the course moves to another repository, change ``GITHUB_REPO`` and run::

    python -m helpers.template

which rewrites the badge and the setup cell in every notebook (outputs are
left alone, since neither cell's output depends on the address).
"""

from __future__ import annotations

import json
import pathlib
import re

# A placeholder until the course is published: set the real "owner/name" here, then run
# `python -m helpers.template` to rewrite every notebook's badge and setup cell.
GITHUB_REPO = "deep-learning-course/keras-course"
REPO_URL = f"https://github.com/{GITHUB_REPO}"
BRANCH = "main"
REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = REPO_ROOT / "notebooks"

SETUP_CELL = f'''\
# Setup: the same cell opens every notebook. It works in Colab, in Jupyter and under nbval.
import os, pathlib, subprocess, sys

if "google.colab" in sys.modules and not pathlib.Path("../helpers").is_dir():  # Colab: fetch the course once
    COURSE = pathlib.Path(os.environ.get("COURSE_HOME", "/content/course"))
    URL = os.environ.get("COURSE_REPO_URL", "{REPO_URL}")
    if not COURSE.is_dir() and subprocess.run(["git", "clone", "--quiet", "--depth=1", URL, str(COURSE)]).returncode:
        raise SystemExit(f"Could not download the course from {{URL}}. Check that this runtime has internet "
                         f"access, or upload the course folder to {{COURSE}}, then run this cell again.")
    os.chdir(COURSE / "notebooks")
ROOT = next(p for p in [pathlib.Path.cwd(), *pathlib.Path.cwd().parents] if (p / "helpers").is_dir())
sys.path.insert(0, str(ROOT))

from helpers.course import start
PROFILE = start(seed=0)'''

HEADER_SECTIONS = ("Goals", "Prerequisites", "Run time")
BADGE_RE = re.compile(r"\[!\[Open In Colab\]\(https://colab\.research\.google\.com/assets/colab-badge\.svg\)\]\(([^)]+)\)")


def colab_url(notebook_name: str, folder: str = "notebooks") -> str:
    """The Colab address of ``<folder>/<notebook_name>`` (``student`` for the student edition)."""
    return f"https://colab.research.google.com/github/{GITHUB_REPO}/blob/{BRANCH}/{folder}/{notebook_name}"


def badge(notebook_name: str, folder: str = "notebooks") -> str:
    """The markdown "Open in Colab" badge for ``<folder>/<notebook_name>``."""
    return ("[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
            f"({colab_url(notebook_name, folder)})")


def stamp(path: pathlib.Path) -> bool:
    """Rewrite the badge and the setup cell of one notebook; return True if it changed."""
    nb = json.loads(path.read_text())
    changed = False
    for cell in nb["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown" and BADGE_RE.search(source):
            new = BADGE_RE.sub(lambda _: badge(path.name), source)
        elif cell["cell_type"] == "code" and source.startswith("# Setup: the same cell"):
            new = SETUP_CELL
        else:
            continue
        if new != source:
            cell["source"] = new.splitlines(keepends=True)
            changed = True
    if changed:
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    return changed


if __name__ == "__main__":
    for nb_path in sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb")):
        print(f"{nb_path.name}: {'updated' if stamp(nb_path) else 'already current'}")
