"""Validation and encoding of user inputs: every ValueError names the argument and what was wrong."""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Iterator, NamedTuple, Optional, Sequence

import numpy as np

from toolkit.evaluation import concurrency

# Integer labels spanning at most this many values are encoded with a lookup table (no sort).
_LOOKUP_TABLE_LIMIT = 1 << 20
# How many first values are looked at for a zero before a whole array's minimum is read.
_ZERO_PEEK = 4096


def _preview(values: Sequence[Any], limit: int = 5) -> str:
    shown = ", ".join(repr(value) for value in list(values)[:limit])
    return f"[{shown}{', ...' if len(values) > limit else ''}]"


def _unmasked(values: Any, argument: str) -> Any:
    """``values`` without its mask; a masked array with masked entries is refused, because the
    values under the mask would be used as if they were real."""
    if isinstance(values, np.ma.MaskedArray):
        masked = np.ma.getmaskarray(values)
        if masked.any():
            raise ValueError(
                f"{argument} is a masked array with {int(masked.sum())} masked value(s) (first at row "
                f"{int(np.argwhere(masked)[0][0])}): drop those rows (or fill them) before evaluating"
            )
        return np.ma.getdata(values)
    return values


def as_label_array(values: Any, argument: str) -> np.ndarray:
    """``values`` as a 1-D array of labels: integers, integer-valued floats, strings or booleans,
    one kind per array (mixed kinds, None, NaN and non-integer floats are refused)."""
    if values is None:
        raise ValueError(f"{argument} is required")
    values = _unmasked(values, argument)
    try:
        array = np.asarray(values)
    except (TypeError, ValueError) as error:  # ragged lists and the like
        raise ValueError(f"{argument} cannot be read as an array of labels: {error}") from None
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ValueError(
            f"{argument} must be 1-D (one label per example), got shape {array.shape}"
        )
    if array.size == 0:
        raise ValueError(f"{argument} is empty: there is nothing to evaluate")
    if array.dtype.kind in "USO" and not isinstance(values, np.ndarray):
        # numpy turns [1, "a"] into strings: look at what was given, not at what numpy made of it.
        array = np.asarray(values, dtype=object).reshape(-1)
    if array.dtype.kind == "O":
        array = _object_labels(array, argument)
    if array.dtype.kind == "f":
        _check_float_labels(array, argument)
    elif array.dtype.kind not in "iubUS":
        raise ValueError(f"{argument} must hold integers, strings or booleans, got dtype {array.dtype}")
    return array


def _object_labels(array: np.ndarray, argument: str) -> np.ndarray:
    """An object array of labels as a typed array, when its values are all of one orderable kind."""
    items = array.tolist()
    kinds = {_label_kind(item) for item in items}
    if None in kinds:
        bad = next(index for index, item in enumerate(items) if _label_kind(item) is None)
        raise ValueError(
            f"{argument} holds {items[bad]!r} (row {bad}), which is not a label: labels are "
            "integers, strings or booleans; drop or fill the missing rows"
        )
    if len(kinds) > 1:
        examples = {kind: next(item for item in items if _label_kind(item) == kind) for kind in sorted(kinds)}
        raise ValueError(
            f"{argument} mixes label types ({', '.join(f'{kind} such as {value!r}' for kind, value in examples.items())}): "
            "convert them to one type (all strings or all integers) so they compare as intended"
        )
    kind = kinds.pop()
    if kind == "str":
        return np.asarray(items, dtype=str)
    if kind == "bool":
        return np.asarray(items, dtype=bool)
    return np.asarray(items, dtype=np.float64 if any(isinstance(item, float) for item in items) else None)


def _label_kind(item: Any) -> Optional[str]:
    """"str", "bool" or "number" for a usable label, None for anything else (None, NaN, objects)."""
    if isinstance(item, (bool, np.bool_)):
        return "bool"
    if isinstance(item, str):
        return "str"
    if isinstance(item, (int, np.integer)):
        return "number"
    if isinstance(item, (float, np.floating)) and np.isfinite(item):
        return "number"
    return None


