"""Validation and encoding of user inputs: every ValueError names the argument and what was wrong."""

from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

# Integer labels spanning at most this many values are encoded with a lookup table (no sort).
_LOOKUP_TABLE_LIMIT = 1 << 20


def _preview(values: Sequence[Any], limit: int = 5) -> str:
    shown = ", ".join(repr(value) for value in list(values)[:limit])
    return f"[{shown}{', ...' if len(values) > limit else ''}]"


def as_label_array(values: Any, argument: str) -> np.ndarray:
    """``values`` as a 1-D array of labels."""
    if values is None:
        raise ValueError(f"{argument} is required")
    array = np.asarray(values)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ValueError(
            f"{argument} must be 1-D (one label per example), got shape {array.shape}"
        )
    if array.size == 0:
        raise ValueError(f"{argument} is empty: there is nothing to evaluate")
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise ValueError(f"{argument} contains NaN or inf, which is not a label")
    if array.dtype.kind == "O":
        array = np.asarray(array.tolist())
    return array


def check_labels(labels: Any) -> tuple:
    """``labels`` as a tuple of plain Python scalars, checked for emptiness and repeats."""
    array = np.asarray(labels)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"labels must be a non-empty 1-D sequence, got {labels!r}")
    values = tuple(array.tolist())
    if len(set(values)) != len(values):
        repeated = sorted({value for value in values if values.count(value) > 1}, key=repr)
        raise ValueError(f"labels contains repeated values {repeated}")
    return values


def infer_labels(y_true: np.ndarray, y_pred: Optional[np.ndarray], y_score: Optional[np.ndarray]) -> tuple:
    """The default labels: the sorted union of ``y_true`` and ``y_pred``, or range(K) for (N, K) scores."""
    if y_pred is None and y_score is not None and y_score.ndim == 2:
        return tuple(range(y_score.shape[1]))
    arrays = [y_true] if y_pred is None else [y_true, y_pred]
    present = _small_integer_union(arrays)
    if present is None:
        try:
            present = np.unique(y_true) if y_pred is None else np.union1d(y_true, y_pred)
        except TypeError as error:
            raise ValueError(f"y_true and y_pred mix label types that cannot be sorted: {error}") from None
    labels = tuple(present.tolist())
    if y_pred is None and y_score is not None and len(labels) < 2:
        # (N,) scores mean a binary task; with one class present, 0/1 labels are the only guess.
        if set(labels) <= {0, 1}:
            return (0, 1)
        raise ValueError(
            f"y_true holds only {_preview(labels)} but y_score of shape (N,) means two classes: "
            "pass labels=[negative, positive]"
        )
    return labels


def _small_integer_union(arrays: list) -> Optional[np.ndarray]:
    """The sorted distinct values of integer arrays spanning a small range, by counting (no sort);
    None when the arrays are not all such integers."""
    if not all(array.dtype.kind in "iu" for array in arrays):
        return None
    low = min(int(array.min()) for array in arrays)
    high = max(int(array.max()) for array in arrays)
    if high - low >= _LOOKUP_TABLE_LIMIT or low < -(1 << 62) or high > 1 << 62:
        return None
    seen = np.zeros(high - low + 1, dtype=bool)
    for array in arrays:
        seen[array.astype(np.int64, copy=False) - low] = True
    return np.flatnonzero(seen) + low


