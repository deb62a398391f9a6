"""`toolkit evaluate --slice-by`: slices from .npy/.csv files or, with --files, columns; gates on slices."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import toolkit
from toolkit import cli

RNG = np.random.default_rng(17)
N = 400
Y = RNG.integers(0, 2, N)
SCORES = RNG.random(N)
REGION = RNG.choice(["north", "south"], N)
DEVICE = RNG.choice([1, 2], N)
EXPECTED = toolkit.evaluate(Y, y_score=SCORES, slice_by={"region": REGION, "device": DEVICE}, cross_slices=True)


@pytest.fixture
def files(tmp_path):
    np.save(tmp_path / "y.npy", Y)
    np.save(tmp_path / "s.npy", SCORES)
    pd.DataFrame({"region": REGION}).to_csv(tmp_path / "regions.csv", index=False)
    np.save(tmp_path / "device.npy", DEVICE)
    pd.DataFrame({"y_true": Y, "p": SCORES, "region": REGION, "device": DEVICE}).to_parquet(tmp_path / "f.parquet")
    return tmp_path


def _slices(printed: dict) -> dict:
    return {name: result["metrics"] for name, result in printed["slices"].items()}


def test_slice_files_named_or_by_their_stem(files, capsys):
    code = cli.main(["evaluate", "--y-true", str(files / "y.npy"), "--y-score", str(files / "s.npy"),
                     "--slice-by", f"region={files / 'regions.csv'}", "--slice-by", str(files / "device.npy"),
                     "--cross-slices", "--json"])
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    assert _slices(printed) == {name: result.to_dict()["metrics"] for name, result in EXPECTED.slices.items()}


def test_slice_columns_of_files_and_the_printed_table(files, capsys):
    code = cli.main(["evaluate", "--files", str(files / "f.parquet"), "--y-score", "p", "--exact",
                     "--slice-by", "region", "--slice-by", "device", "--cross-slices"])
    out = capsys.readouterr().out
    assert code == 0
    table = out[out.index("slices:"):].splitlines()
    assert table[1].split() == ["slice", "example_count", "accuracy", "f1_macro", "roc_auc", "log_loss"]
    rows = {line.split()[0]: [float(cell) for cell in line.split()[1:]] for line in table[2:2 + len(EXPECTED.slices)]}
    assert list(rows) == list(EXPECTED.slices)
    for name, cells in rows.items():
        expected = EXPECTED.slices[name]
        assert cells == pytest.approx([expected[key] for key in ("example_count", "accuracy", "f1_macro", "roc_auc",
                                                                 "log_loss")], abs=5e-5)


def test_a_failed_slice_gate_exits_1_and_an_unknown_slice_column_exits_2(files, capsys):
    common = ["evaluate", "--files", str(files / "f.parquet"), "--y-score", "p", "--slice-by", "region"]
    worst = min(result["accuracy"] for result in EXPECTED.slices.of(["region"]).values())
    assert cli.main([*common, "--gate", f"accuracy >= {worst - 0.01} for every region"]) == 0
    assert cli.main([*common, "--gate", f"accuracy >= {worst + 0.01} for every region"]) == 1
    assert "for every region" in capsys.readouterr().err
    assert cli.main([*common, "--gate", "accuracy >= 0.1 for every country"]) == 2
    assert "does not slice by" in capsys.readouterr().err
    assert cli.main([*common[:-1], "regio"]) == 2
    assert "has no column 'regio'" in capsys.readouterr().err
