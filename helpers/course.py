"""Start a notebook: quiet TensorFlow, check versions, seed, and say what runs.

Each notebook's setup cell calls :func:`start` once. It prints three lines
that tell the reader what produced every number below them::

    Profile: cpu (default without a GPU; set COURSE_PROFILE to quick, cpu or full)
    Hardware: 2 CPU cores, no GPU
    Versions: Python 3.11.7, TensorFlow 2.21.0, Keras 3.15.1, NumPy 2.4.6

Taught in ``00_start_here``; used by every notebook.
"""

from __future__ import annotations

import contextlib
import os
import platform
import sys
from collections.abc import Iterator

from .profiles import ENV_VAR, active_profile

# The versions CI tests (requirements.txt pins the same ones).
TESTED_VERSIONS: dict[str, str] = {
    "tensorflow": "2.21.0",
    "keras": "3.15.1",
    "numpy": "2.4.6",
    "matplotlib": "3.11.2",
}
MIN_TENSORFLOW = (2, 16)  # the first release whose `import keras` is Keras 3


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null for the duration of the block.

    TensorFlow's C++ start-up messages ("oneDNN custom operations are on",
    "Could not find cuda drivers") are written straight to the process's
    stderr before its log level applies, so only redirecting the descriptor
    keeps them out of notebook outputs.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _version_tuple(version: str) -> tuple[int, ...]:
    parts = []
    for piece in version.split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def check_versions(versions: dict[str, str]) -> list[str]:
    """Return warnings for versions that differ from the tested ones.

    Raises:
        RuntimeError: Keras 2 (or ``tf_keras``) is active, or TensorFlow is
            older than 2.16: the course's code needs Keras 3.
    """
    if os.environ.get("TF_USE_LEGACY_KERAS", "").lower() in ("1", "true"):
        raise RuntimeError(
            "TF_USE_LEGACY_KERAS is set, so TensorFlow uses Keras 2 (tf_keras). "
            "This course needs Keras 3: unset TF_USE_LEGACY_KERAS and restart the kernel."
        )
    if _version_tuple(versions["keras"])[0] < 3:
        raise RuntimeError(
            f"Keras {versions['keras']} is Keras 2; this course needs Keras 3. "
            "Run: pip install -r requirements.txt (or pip install 'keras>=3'), then restart the kernel."
        )
    if _version_tuple(versions["tensorflow"])[:2] < MIN_TENSORFLOW:
        raise RuntimeError(
            f"TensorFlow {versions['tensorflow']} is older than 2.16 and brings Keras 2. "
            "Run: pip install -r requirements.txt, then restart the kernel."
        )
    warnings = []
    for name, tested in TESTED_VERSIONS.items():
        have = versions.get(name)
        if have is not None and _version_tuple(have)[:2] != _version_tuple(tested)[:2]:
            warnings.append(f"Note: {name} {have} is not the tested {tested}; it should work, "
                            "but printed numbers may differ slightly.")
    return warnings


def start(seed: int = 0, deterministic: bool = True) -> str:
    """Set up a notebook and print the profile, hardware and versions.

    Args:
        seed: seeds Python, NumPy and TensorFlow (``keras.utils.set_random_seed``).
        deterministic: also ask TensorFlow for deterministic ops, so two runs on
            the same machine print the same numbers. It costs little on a CPU;
            pass False in a notebook that measures it costs more.

    Returns:
        The active profile name: ``"quick"``, ``"cpu"`` or ``"full"``.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # must precede the first TensorFlow import
    with quiet_stderr():
        import keras
        import numpy as np
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
    import matplotlib

    versions = {"tensorflow": tf.__version__, "keras": keras.__version__,
                "numpy": np.__version__, "matplotlib": matplotlib.__version__}
    warnings = check_versions(versions)

    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()

    from .plots import apply_style

    apply_style()

    profile = active_profile()
    why = (f"set by {ENV_VAR}" if os.environ.get(ENV_VAR)
           else f"default {'with' if gpus else 'without'} a GPU; set {ENV_VAR} to quick, cpu or full")
    gpu_text = f"{len(gpus)} GPU{'s' if len(gpus) > 1 else ''}" if gpus else "no GPU"
    print(f"Profile: {profile} ({why})")
    print(f"Hardware: {os.cpu_count()} CPU cores, {gpu_text}")
    print(f"Versions: Python {platform.python_version()}, TensorFlow {tf.__version__}, "
          f"Keras {keras.__version__}, NumPy {np.__version__}")
    for line in warnings:
        print(line)
    return profile
