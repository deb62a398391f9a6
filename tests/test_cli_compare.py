"""``toolkit compare`` on a real MLflow SQLite store, filled with MLflow's own client."""

from __future__ import annotations

import pytest

from toolkit import cli

mlflow = pytest.importorskip("mlflow")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("compare")
    uri = f"sqlite:///{folder}/mlflow.db"
    client = mlflow.MlflowClient(tracking_uri=uri)
    digits = client.create_experiment("digits")
    other = client.create_experiment("other")
    for name, accuracy, loss, optimizer in (("adam", 0.91, 0.30, "Adam"), ("nadam", 0.95, 0.20, "Nadam"),
                                            ("sgd", 0.80, 0.10, "SGD")):
        run = client.create_run(digits, run_name=name)
        client.log_batch(run.info.run_id, metrics=[
            mlflow.entities.Metric("accuracy", accuracy, 0, 1), mlflow.entities.Metric("log_loss", loss, 0, 1)],
            params=[mlflow.entities.Param("optimizer", optimizer)])
        client.set_terminated(run.info.run_id, "FINISHED")
    unfinished = client.create_run(digits, run_name="no-metrics")
    client.set_terminated(unfinished.info.run_id, "FAILED")
    client.set_terminated(client.create_run(other, run_name="elsewhere").info.run_id, "FINISHED")
    return uri


def rows(output: str) -> list[list[str]]:
    lines = output.strip().splitlines()
    return [line.split() for line in lines[2:] if line.strip() and not line.endswith("first")]


def test_runs_are_listed_best_first_with_their_params(store, capsys):
    assert cli.main(["compare", "--tracking-uri", store, "--experiment", "digits"]) == 0
    table = rows(capsys.readouterr().out)
    assert [row[0] for row in table] == ["nadam", "adam", "sgd", "no-metrics"]
    assert table[0][1:4] == ["FINISHED", "0.9500", "0.2000"] and "Nadam" in table[0]
    assert table[-1][1] == "FAILED"


def test_a_loss_ranks_lowest_first_and_every_experiment_is_searched(store, capsys):
    assert cli.main(["compare", "--tracking-uri", store, "--metric", "log_loss"]) == 0
    table = rows(capsys.readouterr().out)
    assert [row[0] for row in table][:3] == ["sgd", "nadam", "adam"]
    assert "elsewhere" in [row[0] for row in table]


def test_unknown_experiment_and_missing_store_are_one_line(store, tmp_path, capsys):
    assert cli.main(["compare", "--tracking-uri", store, "--experiment", "digitz"]) == 2
    assert "--experiment 'digitz' is not in" in capsys.readouterr().err
    missing = tmp_path / "none.db"
    assert cli.main(["compare", "--tracking-uri", f"sqlite:///{missing}"]) == 2
    assert f"there is no MLflow store at {missing}" in capsys.readouterr().err
    assert not missing.exists()
