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


# --- what a stored search depends on (notebook 05) -----------------------------------------------------------

from helpers.results import (SEARCH_REMEDY, code_fingerprints, load_trials, loss_settings,  # noqa: E402
                             normalised_source, save_trials, version_note)


def test_normalised_source_drops_comments_and_docstrings_but_keeps_code_and_prints() -> None:
    a = 'def f(x):\n    """Doc."""\n    # a comment\n    y = x + 1  # why\n\n    print("y", y)\n    return y\n'
    b = 'def f(x):\n    """Another doc,\n    two lines."""\n    y = x + 1\n    print("y", y)\n    return y\n'
    assert normalised_source(a) == normalised_source(b)
    assert normalised_source(a) != normalised_source(a.replace("x + 1", "x + 2"))
    assert normalised_source(a) != normalised_source(a.replace('print("y", y)', 'print("y =", y)'))
    assert normalised_source('class E(Exception):\n    """Only a docstring."""\n') == "class E(Exception):\n    ...\n"


def _uses_the_cnn(seed):
    """A function of 'the notebook' that builds the course's CNN."""
    start = seed  # a local named like helpers.course.start: not followed
    return build_fast_cnn if start is not None else None


from helpers.cifar import build_fast_cnn  # noqa: E402


def test_code_fingerprints_follow_the_helpers_a_function_calls() -> None:
    found = code_fingerprints([_uses_the_cnn])
    assert {"helpers.cifar.build_fast_cnn", "helpers.cifar.patch_whitening", "helpers.cifar._conv_bn",
            "helpers.cifar.CIFAR10_MEAN"} <= set(found)
    assert "tests.test_results._uses_the_cnn" in found or any(k.endswith("._uses_the_cnn") for k in found)
    assert not any("course" in k for k in found), "a local variable was followed to a global of the same name"


def test_code_fingerprints_see_a_changed_helper(monkeypatch: pytest.MonkeyPatch) -> None:
    import helpers.cifar as cifar

    before = code_fingerprints([_uses_the_cnn])
    monkeypatch.setattr(cifar, "CIFAR10_MEAN", (0.5, 0.5, 0.5))  # a changed constant of a helper
    after = code_fingerprints([_uses_the_cnn])
    assert {k for k in before if before[k] != after.get(k)} == {"helpers.cifar.CIFAR10_MEAN"}


def test_loss_settings_see_logits_and_label_smoothing() -> None:
    import keras

    sparse = loss_settings(keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    assert sparse["class"] == "SparseCategoricalCrossentropy" and sparse["from_logits"] is True
    assert sparse != loss_settings(keras.losses.SparseCategoricalCrossentropy(from_logits=False))
    smooth = [loss_settings(keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=s)) for s in (0.0, 0.1)]
    assert smooth[0] != smooth[1] and smooth[1]["label_smoothing"] == 0.1


def test_refusals_say_how_to_go_on(stored: pathlib.Path, tmp_path: pathlib.Path) -> None:
    with pytest.raises(StaleResultsError) as err:
        load_trials(stored, {**SETTINGS, "tuning_seed": 101}, images="x")
    assert "set RUN_TUNING = True in the configuration cell" in str(err.value)
    assert "notebook 00 predicts yours" in str(err.value) and "regenerate.py" in str(err.value)
    assert "tuning_seed: stored 100, now 101" in str(err.value)
    with pytest.raises(FileNotFoundError, match="set RUN_TUNING = True in the configuration cell"):
        load_trials(tmp_path / "none.json", SETTINGS, images="x")
    assert "about 10 min on the reference machine" in SEARCH_REMEDY


def test_load_trials_notes_other_images_and_versions(stored: pathlib.Path, capsys: pytest.CaptureFixture) -> None:
    records = load_trials(stored, SETTINGS, images="not the stored images")
    out = capsys.readouterr().out
    assert records == normalise(RECORDS) and "1 trial records loaded" in out and "not byte for byte" in out
    assert version_note({"tensorflow": "0.0.1", "keras": "0.0.1"}).startswith("Note: other library versions")
    assert version_note({}) is None


def test_save_trials_refuses_quick_and_stored_runs(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "trials.json"
    kw = dict(seconds=1.0, images="x")
    with pytest.raises(ValueError, match="cpu profile"):
        save_trials(path, RECORDS, SETTINGS, profile="quick", live=True, **kw)
    with pytest.raises(ValueError, match="RUN_TUNING = True"):
        save_trials(path, RECORDS, SETTINGS, profile="cpu", live=False, **kw)
    assert not path.exists()
    save_trials(path, RECORDS, SETTINGS, profile="cpu", live=True, **kw)
    assert load_results(path, SETTINGS)[1]["profile"] == "cpu"


def test_switched_on_applies_each_switch_once_and_refuses_a_missing_or_repeated_one():
    import types

    from helpers.results import switched_on

    def notebook(*sources):
        return types.SimpleNamespace(cells=[types.SimpleNamespace(cell_type="code", source=s) for s in sources])

    nb = switched_on(notebook("RUN = False\nx = 1", "SAVE = False"), {"RUN = False": "RUN = True",
                                                                     "SAVE = False": "SAVE = True"}, "s.py")
    assert [c.source for c in nb.cells] == ["RUN = True\nx = 1", "SAVE = True"]
    with pytest.raises(SystemExit, match="found it 0 times: update s.py"):
        switched_on(notebook("x = 1"), {"RUN = False": "RUN = True"}, "s.py")
    with pytest.raises(SystemExit, match="found it 2 times"):
        switched_on(notebook("RUN = False", "RUN = False"), {"RUN = False": "RUN = True"}, "s.py")
