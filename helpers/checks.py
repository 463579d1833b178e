"""Checking gradients and matching results: relative error and centred differences.

Taught in ``01_backprop_numpy`` (section "Gradient checking"), where each
function is written out and explained; later notebooks import them from here.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def rel_error(actual: np.ndarray, expected: np.ndarray, eps: float = 1e-12) -> float:
    """Largest element-wise relative error ``|a - e| / max(eps, |a| + |e|)``.

    About 1e-7 or less means two float64 results agree; float32 results agree
    to about 1e-4 at best.
    """
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    if a.shape != e.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {e.shape}")
    return float(np.max(np.abs(a - e) / np.maximum(eps, np.abs(a) + np.abs(e)))) if a.size else 0.0


def numerical_gradient(f: Callable[[], float], x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Centred-difference gradient of the scalar ``f()`` with respect to ``x``.

    ``x`` is changed in place, one element at a time, and restored, so ``f``
    must read ``x`` (for example a closure over a weight array). The error of
    the centred difference is O(h**2); use float64 arrays.
    """
    if x.dtype != np.float64:
        raise TypeError(f"numerical_gradient needs a float64 array, got {x.dtype}: "
                        "in float32 the round-off swamps the difference")
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        f_plus = f()
        x[i] = old - h
        f_minus = f()
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def check_close(name: str, actual: np.ndarray, expected: np.ndarray, *, tol: float,
                measure: str = "relative") -> float:
    """Print one verdict line and raise if ``actual`` and ``expected`` differ by ``tol`` or more.

    Args:
        name: what is compared, for the printed line.
        measure: ``"relative"`` (:func:`rel_error`) or ``"absolute"`` (max abs difference).

    Returns:
        The error, for tables.

    Raises:
        AssertionError: with a message that says which check failed and by how much, or that both
            arrays are all zero (a check that cannot fail is no check).
    """
    if measure == "relative":
        err = rel_error(actual, expected)
    elif measure == "absolute":
        a, e = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
        if a.shape != e.shape:
            raise ValueError(f"shapes differ: {a.shape} vs {e.shape}")
        err = float(np.max(np.abs(a - e))) if a.size else 0.0
    else:
        raise ValueError(f"measure must be 'relative' or 'absolute', not {measure!r}")
    if not np.any(np.asarray(actual)) and not np.any(np.asarray(expected)):
        print(f"{name}: both are all zero, so the check tests nothing FAILED")
        raise AssertionError(f"{name}: both arrays are all zero; compare entries that can be non-zero "
                             "(e.g. weights of pixels that are not blank in every image)")
    verdict = "OK" if err < tol else "FAILED"
    print(f"{name}: max {measure} error {err:.1e} (should be < {tol:.0e}) {verdict}")
    if err >= tol:
        raise AssertionError(f"{name}: max {measure} error {err:.3e} is not below {tol:.0e}; "
                             "look again at the code that computes it")
    return err
