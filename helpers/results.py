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

Used by ``05_optimizer_comparison`` (section 7, "The search"), through the functions at the end of this module:
:func:`load_trials` (load, or refuse with what to do instead: :data:`SEARCH_REMEDY`), :func:`compare_trials`
(after a live search), :func:`save_trials` (maintainers; ``cpu`` profile and live searches only), and what the
notebook's settings are made of: :func:`code_fingerprints` (the normalised source of every function a trial runs,
``helpers`` included), :func:`loss_settings`, :func:`fingerprint`. Library versions are provenance, not settings:
:func:`version_note` prints one line when they differ.
"""

from __future__ import annotations

import ast
import dataclasses
import datetime
import hashlib
import inspect
import io
import json
import os
import pathlib
import platform
import sys
import textwrap
import tokenize
from collections.abc import Callable, Mapping, Sequence
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


def results_text(data: Mapping[str, Any]) -> str:
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
    text = results_text({"format": FORMAT, "settings": dict(settings), "provenance": about, "records": list(records)})
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)
    return path


def load_results(path: str | os.PathLike, settings: Mapping[str, Any],
                 remedy: str = "") -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The stored ``(records, provenance)``, if they were made with exactly these ``settings``.

    ``remedy`` (what the reader can do instead) ends the message of each refusal.

    Raises:
        FileNotFoundError: there is no file at ``path``.
        StaleResultsError: the stored settings differ from ``settings``; the message names every difference.
        ValueError: the file is not a results file of this format.
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no stored results at {path}: " + (remedy or "run the computation live instead"))
    data = json.loads(path.read_text())
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("records"), list) \
            or not data["records"] or not all(isinstance(r, dict) for r in data["records"]):
        raise ValueError(f"{path} is not a results file of format {FORMAT} with a list of records")
    stored, current = data.get("settings", {}), normalise(dict(settings))
    diff = differences(stored, current)
    if diff:
        raise StaleResultsError(
            f"{path} was made with other settings than the current ones, so its records are not what this run "
            "would compute. Differences:\n  " + "\n  ".join(diff) + "\n"
            + (remedy or "Run the computation live instead (a README next to the file says how to store a new run)."),
            keys=[k for k in sorted(set(stored) | set(current)) if stored.get(k) != current.get(k)])
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


# --- what a stored search depends on (notebook 05) ----------------------------------------------------------

#: What to do when the stored search cannot be used: printed with every refusal.
SEARCH_REMEDY = ("To go on: set RUN_TUNING = True in the configuration cell to run the search here (about 10 min "
                 "on the reference machine; notebook 00 predicts yours). Maintainers: store a new search with "
                 "results/05_optimizer_comparison/regenerate.py (README.md in that folder).")

#: The profile whose search the tracked file holds; no other profile may overwrite it.
STORED_PROFILE = "cpu"

_PLAIN = (bool, int, float, str, bytes, type(None))


def normalised_source(source: str) -> str:
    """``source`` without what cannot change a result: comments, docstrings, blank lines and indentation offset.

    Everything else counts, ``print`` calls included: a changed print changes the fingerprint. Works on the
    text alone (``ast`` positions and ``tokenize`` comments), so it gives the same result on every Python
    version that can parse the code.
    """
    source = textwrap.dedent(source)
    lines = source.splitlines()
    drop: set[tuple[int, int]] = set()  # (line, column) where a comment or docstring starts; cut from there
    spans: list[tuple[int, int, int, int, bool]] = []  # docstrings: first line, column, last line, end column, alone
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                    and isinstance(first.value.value, str):
                spans.append((first.lineno, first.col_offset, first.end_lineno, first.end_col_offset,
                              len(node.body) == 1))
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            drop.add(tok.start)
    out = list(lines)
    for start, col, end, end_col, alone in sorted(spans, reverse=True):  # blank each docstring
        head, tail = out[start - 1][:col], out[end - 1][end_col:]  # (a body of a docstring alone keeps "...")
        out[start - 1:end] = [head + ("..." if alone else "") + tail] + [""] * (end - start)
    for line, col in drop:
        out[line - 1] = out[line - 1][:col]
    return "\n".join(line.rstrip() for line in out if line.strip()) + "\n"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _plain_data(value: Any) -> bool:
    """Numbers, strings and containers of them (and frozen dataclasses of them): constants safe to fingerprint."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.astuple(value)
    if isinstance(value, _PLAIN):
        return True
    if isinstance(value, (tuple, list, frozenset, set)):
        return all(_plain_data(v) for v in value)
    if isinstance(value, dict):
        return all(_plain_data(k) and _plain_data(v) for k, v in value.items())
    return False


