"""Out-of-core evaluation: predictions in Parquet, CSV or .npy files, read and evaluated a batch at a time.

Memory holds one batch of the columns asked for plus the evaluator's statistics. With the default
``exact=False`` every statistic has a fixed size (confusion counts, log-loss sums, score
histograms for binned AUROC), so the peak does not grow with the number of rows. ``exact=True``
adds exact AUROC, which keeps every score: about (K + 1) x 8 bytes per row.
"""

from __future__ import annotations

import fnmatch
import glob
from typing import Any, Iterable, Mapping, Optional, Sequence, Union

import numpy as np

from toolkit.evaluation import inputs
from toolkit.evaluation.engine import Evaluator
from toolkit.evaluation.slices import argument as slice_argument
from toolkit.evaluation.result import EvaluationResult
from toolkit.plugin.manager import ToolkitPluginManager
from toolkit.scale.tables import PathsArgument, Table, open_table, resolve_paths

DEFAULT_BATCH_ROWS = 1 << 18
ColumnsArgument = Union[str, Sequence[str], None]


def evaluate_files(
    paths: PathsArgument,
    *,
    y_true: str = "y_true",
    y_pred: Optional[str] = None,
    y_score: ColumnsArgument = None,
    sample_weight: Optional[str] = None,
    labels: Optional[Sequence] = None,
    metrics: Any = None,
    exact: bool = False,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    trackers: Iterable[str] = (),
    run_name: Optional[str] = None,
    params: Optional[Mapping[str, Any]] = None,
    plugin_manager: Optional[ToolkitPluginManager] = None,
    gates: Any = None,
    baseline: Optional[Mapping[str, float]] = None,
    ci: Optional[float] = None,
    n_bootstrap: int = 1000,
    seed: Any = None,
    threshold_targets: Optional[Mapping[str, float]] = None,
    bootstrap: str = "poisson",
    score_type: str = "probability",
    slice_by: Union[str, Sequence[str], None] = None,
    cross_slices: Any = False,
) -> EvaluationResult:
    """Evaluate predictions stored in files, ``batch_rows`` rows at a time.

    :param paths: a file, a glob pattern (``"preds/part-*.parquet"``) or a list of them; files
        are ``.parquet``, ``.csv`` (also ``.csv.gz``) or ``.npy`` (a structured array), or
        folders of one ``.npy`` file per column. Parts are read in sorted order.
    :param y_true, y_pred, sample_weight: column names.
    :param y_score: one column name (binary scores, or a list/2-D column of K scores), a list of
        K column names in the order of ``labels``, or a glob pattern over the column names
        (``"p_*"``, matched in file order).
    :param exact: False keeps memory bounded (binned AUROC stands in for exact AUROC when
        ``metrics`` is None); True computes what ``toolkit.evaluate`` would, keeping every score.
    :param ci, n_bootstrap, seed, bootstrap: confidence intervals as in ``toolkit.evaluate``, by
        default from the Poisson bootstrap: with the same seed, the same intervals whatever
        ``batch_rows`` or the split of rows into files (and the same as ``toolkit.evaluate(...,
        bootstrap="poisson")`` on the whole arrays). With ``exact=False`` memory stays bounded:
        metrics of confusion counts and log loss get intervals (weighted counts and log loss
        summed per resample batch by batch); AUROC, which needs every score, gets a note instead,
        unless ``exact=True``.
    :param slice_by, cross_slices: slice columns (a name or a list of names): ``result.slices``
        holds each slice's result, as in ``toolkit.evaluate`` (the slice is named after its column).
    The other arguments (``score_type`` among them) are those of ``toolkit.evaluate``. Threshold targets need ``exact=True``,
    since the threshold analysis keeps every score. When ``labels`` is None they are
    inferred as ``evaluate`` does, which for label columns costs a first pass over them.
    """
    from toolkit.pipeline import Pipeline

    if isinstance(slice_by, Mapping):
        raise ValueError(f"slice_by names slice columns (a name or a list of names), got a mapping {dict(slice_by)!r}")
    pipeline = Pipeline(metrics=metrics, exact=exact, gates=gates, baseline=baseline, ci=ci,
                        n_bootstrap=n_bootstrap, seed=seed, bootstrap=bootstrap, threshold_targets=threshold_targets,
                        trackers=trackers, run_name=run_name, params=params, plugin_manager=plugin_manager,
                        score_type=score_type, slice_by=slice_by, cross_slices=cross_slices)
    roles = _check_roles(y_true, y_pred, y_score, sample_weight)
    slice_columns = pipeline.slicing.columns if pipeline.slicing is not None else ()
    roles.update({slice_argument(name): name for name in slice_columns})
    if not isinstance(batch_rows, (int, np.integer)) or isinstance(batch_rows, bool) or batch_rows < 1:
        raise ValueError(f"batch_rows must be a positive integer, got {batch_rows!r}")
    tables = [open_table(path) for path in resolve_paths(paths)]
    columns = _resolve_columns(roles, tables)
    if labels is None:
        labels = _infer_labels(columns, tables, int(batch_rows))
    evaluator = pipeline.evaluator(labels, has_scores="y_score" in columns)
    for table in tables:
        _feed(evaluator, table, columns, int(batch_rows))
    return pipeline.finish(evaluator)



