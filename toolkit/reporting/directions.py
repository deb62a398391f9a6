"""Which way is better for a metric key: as the installed metrics declare it, else by its name."""

from __future__ import annotations

from typing import Mapping, Optional

TRAIN_PREFIX = "train/"  # the trainer's name for the framework's values on the training data
_COUNT_METRICS = ("example_count", "support")


def is_count(key: str) -> bool:
    """Counts (examples, support) are whole numbers with no interval and no better direction."""
    return key.split("/")[0] in _COUNT_METRICS


def metric_directions() -> dict[str, Optional[bool]]:
    """Metric name -> higher is better (True), lower (False) or neither (None), as the installed
    metrics declare it (``MetricSpec.higher_is_better``)."""
    from toolkit.plugin.manager import get_plugin_manager

    return {name: spec.higher_is_better for name, spec in get_plugin_manager().get_metrics().items()}


def higher_is_better(key: str, directions: Optional[Mapping[str, Optional[bool]]] = None) -> Optional[bool]:
    """The better direction of metric key ``key`` (``train/loss``, ``f1/cat``, ``accuracy``): its
    metric's own (``directions``, default the installed metrics'), else the ``<name>_per_class``
    metric's; a framework's ``loss`` or ``error`` is lower-better and its ``accuracy``
    higher-better; counts and unknown keys have none."""
    directions = metric_directions() if directions is None else directions
    name = key[len(TRAIN_PREFIX):] if key.startswith(TRAIN_PREFIX) else key
    stem = name.split("/")[0]
    for candidate in (name, stem, f"{stem}_per_class"):
        if candidate in directions:
            return directions[candidate]
    if is_count(name):
        return None
    if "loss" in stem or "error" in stem:
        return False
    return True if "accuracy" in stem else None
