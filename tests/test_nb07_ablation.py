"""Notebook 07's fifteen-minute ablation script (results/07_fast_training_cpu/ablation.py) and its stored logs."""
import importlib.util
import json
import pathlib

import numpy as np
import pytest

HERE = pathlib.Path(__file__).resolve().parents[1] / "results" / "07_fast_training_cpu"


@pytest.fixture(scope="module")
def ablation():
    spec = importlib.util.spec_from_file_location("ablation07", HERE / "ablation.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_clock_schedule_matches_one_cycle(ablation):
    from helpers import cifar

    reference = cifar.OneCycle(0.2, total_steps=1_000)
    fractions = [0.0, 0.1, 0.25, 0.4, 0.75, 0.999, 1.0, 1.3]
    mine = np.array([ablation.one_cycle_at(f, 0.2) for f in fractions])
    np.testing.assert_allclose(mine, [float(reference(1_000 * f)) for f in fractions], atol=1e-6)


def test_each_variant_changes_one_ingredient(ablation):
    assert ablation.VARIANTS["baseline"] == {}
    for name, change in ablation.VARIANTS.items():
        changed = {k for k, v in change.items() if ablation.RECIPE.get(k) != v}
        if "batch" in changed:  # the peak is scaled with the batch: one change
            assert change["peak"] / ablation.RECIPE["peak"] == change["batch"] / ablation.RECIPE["batch"], name
            changed -= {"peak"}
        assert len(changed - {"constant_lr"}) == (0 if name == "baseline" else 1), (name, changed)


def test_constant_rate_is_the_one_cycles_mean(ablation):
    fractions = np.linspace(0, 1, 100_001)
    mean = np.mean([ablation.one_cycle_at(f, ablation.RECIPE["peak"]) for f in fractions])
    assert abs(ablation.VARIANTS["const"]["constant_lr"] - mean) < 0.005, mean


VARIANTS = ["baseline", "air48", "b128", "ls0", "bn99", "const"]


@pytest.mark.parametrize("variant", VARIANTS)
def test_stored_log(variant, ablation):
    """The logs notebook 07 reads: every variant stored, with the script's settings and a spent budget."""
    path = HERE / f"ablation_{variant}_900s.json"
    log = json.loads(path.read_text())
    assert log["settings"] == dict(ablation.RECIPE, **ablation.VARIANTS[variant], budget_s=900.0)
    assert log["bn_momentum_set"] == [log["settings"]["bn_momentum"]]
    assert (log["train_images"], log["val_images"]) == (45_000, 5_000)
    assert log["train_seconds"] >= 880 and log["epochs"], "the budget was not spent"
    seconds = [e["seconds"] for e in log["epochs"]]
    assert seconds == sorted(seconds) and [e["epoch"] for e in log["epochs"]] == list(range(1, len(seconds) + 1))
    assert 0.1 <= log["final_val_acc"] <= 1 and 0.1 <= log["final_val_acc_flip_tta"] <= 1
    assert log["epochs"][-1]["val_acc"] == log["final_val_acc"]


def test_every_variant_has_a_stored_log(ablation):
    assert sorted(ablation.VARIANTS) == sorted(VARIANTS)


@pytest.mark.parametrize("seed", [1, 2])
def test_stored_seed_log(seed, ablation):
    """The recipe's extra seeds (notebook 07's seed spread): the recipe's settings but the seed, a spent budget, and
    a run of its own (not a copy of seed 0's log)."""
    log = json.loads((HERE / f"ablation_baseline_900s_seed{seed}.json").read_text())
    assert log["settings"] == dict(ablation.RECIPE, budget_s=900.0, seed=seed)
    assert log["command"].endswith(f"baseline --budget 900 --seed {seed}")
    assert (log["train_images"], log["val_images"]) == (45_000, 5_000)
    assert log["train_seconds"] >= 880 and log["epochs"][-1]["val_acc"] == log["final_val_acc"]
    seed0 = json.loads((HERE / "ablation_baseline_900s.json").read_text())
    assert [e["val_acc"] for e in log["epochs"]] != [e["val_acc"] for e in seed0["epochs"]]
