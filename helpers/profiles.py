"""Run profiles: how big each notebook's runs are.

Every notebook reads its sizes (training subset, epochs, ...) from one visible
cell that calls :func:`choose`. The active profile comes from the environment
variable ``COURSE_PROFILE``:

``quick``
    The test profile: tiny subsets and one or two epochs, so that every
    notebook runs in under a minute on 2 CPU cores. The test command sets it.
``cpu``
    The default on a machine without a GPU: full data where it matters, sized
    so that each notebook finishes in minutes on a laptop.
``full``
    The default when TensorFlow sees a GPU: the settings that give the best
    results.

Taught in ``00_start_here``; used by every notebook.
"""

from __future__ import annotations

import os
from typing import TypeVar

PROFILES: tuple[str, ...] = ("quick", "cpu", "full")
ENV_VAR = "COURSE_PROFILE"

T = TypeVar("T")


def gpu_available() -> bool:
    """Return True if TensorFlow can see at least one GPU."""
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def active_profile() -> str:
    """Return the active profile name.

    ``COURSE_PROFILE`` wins when set; otherwise ``full`` if a GPU is visible
    and ``cpu`` if not.

    Raises:
        ValueError: if ``COURSE_PROFILE`` names no known profile.
    """
    name = os.environ.get(ENV_VAR, "").strip().lower()
    if not name:
        return "full" if gpu_available() else "cpu"
    if name not in PROFILES:
        raise ValueError(
            f"{ENV_VAR}={os.environ[ENV_VAR]!r} is not a profile; "
            f"use one of {', '.join(PROFILES)} (or unset it for the default)."
        )
    return name


def choose(*, quick: T, cpu: T, full: T, profile: str | None = None) -> T:
    """Return the value given for the active profile (or for ``profile``).

    >>> choose(quick=1, cpu=10, full=30, profile="cpu")
    10
    """
    name = profile if profile is not None else active_profile()
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; use one of {', '.join(PROFILES)}")
    return {"quick": quick, "cpu": cpu, "full": full}[name]