def code_fingerprints(roots: Sequence[Callable[..., Any]], package: str = "helpers") -> dict[str, str]:
    """A short hash of the normalised source of each function in ``roots`` and of everything of ``package`` it uses.

    From each function the names it reads are followed, through its module's globals, into functions and
    classes defined in ``package`` (``helpers``): ``new_model`` reads ``build_fast_cnn``, which reads
    ``patch_whitening`` and ``_conv_bn``, and so on, to the end. Constants of those modules that are plain
    data (numbers, strings, tuples of them: ``CIFAR10_MEAN``) are hashed by value; other values (paths,
    arrays) are left out. Names bound inside a function (arguments, assignments, loop variables, inner
    functions) are its own and not looked up. Names of the notebook's own globals that are data (``CFG``) are not followed:
    the settings hold them. Keys are ``module.name`` (``notebook.train_run``, ``helpers.cifar.make_dataset``),
    sorted, so a refusal names the function that changed.
    """
    out: dict[str, str] = {}
    todo = list(roots)
    seen: set[int] = set()
    while todo:
        obj = todo.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        module = getattr(obj, "__module__", "") or ""
        key = f"{'notebook' if module == '__main__' else module}.{obj.__qualname__}"
        source = normalised_source(inspect.getsource(obj))
        out[key] = _digest(source)
        names = vars(sys.modules[module]) if isinstance(obj, type) else obj.__globals__
        tree = ast.parse(source)
        local = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)} \
            | {a.arg for a in ast.walk(tree) if isinstance(a, ast.arg)} \
            | {d.name for d in ast.walk(tree) if isinstance(d, (ast.FunctionDef, ast.ClassDef)) and d is not tree.body[0]}
        # (names bound inside the function are its own: a local `start` is not the global `start()`)
        for node in ast.walk(tree):
            target: Any = None
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in local:
                target, name = names.get(node.id), node.id
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                base = names.get(node.value.id)
                if inspect.ismodule(base) and base.__name__.split(".")[0] == package:  # cifar._conv_bn
                    target, name = getattr(base, node.attr, None), node.attr
                    if target is not None and not callable(target) and _plain_data(target):
                        out[f"{base.__name__}.{name}"] = _digest(repr(target))
                        continue
            if target is None:
                continue
            if (inspect.isfunction(target) or inspect.isclass(target)) \
                    and (getattr(target, "__module__", "") or "").split(".")[0] == package:
                todo.append(target)
            elif module.split(".")[0] == package and not callable(target) and not inspect.ismodule(target) \
                    and _plain_data(target):  # a constant of a helpers module
                out[f"{module}.{name}"] = _digest(repr(target))
    return dict(sorted(out.items()))


def loss_settings(loss: Any) -> dict[str, Any]:
    """The parts of a Keras loss that change a trial: its class, ``from_logits``, label smoothing, reduction."""
    config = loss.get_config()
    keys = ("from_logits", "label_smoothing", "ignore_class", "reduction", "axis")
    return {"class": type(loss).__name__, **{k: config[k] for k in keys if k in config}}


