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


def test_evaluate_with_a_tracker_records_the_run_that_compare_lists(tmp_path, monkeypatch, capsys):
    from sklearn.metrics import accuracy_score

    if "mlflow" not in __import__("toolkit").get_plugin_manager().get_trackers():
        pytest.skip("needs the toolkit-mlflow tracker plugin")
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    y_true = [0, 1, 2, 2, 1, 0, 2, 1, 0, 1]
    y_pred = [0, 2, 2, 2, 1, 0, 1, 1, 0, 0]
    (tmp_path / "true.csv").write_text("\n".join(map(str, y_true)) + "\n")
    (tmp_path / "pred.csv").write_text("\n".join(map(str, y_pred)) + "\n")
    assert cli.main(["evaluate", "--y-true", str(tmp_path / "true.csv"), "--y-pred", str(tmp_path / "pred.csv"),
                     "--tracker", "mlflow", "--run-name", "saved-predictions"]) == 0
    [run] = mlflow.MlflowClient(uri).search_runs(["0"])
    assert run.info.run_name == "saved-predictions" and run.info.status == "FINISHED"
    assert run.data.metrics["accuracy"] == pytest.approx(accuracy_score(y_true, y_pred))
    assert run.data.params["y_true"] == "true.csv"
    capsys.readouterr()
    assert cli.main(["compare"]) == 0
    assert rows(capsys.readouterr().out)[0][:3] == ["saved-predictions", "FINISHED", "0.7000"]


def test_a_metric_no_run_has_is_an_error_with_a_suggestion(store, capsys):
    assert cli.main(["compare", "--tracking-uri", store, "--metric", "acuracy"]) == 2
    error = capsys.readouterr().err
    assert "has it; did you mean 'accuracy'? metrics there: accuracy, log_loss" in error


def test_a_unique_prefix_of_a_printed_id_is_accepted_by_report_and_baseline(store, tmp_path, capsys, monkeypatch):
    client = mlflow.MlflowClient(tracking_uri=store)
    [nadam] = client.search_runs([client.get_experiment_by_name("digits").experiment_id],
                                 filter_string="attributes.run_name = 'nadam'")
    assert cli.main(["compare", "--tracking-uri", store, "--experiment", "digits"]) == 0
    printed = next(row[-1] for row in rows(capsys.readouterr().out) if row[0] == "nadam")
    assert nadam.info.run_id.startswith(printed)
    short = printed[:8]
    page = tmp_path / "report.html"
    assert cli.main(["report", short, "--tracking-uri", store, "--output", str(page)]) == 0
    assert f"report of run {nadam.info.run_id} (nadam" in capsys.readouterr().out
    from toolkit.commands.gating import baseline_metrics

    monkeypatch.setenv("MLFLOW_TRACKING_URI", store)
    assert baseline_metrics(short, "mlflow") == {"accuracy": 0.95, "log_loss": 0.20}


def test_a_mistyped_tracker_gets_a_suggestion(store, capsys):
    assert cli.main(["compare", "--tracker", "mlfow", "--store", store]) == 2
    assert "--tracker 'mlfow' is not an installed tracker; did you mean 'mlflow'?" in capsys.readouterr().err
    with pytest.raises(ValueError, match=r"trackers names unknown tracker\(s\) \['wandbb'\]; did you mean 'wandb'\?"):
        __import__("toolkit").evaluate([0, 1], [0, 1], trackers=["wandbb"])
