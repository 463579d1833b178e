"""Every notebook follows the template and stores a clean, mostly compared run.

These read the committed .ipynb files; nbval itself re-runs them.
"""

from __future__ import annotations

import json
import pathlib
import re

import pytest

from helpers import template

NOTEBOOKS = sorted(template.NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
IGNORE_TAGS = ("nbval-ignore-output", "nbval-skip", "nbval-raises-exception")
COMMENT_MARKER = re.compile(r"^\s*#\s*NBVAL_", re.M)
TF_NOISE = re.compile(r"^[IEW]\d{4} |oneDNN custom operations|cuda drivers|absl::InitializeLog", re.M)


def load(path: pathlib.Path) -> dict:
    return json.loads(path.read_text())


def source(cell: dict) -> str:
    return "".join(cell["source"])


def code_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if c["cell_type"] == "code" and source(c).strip()]


def test_notebooks_exist() -> None:
    assert NOTEBOOKS, "no notebooks found in notebooks/"
    assert NOTEBOOKS[0].name == "00_start_here.ipynb"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_header(path: pathlib.Path) -> None:
    first = source(load(path)["cells"][0])
    assert first.startswith("# "), "the first cell must be a markdown title ('# ...')"
    assert template.badge(path.name) in first, (
        f"the first cell must hold the Colab badge for this notebook: {template.badge(path.name)}")
    for section in template.HEADER_SECTIONS:
        assert re.search(rf"^\*\*{section}|^#+ {section}", first, re.M), f"header lacks a '{section}' part"
    for profile in ("quick", "cpu", "full"):
        assert f"`{profile}`" in first, f"run-time part must give a time for the `{profile}` profile"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_setup_cell_is_first_code_cell(path: pathlib.Path) -> None:
    cells = code_cells(load(path))
    assert cells and source(cells[0]) == template.SETUP_CELL, (
        "the first code cell must be helpers.template.SETUP_CELL, unchanged "
        "(run `python -m helpers.template` to restore it)")


CLOSING_SECTIONS = re.compile(r"## (Summary|Exercises|Solutions|Next steps|References|Credits)")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_ends_with_summary_and_exercises(path: pathlib.Path) -> None:
    sections = [line for c in load(path)["cells"] if c["cell_type"] == "markdown"
                for line in source(c).splitlines() if re.match(r"##? ", line)]
    names = [s.split(" ", 1)[1].strip() for s in sections]
    assert "Summary" in names, "no '## Summary' section"
    assert "Exercises" in names, "no '## Exercises' section"
    first = names.index("Summary")
    assert names.index("Exercises") > first, "Exercises come after the Summary"
    tail = sections[first:]
    assert all(CLOSING_SECTIONS.match(s) for s in tail), (
        f"after the Summary only closing sections may follow, found: {tail}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_run_is_clean(path: pathlib.Path) -> None:
    cells = code_cells(load(path))
    counts = [c.get("execution_count") for c in cells]
    assert counts == list(range(1, len(cells) + 1)), (
        "execution counts must run 1..n: restart the kernel and run all, then commit")
    for i, cell in enumerate(cells, 1):
        for out in cell.get("outputs", []):
            assert out["output_type"] != "error", f"code cell {i} stores an error"
            if out["output_type"] == "stream" and out["name"] == "stderr":
                assert not TF_NOISE.search("".join(out["text"])), f"code cell {i} stores TensorFlow log noise"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_most_outputs_are_compared(path: pathlib.Path) -> None:
    with_output = [c for c in code_cells(load(path)) if c.get("outputs")]
    compared = [c for c in with_output if not set(IGNORE_TAGS) & set(c["metadata"].get("tags", []))]
    assert with_output, "no code cell has an output: commit an executed notebook"
    assert 2 * len(compared) >= len(with_output), (
        f"only {len(compared)} of {len(with_output)} code cells with output are compared by nbval; "
        "keep the nbval-ignore-output tag for output that truly varies")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_nbval_markers_are_tags_not_comments(path: pathlib.Path) -> None:
    """Learners should not have to read test plumbing: nbval markers go in cell tags."""
    for i, cell in enumerate(code_cells(load(path)), 1):
        assert not COMMENT_MARKER.search(source(cell)), (
            f"code cell {i}: use the cell tag nbval-ignore-output instead of a # NBVAL_ comment")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_keras2_api(path: pathlib.Path) -> None:
    code = "\n".join(source(c) for c in code_cells(load(path)))
    assert not re.search(r"\b(SGD|Adam|RMSprop|Adagrad|Nadam|AdamW)\([^)]*\b(lr|decay)\s*=", code), \
        "Keras 2 optimizer arguments (lr=, decay=): use learning_rate= and schedules"
    assert not re.search(r"from tensorflow import keras|import tensorflow\.keras|tf\.compat\.v1", code)