def library_versions() -> dict[str, str]:
    """The running Python, TensorFlow, Keras and NumPy versions (stored as provenance, not as settings)."""
    about = {"python": sys.version.split()[0]}
    for package in ("tensorflow", "keras", "numpy"):
        try:
            about[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            pass
    return about


def version_note(about: Mapping[str, Any]) -> str | None:
    """One line naming the libraries whose version differs from the stored run's, or None if all agree."""
    now = library_versions()
    differ = [f"{k} {about[k]} there, {now[k]} here" for k in ("tensorflow", "keras", "numpy")
              if k in about and k in now and about[k] != now[k]]
    if not differ:
        return None
    return ("Note: other library versions than the stored run's (" + "; ".join(differ) + "): the stored trials "
            "are that run's; a live search here could differ slightly.")


def load_trials(path: str | os.PathLike, settings: Mapping[str, Any], *, images: str,
                remedy: str = SEARCH_REMEDY) -> list[dict[str, Any]]:
    """The stored search's records, if made with exactly ``settings``; prints where they came from.

    ``images`` is the fingerprint of this run's training and validation images: if it differs from the
    stored one, a note says so (the trials are still those of the stored run). Library versions that
    differ give a note too. Raises what :func:`load_results` raises, with ``remedy`` in the message.
    """
    path = pathlib.Path(path)
    records, about = load_results(path, settings, remedy=remedy)
    print(f"{len(records)} trial records loaded from {_shown(path)}, not re-run here: made by the notebook's "
          f"{about.get('function', 'search')}() in the {about.get('profile', STORED_PROFILE)} profile on "
          f"{about.get('machine')}, {about.get('date')}; the search took {about.get('seconds', float('nan')):.0f} s "
          "there. Set RUN_TUNING = True to re-run them.")
    if about.get("images") != images:
        print("Note: your CIFAR-10 training and validation images are not byte for byte the ones of that run (the "
              "official files instead of the course's JPEG copy?): the trials are that run's; the runs after the "
              "search train on your images.")
    note = version_note(about)
    if note:
        print(note)
    return records


def compare_trials(path: str | os.PathLike, records: Sequence[Mapping[str, Any]], settings: Mapping[str, Any],
                   value: str = "val_acc", keys: Sequence[str] = ("name", "schedule", "trial")) -> tuple[int, int] | None:
    """After a live search: print (and return) how many records show the same ``value`` as the stored ones."""
    try:
        stored, about = load_results(path, settings)
    except StaleResultsError as err:
        print("no comparison: the stored trials were made with other settings (", ", ".join(err.keys), ")")
        return None
    except FileNotFoundError:
        print("no comparison: no stored trials")
        return None
    same, total = agreement(records, stored, value, keys, decimals=3)
    print(f"{same} of {total} live trials agree to 3 decimals with the stored ones "
          f"(stored on {about.get('machine')}, {about.get('date')})")
    return same, total


def save_trials(path: str | os.PathLike, records: Sequence[Mapping[str, Any]], settings: Mapping[str, Any], *,
                profile: str, live: bool, seconds: float, images: str,
                notebook: str = "05_optimizer_comparison.ipynb") -> pathlib.Path:
    """Maintainers only: store a live search's records with the settings that made them.

    Refuses (ValueError) unless the search ran live (``live``) in the stored profile (``STORED_PROFILE``,
    ``cpu``): a ``quick`` run, as in the tests, can never overwrite the tracked file.
    """
    if not live:
        raise ValueError("SAVE_TUNING stores a live search: set RUN_TUNING = True too")
    if profile != STORED_PROFILE:
        raise ValueError(f"the stored search is the {STORED_PROFILE} profile's; this run is {profile!r}: not stored")
    path = save_results(path, records, settings, provenance=dict(
        notebook=notebook, function="search", profile=profile, seconds=round(seconds, 1), images=images))
    print(f"stored {len(records)} trial records in {_shown(path)}")
    return path


def _shown(path: pathlib.Path) -> str:
    """``path`` relative to the repository when it lies inside it (printed paths do not name the machine)."""
    root = pathlib.Path(__file__).resolve().parent.parent
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return str(path)


def switched_on(nb: Any, switches: Mapping[str, str], script: str) -> Any:
    """The notebook ``nb`` (an nbformat notebook) with each ``old -> new`` of ``switches`` applied in its code.

    Used by the maintainers' ``regenerate`` scripts of ``results/`` to run a copy of a notebook with its stored run
    switched to a live one. Each ``old`` must occur exactly once, in one code cell.

    Raises:
        SystemExit: naming ``script`` (to update) when a switch is missing or occurs more than once.
    """
    for old, new in switches.items():
        hits = [c for c in nb.cells if c.cell_type == "code" and old in c.source]
        if len(hits) != 1 or hits[0].source.count(old) != 1:
            raise SystemExit(f"expected {old!r} once in the notebook, found it {len(hits)} times: update {script}")
        hits[0].source = hits[0].source.replace(old, new)
    return nb
