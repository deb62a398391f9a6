"""`toolkit evaluate --ci ... --bootstrap poisson|multinomial`, run as the installed command: the
printed and JSON intervals are toolkit.evaluate's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import toolkit

LABELS = [0, 1, 2]
TOOLKIT = str(Path(sys.executable).with_name("toolkit"))


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bootstrap-cli")
    rng = np.random.default_rng(8)
    y_true = rng.integers(0, 3, 900)
    scores = rng.dirichlet(np.ones(3), 900)
    scores[np.arange(900), y_true] += 0.5
    scores /= scores.sum(axis=1, keepdims=True)
    np.save(folder / "true.npy", y_true)
    np.save(folder / "score.npy", scores)
    frame = pd.DataFrame(scores, columns=["p0", "p1", "p2"]).assign(label=y_true)
    frame[:400].to_parquet(folder / "part-0.parquet")
    frame[400:].to_parquet(folder / "part-1.parquet")
    return folder, y_true, scores


def _toolkit(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([TOOLKIT, "evaluate", *arguments], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "TOOLKIT_TRACKERS": ""})


def _assert_intervals(printed: dict, expected) -> None:
    assert printed.keys() == expected.intervals.keys()
    for key, interval in expected.intervals.items():
        assert printed[key] == pytest.approx(list(interval), rel=0, abs=1e-12), key


@pytest.mark.parametrize("method", ["poisson", "multinomial"])
def test_arrays_print_the_intervals_of_toolkit_evaluate(data, method):
    folder, y_true, scores = data
    done = _toolkit("--y-true", str(folder / "true.npy"), "--y-score", str(folder / "score.npy"), "--ci", "0.9",
                    "--n-bootstrap", "150", "--seed", "3", "--bootstrap", method, "--json")
    assert done.returncode == 0, done.stderr
    expected = toolkit.evaluate(y_true, y_score=scores, ci=0.9, n_bootstrap=150, seed=3, bootstrap=method)
    _assert_intervals(json.loads(done.stdout)["intervals"], expected)
    other = "multinomial" if method == "poisson" else "poisson"
    assert expected.intervals != toolkit.evaluate(y_true, y_score=scores, ci=0.9, n_bootstrap=150, seed=3,
                                                  bootstrap=other).intervals  # the flag is what chose them
    table = _toolkit("--y-true", str(folder / "true.npy"), "--y-score", str(folder / "score.npy"), "--ci", "0.9",
                     "--n-bootstrap", "150", "--seed", "3", "--bootstrap", method)
    assert table.returncode == 0, table.stderr
    assert f"90% bootstrap intervals (150 {method} resamples):" in table.stdout
    low, high = expected.intervals["f1_macro"]
    assert f"  {'f1_macro':24s} [{low:.4f}, {high:.4f}]" in table.stdout


@pytest.mark.parametrize("method", [None, "multinomial"])
def test_files_default_to_poisson_and_take_the_flag(data, method):
    folder, y_true, scores = data
    chosen = ["--bootstrap", method] if method else []
    done = _toolkit("--files", str(folder / "part-*.parquet"), "--y-true", "label", "--y-score", "p*", "--exact",
                    "--batch-rows", "128", "--ci", "0.95", "--n-bootstrap", "100", "--seed", "5", *chosen, "--json")
    assert done.returncode == 0, done.stderr
    # Poisson: the in-memory intervals for any batching; multinomial resamples are drawn from all the
    # examples at once (exact keeps them), so the same numbers as in memory too
    expected = toolkit.evaluate(y_true, y_score=scores, ci=0.95, n_bootstrap=100, seed=5,
                                bootstrap=method or "poisson")
    _assert_intervals(json.loads(done.stdout)["intervals"], expected)


def test_an_unknown_method_exits_2(data):
    folder, *_ = data
    done = _toolkit("--y-true", str(folder / "true.npy"), "--y-score", str(folder / "score.npy"), "--ci", "0.9",
                    "--bootstrap", "jackknife")
    assert done.returncode == 2 and "--bootstrap" in done.stderr and "poisson" in done.stderr
