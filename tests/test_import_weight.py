"""`import toolkit`, plugin discovery and a small evaluate import none of the heavy frameworks."""

import json
import subprocess
import sys

HEAVY = ["tensorflow", "keras", "mlflow", "wandb", "matplotlib", "torch", "sklearn",
         "dask", "distributed", "pyarrow", "pandas", "numba"]


def test_import_discovery_and_evaluate_stay_light():
    script = f"""
import json, sys
import toolkit
manager = toolkit.plugin.create_plugin_manager()
infos = manager.plugin_infos()
result = toolkit.evaluate([0, 1, 1, 0], y_score=[0.1, 0.8, 0.4, 0.3])
print(json.dumps({{"heavy": sorted(m for m in {HEAVY!r} if m in sys.modules),
                  "plugins": sorted(info.name for info in infos),
                  "accuracy": result.metrics["accuracy"]}}))
"""
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    assert report["heavy"] == []
    assert {"core", "metrics"} <= set(report["plugins"])
    assert report["accuracy"] == 0.75
