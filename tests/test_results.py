"""helpers.results: stored records load only for the settings that made them (a stale file is refused)."""

from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest

from helpers.results import (StaleResultsError, agreement, fingerprint, load_results, normalise, save_results)

SETTINGS = {"profile": "cpu", "cfg": {"steps": 760, "widths": (32, 64, 128)}, "tuning_seed": 100,
            "spaces": {"Adam": ((3e-3, 0.3), "1 - beta_2", (1e-3, 0.1))}, "unit_points": [(0.5, 1 / 3)],
            "split": {"n_train": 45000, "n_val": 5000}}
RECORDS = [{"name": "Adam", "schedule": "constant", "trial": 1, "u": 0.5, "v": 1 / 3, "lr": 0.03 + 1e-17,
            "h2": np.float64(0.004641588833612782), "val_acc": 0.7213999927043915}]


@pytest.fixture()
def stored(tmp_path: pathlib.Path) -> pathlib.Path:
    return save_results(tmp_path / "trials.json", RECORDS, SETTINGS, provenance={"function": "search"})


def test_round_trip_keeps_full_precision(stored: pathlib.Path) -> None:
    records, about = load_results(stored, SETTINGS)
    assert records == normalise(RECORDS)
    assert records[0]["v"] == 1 / 3 and records[0]["val_acc"] == 0.7213999927043915  # exact, not rounded
    assert about["function"] == "search" and about["machine"] and about["date"]


@pytest.mark.parametrize("change", [
    ("profile", "quick"),
    ("cfg", {"steps": 8, "widths": (32, 64, 128)}),
    ("tuning_seed", 101),
    ("spaces", {"Adam": ((3e-3, 0.5), "1 - beta_2", (1e-3, 0.1))}),
    ("unit_points", [(0.5, 0.333)]),
    ("split", {"n_train": 45000, "n_val": 4999}),
], ids=lambda c: c[0])
def test_refuses_changed_settings(stored: pathlib.Path, change: tuple[str, object]) -> None:
    key, value = change
    with pytest.raises(StaleResultsError, match=key) as err:
        load_results(stored, {**SETTINGS, key: value})
    assert err.value.keys == [key]


def test_names_the_nested_setting_that_differs(stored: pathlib.Path) -> None:
    with pytest.raises(StaleResultsError, match=r"cfg\.steps: stored 760, now 700"):
        load_results(stored, {**SETTINGS, "cfg": {"steps": 700, "widths": (32, 64, 128)}})


def test_refuses_added_or_missing_settings(stored: pathlib.Path) -> None:
    with pytest.raises(StaleResultsError, match="warmup_fraction: not stored"):
        load_results(stored, {**SETTINGS, "warmup_fraction": 0.1})
    with pytest.raises(StaleResultsError, match="tuning_seed: stored 100, not a setting now"):
        load_results(stored, {k: v for k, v in SETTINGS.items() if k != "tuning_seed"})


def test_refuses_missing_and_malformed_files(tmp_path: pathlib.Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_results(tmp_path / "none.json", SETTINGS)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": 1, "settings": SETTINGS, "records": []}))
    with pytest.raises(ValueError, match="format 1"):
        load_results(bad, SETTINGS)


def test_agreement_counts_values_that_print_alike() -> None:
    live = [dict(r, val_acc=v) for r, v in zip(RECORDS * 3, (0.7214, 0.7216, 0.7204))]
    live[2] = dict(live[2], trial=2)  # no stored twin: a disagreement
    assert agreement(live, RECORDS, "val_acc", ("name", "schedule", "trial")) == (1, 3)


def test_fingerprint_sees_one_changed_byte() -> None:
    x = np.arange(12, dtype=np.uint8).reshape(3, 4)
    y = x.copy()
    assert fingerprint(x) == fingerprint(y)
    y[2, 3] += 1
    assert fingerprint(x) != fingerprint(y)
    assert fingerprint(x) != fingerprint(x.reshape(4, 3))
