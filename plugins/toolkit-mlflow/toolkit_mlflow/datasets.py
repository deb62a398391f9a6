"""A toolkit data set description as an MLflow run input: an ``mlflow.data`` dataset with its context tag."""

from __future__ import annotations

import os
from typing import Any

from toolkit.plugin import DatasetDescription

DATASET_CONTEXT_TAG = "mlflow.data.context"


def mlflow_dataset(description: DatasetDescription) -> Any:
    """The ``mlflow.data`` numpy dataset of ``description``, with the toolkit's digest (not recomputed)."""
    import mlflow.data
    from mlflow.data.code_dataset_source import CodeDatasetSource

    source: Any = description.source
    if not os.path.exists(source):  # a built-in data set named by the code that loads it
        source = CodeDatasetSource(tags={"source": description.source})
    else:
        source = os.path.abspath(source)
    return mlflow.data.from_numpy(description.features, source=source, targets=description.targets,
                                  name=description.name, digest=description.digest)


def dataset_input(description: DatasetDescription) -> Any:
    from mlflow.entities import DatasetInput, InputTag

    entity = mlflow_dataset(description)._to_mlflow_entity()
    return DatasetInput(entity, tags=[InputTag(DATASET_CONTEXT_TAG, description.context)])
