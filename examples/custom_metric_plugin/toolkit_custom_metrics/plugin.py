"""The plugin module the entry point names: it declares statistics and metrics, computing nothing."""

from __future__ import annotations

from toolkit.plugin import MetricSpec, StatisticSpec, hookimpl

from toolkit_custom_metrics import agreement, calibration, ranking


@hookimpl
def toolkit_register_statistics() -> list[StatisticSpec]:
    return [
        StatisticSpec(
            name="calibration_histogram",
            init=calibration.empty_histogram,
            update=calibration.add_batch,
            merge=calibration.merge_histograms,
            requires=("y_score",),
            description=f"{calibration.BINS} confidence bins: weight, confidence and correct sums",
        ),
    ]


@hookimpl
def toolkit_register_metrics() -> list[MetricSpec]:
    return [
        MetricSpec(
            name="balanced_accuracy", compute=agreement.balanced_accuracy,
            needs=("confusion", "labels"), higher_is_better=True, params={"adjusted": False},
            description="mean recall over the classes present in y_true",
        ),
        MetricSpec(
            name="matthews_corrcoef", compute=agreement.matthews_corrcoef,
            needs=("confusion",), higher_is_better=True,
            description="Matthews correlation coefficient (multiclass R_K)",
        ),
        MetricSpec(
            name="top_k_accuracy", compute=ranking.top_k_accuracy,
            needs=("scores",), higher_is_better=True, tasks=("multiclass",),
            params={"k": 2}, check_params=ranking.check_k,
            description="fraction of examples whose true label is among the k best-scored",
        ),
        MetricSpec(
            name="expected_calibration_error", compute=calibration.expected_calibration_error,
            needs=("calibration_histogram",), higher_is_better=False, needs_probabilities=True,
            description=f"expected calibration error over {calibration.BINS} equal-width bins",
        ),
        MetricSpec(
            name="maximum_calibration_error", compute=calibration.maximum_calibration_error,
            needs=("calibration_histogram",), higher_is_better=False, needs_probabilities=True,
            description=f"largest calibration gap over {calibration.BINS} equal-width bins",
        ),
    ]
