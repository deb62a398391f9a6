"""A trained model as an MLflow logged model of the run, in its framework's own flavor.

The flavor is chosen by the adapter's framework name; a framework MLflow has no flavor for is
saved by the adapter's ``save`` and recorded as plain files. Pip requirements are the flavor's
defaults: MLflow would otherwise infer them by loading the model again in a subprocess (seconds).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import tempfile
import types
from typing import Any, Iterator, Optional

import numpy as np

from toolkit.plugin import ModelDescription

# framework -> (flavor module, keyword the flavor's save_model takes the model under, extra options)
FLAVORS = {
    "sklearn": ("mlflow.sklearn", "sk_model", {"pyfunc_predict_fn": "predict_proba"}),
    "keras": ("mlflow.keras", "model", {}),
}


def flavor_for(framework: str) -> Optional[str]:
    entry = FLAVORS.get(framework)
    return entry[0] if entry else None


def log_model(client: Any, experiment_id: str, run_id: str, description: ModelDescription,
              step: int = 0) -> dict[str, Any]:
    """Log ``description`` as a model of run ``run_id``, linked to the run's metrics at ``step``
    (its last); returns ``{"model_uri", "model_id", "flavor", "version"}``."""
    entry = FLAVORS.get(description.framework)
    if entry is None:
        return _log_saved_files(client, run_id, description)
    from mlflow.models import Model
    from mlflow.tracking._tracking_service.utils import _use_tracking_uri

    module_name, model_keyword, options = entry
    flavor = _flavor(module_name)
    if description.framework == "sklearn" and not callable(getattr(description.model, "predict_proba", None)):
        options = {}  # no probabilities: pyfunc predicts labels
    signature = _signature(description)
    # Created here, in the run's experiment: Model.log would put it in the fluent API's current
    # experiment (MLflow's "Default"), where the run's page does not look for it.
    logged = client.create_logged_model(experiment_id, name=description.name, source_run_id=run_id,
                                        params=client.get_run(run_id).data.params)
    # MLflow's _use_tracking_uri ends by setting the previous URI, which also rewrites (or deletes)
    # MLFLOW_TRACKING_URI in os.environ: the program's own setting is put back as it was.
    with _environment_kept("MLFLOW_TRACKING_URI"), _use_tracking_uri(client.tracking_uri):
        info = Model.log(
            artifact_path=None, name=description.name, flavor=flavor, run_id=run_id, model_id=logged.model_id,
            step=step,
            registered_model_name=description.register_as, await_registration_for=0,
            signature=signature, input_example=_example(description.input_example),
            pip_requirements=flavor.get_default_pip_requirements(), validate_serving_input=False,
            **{model_keyword: description.model}, **options,
        )
    version = getattr(info, "registered_model_version", None)
    return {"model_uri": info.model_uri, "model_id": getattr(info, "model_id", None), "flavor": module_name,
            "version": version}


@contextlib.contextmanager
def _environment_kept(name: str) -> Iterator[None]:
    before = os.environ.get(name)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


def _flavor(module_name: str) -> Any:
    """The flavor module as ``Model.log`` drives it, with two differences: the model folder is made
    first (``mlflow.keras.save_model`` writes the input example before creating it, MLflow 3.17),
    and ``validate_serving_input`` is taken here, so that MLflow skips loading the model again to
    predict its example (a second or more for Keras, with Keras's progress bar on the console);
    the tests load the logged model and compare its probabilities instead."""
    module = importlib.import_module(module_name)

    def save_model(path: str, **options: Any) -> None:
        options.pop("validate_serving_input", None)
        os.makedirs(path, exist_ok=True)
        module.save_model(path=path, **options)

    flavor = types.ModuleType(module_name)
    flavor.save_model = save_model
    flavor.get_default_pip_requirements = module.get_default_pip_requirements
    return flavor


def _signature(description: ModelDescription) -> Any:
    if description.input_example is None or description.output_example is None:
        return None
    from mlflow.models import infer_signature

    return infer_signature(_example(description.input_example), np.asarray(description.output_example))


def _example(example: Any) -> Any:
    return None if example is None else np.asarray(example)


def _log_saved_files(client: Any, run_id: str, description: ModelDescription) -> dict[str, Any]:
    if description.save is None:
        raise ValueError(f"model: MLflow has no flavor for framework {description.framework!r} here "
                         f"({', '.join(FLAVORS)}) and the adapter cannot save it")
    with tempfile.TemporaryDirectory(prefix="toolkit-model-") as folder:
        path = description.save(folder)
        client.log_artifact(run_id, path, artifact_path=description.name)
    return {"model_uri": f"runs:/{run_id}/{description.name}", "model_id": None, "flavor": None, "version": None}
