"""The toolkit-metrics plugin: registers every metric of the key table in its README."""

from __future__ import annotations

from toolkit.plugin import MetricSpec, StatisticSpec, hookimpl

from toolkit_metrics import counting, curves, log_loss, loss_terms, ranking, resampling

BINARY = ("binary",)
MULTICLASS = ("multiclass",)
_FULL_NAMES = {"precision": "precision", "recall": "recall", "f1": "F1"}


def _matrix(confusion):
    return confusion


def _threshold_analysis(scores, labels, target_precision=None, target_recall=None):
    from toolkit.plugin import analyse_thresholds

    weights = scores.sample_weight  # counts in the caller's unit of weight (the table's is scaled)
    weights = weights if weights is None else weights / getattr(scores, "weight_scale", 1.0)
    # (a binary task's class positions are 0/1 already: no mask is formed before the analysis is used)
    return analyse_thresholds(scores.y_true, scores.y_score[:, 1], weights,
                              positive_label=labels[1], target_precision=target_precision,
                              target_recall=target_recall, deferred=True)


def _check_targets(target_precision=None, target_recall=None):
    for name, value in (("target_precision", target_precision), ("target_recall", target_recall)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                  or not 0 <= value <= 1):
            raise ValueError(f"{name} must be a number between 0 and 1 or None, got {value!r}")


@hookimpl
def toolkit_register_statistics() -> list[StatisticSpec]:
    return [
        StatisticSpec("log_loss_terms", log_loss.init, log_loss.update, log_loss.merge,
                      requires=("y_score",), terms=loss_terms.terms, from_sums=loss_terms.from_sums,
                      concurrent=True,  # (numpy and nogil kernels over its own sums)
                      description="weighted sum of log losses and of weights (two numbers)"),
    ]


@hookimpl
def toolkit_register_metrics() -> list[MetricSpec]:
    specs = [
        MetricSpec("accuracy", counting.accuracy, ("confusion",), True,
                   description="fraction of examples predicted right (weighted)"),
        MetricSpec("example_count", lambda count: float(count), ("count",), None,
                   description="number of examples evaluated"),
    ]
    for name, title in _FULL_NAMES.items():
        specs += [
            MetricSpec(f"{name}_macro", counting.macro(name), ("confusion", "labels"), True,
                       description=f"unweighted mean of per-class {title}"),
            MetricSpec(f"{name}_micro", counting.micro, ("confusion",), True,
                       description=f"{title} over all examples pooled"),
            MetricSpec(f"{name}_weighted", counting.weighted(name), ("confusion", "labels"), True,
                       description=f"per-class {title} averaged by support"),
            MetricSpec(name, counting.positive_class(name), ("confusion", "labels"), True, tasks=BINARY,
                       description=f"{title} of the positive class, labels[1]"),
            MetricSpec(f"{name}_per_class", counting.by_class(name), ("confusion", "labels"), True,
                       description=f"{title} of each class, as {name}/<label>"),
        ]
    specs += [
        MetricSpec("support_per_class", counting.by_class("support"), ("confusion", "labels"), None,
                   description="true examples of each class (weighted), as support/<label>"),
        MetricSpec("roc_auc", ranking.roc_auc, ("scores", "labels"), True, tasks=BINARY,
                   description="exact area under the ROC curve of labels[1]",
                   resample=resampling.roc_auc),
        MetricSpec("roc_auc_ovr_macro", ranking.roc_auc_ovr_macro, ("scores", "labels"), True,
                   tasks=MULTICLASS, description="one-vs-rest AUROC, unweighted mean over classes",
                   resample=resampling.roc_auc_ovr_macro),
        MetricSpec("roc_auc_ovr_weighted", ranking.roc_auc_ovr_weighted, ("scores", "labels"), True,
                   tasks=MULTICLASS, description="one-vs-rest AUROC, mean weighted by support",
                   resample=resampling.roc_auc_ovr_weighted),
        MetricSpec("log_loss", log_loss.log_loss, ("log_loss_terms",), False,
                   description="mean negative log probability of the true class",
                   resample=resampling.log_loss, resample_needs=("scores",), needs_probabilities=True),
        MetricSpec("confusion_matrix", _matrix, ("confusion",), None, kind="artifact",
                   description="K x K counts, rows = true label, columns = predicted label"),
        MetricSpec("threshold_analysis", _threshold_analysis, ("scores", "labels"), None, kind="artifact",
                   params={"target_precision": None, "target_recall": None}, check_params=_check_targets,
                   tasks=BINARY, description="precision, recall, F1 and FPR at every threshold, best-F1 point"),
        MetricSpec("roc_curve", curves.roc_curve, ("scores", "labels"), None, kind="artifact",
                   description="ROC curve per class (binary: labels[1]), <= 1,000 points, computed on first use"),
        MetricSpec("pr_curve", curves.pr_curve, ("scores", "labels"), None, kind="artifact",
                   description="precision-recall curve per class (binary: labels[1]), <= 1,000 points"),
    ]
    return specs
