"""Exact, tie-aware, weighted Mann-Whitney U (the AUROC numerator): a sorting reference and a
bucketed kernel that sorts almost nothing.

AUROC = U / (W_pos * W_neg), where U sums w_p * w_n over (positive, negative) pairs whose
positive scores higher, and half of w_p * w_n over tied pairs. This is exactly the trapezoidal
area under scikit-learn's ROC curve.

The bucketed kernel maps scores to about one bucket per score with a monotone map (equal scores
share a bucket, a higher score never lands in a lower one), so pairs in different buckets are
counted from a histogram and its running total in linear time. The pairs inside the few buckets
holding both classes are settled exactly: where a bucket has one positive (or one negative),
by comparing each member of the other class with it; where it has several of each, by sorting
those members; where all its scores are equal, they are ties. Every count is exact: integers
when unweighted, sums of non-negative weights when weighted.
"""

from __future__ import annotations

from typing import NamedTuple, Optional

import numpy as np

# Below this many examples the sorting reference is about as fast, and simpler.
BUCKETED_MIN_EXAMPLES = 5_000

_SIGN_FLIP = np.int64(0x7FFFFFFFFFFFFFFF)
_KEY_BITS = 32       # bucketing works on 32-bit offsets of the exact 64-bit keys
_COARSE_BITS = 12    # a first histogram of 4096 ranges decides where buckets must be finer
_SAMPLE_STRIDE = 16  # ... estimated from every 16th score, which is plenty for that
_BUCKETS_PER_SCORE = 1.0
# When this fraction of scores shares a bucket with the other class, look for tied buckets first.
_TIE_CHECK_FRACTION = 0.25


class MannWhitney(NamedTuple):
    """U, and the total positive and negative weight (counts when unweighted)."""

    u: float
    positive_total: float
    negative_total: float

    @property
    def auc(self) -> float:
        """U / (W_pos * W_neg); nan when one class is absent (or has zero weight)."""
        if self.positive_total <= 0 or self.negative_total <= 0:
            return float("nan")
        return self.u / (self.positive_total * self.negative_total)


def mann_whitney(
    scores: np.ndarray,
    positive: np.ndarray,
    weights: Optional[np.ndarray] = None,
    positive_index: Optional[np.ndarray] = None,
    scratch: Optional["Scratch"] = None,
) -> MannWhitney:
    """U of ``scores`` (float (n,)) for the examples flagged by ``positive`` (bool (n,)).

    ``positive_index`` (``np.flatnonzero(positive)``) may be passed when the caller has it, and
    ``scratch`` (a :class:`Scratch`) when it scores many columns one after the other.
    """
    if scores.shape[0] < BUCKETED_MIN_EXAMPLES:
        return mann_whitney_sorted(scores, positive, weights)
    if positive_index is None:
        positive_index = np.flatnonzero(positive)
    return mann_whitney_bucketed(scores, positive, positive_index, weights, scratch)


def mann_whitney_sorted(scores: np.ndarray, positive: np.ndarray, weights: Optional[np.ndarray] = None) -> MannWhitney:
    """The reference: sort every score, group ties, count negatives below each group."""
    order = np.argsort(scores, kind="stable")
    sorted_scores = scores[order]
    sorted_positive = positive[order]
    if weights is None:
        positive_weight = sorted_positive.astype(np.float64)
        negative_weight = 1.0 - positive_weight
    else:
        sorted_weights = weights[order]
        positive_weight = np.where(sorted_positive, sorted_weights, 0.0)
        negative_weight = np.where(sorted_positive, 0.0, sorted_weights)
    # -0.0 == 0.0 here, so they form one tie group, as they should.
    starts = np.flatnonzero(np.concatenate(([True], sorted_scores[1:] != sorted_scores[:-1])))
    group_positive = np.add.reduceat(positive_weight, starts)
    group_negative = np.add.reduceat(negative_weight, starts)
    negative_below = np.cumsum(group_negative) - group_negative
    u = _dot(group_positive, negative_below) + 0.5 * _dot(group_positive, group_negative)
    return MannWhitney(u, float(group_positive.sum()), float(group_negative.sum()))


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """The dot product without BLAS: numpy's dot wakes a multi-threaded BLAS, which costs more
    than these vectors (and on a busy machine, much more)."""
    return float(np.multiply(a, b).sum())