def encode(values: np.ndarray, labels: tuple, argument: str) -> np.ndarray:
    """Positions of ``values`` in ``labels``; a value outside ``labels`` is a ValueError."""
    if values.dtype.kind in "iub" and all(
        isinstance(label, (int, np.integer)) and not isinstance(label, bool) for label in labels
    ):
        low, high = int(values.min()), int(values.max())
        if labels == tuple(range(len(labels))) and 0 <= low and high < len(labels):
            return values.astype(np.intp)  # the labels 0..K-1 are their own positions
        label_array = np.asarray(labels, dtype=np.int64)
        lowest = min(low, int(label_array.min()))
        span = max(high, int(label_array.max())) - lowest + 1
        if span <= _LOOKUP_TABLE_LIMIT:
            table = np.full(span, -1, dtype=np.intp)
            table[label_array - lowest] = np.arange(len(labels))
            codes = table[values.astype(np.int64, copy=False) - lowest]
            if codes.min() < 0:
                _raise_unknown(values[codes < 0], labels, argument)
            return codes
    unique, inverse = np.unique(values, return_inverse=True)
    position = {label: index for index, label in enumerate(labels)}
    mapped = np.array([position.get(value, -1) for value in unique.tolist()], dtype=np.intp)
    if (mapped < 0).any():
        _raise_unknown(unique[mapped < 0], labels, argument)
    return mapped[inverse.reshape(-1)]


def _raise_unknown(unknown: np.ndarray, labels: tuple, argument: str) -> None:
    found = np.unique(unknown).tolist()
    raise ValueError(
        f"{argument} contains {_preview(found)}, not in labels {_preview(labels)}; "
        "pass labels= listing every class"
    )


def check_scores(y_score: Any, n: int, labels: tuple) -> np.ndarray:
    """``y_score`` as a float (n, K) array with one column per label."""
    scores = np.asarray(y_score)
    if scores.dtype.kind not in "fiub":
        raise ValueError(f"y_score must be numeric, got dtype {scores.dtype}")
    if scores.dtype.kind != "f":
        scores = scores.astype(np.float64)
    if scores.ndim not in (1, 2):
        raise ValueError(f"y_score must have shape (N,) or (N, K), got {scores.shape}")
    if scores.shape[0] != n:
        raise ValueError(f"y_score has {scores.shape[0]} rows but y_true has {n} values")
    if scores.ndim == 1 or scores.shape[1] == 1:
        if len(labels) != 2:
            raise ValueError(
                f"y_score of shape {scores.shape} holds one score per example, which means a "
                f"binary task, but there are {len(labels)} labels {_preview(labels)}: "
                "give one column per label"
            )
        scores = scores.reshape(-1)
    elif scores.shape[1] != len(labels):
        raise ValueError(
            f"y_score has {scores.shape[1]} columns but there are {len(labels)} labels "
            f"{_preview(labels)}: give one column per label, in the order of labels"
        )
    # The sum is finite only if every score is (NaN and inf propagate): one cheap pass when all is
    # well; the slower element-wise check runs only to report the problem (or after an overflow).
    if not np.isfinite(scores.sum()):
        finite = np.isfinite(scores)
        if not finite.all():
            row = int(np.argwhere(~finite)[0][0])
            raise ValueError(f"y_score contains NaN or inf (first at row {row})")
    if scores.ndim == 1:
        widened = np.empty((scores.shape[0], 2), dtype=scores.dtype)
        np.subtract(1, scores, out=widened[:, 0])
        widened[:, 1] = scores
        scores = widened
    return scores


def predicted_codes(scores: np.ndarray, binary_scores: bool) -> np.ndarray:
    """The predictions ``y_score`` implies, as positions in the labels: ``p >= 0.5`` for the
    positive class when (N,) scores were given (``scores`` is then the widened [1 - p, p]),
    else the argmax of the columns (the first column wins a tie)."""
    return (scores[:, 1] >= 0.5).astype(np.intp) if binary_scores else scores.argmax(axis=1)


def check_weights(sample_weight: Any, n: int) -> Optional[np.ndarray]:
    """``sample_weight`` as a float (n,) array of finite, non-negative values, or None."""
    if sample_weight is None:
        return None
    weights = np.asarray(sample_weight, dtype=np.float64)
    if weights.ndim != 1 or weights.shape[0] != n:
        raise ValueError(f"sample_weight must have shape ({n},), like y_true; got {weights.shape}")
    if not np.isfinite(weights).all():
        raise ValueError("sample_weight contains NaN or inf")
    if (weights < 0).any():
        raise ValueError(f"sample_weight contains negative values (smallest {weights.min()!r})")
    return weights
