"""toolkit-custom-metrics: an example metric plugin, written the way a stranger would write one."""
