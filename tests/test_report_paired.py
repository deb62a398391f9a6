"""The comparison page's "Paired comparison" section: each run against the first on their stored
predictions, with toolkit.paired_test's numbers, or one line saying why no test could be made."""

from __future__ import annotations

import html
import re

import numpy as np
import pytest

import toolkit
from toolkit import cli
from toolkit.reporting.comparison import render_comparison
from toolkit.reporting.paired import PAGE_BOOTSTRAP, PAGE_CI, PAGE_SEED
from toolkit.reporting.record import open_reader, record_from_result

RNG = np.random.default_rng(41)
N = 300
LABELS = ["ant", "bee", "cat"]
Y_TRUE = np.asarray(LABELS)[RNG.integers(0, 3, N)]
SCORES_A = RNG.dirichlet(np.ones(3), N)
# model b: a's scores pulled towards the true class, so it is the better one
SCORES_B = 0.5 * SCORES_A + 0.3 * np.eye(3)[np.searchsorted(LABELS, Y_TRUE)] + 0.2 * RNG.dirichlet(np.ones(3), N)
CELL = re.compile(r'<td data-paired="([^"]+)" data-metric="([^"]+)" data-field="([^"]+)" data-value="([^"]+)">([^<]*)</td>')


def section(page: str) -> str:
    return page.split("<h2>Paired comparison</h2>")[1].split("<h2>")[0]


def table_cells(page: str) -> dict[tuple[str, str, str], tuple[str, str]]:
    """(run id, metric, field) -> (exact value, shown text), from the section's table."""
    return {(run, metric, field): (html.unescape(exact), html.unescape(shown))
            for run, metric, field, exact, shown in CELL.findall(section(page))}


@pytest.fixture
def recorded(toolkit_tracking):  # MLflow: a SQLite store in a tmp folder
    ids = {}
    for name, scores, y_true in (("a", SCORES_A, Y_TRUE), ("b", SCORES_B, Y_TRUE), ("shuffled", SCORES_B, Y_TRUE[::-1])):
        toolkit.evaluate(y_true, y_score=scores, labels=LABELS, trackers=["mlflow"], run_name=name)
        ids[name] = next(summary.run_id for summary in open_reader("mlflow").list_runs() if summary.run_name == name)
    return ids


def test_the_page_shows_paired_test_s_numbers_and_says_why_a_run_on_other_examples_has_none(recorded, tmp_path):
    page_path = tmp_path / "compare.html"
    runs = [recorded["a"], recorded["b"], recorded["shuffled"]]
    assert cli.main(["report", *[run[:8] for run in runs], "--tracker", "mlflow", "-o", str(page_path)]) == 0
    page = page_path.read_text(encoding="utf-8")

    expected = toolkit.paired_test(Y_TRUE, y_score_a=SCORES_A, y_score_b=SCORES_B, labels=LABELS, ci=PAGE_CI,
                                   n_bootstrap=PAGE_BOOTSTRAP, seed=PAGE_SEED)
    cells = table_cells(page)
    assert {run for run, _, _ in cells} == {recorded["b"]}  # the shuffled run gets no table
    assert [metric for _, metric, field in cells if field == "p_value"] == list(expected.tests)
    assert {"accuracy", "roc_auc_ovr_macro", "log_loss"} <= set(expected.tests)
    for metric, test in expected.tests.items():
        shown = {field: cells[(recorded["b"], metric, field)] for field in
                 ("value_a", "value_b", "difference", "interval", "p_value")}
        assert float(shown["value_a"][0]) == test.value_a and shown["value_a"][1] == f"{test.value_a:.4f}"
        assert float(shown["value_b"][0]) == test.value_b and shown["value_b"][1] == f"{test.value_b:.4f}"
        assert float(shown["difference"][0]) == test.difference and shown["difference"][1] == f"{test.difference:+.4f}"
        assert [float(bound) for bound in shown["interval"][0].split()] == list(test.interval)
        assert shown["interval"][1] == f"[{test.interval[0]:+.4f}, {test.interval[1]:+.4f}]"
        assert float(shown["p_value"][0]) == test.p_value and shown["p_value"][1] == f"{test.p_value:.3g}"
    # b is the better model: a - b is negative on accuracy, with McNemar's p-value
    assert expected.tests["accuracy"].difference < 0 and expected.tests["accuracy"].method == "exact McNemar"
    methods = re.search(r'<p class="meta" data-methods="paired">Tests used: ([^<]*)\.</p>', page)[1]
    for method in ("exact McNemar for accuracy", "DeLong for ", "paired bootstrap for "):
        assert method in methods
    for metric, test in expected.tests.items():
        said = next(part for part in methods.split("; ") if part.startswith(test.method + " for "))
        assert metric in said[len(test.method + " for "):].split(", ")

    notes = re.findall(rf'<p class="note" data-paired="{recorded["shuffled"]}">([^<]*)</p>', page)
    assert len(notes) == 1 and "were not evaluated on the same examples: y_true differs" in notes[0]
    assert "(higher is better)" not in section(page)  # the final metrics' best marks are counted by that phrase


def test_two_runs_on_different_examples_get_one_line_instead_of_a_table(recorded, tmp_path):
    page_path = tmp_path / "compare.html"
    assert cli.main(["report", recorded["a"], recorded["shuffled"], "--tracker", "mlflow", "-o", str(page_path)]) == 0
    part = section(page_path.read_text(encoding="utf-8"))
    assert "<table" not in part and part.count("<p") == 1
    assert re.search(r'<p class="note" data-paired="[0-9a-f]+">No paired test: shuffled \(b\) against a \(a\): '
                     r"runs \w+ and \w+ were not evaluated on the same examples", part)


def test_runs_without_stored_predictions_get_one_line():
    results = [toolkit.evaluate(Y_TRUE, y_score=scores, labels=LABELS) for scores in (SCORES_A, SCORES_B)]
    page = render_comparison([record_from_result(result, name) for result, name in zip(results, "ab")])
    part = section(page)
    assert "<table" not in part and part.count("<p") == 1
    assert "No paired test: a (a) stored no predictions (predictions.npz)" in part