def _slices(rows: dict[str, np.ndarray], evaluator: Evaluator) -> Optional[dict[str, np.ndarray]]:
    names = evaluator.settings.get("slice_by")
    return {name: rows[slice_argument(name)] for name in names} if names else None


def _check_roles(y_true: Any, y_pred: Any, y_score: Any, sample_weight: Any) -> dict[str, Any]:
    roles = {"y_true": y_true, "y_pred": y_pred, "sample_weight": sample_weight}
    for role, value in roles.items():
        if value is not None and not isinstance(value, str):
            raise ValueError(f"{role} must be a column name, got {value!r}")
    if y_true is None:
        raise ValueError("y_true is required: the name of the column of true labels")
    if y_pred is None and y_score is None:
        raise ValueError("give y_pred or y_score (column names): there is nothing to compare y_true with")
    if y_score is not None:
        names = [y_score] if isinstance(y_score, str) else list(y_score)
        if not names or not all(isinstance(name, str) for name in names):
            raise ValueError(f"y_score must be a column name, a list of them or a glob pattern, got {y_score!r}")
        roles["y_score"] = y_score
    return {role: value for role, value in roles.items() if value is not None}


def _resolve_columns(roles: dict[str, Any], tables: list[Table]) -> dict[str, list[str]]:
    """Role -> the column names it reads, the same in every file (checked before reading rows)."""
    resolved: dict[str, list[str]] = {}
    for table in tables:
        here = {}
        for role, spec in roles.items():
            if role == "y_score" and isinstance(spec, str) and glob.has_magic(spec):
                names = [column for column in table.columns if fnmatch.fnmatchcase(column, spec)]
                if not names:
                    raise ValueError(f"y_score: no column of {table.path} matches {spec!r}; "
                                     f"it has {table.columns}")
            else:
                names = [spec] if isinstance(spec, str) else list(spec)
            missing = [name for name in names if name not in table.columns]
            if missing:
                raise ValueError(f"{role}: {table.path} has no column {missing[0]!r}; it has {table.columns}")
            here[role] = names
        if resolved and here != resolved:
            raise ValueError(f"{table.path} gives columns {here}, but the files before it {resolved}: "
                             "every file must hold the same columns")
        resolved = here
    return resolved


def _rows(batch: dict[str, np.ndarray], columns: dict[str, list[str]]) -> dict[str, np.ndarray]:
    """One batch's arrays per role; several score columns are stacked into (n, K)."""
    arrays = {}
    for role, names in columns.items():
        if role == "y_score" and len(names) > 1:
            arrays[role] = np.column_stack([batch[name] for name in names])
        else:
            arrays[role] = batch[names[0]]
    return arrays


def _needed(columns: dict[str, list[str]], roles: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(name for role in roles if role in columns for name in columns[role]))


def _infer_labels(columns: dict[str, list[str]], tables: list[Table], batch_rows: int) -> tuple:
    """``toolkit.evaluate``'s default labels, from the distinct values in the label columns."""
    score_columns = columns.get("y_score")
    score_dummy = None  # an empty array shaped like the scores: (0,) or (0, K)
    if score_columns and len(score_columns) > 1:
        score_dummy = np.empty((0, len(score_columns)))
    elif score_columns:  # one column: (N,) binary scores, or a list column of K scores
        first = next(tables[0].batches(score_columns, 1), None)
        score_dummy = None if first is None else np.empty((0, *np.shape(first[score_columns[0]])[1:]))
    if "y_pred" not in columns and score_dummy is not None and score_dummy.ndim == 2:
        return tuple(range(score_dummy.shape[1]))
    label_roles = [role for role in ("y_true", "y_pred") if role in columns]
    distinct: dict[str, set] = {role: set() for role in label_roles}
    for table in tables:
        for batch in table.batches(_needed(columns, label_roles), batch_rows):
            rows = _rows(batch, {role: columns[role] for role in label_roles})
            for role in label_roles:
                if len(rows[role]):
                    distinct[role].update(np.unique(inputs.as_label_array(rows[role], role)).tolist())
    if not distinct["y_true"]:
        raise ValueError("y_true is empty in every file: there is nothing to evaluate")
    pred_values = np.array(list(distinct["y_pred"])) if distinct.get("y_pred") else None
    return inputs.infer_labels(np.array(list(distinct["y_true"])), pred_values, score_dummy)


def _feed(evaluator: Evaluator, table: Table, columns: dict[str, list[str]], batch_rows: int) -> None:
    names = _needed(columns, columns)
    first_row = 0
    for batch in table.batches(names, batch_rows):
        rows = _rows(batch, columns)
        count = len(rows["y_true"])
        if count == 0:
            continue
        try:
            evaluator.update(rows["y_true"], rows.get("y_pred"), rows.get("y_score"),
                             sample_weight=rows.get("sample_weight"), slices=_slices(rows, evaluator))
        except ValueError as error:
            raise ValueError(f"{table.path}, rows {first_row}-{first_row + count - 1}: {error}") from None
        first_row += count