def _check_float_labels(array: np.ndarray, argument: str) -> None:
    """Float labels must be whole numbers: fractions are scores passed in the wrong argument."""
    if not np.isfinite(array).all():
        row = int(np.argwhere(~np.isfinite(array))[0][0])
        raise ValueError(f"{argument} contains NaN or inf (first at row {row}), which is not a label")
    fractional = array != np.floor(array)
    if fractional.any():
        row = int(np.argwhere(fractional)[0][0])
        hint = " (these look like scores: pass them as y_score)" if argument == "y_pred" else ""
        raise ValueError(
            f"{argument} holds non-integer values such as {array[row]!r} (row {row}): labels must be "
            f"whole numbers, strings or booleans{hint}"
        )


def check_labels(labels: Any) -> tuple:
    """``labels`` as a tuple of plain Python scalars, checked for emptiness, kinds and repeats."""
    shape = np.shape(labels) if not isinstance(labels, (str, bytes)) else ()
    if len(shape) != 1 or shape[0] == 0:
        raise ValueError(f"labels must be a non-empty 1-D sequence, got {labels!r}")
    values = tuple(as_label_array(labels, "labels").tolist())
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
    # Class indices 0..K-1 are the common case: one pass per array bounds them (see
    # _largest_if_non_negative), and 0/1 values need one minimum more, no counting.
    largest = [_largest_if_non_negative(array) for array in arrays]
    high = None if None in largest else max(largest)
    if high is not None and high <= 1:
        # (a zero among the first values spares a pass over the whole array)
        has_zero = any(not array[:_ZERO_PEEK].all() or int(array.min()) == 0 for array in arrays)
        return np.array([0, 1][1 - has_zero:high + 1])
    if high is not None and high < _LOOKUP_TABLE_LIMIT:
        low = 0
    else:  # negative or large values: their range decides
        low = min(int(array.min()) for array in arrays)
        high = max(int(array.max()) for array in arrays)
        if high - low >= _LOOKUP_TABLE_LIMIT or low < -(1 << 62) or high > 1 << 62:
            return None
    seen = np.zeros(high - low + 1, dtype=bool)
    for array in arrays:
        positions = array.astype(np.intp, copy=False)
        seen[positions - low if low else positions] = True  # (no shifted copy for class indices)
    return np.flatnonzero(seen) + low


def encode(values: np.ndarray, labels: tuple, argument: str) -> np.ndarray:
    """Positions of ``values`` in ``labels``; a value outside ``labels`` is a ValueError."""
    if values.dtype.kind in "iub" and all(
        isinstance(label, (int, np.integer)) and not isinstance(label, bool) for label in labels
    ):
        if values.dtype.kind in "iu" and labels == tuple(range(len(labels))):
            largest = _largest_if_non_negative(values)
            if largest is not None and largest < len(labels):
                return values.astype(np.intp, copy=False)  # 0..K-1 are their own positions (one pass to know)
        low, high = int(values.min()), int(values.max())
        if labels == tuple(range(len(labels))) and 0 <= low and high < len(labels):
            return values.astype(np.intp, copy=False)  # the labels 0..K-1 are their own positions
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


# id(array) -> (array, its _largest_if_non_negative), inside a ``bounds_read_once`` block only
_READ_BOUNDS: ContextVar[Optional[dict]] = ContextVar("toolkit_read_bounds", default=None)


@contextmanager
def bounds_read_once() -> Iterator[None]:
    """Within the block, each integer array's bound is read once: inferring labels and then
    encoding the same arrays (``toolkit.evaluate``) would read every array twice (a pass over
    8 MB per million labels each time). Only for a block that does not change the arrays."""
    token = _READ_BOUNDS.set({})
    try:
        yield
    finally:
        _READ_BOUNDS.reset(token)


