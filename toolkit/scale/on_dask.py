"""Evaluation of Dask collections: statistics computed per partition on the workers, merged on the client.

Only evaluator states travel back (counts, histograms, and in exact mode the scores that exact
AUROC needs), never a whole column, and they are merged in partition order, so exact mode gives
the result the in-memory evaluation gives.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Any, Iterator, Mapping, Optional, Sequence

import numpy as np

from toolkit.evaluation import inputs
from toolkit.evaluation.engine import Evaluator
from toolkit.evaluation.slices import argument as slice_argument

ROLES = ("y_true", "y_pred", "y_score", "sample_weight")
LOCAL_CLUSTER = "local"


def holds_dask_collection(*values: Any) -> bool:
    """True when any value is a Dask collection; never imports dask itself."""
    dask = sys.modules.get("dask")
    return dask is not None and any(value is not None and dask.is_dask_collection(value) for value in values)


class Collections:
    """Dask arrays, or a Dask Series ``y_true`` with a Dask DataFrame of score columns (one per
    label, in the order of ``labels``), as a source of evaluator states.

    ``slices`` (slice name -> a Dask array or Series aligned with ``y_true``) feeds the
    evaluator's ``slice_by``. Each partition is evaluated where it lives and only its statistics come back, merged in
    partition order. ``scheduler`` in :meth:`fill`: None uses the active ``distributed.Client``
    (or Dask's default local scheduler when there is none); ``"local"`` starts a
    ``LocalCluster`` of worker processes for this call; any other string is a scheduler address
    to connect to; a ``Client`` is used as it is. Workers compute with the plugins installed
    where they run.
    """

    def __init__(self, y_true: Any, y_pred: Any = None, y_score: Any = None, sample_weight: Any = None,
                 slices: Optional[Mapping[str, Any]] = None) -> None:
        self.given = {"y_true": y_true, "y_pred": y_pred, "y_score": y_score, "sample_weight": sample_weight}
        # slice columns travel as one more role each, partitioned like y_true
        self.given.update({slice_argument(name): values for name, values in (slices or {}).items()})
        self.kind = _collection_kind(self.given)

    def labels(self, labels: Optional[Sequence]) -> Sequence:
        """``labels``, or the in-memory default inferred from the collections (one pass)."""
        if labels is not None:
            return labels
        return _infer_labels(self.kind, self.given["y_true"], self.given["y_pred"], self.given["y_score"])

    def fill(self, evaluator: Evaluator, scheduler: Any = None) -> None:
        """Merge every partition's evaluator state into ``evaluator``, in partition order."""
        import dask

        parts = _array_partitions(self.given) if self.kind == "array" else _frame_partitions(self.given)
        tasks = [dask.delayed(_partition_evaluator, pure=True)(evaluator.labels, evaluator.settings, part)
                 for part in parts]
        with _client_for(scheduler) as client:
            for state in _in_partition_order(tasks, client):
                if state is not None:
                    evaluator.merge(state)


def _collection_kind(given: dict[str, Any]) -> str:
    """"array" or "frame"; every input given must be a Dask collection of one kind."""
    try:
        import dask.array as da
        import dask.dataframe as dd
    except ImportError as error:
        raise ImportError(
            f"Dask inputs need dask: pip install 'toolkit[scale]' ({error})"
        ) from error
    kinds = {}
    for role, value in given.items():
        if value is None:
            continue
        if isinstance(value, da.Array):
            kinds[role] = "array"
        elif isinstance(value, (dd.DataFrame, dd.Series)):
            kinds[role] = "frame"
        else:
            raise ValueError(
                f"{role} is a {type(value).__name__}, not a Dask collection: with a scheduler or "
                "any Dask input, give y_true, y_pred, y_score and sample_weight as Dask "
                "collections with the same partitions"
            )
    if len(set(kinds.values())) > 1:
        described = ", ".join(f"{role} is a Dask {kind}" for role, kind in kinds.items())
        raise ValueError(f"mix of Dask arrays and dataframes ({described}): use one kind for all inputs")
    return kinds["y_true"]


def _infer_labels(kind: str, y_true: Any, y_pred: Any, y_score: Any) -> tuple:
    """The in-memory default labels, from the distinct values (one pass over the label columns)."""
    import dask

    score_dims = None if y_score is None else (y_score.ndim if kind == "array" else len(y_score.shape))
    score_shape = None if score_dims is None else ((0,) if score_dims == 1 else (0, y_score.shape[1]))
    if y_pred is None and score_shape is not None and len(score_shape) == 2:
        return tuple(range(int(score_shape[1])))
    if kind == "array":
        import dask.array as da

        distinct = [da.unique(value) for value in (y_true, y_pred) if value is not None]
    else:
        distinct = [value.unique() for value in (y_true, y_pred) if value is not None]
    computed = [np.asarray(values) for values in dask.compute(*distinct)]
    true_values = inputs.as_label_array(computed[0], "y_true")
    pred_values = None if y_pred is None else inputs.as_label_array(computed[1], "y_pred")
    score_dummy = None if score_shape is None else np.empty(score_shape)
    return inputs.infer_labels(true_values, pred_values, score_dummy)


def _array_partitions(given: dict[str, Any]) -> list[dict[str, Any]]:
    """One dict of delayed blocks per row chunk of ``y_true``; other arrays rechunked to match."""
    y_true = given["y_true"]
    rows = y_true.chunks[0]
    blocks: dict[str, Any] = {}
    for role, array in given.items():
        if array is None:
            continue
        if array.ndim not in (1, 2):
            raise ValueError(f"{role} must have 1 or 2 dimensions, got shape {array.shape}")
        if not np.isnan(array.shape[0]) and not np.isnan(y_true.shape[0]) and array.shape[0] != y_true.shape[0]:
            raise ValueError(f"{role} has {array.shape[0]} rows but y_true has {y_true.shape[0]}")
        wanted = {0: rows, 1: -1} if array.ndim == 2 else {0: rows}
        if not any(np.isnan(size) for size in rows) and (
            array.chunks[0] != rows or (array.ndim == 2 and array.numblocks[1] > 1)
        ):
            array = array.rechunk(wanted)
        elif array.numblocks[0] != len(rows):
            raise ValueError(
                f"{role} has {array.numblocks[0]} chunks of unknown size but y_true has "
                f"{len(rows)}: give both the same chunks"
            )
        blocks[role] = array.to_delayed().reshape(len(rows), -1)[:, 0]
    return [{role: delayed[index] for role, delayed in blocks.items()} for index in range(len(rows))]


def _frame_partitions(given: dict[str, Any]) -> list[dict[str, Any]]:
    """One delayed pandas frame per partition holding every input's columns, read once."""
    import dask.dataframe as dd

    pieces = []
    layout: dict[str, tuple[list[str], bool]] = {}
    for role, value in given.items():
        if value is None:
            continue
        is_series = isinstance(value, dd.Series)
        frame = value.to_frame(name=f"{role}:0") if is_series else value.rename(
            columns={column: f"{role}:{index}" for index, column in enumerate(value.columns)}
        )
        layout[role] = (list(frame.columns), is_series)
        pieces.append(frame)
    combined = pieces[0]
    try:
        for piece in pieces[1:]:
            combined = combined.assign(**{column: piece[column] for column in piece.columns})
        partitions = combined.to_delayed()
    except (ValueError, NotImplementedError) as error:
        raise ValueError(
            "y_true, y_pred, y_score and sample_weight must be partitioned alike (columns of one "
            f"Dask DataFrame, or frames with the same divisions): {error}"
        ) from None
    return [{"frame": partition, "layout": layout} for partition in partitions]


def _partition_evaluator(labels: tuple, settings: Mapping[str, Any], part: dict[str, Any]) -> Optional[Evaluator]:
    """Runs on a worker: one partition's evaluator (shipped back as its states), None if empty."""
    if "frame" in part:
        frame, layout = part["frame"], part["layout"]
        part = {role: frame[columns[0]].to_numpy() if is_series else frame[columns].to_numpy()
                for role, (columns, is_series) in layout.items()}
    y_true = part["y_true"]
    if len(y_true) == 0:
        return None
    evaluator = Evaluator(labels, first_position=None, **settings)  # placed when merged, in order
    names = settings.get("slice_by") or ()
    evaluator.update(y_true, part.get("y_pred"), part.get("y_score"), sample_weight=part.get("sample_weight"),
                     slices={name: part[slice_argument(name)] for name in names} if names else None)
    return evaluator



def _in_partition_order(tasks: list, client: Any) -> Iterator[Any]:
    """Each task's result in task order, each yielded as soon as it and all before it are done."""
    if client is None:
        import dask

        yield from dask.compute(*tasks)
        return
    from distributed import as_completed

    futures = client.compute(tasks)
    index_of = {future.key: index for index, future in enumerate(futures)}
    waiting: dict[int, Any] = {}
    next_index = 0
    for future in as_completed(futures):
        waiting[index_of[future.key]] = future.result()
        future.release()
        while next_index in waiting:
            yield waiting.pop(next_index)
            next_index += 1


@contextlib.contextmanager
def _client_for(scheduler: Any) -> Iterator[Any]:
    """The distributed client to run on (None: Dask's default scheduler), closed if made here."""
    if scheduler is None:
        yield _active_client()
        return
    from distributed import Client, LocalCluster

    if isinstance(scheduler, Client):
        yield scheduler
    elif scheduler == LOCAL_CLUSTER:
        with LocalCluster(processes=True, dashboard_address=":0") as cluster, Client(cluster) as client:
            yield client
    elif isinstance(scheduler, str) and scheduler:
        with Client(scheduler) as client:
            yield client
    else:
        raise ValueError(
            f"scheduler must be None (the active client), {LOCAL_CLUSTER!r} (a LocalCluster of "
            f"processes), a scheduler address or a distributed.Client; got {scheduler!r}"
        )


def _active_client() -> Any:
    if "distributed" not in sys.modules:  # no client can exist if distributed was never imported
        return None
    from distributed import default_client

    try:
        return default_client()
    except ValueError:
        return None
