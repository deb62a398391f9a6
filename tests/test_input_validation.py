"""Inputs a user passes by mistake raise a ValueError naming the argument, never a number."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.metrics import accuracy_score, log_loss, roc_auc_score

import toolkit
from toolkit.evaluation.inputs import row_sum_tolerance

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def predictions(draw, min_classes=2, max_classes=5):
    """Valid labels and probabilities: every class present in y_true."""
    k = draw(st.integers(min_classes, max_classes))
    n = draw(st.integers(2 * k, 60))
    seed = draw(st.integers(0, 2 ** 32 - 1))
    rng = np.random.default_rng(seed)
    y_true = np.concatenate([np.arange(k), rng.integers(0, k, n - k)])
    scores = rng.dirichlet(np.ones(k), n)
    return y_true, scores, rng


def _never_a_number(argument: str, **kwargs) -> None:
    with pytest.raises((ValueError, TypeError), match=argument) as caught:
        toolkit.evaluate(**kwargs)
    assert "numpy" not in caught.traceback[-1].path.as_posix()  # raised by the toolkit, not deep in numpy


# --- scores -----------------------------------------------------------------------------------

MARGIN_CASES = ["negative", "above_one", "margins", "scaled", "row_sum_half", "row_sum_two"]


@SETTINGS
@given(predictions(), st.sampled_from(MARGIN_CASES))
def test_scores_that_are_not_probabilities_are_refused(data, case):
    y_true, scores, rng = data
    row = int(rng.integers(0, len(scores)))
    if case == "negative":
        scores[row, 0] = -0.25
    elif case == "above_one":
        scores[row] = 0
        scores[row, -1] = 1.5
    elif case == "margins":
        scores = rng.normal(0, 10, scores.shape)
    elif case == "scaled":
        scores = scores * 3
    elif case == "row_sum_half":
        scores[row] *= 0.5
    else:
        scores[row] *= 2
        scores[row] /= scores[row].max() * 1.01  # still in [0, 1], but the row sums above 1
        if scores[row].sum() <= 1 + 1e-3:
            scores[row] = 0.9
    _never_a_number("y_score", y_true=y_true, y_score=scores)


def test_the_row_sum_error_says_what_was_found_and_the_fix():
    with pytest.raises(ValueError) as caught:
        toolkit.evaluate([0, 1, 2], y_score=[[0.2, 0.3, 0.5], [0.1, 0.1, 0.3], [0.3, 0.3, 0.4]])
    message = str(caught.value)
    assert "row 1 sums to 0.5" in message and "score_type=" in message


def test_binary_margins_name_the_smallest_and_largest_score_and_the_fix():
    with pytest.raises(ValueError, match=r"from -49 to 11.*score_type='decision'"):
        toolkit.evaluate([0, 1, 1], y_score=[-49.0, 3.0, 11.0])


@SETTINGS
@given(st.integers(0, 2 ** 32 - 1), st.sampled_from([np.float16, np.float32, np.float64]), st.integers(2, 200))
def test_softmax_outputs_of_every_float_width_pass(seed, dtype, k):
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 4, (50, k)).astype(dtype)
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    probabilities = (shifted / shifted.sum(axis=1, keepdims=True)).astype(dtype)  # computed in that width
    assert np.abs(probabilities.astype(np.float64).sum(axis=1) - 1).max() <= row_sum_tolerance(np.dtype(dtype))
    result = toolkit.evaluate(rng.integers(0, k, 50), y_score=probabilities, labels=list(range(k)),
                              metrics=["accuracy", "log_loss"])
    assert math.isfinite(result.metrics["log_loss"])


# --- score_type ---------------------------------------------------------------------------------

def _softmax(logits):
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


@SETTINGS
@given(predictions(min_classes=3))
def test_logits_are_evaluated_as_their_softmax(data):
    y_true, _, rng = data
    logits = rng.normal(0, 5, (len(y_true), int(y_true.max()) + 1))
    result = toolkit.evaluate(y_true, y_score=logits, score_type="logits")
    probabilities = _softmax(logits)
    assert math.isclose(result["log_loss"], log_loss(y_true, probabilities), rel_tol=1e-9, abs_tol=1e-12)
    assert math.isclose(result["accuracy"], accuracy_score(y_true, probabilities.argmax(axis=1)), abs_tol=1e-12)
    assert math.isclose(result["roc_auc_ovr_macro"], roc_auc_score(y_true, probabilities, multi_class="ovr"),
                        rel_tol=1e-9)


def test_binary_logits_go_through_the_sigmoid_without_overflow():
    margins = np.array([-800.0, -3.0, 0.5, 2.0, 900.0, -0.1])
    y_true = np.array([0, 0, 1, 1, 1, 1])
    result = toolkit.evaluate(y_true, y_score=margins, score_type="logits")
    probabilities = 1 / (1 + np.exp(-np.clip(margins, -700, 700)))
    assert math.isclose(result["log_loss"], log_loss(y_true, probabilities), rel_tol=1e-9)
    assert math.isclose(result["roc_auc"], roc_auc_score(y_true, margins), rel_tol=1e-12)


def test_decision_function_output_gives_ranking_metrics_and_omits_log_loss_with_a_warning():
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    x, y = make_classification(600, random_state=0)
    model = LogisticRegression().fit(x, y)
    margins = model.decision_function(x)
    result = toolkit.evaluate(y, y_score=margins, score_type="decision")
    assert "log_loss" not in result.metrics
    assert any("log_loss" in warning and "decision" in warning for warning in result.warnings)
    assert math.isclose(result["accuracy"], accuracy_score(y, model.predict(x)), abs_tol=1e-12)
    assert math.isclose(result["roc_auc"], roc_auc_score(y, margins), rel_tol=1e-12)
    with pytest.raises(ValueError, match=r"\['log_loss'\] need probabilities"):
        toolkit.evaluate(y, y_score=margins, score_type="decision", metrics=["log_loss"])
    # "default" means what metrics=None computes for margins: log loss left out with the same warning
    extended = toolkit.evaluate(y, y_score=margins, score_type="decision", metrics=["default", "accuracy"])
    assert "log_loss" not in extended.metrics
    assert any("log_loss" in warning and "decision" in warning for warning in extended.warnings)
    assert extended.metrics == result.metrics


def test_multiclass_decision_scores_predict_the_argmax():
    rng = np.random.default_rng(3)
    margins = rng.normal(0, 3, (90, 3))
    y_true = np.arange(90) % 3
    result = toolkit.evaluate(y_true, y_score=margins, score_type="decision")
    assert math.isclose(result["accuracy"], accuracy_score(y_true, margins.argmax(axis=1)), abs_tol=1e-12)
    # one-vs-rest AUROC ranks each column on its own: margins need no softmax
    per_class = [roc_auc_score(y_true == k, margins[:, k]) for k in range(3)]
    assert math.isclose(result["roc_auc_ovr_macro"], float(np.mean(per_class)), rel_tol=1e-12)


def test_an_unknown_score_type_is_refused():
    with pytest.raises(ValueError, match="score_type must be one of"):
        toolkit.evaluate([0, 1], y_score=[0.2, 0.7], score_type="probabilities")


# --- labels -------------------------------------------------------------------------------------

LABEL_CASES = ["probabilities_as_labels", "masked", "mixed_types", "none", "nan", "unorderable"]


def _corrupt_labels(values: np.ndarray, case: str, rng: np.random.Generator):
    row = int(rng.integers(0, len(values)))
    if case == "probabilities_as_labels":
        return rng.random(len(values))
    if case == "masked":
        mask = np.zeros(len(values), dtype=bool)
        mask[row] = True
        return np.ma.masked_array(values, mask=mask)
    items = values.tolist()
    items[row] = {"mixed_types": "a", "none": None, "nan": float("nan"), "unorderable": object()}[case]
    return items


@SETTINGS
@given(predictions(), st.sampled_from(LABEL_CASES), st.sampled_from(["y_true", "y_pred"]))
def test_labels_given_by_mistake_are_refused(data, case, argument):
    y_true, scores, rng = data
    y_pred = scores.argmax(axis=1)
    given_ = {"y_true": y_true, "y_pred": y_pred}
    given_[argument] = _corrupt_labels(given_[argument], case, rng)
    _never_a_number(argument, **given_)
    _never_a_number(argument, **given_, labels=list(range(scores.shape[1])))


@pytest.mark.parametrize("labels", [[0, "a"], [0, None], [0.5, 1.5], [0, float("nan")]])
def test_bad_labels_arguments_are_refused(labels):
    _never_a_number("labels", y_true=[0, 0], y_pred=[0, 0], labels=labels)


def test_masked_scores_and_weights_are_refused():
    scores = np.ma.masked_array([0.2, 0.9, 0.4], mask=[False, True, False])
    _never_a_number("y_score", y_true=[0, 1, 0], y_score=scores)
    weights = np.ma.masked_array([1.0, 2.0, 3.0], mask=[False, False, True])
    _never_a_number("sample_weight", y_true=[0, 1, 0], y_pred=[0, 1, 1], sample_weight=weights)


def test_a_masked_array_without_masked_values_is_its_data():
    y_true = np.ma.masked_array([0, 1, 1, 0], mask=False)
    assert toolkit.evaluate(y_true, y_pred=[0, 1, 0, 0])["accuracy"] == 0.75


# --- weights ------------------------------------------------------------------------------------

@SETTINGS
@given(predictions(), st.sampled_from(["zeros", "negative", "nan", "inf", "text"]))
def test_weights_given_by_mistake_are_refused(data, case):
    y_true, scores, rng = data
    weights = rng.random(len(y_true)) + 0.1
    if case == "zeros":
        weights = np.zeros(len(y_true))
    elif case == "text":
        weights = ["heavy"] * len(y_true)
    else:
        weights[int(rng.integers(0, len(weights)))] = {"negative": -1.0, "nan": np.nan, "inf": np.inf}[case]
    _never_a_number("sample_weight", y_true=y_true, y_score=scores, sample_weight=weights)


@settings(max_examples=30, deadline=None)
@given(predictions(), st.sampled_from([1e-300, 1e300, 2.0 ** -1000, 3e-200]), st.booleans())
def test_weights_are_scale_free(data, factor, exact):
    y_true, scores, rng = data
    weights = rng.random(len(y_true)) * 10 + 0.01
    if scores.shape[1] == 2:
        scores = scores[:, 1]
    reference = toolkit.evaluate(y_true, y_score=scores, sample_weight=weights, exact=exact)
    scaled = toolkit.evaluate(y_true, y_score=scores, sample_weight=weights * factor, exact=exact)
    assert reference.metrics.keys() == scaled.metrics.keys()
    for key, value in reference.metrics.items():
        if key.startswith("support/"):
            assert math.isclose(scaled[key], value * factor, rel_tol=1e-9), key
        else:
            assert math.isclose(scaled[key], value, rel_tol=1e-9, abs_tol=1e-12), (key, value, scaled[key])


def test_scale_free_weights_still_merge_exactly():
    rng = np.random.default_rng(11)
    y_true, scores = rng.integers(0, 3, 400), rng.dirichlet([1, 1, 1], 400)
    weights = rng.random(400) * 1e-300
    whole = toolkit.evaluate(y_true, y_score=scores, sample_weight=weights, metrics=["log_loss", "accuracy"])
    parts = [toolkit.Evaluator([0, 1, 2], ["log_loss", "accuracy"]).update(
        y_true[cut], y_score=scores[cut], sample_weight=weights[cut])
        for cut in (slice(0, 7), slice(7, 300), slice(300, 400))]
    merged = parts[2].merge(parts[0]).merge(parts[1]).compute()
    assert merged["log_loss"] == whole["log_loss"]  # to the last bit
    assert math.isclose(whole["log_loss"], log_loss(y_true, scores, sample_weight=weights / 1e-300), rel_tol=1e-12)


# --- score_type reaches every entry point ---------------------------------------------------------

def test_score_type_reaches_evaluate_files_and_dask(tmp_path):
    import dask.array as da
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(8)
    y_true, logits = np.arange(300) % 3, rng.normal(0, 3, (300, 3))
    expected = toolkit.evaluate(y_true, y_score=logits, score_type="logits", metrics=["accuracy", "log_loss"])
    assert expected["log_loss"] == pytest.approx(log_loss(y_true, _softmax(logits)), rel=1e-12)
    pq.write_table(pa.table({"y_true": y_true, **{f"p_{k}": logits[:, k] for k in range(3)}}), tmp_path / "p.parquet")
    with pytest.raises(ValueError, match="y_score must hold probabilities"):
        toolkit.evaluate_files(tmp_path / "p.parquet", y_score="p_*", labels=[0, 1, 2])
    from_files = toolkit.evaluate_files(tmp_path / "p.parquet", y_score="p_*", labels=[0, 1, 2], batch_rows=64,
                                        score_type="logits", metrics=["accuracy", "log_loss"])
    on_dask = toolkit.evaluate(da.from_array(y_true, chunks=70), y_score=da.from_array(logits, chunks=(70, 3)),
                               labels=[0, 1, 2], score_type="logits", metrics=["accuracy", "log_loss"])
    for result in (from_files, on_dask):
        assert result.metrics == expected.metrics  # exact sums: the same to the last bit


def test_the_trainer_takes_a_score_type():
    from sklearn.linear_model import LogisticRegression

    with pytest.raises(ValueError, match="score_type must be one of"):
        toolkit.Trainer(LogisticRegression(), trackers=(), score_type="margin")
    x = np.random.default_rng(1).normal(size=(80, 3))
    y = (x[:, 0] > 0).astype(int)
    trainer = toolkit.Trainer(LogisticRegression(), trackers=(), progress=False, score_type="decision")
    trainer.fit(x, y, epochs=1)
    result = trainer.evaluate(x, y)
    assert "log_loss" not in result.metrics and "roc_auc" in result.metrics