def _largest_if_non_negative(values: np.ndarray) -> Optional[int]:
    """The largest of integer ``values`` when none is negative, else None: one pass, reading
    signed values as unsigned (no copy), where a negative one is at least 2**(bits - 1)."""
    read = _READ_BOUNDS.get()
    if read is None:
        return _read_largest(values)
    if id(values) not in read:
        read[id(values)] = (values, _read_largest(values))  # (kept, so that its id is not reused meanwhile)
    return read[id(values)][1]


def _read_largest(values: np.ndarray) -> Optional[int]:
    if values.dtype.kind == "u":
        return int(values.max())
    largest = int(values.view(values.dtype.str.replace("i", "u")).max())
    return largest if largest < 1 << (values.dtype.itemsize * 8 - 1) else None


def _raise_unknown(unknown: np.ndarray, labels: tuple, argument: str) -> None:
    found = np.unique(unknown).tolist()
    raise ValueError(
        f"{argument} contains {_preview(found)}, not in labels {_preview(labels)}; "
        "pass labels= listing every class"
    )


SCORE_TYPES = ("probability", "logits", "decision")


def check_score_type(score_type: Any) -> str:
    """``score_type`` checked: what the numbers in ``y_score`` are."""
    if score_type not in SCORE_TYPES:
        raise ValueError(f"score_type must be one of {', '.join(map(repr, SCORE_TYPES))}, got {score_type!r}")
    return score_type


def row_sum_tolerance(dtype: np.dtype) -> float:
    """How far a row of probabilities may sum from 1: sqrt(machine epsilon) of the scores' dtype,
    scikit-learn's rule, but never below float32's (3.5e-4), as float32 softmax outputs often
    arrive converted to float64 (float16 outputs pass with 0.031)."""
    return float(np.sqrt(max(np.finfo(dtype).eps, np.finfo(np.float32).eps)))


class _ScoresAhead(NamedTuple):
    y_score: np.ndarray
    score_type: str
    values: concurrency.HelperTask  # of _checked_values


# The checks of one y_score started early, inside a ``scores_checked_ahead`` block only
_SCORES_AHEAD: ContextVar[Optional[_ScoresAhead]] = ContextVar("toolkit_scores_ahead", default=None)


@contextmanager
def scores_checked_ahead(y_score: Any, score_type: str) -> Iterator[None]:
    """Within the block, the checks of a large ``y_score`` that read every score (and the
    widening of a binary column) start at once on the helper thread when a CPU is idle, so that
    they run while the labels are read on this one (``toolkit.evaluate``); ``check_scores`` of
    the same array then makes its checks of shape and takes their outcome (or runs them itself
    if the helper has not begun). Errors come in the same order as without: an error in the
    labels or the shape is raised first. Only for a block that does not change ``y_score``."""
    ahead = None
    if (type(y_score) is np.ndarray and y_score.dtype.kind == "f" and y_score.ndim in (1, 2)
            and concurrency.worth_handing_over(y_score.shape[0])):
        scores = y_score.reshape(-1) if y_score.ndim == 2 and y_score.shape[1] == 1 else y_score
        ahead = _ScoresAhead(y_score, score_type, concurrency.HelperTask(_checked_values, scores, score_type))
    token = _SCORES_AHEAD.set(ahead)
    try:
        yield
    finally:
        _SCORES_AHEAD.reset(token)
        if ahead is not None:
            ahead.values.drop()  # (nothing runs on after the block, whatever raised)


def check_scores(y_score: Any, n: int, labels: tuple, score_type: str = "probability") -> np.ndarray:
    """``y_score`` as a float (n, K) array with one column per label.

    ``score_type="probability"``: values in [0, 1], and (N, K) rows summing to 1 within
    :func:`row_sum_tolerance`. ``"logits"``: the sigmoid (N,) or softmax (N, K) is applied first.
    ``"decision"``: margins or any other ranking scores, used as they are (binary (N,) margins
    widen to [-m, m]).
    """
    scores = np.asarray(_unmasked(y_score, "y_score"))
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
    ahead = _SCORES_AHEAD.get()
    if ahead is not None and ahead.y_score is y_score and ahead.score_type == score_type:
        return ahead.values.outcome()  # (the same checks, started on the helper thread)
    return _checked_values(scores, score_type)


