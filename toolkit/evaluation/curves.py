"""ROC and precision-recall curves as results carry them: exact points, downsampled for plotting.

Metric plugins compute curves (``roc_curve``, ``pr_curve`` in toolkit-metrics); trackers render
them natively. A :class:`Curves` family is computed on first use, so an evaluation that nobody
tracks pays nothing for its curves.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable, Iterator, Optional, Sequence

import numpy as np

MAX_CURVE_POINTS = 1000
CURVE_KINDS = {"roc": ("fpr", "tpr"), "pr": ("recall", "precision")}


@dataclass(frozen=True)
class Curve:
    """One class's curve: ``x``/``y`` points in drawing order, the score thresholds, and the area.

    ``kind`` "roc": x = false positive rate, y = true positive rate, ``area`` = AUROC.
    ``kind`` "pr": x = recall, y = precision, ``area`` = average precision.
    ``area`` and ``full_points`` describe the exact curve, before any downsampling.
    """

    kind: str
    label: Any
    x: np.ndarray
    y: np.ndarray
    thresholds: np.ndarray
    area: float
    full_points: int

    def __post_init__(self) -> None:
        if self.kind not in CURVE_KINDS:
            raise ValueError(f"kind {self.kind!r} must be one of {sorted(CURVE_KINDS)}")

    @property
    def x_name(self) -> str:
        return CURVE_KINDS[self.kind][0]

    @property
    def y_name(self) -> str:
        return CURVE_KINDS[self.kind][1]

    def __len__(self) -> int:
        return int(self.x.shape[0])


def downsample(curve: Curve, max_points: int = MAX_CURVE_POINTS) -> Curve:
    """``curve`` with at most ``max_points`` of its own points, evenly spread, both ends kept."""
    if max_points < 2:
        raise ValueError(f"max_points must be at least 2, got {max_points}")
    n = len(curve)
    if n <= max_points:
        return curve
    keep = np.unique(np.round(np.linspace(0, n - 1, max_points)).astype(np.intp))
    thresholds = curve.thresholds
    # PR curves have one threshold fewer than points (the final (recall 0, precision 1) point).
    kept_thresholds = thresholds[keep[keep < thresholds.shape[0]]]
    return replace(curve, x=curve.x[keep], y=curve.y[keep], thresholds=kept_thresholds)


class Curves(Sequence[Curve]):
    """A family of curves of one kind (one per class), computed on first access and then kept."""

    # How a tracker recognises this artifact without importing the class (see EvaluationReport).
    artifact_kind = "curves"

    def __init__(self, kind: str, compute: Callable[[], Sequence[Curve]]) -> None:
        if kind not in CURVE_KINDS:
            raise ValueError(f"kind {kind!r} must be one of {sorted(CURVE_KINDS)}")
        self.kind = kind
        self._compute: Optional[Callable[[], Sequence[Curve]]] = compute
        self._curves: Optional[tuple[Curve, ...]] = None

    @property
    def curves(self) -> tuple[Curve, ...]:
        if self._curves is None:
            assert self._compute is not None
            self._curves = tuple(self._compute())
            self._compute = None  # drop the reference to the scores once computed
        return self._curves

    def __getitem__(self, index):  # type: ignore[override]
        return self.curves[index]

    def __len__(self) -> int:
        return len(self.curves)

    def __iter__(self) -> Iterator[Curve]:
        return iter(self.curves)

    def __repr__(self) -> str:
        state = f"{len(self._curves)} curves" if self._curves is not None else "not computed yet"
        return f"Curves({self.kind!r}, {state})"
