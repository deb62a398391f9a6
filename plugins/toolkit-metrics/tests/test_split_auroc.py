"""One score column split by value and ranked on two threads (packed_sort's split path) against
scikit-learn's roc_auc_score and the one-thread path: at any split value (empty parts included),
with many ties, both zeros, float16/32/64, with and without sample weights; the two threads'
task sharing (shared_steps), after a fork too; and threads withheld while another process runs."""

import os
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from toolkit_metrics import packed_sort
from toolkit_metrics.mann_whitney import mann_whitney_sorted
from toolkit_metrics.packed_sort import mann_whitney_columns

TOLERANCE = 1e-9
UNSIGNED = {np.float16: np.uint16, np.float32: np.uint32, np.float64: np.uint64}
# non-negative scores that stress the split: both zeros, a denormal, the largest float, repeats
TIED_SCORES = [0.0, -0.0, 5e-324, 1e-3, 0.25, 0.5, 0.75, 1.0, np.finfo(float).max]


@st.composite
def columns(draw, max_size: int = 80, weighted_float64: bool = True):
    """(N, 2) non-negative scores of one dtype (the split reads column 1), class positions 0/1,
    weights (some zero) or None; float16/32 only when weighted unless ``weighted_float64``."""
    weighted = draw(st.booleans())
    dtype = draw(st.sampled_from([np.float16, np.float32] + ([np.float64] if weighted_float64 or not weighted else [])))
    n = draw(st.integers(1, max_size))
    score = st.one_of(st.sampled_from(TIED_SCORES), st.floats(0, 1, width=np.finfo(dtype).bits))
    with np.errstate(over="ignore"):
        scores = np.array(draw(st.lists(score, min_size=2 * n, max_size=2 * n))).astype(dtype)
    scores[~np.isfinite(scores)] = 1.0  # the largest float64 overflows the narrower dtypes
    y_true = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)), dtype=np.intp)
    weights = None
    if weighted:
        weights = np.array(draw(st.lists(st.one_of(st.just(0.0), st.floats(1e-3, 1e3)), min_size=n, max_size=n)))
    return scores.reshape(n, 2), y_true, weights


def check_against_references(totals, scores, y_true, weights):
    """U and totals equal the sorting reference's (exactly when unweighted), AUROC scikit-learn's."""
    u, positive_total, negative_total = (float(np.ravel(value)[0]) for value in totals)
    positive = y_true == 1
    column = scores[:, 1].astype(np.float64)
    reference = mann_whitney_sorted(column, positive, weights)
    assert positive_total == pytest.approx(reference.positive_total, rel=1e-12)
    assert negative_total == pytest.approx(reference.negative_total, rel=1e-12)
    if weights is None:
        assert u == reference.u  # counted in exact integers
        defined = 0 < positive.sum() < positive.size
    else:
        assert u == pytest.approx(reference.u, rel=1e-12, abs=1e-300)
        defined = weights[positive].sum() > 0 and weights[~positive].sum() > 0
    if defined:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = roc_auc_score(positive, column, sample_weight=weights)
        assert u / (positive_total * negative_total) == pytest.approx(expected, abs=TOLERANCE)


def split(scores, y_true, weights, pivot):
    """``_split_column`` of column 1 at ``pivot`` (a score's bits), as mann_whitney_columns calls it."""
    unsigned = UNSIGNED[scores.dtype.type]
    key_dtype = np.uint64 if weights is not None or scores.dtype == np.float64 else np.uint32
    sign = unsigned(1 << (scores.dtype.itemsize * 8 - 1))
    return packed_sort._split_column(scores.view(unsigned), y_true, 1, weights, sign, unsigned(pivot), key_dtype)


@settings(max_examples=300, deadline=None)
@given(columns(weighted_float64=False), st.data())  # (weighted float64 keys leave no room for the index: never split)
def test_split_at_any_value_matches_sklearn(example, data):
    """Every split value: a score in the column (its ties all go high), one above it (they go
    low), 0 (all high) and above the largest score (all low)."""
    scores, y_true, weights = example
    bits = scores[:, 1].view(UNSIGNED[scores.dtype.type]).astype(np.int64)
    bits[scores[:, 1] == 0] = 0  # -0.0 is 0.0
    pivot = data.draw(st.one_of(st.sampled_from(bits.tolist()), st.sampled_from((bits + 1).tolist()),
                                st.just(0), st.just(int(bits.max()) + 1)))
    totals = split(scores, y_true, weights, pivot)
    check_against_references(totals, scores, y_true, weights)


@settings(max_examples=200, deadline=None)
@given(columns(max_size=300))
def test_two_workers_rank_one_column_like_one_worker(example):
    """Through mann_whitney_columns with the split threshold at 0: two workers give the one-thread
    path's U (exactly when unweighted) whether the sample's split was used or declined (ties)."""
    scores, y_true, weights = example
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(packed_sort, "SPLIT_MIN_EXAMPLES", 0)
        patch.setattr(packed_sort, "cpu_idle_now", lambda: True)  # split however busy the machine is
        two = mann_whitney_columns(scores, y_true, weights, [1], workers=2)
    one = mann_whitney_columns(scores, y_true, weights, [1], workers=1)
    if weights is None:
        assert tuple(two) == tuple(one)
    else:
        assert np.allclose(np.array(two), np.array(one), rtol=1e-12, atol=0)
    check_against_references(two, scores, y_true, weights)


@pytest.fixture
def split_from_one_example(monkeypatch):
    """Columns split from one example on, however busy the machine is."""
    monkeypatch.setattr(packed_sort, "SPLIT_MIN_EXAMPLES", 1)
    monkeypatch.setattr(packed_sort, "cpu_idle_now", lambda: True)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("weighted", [False, True])