def _checked_values(scores: np.ndarray, score_type: str) -> np.ndarray:
    """The checks of ``check_scores`` that read every score, and the scores made ready: float
    (N,) or (N, K) ``scores`` of a shape already checked."""
    # Every probability in [+0, 1] is settled by one pass over the bits; otherwise the least and
    # greatest value tell what is wrong (NaN and inf propagate through min and max). Other scores
    # are summed, for the same reason. The slower element-wise check runs only to name the row.
    if score_type == "probability":
        if not _in_unit_interval(scores):
            low, high = scores.min(), scores.max()
            if not (np.isfinite(low) and np.isfinite(high)):
                _raise_not_finite(scores)
            _check_range(low, high)
        _check_row_sums(scores)
    elif not np.isfinite(scores.sum()):
        _raise_not_finite(scores)
    if score_type == "logits":
        scores = _sigmoid(scores) if scores.ndim == 1 else _softmax(scores)
    if scores.ndim == 1:  # (column-major: each column is written, and later read, in one stream)
        widened = np.empty((scores.shape[0], 2), dtype=scores.dtype, order="F")
        if score_type == "decision":
            np.negative(scores, out=widened[:, 0])
        else:
            np.subtract(1, scores, out=widened[:, 0])
        widened[:, 1] = scores
        scores = widened
    return scores


def _in_unit_interval(scores: np.ndarray) -> bool:
    """Whether every score lies in [+0, 1], in one pass over the bits read as unsigned integers
    (a view, no copy): those of +0 to 1 order like the floats, and every other pattern (negative,
    -0.0, NaN, above 1) is larger than 1's. About half the cost of a minimum and a maximum."""
    if scores.size == 0:
        return False
    unsigned = scores.dtype.str.replace("f", "u")  # (keeps the byte order)
    return scores.view(unsigned).max() <= np.array(1, dtype=scores.dtype).view(unsigned)


def _raise_not_finite(scores: np.ndarray) -> None:
    """The ValueError naming the first row with NaN or inf, when there is one."""
    finite = np.isfinite(scores)
    if not finite.all():
        row = int(np.argwhere(~finite)[0][0])
        raise ValueError(f"y_score contains NaN or inf (first at row {row})")


def _check_range(low: Any, high: Any) -> None:
    """Probabilities (least ``low``, greatest ``high``) lie in [0, 1]; a ValueError says what was found."""
    if low < 0 or high > 1:
        raise ValueError(
            f"y_score must hold probabilities in [0, 1], found values from {low:.6g} to {high:.6g}: "
            "for logits pass score_type='logits' (sigmoid/softmax is applied), for margins such as "
            "decision_function output pass score_type='decision' (ranking metrics only)"
        )


def _check_row_sums(scores: np.ndarray) -> None:
    """(N, K) probabilities in [0, 1] sum to 1 along each row; a ValueError names the worst row."""
    if scores.ndim == 1:
        return
    tolerance = row_sum_tolerance(scores.dtype)
    if not _rows_off_by_more(scores, tolerance):
        return
    sums = _row_sums(scores)
    np.subtract(sums, 1, out=sums)
    worst = int(np.argmax(np.abs(sums)))
    raise ValueError(
        f"y_score rows must sum to 1 (one probability per label), within {tolerance:.2g} for "
        f"{scores.dtype} scores; row {worst} sums to {1 + sums[worst]:.6g}: normalise the rows, "
        "give every label's column, or pass score_type='logits' / 'decision' for other scores"
    )


def _row_sums(scores: np.ndarray) -> np.ndarray:
    """Each row's sum, accumulated in float64: the reference the tolerance applies to (added as
    numpy adds a contiguous row, whatever the memory layout, so that any subset of rows gets the
    same sums to the last bit)."""
    if not scores.flags.c_contiguous:
        scores = np.ascontiguousarray(scores)
    return np.add.reduce(scores, axis=1, dtype=np.float64)