def sortable_keys(scores: np.ndarray, lowest: Optional[float] = None) -> np.ndarray:
    """int64 keys in the order of the float64 scores; -0.0 and 0.0 get the same key.

    A non-negative float's bits, read as an integer, already sort like the float; a negative
    float's magnitude bits are flipped so that larger magnitudes sort lower. ``lowest`` is
    ``scores.min()`` when the caller knows it.
    """
    if lowest is None:
        lowest = scores.min()
    if lowest > 0:  # no -0.0 and no negatives: the bits themselves, without a copy
        return scores.view(np.int64)
    keys = (scores + 0.0).view(np.int64)  # + 0.0 turns -0.0 into 0.0
    if lowest < 0:
        keys ^= (keys >> 63) & _SIGN_FLIP
    return keys


class BucketMap:
    """A monotone map from sortable keys to bucket ids 1..n_buckets, finer where keys are dense.

    Keys are offset from the smallest and cut to 32 bits, split into 4096 equal coarse ranges,
    and each coarse range gets a power of two of equal sub-buckets, about
    ``buckets_per_score`` per score that falls in it. Bucket 0 stays empty, so "the buckets
    below b" is a prefix ending at b - 1 even for the first bucket.
    """

    def __init__(self, lowest: int, highest: int, sample_offsets: np.ndarray, sample_stride: int,
                 buckets_per_score: float = _BUCKETS_PER_SCORE, coarse_bits: int = _COARSE_BITS) -> None:
        self.lowest = lowest
        span = highest - lowest
        self.pre_shift = max(0, span.bit_length() - _KEY_BITS)
        span >>= self.pre_shift
        self.shift = max(0, span.bit_length() - coarse_bits)
        counts = np.bincount(sample_offsets >> np.uint32(self.shift), minlength=(span >> self.shift) + 1)
        wanted = np.maximum(counts * (sample_stride * buckets_per_score), 1.0)
        bits = np.minimum(np.ceil(np.log2(wanted)).astype(np.int64), self.shift)
        sizes = np.left_shift(np.int64(1), bits)
        first = np.cumsum(sizes) - sizes + 1
        sub_shift = self.shift - bits
        range_start = np.arange(counts.size, dtype=np.int64) << self.shift
        self._sub_shift = sub_shift.astype(np.uint32)
        # bucket = (offset >> sub_shift) + adjust, in wrapping uint32 arithmetic (mixing integer
        # types makes numpy cast element by element, which is slow): the true value is in
        # 1..n_buckets, so the wrap-around of a "negative" adjust cancels exactly.
        self._adjust = ((first - (range_start >> sub_shift)) & 0xFFFFFFFF).astype(np.uint32)
        self.n_buckets = int(sizes.sum())

    @classmethod
    def for_scores(cls, scores: np.ndarray, sample_stride: int = _SAMPLE_STRIDE, scratch: Optional["Scratch"] = None,
                   **options) -> tuple["BucketMap", np.ndarray]:
        """A map fitted to ``scores``, and the scores' 32-bit key offsets (what ``buckets`` takes)."""
        low_score, high_score = scores.min(), scores.max()
        keys = sortable_keys(scores, low_score)
        lowest, highest = (int(key) for key in sortable_keys(np.array([low_score, high_score], dtype=np.float64)))
        pre_shift = max(0, (highest - lowest).bit_length() - _KEY_BITS)
        offsets = _offsets(keys, lowest, pre_shift, scratch or Scratch())
        return cls(lowest, highest, offsets[::sample_stride], sample_stride, **options), offsets

    def offsets(self, keys: np.ndarray) -> np.ndarray:
        return _offsets(keys, self.lowest, self.pre_shift, Scratch())

    def buckets(self, offsets: np.ndarray, scratch: Optional["Scratch"] = None) -> np.ndarray:
        """Bucket ids (intp, which bincount and take use without converting) of 32-bit offsets."""
        scratch = scratch or Scratch()
        n = offsets.shape[0]
        coarse = scratch.get("coarse", n, np.intp)
        np.copyto(coarse, offsets >> np.uint32(self.shift), casting="unsafe")
        # (mode="wrap" never wraps here, the indices are in range; with out=, the default mode
        # would copy through a buffer)
        bucket = self._sub_shift.take(coarse, out=scratch.get("sub_shift", n, np.uint32), mode="wrap")
        np.right_shift(offsets, bucket, out=bucket)
        bucket += self._adjust.take(coarse, out=scratch.get("adjust", n, np.uint32), mode="wrap")
        return scratch.cast("bucket", bucket, np.intp)


