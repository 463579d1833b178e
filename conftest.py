"""Test-session settings shared by the unit tests and nbval."""

import os

import pytest

# The test command runs every notebook in the quick profile, unless told otherwise
# (`COURSE_PROFILE=cpu python -m pytest notebooks/` checks the committed outputs' profile).
# nbval's kernels inherit this environment.
os.environ.setdefault("COURSE_PROFILE", "quick")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """An empty selection is a failure: a run that tests nothing must not pass."""
    if exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
        print("\nNo tests were collected: check the paths and -k/-m selections.")
        session.exitstatus = pytest.ExitCode.USAGE_ERROR
