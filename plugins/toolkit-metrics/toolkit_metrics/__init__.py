"""toolkit-metrics: the standard classification metrics, computed from the core's statistics."""