class Scratch:
    """Work arrays reused from one score column to the next (by one thread at a time).

    A fresh large array costs more than most arithmetic on it: the operating system hands its
    memory out zero-filled, page by page. Reusing a few buffers pays that once, not per column.
    """

    def __init__(self) -> None:
        self._arrays: dict = {}

    def get(self, role: str, size: int, dtype) -> np.ndarray:
        """An uninitialized array of ``size`` elements, the same memory each time for ``role``."""
        array = self._arrays.get(role)
        if array is None or array.shape[0] < size or array.dtype != dtype:
            array = self._arrays[role] = np.empty(size, dtype=dtype)
        return array[:size]

    def cast(self, role: str, values: np.ndarray, dtype) -> np.ndarray:
        """``values.astype(dtype)``, written into the ``role`` array."""
        out = self.get(role, values.shape[0], dtype)
        np.copyto(out, values, casting="unsafe")
        return out


def _offsets(keys: np.ndarray, lowest: int, pre_shift: int, scratch: Scratch) -> np.ndarray:
    # keys - lowest can exceed the int64 range; read as uint64 the wrapped result is right.
    offsets = np.subtract(keys, np.int64(lowest), out=scratch.get("keys", keys.shape[0], np.int64)).view(np.uint64)
    if pre_shift:
        offsets >>= np.uint64(pre_shift)
    return scratch.cast("offsets", offsets, np.uint32)


def mann_whitney_bucketed(
    scores: np.ndarray,
    positive: np.ndarray,
    positive_index: np.ndarray,
    weights: Optional[np.ndarray] = None,
    scratch: Optional[Scratch] = None,
    **bucket_options,
) -> MannWhitney:
    """U by bucketing (see the module docstring); equal to ``mann_whitney_sorted`` exactly.

    ``positive_index`` is ``np.flatnonzero(positive)``. ``scratch`` lends work arrays when many
    columns are scored in a row. ``bucket_options`` (``sample_stride``, ``buckets_per_score``,
    ``coarse_bits``) only tune speed; tests use them to force crowded buckets.
    """
    scratch = scratch or Scratch()
    n = scores.shape[0]
    n_positive = positive_index.shape[0]
    if weights is None:
        positive_weights = None
        positive_total, negative_total = float(n_positive), float(n - n_positive)
    else:
        positive_weights = weights.take(positive_index)
        negative_weights = np.where(positive, 0.0, weights)
        positive_total, negative_total = float(positive_weights.sum()), float(negative_weights.sum())
    if positive_total <= 0 or negative_total <= 0:
        return MannWhitney(0.0, positive_total, negative_total)

    bucket_map, offsets = BucketMap.for_scores(scores, scratch=scratch, **bucket_options)
    bucket = bucket_map.buckets(offsets, scratch)
    n_buckets = bucket_map.n_buckets
    positive_bucket = bucket.take(positive_index)

    # negative weight per bucket, then its running total: pairs in different buckets.
    if weights is None:
        negatives = np.bincount(bucket, minlength=n_buckets + 1)
        np.subtract.at(negatives, positive_bucket, 1)
    else:
        negatives = np.bincount(bucket, weights=negative_weights, minlength=n_buckets + 1)
    negatives_in_bucket = negatives.take(positive_bucket)
    np.cumsum(negatives, out=negatives)
    negatives_below = negatives.take(positive_bucket - 1)
    del negatives
    if weights is None:
        twice_u = 2 * int(negatives_below.sum())
    else:
        u = _dot(positive_weights, negatives_below)

    # pairs inside a bucket that holds both classes
    crowded = negatives_in_bucket > 0
    if crowded.any():
        within = _crowded_buckets(scores, positive, weights, bucket, n_buckets, bucket_map, scratch,
                                  positive_index[crowded], positive_bucket[crowded], negatives_in_bucket[crowded])
        if weights is None:
            twice_u += int(within)
        else:
            u += within
    if weights is None:
        u = twice_u / 2
    return MannWhitney(u, positive_total, negative_total)


