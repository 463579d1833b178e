"""The setup cell's Colab branch, run offline: a fake `google.colab`, a scratch /content, a local clone.

The cell reads two settings that only these tests use: ``COURSE_REPO_URL`` (where to clone from,
here a local clone of this checkout) and ``COURSE_HOME`` (where to clone to, here a scratch folder).
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys

import pytest

from helpers import template

ROOT = pathlib.Path(__file__).resolve().parent.parent

# Runs the setup cell as Colab would: google.colab is imported, the working directory is /content.
DRIVER = """
import sys, types
sys.modules["google.colab"] = types.ModuleType("google.colab")
exec(compile(open(sys.argv[1]).read(), "setup-cell", "exec"))
import helpers, os
print("cwd", os.getcwd())
print("helpers", helpers.__file__)
print("profile", PROFILE)
"""


def run_setup_cell(tmp_path: pathlib.Path, url: str) -> subprocess.CompletedProcess:
    content = tmp_path / "content"
    content.mkdir(exist_ok=True)
    (tmp_path / "setup_cell.py").write_text(template.SETUP_CELL)
    env = {**os.environ, "COURSE_REPO_URL": url, "COURSE_HOME": str(content / "course"),
           "COURSE_PROFILE": "quick", "PYTHONPATH": ""}
    return subprocess.run([sys.executable, "-c", DRIVER, str(tmp_path / "setup_cell.py")], cwd=content,
                          env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def local_clone(tmp_path_factory) -> pathlib.Path:
    """A clone of this checkout's HEAD, standing in for the course's GitHub repository."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs git and a git checkout of the course")
    clone = tmp_path_factory.mktemp("origin") / "keras-course"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True, timeout=120)
    return clone


def test_colab_branch_clones_changes_directory_and_imports_helpers(tmp_path, local_clone):
    result = run_setup_cell(tmp_path, f"file://{local_clone}")
    assert result.returncode == 0, result.stderr[-3000:]
    course = tmp_path / "content" / "course"
    lines = result.stdout.splitlines()
    assert (course / "helpers").is_dir() and (course / "notebooks").is_dir()
    assert f"cwd {course / 'notebooks'}" in lines
    assert f"helpers {course / 'helpers' / '__init__.py'}" in lines
    assert "profile quick" in lines
    assert any(line.startswith("Profile: quick") for line in lines)  # start() ran from the clone


def test_colab_branch_says_what_to_do_when_the_clone_fails(tmp_path):
    result = run_setup_cell(tmp_path, f"file://{tmp_path / 'no-such-repository'}")
    assert result.returncode != 0
    assert "Could not download the course from" in result.stderr
    assert "check that this runtime has internet" in result.stderr.lower()
    assert "CalledProcessError" not in result.stderr and "Traceback" not in result.stderr