def test_larger_tied_column_is_split_and_exact(split_from_one_example, dtype, weighted):
    rng = np.random.default_rng(0)
    n = 20_000
    scores = np.round(rng.random((n, 2)), 2).astype(dtype)  # 101 distinct values
    scores[::7, 1] = -0.0
    y_true = rng.integers(0, 2, n)
    weights = rng.exponential(size=n) if weighted else None
    if weighted and dtype == np.float64:
        scores = scores.astype(np.float32)
    unsigned = UNSIGNED[scores.dtype.type]
    assert packed_sort._split_pivot(scores[:, 1].view(unsigned), unsigned(1 << (scores.dtype.itemsize * 8 - 1))) \
        is not None  # the sample splits this column
    check_against_references(mann_whitney_columns(scores, y_true, weights, [1], workers=2), scores, y_true, weights)
    fortran = np.asfortranarray(scores)  # any memory layout
    check_against_references(mann_whitney_columns(fortran, y_true, weights, [1], workers=2), fortran, y_true, weights)


@pytest.mark.parametrize("weighted", [False, True])
def test_degenerate_columns_stay_exact(split_from_one_example, weighted):
    rng = np.random.default_rng(1)
    n = 10_000
    y_true = rng.integers(0, 2, n)
    weights = rng.uniform(0.1, 2.0, n) if weighted else None
    zeros = np.where(rng.random(n) < 0.5, -0.0, 0.0)
    cases = {
        "all scores equal": np.full(n, 0.5),
        "half the scores zero, either sign": np.where(rng.random(n) < 0.5, zeros, rng.random(n)),
        "the median is the largest score": np.where(rng.random(n) < 0.6, 1.0, rng.random(n)),
        "two values": np.where(rng.random(n) < 0.5, 0.25, 0.75),
    }
    for name, column in cases.items():
        for dtype in (np.float16, np.float32):
            scores = np.stack([1 - column, column], axis=1).astype(dtype)
            check_against_references(mann_whitney_columns(scores, y_true, weights, [1], workers=2),
                                     scores, y_true, weights)
    scores = np.stack([np.zeros(n), rng.random(n)], axis=1).astype(np.float32)
    for absent in (0, 1):  # one class absent: U and that class's total are 0
        totals = mann_whitney_columns(scores, np.full(n, absent), weights, [1], workers=2)
        assert totals.u[0] == 0 and (totals.positive_total[0] == 0) == (absent == 0)


def test_a_negative_score_outside_the_sample_falls_back_to_measured_keys(split_from_one_example):
    """The sample reads every other score here; a negative one it missed is found while packing,
    and the column is ranked with keys offset from the smallest score instead."""
    rng = np.random.default_rng(2)
    n = 10_000
    scores = rng.random((n, 2)).astype(np.float32)
    scores[1, 1] = -0.5
    unsigned_sign = np.uint32(1 << 31)
    assert packed_sort._split_pivot(scores[:, 1].view(np.uint32), unsigned_sign) is not None
    y_true = rng.integers(0, 2, n)
    for weights in (None, rng.uniform(0.1, 2.0, n)):
        check_against_references(mann_whitney_columns(scores, y_true, weights, [1], workers=2), scores, y_true, weights)


def test_steps_run_every_task_once_in_order_and_raise_the_first_error():
    """run_steps: each step's tasks all run, once, after every task of the step before; a task's
    error reaches the caller (whichever thread ran it) and no later step runs."""
    from toolkit_metrics.shared_steps import run_steps

    done: list = []
    run_steps([[lambda step=step, task=task: done.append((step, task)) for task in range(5)] for step in range(3)]
              + [[]])  # an empty step finishes at once
    assert sorted(done) == [(step, task) for step in range(3) for task in range(5)]
    assert [step for step, _ in done] == sorted(step for step, _ in done)

    def fail() -> None:
        raise ValueError("task failed")

    later: list = []
    for _ in range(20):  # the failing task lands on either thread
        with pytest.raises(ValueError, match="task failed"):
            run_steps([[fail, lambda: None], [lambda: later.append(1)]])
    assert not later


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX")
def test_a_forked_child_splits_columns_with_its_own_helper_thread():
    """After a fork the parent's helper thread does not exist in the child: the child starts its
    own, and its split columns still give the exact U."""
    rng = np.random.default_rng(5)
    scores = rng.random((50_000, 2)).astype(np.float32)
    y_true = rng.integers(0, 2, 50_000)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(packed_sort, "SPLIT_MIN_EXAMPLES", 1)
        patch.setattr(packed_sort, "cpu_idle_now", lambda: True)
        expected = mann_whitney_columns(scores, y_true, None, [1], workers=2).u[0]  # starts the helper
        child = os.fork()
        if child == 0:  # the child: exit status 0 only if the split gives the same U
            try:
                from toolkit_metrics.shared_steps import _helper
                same = mann_whitney_columns(scores, y_true, None, [1], workers=2).u[0] == expected
                os._exit(0 if same and any(thread.is_alive() for thread in _helper()._threads) else 1)
            finally:
                os._exit(2)
        _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0


@pytest.mark.skipif(not os.path.exists("/proc/loadavg"), reason="the running-thread count is Linux's")
def test_processes_running_now_on_every_other_cpu_stop_the_split():
    """CPU-bound processes started a moment ago (before the load average sees them), one per CPU
    but this thread's, leave no CPU idle: a split column would wait on a thread sharing a CPU,
    and columns get one thread."""
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
            for _ in range(packed_sort.usable_cpus() - 1)]
    try:
        time.sleep(0.3)
        assert not packed_sort.cpu_idle_now()
        assert packed_sort.workers_for_load(64) == 1  # (the load average has not seen them yet)
    finally:
        for process in busy:
            process.kill()
            process.wait()