def _crowded_buckets(scores, positive, weights, bucket, n_buckets, bucket_map, scratch, rows, row_bucket,
                     negatives_in_bucket):
    """U of the pairs inside buckets holding both classes (twice U, an exact int, when unweighted).

    ``rows`` are the positives sharing their bucket with a negative, ``row_bucket`` their buckets
    and ``negatives_in_bucket`` the negative weight (or count) there. A bucket with one positive,
    or with one negative, is settled by comparing every member with that one score; only buckets
    with several of each are sorted.
    """
    ONE_POSITIVE, ONE_NEGATIVE, SEVERAL = 1, 2, 3  # (0: a bucket with nothing to settle)
    kind = scratch.get("kind", n_buckets + 1, np.int8)
    kind.fill(0)
    kind[row_bucket] = ONE_POSITIVE
    # "owner" keeps one member of each bucket, whichever was written last: the others lose.
    owner = scratch.get("owner", n_buckets + 1, np.int32)
    _mark_shared(owner, kind, row_bucket, ONE_NEGATIVE)
    member_kind = kind.take(bucket, out=scratch.get("member_kind", bucket.shape[0], np.int8), mode="wrap")
    members = np.flatnonzero(member_kind != 0)  # (five times faster on booleans)
    kinds = member_kind.take(members)
    member_positive = positive.take(members)

    # one positive in the bucket: compare each negative there with it
    negatives = members[(kinds == ONE_POSITIVE) & ~member_positive]
    total = _against_one(scores, weights, negatives, rows.take(owner.take(bucket.take(negatives))), True)

    # several positives: if the bucket has one negative, compare each positive with it
    negatives = members[(kinds == ONE_NEGATIVE) & ~member_positive]
    negatives_bucket = bucket.take(negatives)
    _mark_shared(owner, kind, negatives_bucket, SEVERAL)
    positives = members[(kinds == ONE_NEGATIVE) & member_positive]
    positives_bucket = bucket.take(positives)
    alone = kind.take(positives_bucket) == ONE_NEGATIVE
    total += _against_one(scores, weights, positives[alone],
                          negatives.take(owner.take(positives_bucket[alone])), False)

    # several of each: sort them
    several = kind.take(row_bucket) == SEVERAL
    if several.any():
        total += _sorted_buckets(scores, positive, weights, bucket, n_buckets, bucket_map,
                                 members[kind.take(bucket.take(members)) == SEVERAL],
                                 row_bucket[several], negatives_in_bucket[several],
                                 None if weights is None else weights.take(rows[several]))
    return total