def _row_sums_in_own_dtype(scores: np.ndarray) -> np.ndarray:
    """Row sums in the scores' dtype: column by column for few (or contiguous) columns, else
    einsum's loop (numpy's reduction along short rows is several times slower than either)."""
    if scores.shape[1] <= 4 or scores.flags.f_contiguous:
        sums = scores[:, 0] + scores[:, 1]
        for column in range(2, scores.shape[1]):
            sums += scores[:, column]
        return sums
    return np.einsum("ij->i", scores)


def _rows_off_by_more(scores: np.ndarray, tolerance: float) -> bool:
    """Whether a row's float64 sum differs from 1 by more than ``tolerance``, for scores in [0, 1].

    Summing along rows in float64 costs several times a pass over the scores; a sum in the
    scores' own dtype (einsum: a fast contiguous loop) differs from the float64 one by at most
    (K - 1) * eps * |sum|, so only rows within that margin of the tolerance (or beyond it) are
    summed again in float64 to decide. The answer is the float64 one, exactly.
    """
    n_columns = scores.shape[1]
    margin = 2 * n_columns * float(np.finfo(scores.dtype).eps)
    if scores.dtype.itemsize < 4 or margin >= tolerance / 2:
        sums = _row_sums(scores)
        return bool(np.abs(sums - 1).max() > tolerance)
    screened = _row_sums_in_own_dtype(scores)
    np.subtract(screened, 1, out=screened)
    np.abs(screened, out=screened)
    suspects = np.flatnonzero(screened > tolerance - margin)
    if suspects.size == 0:
        return False
    return bool(np.abs(_row_sums(scores[suspects]) - 1).max() > tolerance)


def _sigmoid(margins: np.ndarray) -> np.ndarray:
    # exp(-log(1 + exp(-x))), without overflow for large |x|
    return np.exp(-np.logaddexp(0, -margins))


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    np.exp(shifted, out=shifted)
    shifted /= shifted.sum(axis=1, keepdims=True)
    return shifted


def predicted_codes(scores: np.ndarray, binary_scores: bool, score_type: str = "probability") -> np.ndarray:
    """The predictions ``y_score`` implies, as positions in the labels: ``p >= 0.5`` for the
    positive class when (N,) scores were given (``scores`` is then the widened [1 - p, p]; for
    decision margins ``m > 0``), else the argmax of the columns (the first column wins a tie)."""
    if not binary_scores:
        return scores.argmax(axis=1)
    positive = scores[:, 1] > 0 if score_type == "decision" else scores[:, 1] >= 0.5
    return positive.astype(np.intp)


def check_weights(sample_weight: Any, n: int) -> Optional[np.ndarray]:
    """``sample_weight`` as a float (n,) array of finite, non-negative values, not all zero, or None."""
    if sample_weight is None:
        return None
    sample_weight = _unmasked(sample_weight, "sample_weight")
    try:
        weights = np.asarray(sample_weight, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"sample_weight must be numbers: {error}") from None
    if weights.ndim != 1 or weights.shape[0] != n:
        raise ValueError(f"sample_weight must have shape ({n},), like y_true; got {weights.shape}")
    # the least and the greatest weight tell all three (NaN and inf propagate through both)
    low, high = weights.min(), weights.max()
    if not (np.isfinite(low) and np.isfinite(high)):
        raise ValueError("sample_weight contains NaN or inf")
    if low < 0:
        raise ValueError(f"sample_weight contains negative values (smallest {low!r})")
    if high == 0:
        raise ValueError("sample_weight is zero for every example: no example would count")
    return weights


def weight_scale(weights: np.ndarray) -> float:
    """The power of two that brings the largest weight into [1, 2): multiplying by it is exact
    (no rounding) for every weight within 2**1000 of the largest, so results do not depend on
    the weights' unit (``w * 1e-300`` gives what ``w`` gives) and exact sums stay exact."""
    largest = float(weights.max()) if weights.size else 0.0
    if largest == 0.0:
        return 1.0
    return float(np.ldexp(1.0, -(np.frexp(largest)[1] - 1)))
