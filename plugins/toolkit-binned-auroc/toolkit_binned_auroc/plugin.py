"""The toolkit-binned-auroc plugin: the ``binned_scores`` statistic and the opt-in binned AUROC metrics."""

from __future__ import annotations

from toolkit.plugin import MetricSpec, StatisticSpec, hookimpl

from toolkit_binned_auroc import auroc

_HOW = "score histograms of fixed size; also reports <name>_error_bound, the most it can be off"


@hookimpl
def toolkit_register_statistics() -> list[StatisticSpec]:
    return [
        StatisticSpec(
            name="binned_scores", init=auroc.init, update=auroc.update, merge=auroc.merge,
            requires=("y_score",),
            description="per class, the weight of positives and of all examples in 32768 score bins",
        ),
    ]


@hookimpl
def toolkit_register_metrics() -> list[MetricSpec]:
    return [
        MetricSpec("roc_auc_binned", auroc.roc_auc_binned, ("binned_scores",), True,
                   tasks=("binary",), approximates="roc_auc", needs_probabilities=True,
                   description=f"approximate AUROC of labels[1] from {_HOW}"),
        MetricSpec("roc_auc_ovr_macro_binned", auroc.roc_auc_ovr_macro_binned,
                   ("binned_scores", "labels"), True, tasks=("multiclass",),
                   approximates="roc_auc_ovr_macro", needs_probabilities=True,
                   description=f"approximate one-vs-rest AUROC, unweighted mean, from {_HOW}"),
        MetricSpec("roc_auc_ovr_weighted_binned", auroc.roc_auc_ovr_weighted_binned,
                   ("binned_scores", "labels"), True, tasks=("multiclass",),
                   approximates="roc_auc_ovr_weighted", needs_probabilities=True,
                   description=f"approximate one-vs-rest AUROC, weighted by support, from {_HOW}"),
    ]