def _mark_shared(owner: np.ndarray, kind: np.ndarray, member_bucket: np.ndarray, shared_kind: int) -> None:
    """Let ``owner[b]`` name one of the members in bucket b, and set ``kind[b] = shared_kind``
    for every bucket with more than one of them."""
    slot = np.arange(member_bucket.shape[0], dtype=np.int32)
    owner[member_bucket] = slot
    kind[member_bucket[owner.take(member_bucket) != slot]] = shared_kind


def _against_one(scores, weights, members, opponents, members_are_negative: bool):
    """U (twice U when unweighted) of the pairs (member, its bucket's one opponent)."""
    member_scores, opponent_scores = scores.take(members), scores.take(opponents)
    if members_are_negative:
        wins = member_scores < opponent_scores
    else:
        wins = member_scores > opponent_scores
    ties = member_scores == opponent_scores
    if weights is None:
        return 2 * int(np.count_nonzero(wins)) + int(np.count_nonzero(ties))
    pair_weight = weights.take(members) * weights.take(opponents)
    return _dot(pair_weight, wins + 0.5 * ties)


def _sorted_buckets(scores, positive, weights, bucket, n_buckets, bucket_map, members, row_bucket,
                    negatives_in_bucket, row_weights):
    """U (twice U when unweighted) of the pairs inside the buckets of ``members`` (whole buckets),
    by sorting. ``row_bucket``, ``negatives_in_bucket``, ``row_weights``: their positives' buckets,
    the negative weight there, and the positives' weights."""
    values = scores.take(members)
    member_positive = positive.take(members)
    member_weights = None if weights is None else weights.take(members)
    total = 0.0 if weights is not None else 0

    if members.shape[0] > _TIE_CHECK_FRACTION * scores.shape[0]:
        # Many such buckets: with coarse or rounded scores most of them hold one value only, and
        # all their pairs are ties, worth half. Find them without sorting.
        member_bucket = bucket.take(members)
        representative = np.empty(n_buckets + 1, dtype=np.float64)
        representative[member_bucket] = values
        varied = np.zeros(n_buckets + 1, dtype=bool)
        varied[member_bucket[values != representative.take(member_bucket)]] = True
        tied = ~varied.take(row_bucket)
        if weights is None:
            total += int(negatives_in_bucket[tied].sum())  # twice U: each tied pair counts 1
        else:
            total += 0.5 * _dot(row_weights[tied], negatives_in_bucket[tied])
        keep = varied.take(member_bucket)
        values, member_positive = values[keep], member_positive[keep]
        if member_weights is not None:
            member_weights = member_weights[keep]

    positive_values, negative_values = values[member_positive], values[~member_positive]
    if positive_values.shape[0] == 0 or negative_values.shape[0] == 0:
        return total
    if weights is None:
        positive_values.sort()
        negative_values.sort()
    else:
        positive_order = np.argsort(positive_values)
        negative_order = np.argsort(negative_values)
        positive_values = positive_values[positive_order]
        negative_values = negative_values[negative_order]
        positive_weights = member_weights[member_positive][positive_order]
        negative_cumulative = np.concatenate(([0.0], np.cumsum(member_weights[~member_positive][negative_order])))
    # negatives of these buckets below (and tied with) each positive ...
    below = np.searchsorted(negative_values, positive_values, "left")
    below_or_tied = np.searchsorted(negative_values, positive_values, "right")
    # ... minus those in lower buckets. Buckets rise with scores, so sorted scores have sorted buckets.
    negative_buckets = bucket_map.buckets(bucket_map.offsets(sortable_keys(negative_values)))
    positive_buckets = bucket_map.buckets(bucket_map.offsets(sortable_keys(positive_values)))
    lower_buckets = np.searchsorted(negative_buckets, positive_buckets, "left")
    if weights is None:
        return total + int(below.sum()) + int(below_or_tied.sum()) - 2 * int(lower_buckets.sum())
    per_positive = 0.5 * (negative_cumulative.take(below) + negative_cumulative.take(below_or_tied)) \
        - negative_cumulative.take(lower_buckets)
    return total + _dot(positive_weights, per_positive)
