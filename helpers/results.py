"""Stored results of a long run: saved with the settings that made them, loaded only for the same settings.

Notebook ``05_optimizer_comparison`` can skip its ten-minute tuning search and load the trial records of a
stored run instead. That is only honest if the stored records are what the notebook *would* compute now, so
the file keeps, next to the records, every setting they depend on (profile, sizes, seeds, search spaces, a
fingerprint of the data split), and :func:`load_results` **refuses** to return records made with other
settings: it raises :class:`StaleResultsError` naming each difference. A stale file is never used silently.

The file is JSON (floats keep their full precision: ``json`` writes the shortest text that reads back to the
same float)::

    {"format": 1,
     "settings": {...},          # compared with the current settings before anything is loaded
     "provenance": {...},        # where the records came from: date, machine, versions (not compared)
     "records": [{...}, ...]}

Used by ``05_optimizer_comparison`` (section 7, "The search").
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import pathlib
import platform
import sys
from collections.abc import Mapping, Sequence
from importlib import metadata
from typing import Any

import numpy as np

FORMAT = 1


class StaleResultsError(ValueError):
    """The stored results were made with other settings than the current ones.

    ``keys`` names the settings that differ.
    """

    def __init__(self, message: str, keys: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.keys = list(keys)


def _plain(value: Any) -> Any:
    """``json.dumps`` hook: NumPy scalars and arrays as Python numbers and lists."""
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot store a {type(value).__name__} in a results file: {value!r}")


def normalise(value: Any) -> Any:
    """``value`` as it reads back from JSON: tuples become lists, NumPy numbers Python numbers."""
    return json.loads(json.dumps(value, default=_plain))


def fingerprint(*arrays: np.ndarray) -> str:
    """A short SHA-256 of the arrays' shapes, dtypes and bytes: equal data, equal fingerprint."""
    digest = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        digest.update(f"{a.shape}{a.dtype.str}".encode())
        digest.update(a.tobytes())
    return digest.hexdigest()[:16]


def machine() -> str:
    """This machine in a few words: CPU model, its widest vector unit (AVX-512 or AVX2) and cores."""
    model, flags = platform.processor() or platform.machine(), set()
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            key, _, val = line.partition(":")
            if key.strip() == "model name":
                model = val.strip()
            elif key.strip() == "flags":
                flags = set(val.split())
    except OSError:
        pass
    vector = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else None
    return f"{model}{f' with {vector}' if vector else ''}, {os.cpu_count()} cores"


def differences(stored: Mapping[str, Any], current: Mapping[str, Any], prefix: str = "") -> list[str]:
    """One line per setting that differs between ``stored`` and ``current`` (both as JSON reads them).

    Nested settings are compared key by key: ``cfg.steps: stored 760, now 700``.
    """
    out = []
    for key in sorted(set(stored) | set(current)):
        name = f"{prefix}{key}"
        if key not in current:
            out.append(f"{name}: stored {stored[key]!r}, not a setting now")
        elif key not in stored:
            out.append(f"{name}: not stored, now {current[key]!r}")
        elif isinstance(stored[key], dict) and isinstance(current[key], dict):
            out += differences(stored[key], current[key], prefix=f"{name}.")
        elif stored[key] != current[key]:
            out.append(f"{name}: stored {stored[key]!r}, now {current[key]!r}")
    return out


def _dump(data: Mapping[str, Any]) -> str:
    """JSON for people too: one setting, one provenance fact and one record per line."""
    def one(value: Any) -> str:
        return json.dumps(value, default=_plain)

    lines = ["{"]
    for i, (key, value) in enumerate(data.items()):
        end = "," if i < len(data) - 1 else ""
        if isinstance(value, Mapping) and value:
            inner = [f"  {one(k)}: {one(v)}" for k, v in value.items()]
            lines += [f" {one(key)}: {{", ",\n".join(inner), f" }}{end}"]
        elif isinstance(value, list) and value:
            lines += [f" {one(key)}: [", ",\n".join(f"  {one(v)}" for v in value), f" ]{end}"]
        else:
            lines.append(f" {one(key)}: {one(value)}{end}")
    return "\n".join(lines + ["}"]) + "\n"


def save_results(path: str | os.PathLike, records: Sequence[Mapping[str, Any]], settings: Mapping[str, Any],
                 provenance: Mapping[str, Any] | None = None) -> pathlib.Path:
    """Write ``records`` with the ``settings`` that made them; return the path.

    ``provenance`` adds free-form facts (notebook, function, run time); the date, the machine and the
    Python, TensorFlow and Keras versions are added here. The file is replaced in one step.
    """
    path = pathlib.Path(path)
    if not records:
        raise ValueError("no records to store")
    about: dict[str, Any] = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                             "machine": machine(), "python": sys.version.split()[0]}
    for package in ("tensorflow", "keras", "numpy"):
        try:
            about[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            pass
    about.update(provenance or {})
    text = _dump({"format": FORMAT, "settings": dict(settings), "provenance": about, "records": list(records)})
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)
    return path


def load_results(path: str | os.PathLike, settings: Mapping[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The stored ``(records, provenance)``, if they were made with exactly these ``settings``.

    Raises:
        FileNotFoundError: there is no file at ``path``.
        StaleResultsError: the stored settings differ from ``settings``; the message names every difference.
        ValueError: the file is not a results file of this format.
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no stored results at {path}: run the computation live instead")
    data = json.loads(path.read_text())
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("records"), list) \
            or not data["records"] or not all(isinstance(r, dict) for r in data["records"]):
        raise ValueError(f"{path} is not a results file of format {FORMAT} with a list of records")
    stored, current = data.get("settings", {}), normalise(dict(settings))
    diff = differences(stored, current)
    if diff:
        raise StaleResultsError(
            f"{path} was made with other settings than the current ones, so its records are not what this run "
            "would compute: run the computation live instead (a README next to the file says how to store a new "
            "run). Differences:\n  "
            + "\n  ".join(diff), keys=[k for k in sorted(set(stored) | set(current)) if stored.get(k) != current.get(k)])
    return data["records"], data.get("provenance", {})


def agreement(live: Sequence[Mapping[str, Any]], stored: Sequence[Mapping[str, Any]], value: str,
              keys: Sequence[str], decimals: int = 3) -> tuple[int, int]:
    """(live records whose ``value`` prints the same as their stored twin's with ``decimals`` places, live records).

    Twins share the fields in ``keys``; a live record without a stored twin counts as a disagreement.
    """
    def shown(x: Any) -> str:  # the value as printed with `decimals` places
        return f"{float(x):.{decimals}f}"

    twins = {tuple(r[k] for k in keys): shown(r[value]) for r in stored}
    same = sum(1 for r in live if twins.get(tuple(r[k] for k in keys)) == shown(r[value]))
    return same, len(live)
