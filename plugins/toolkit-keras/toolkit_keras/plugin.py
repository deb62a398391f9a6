"""The toolkit-keras plugin: adapts Keras models and builds them from a config's model section.

Keras is imported only where it is used: a Keras model can only exist once ``keras`` is in
``sys.modules``, so recognising one costs no import.
"""

from __future__ import annotations

import sys
from typing import Any, Mapping, Optional, Sequence

from toolkit.plugin import hookimpl


@hookimpl
def toolkit_model_adapter(model: Any) -> Optional[Any]:
    keras = sys.modules.get("keras")
    if keras is None or not isinstance(model, keras.Model):
        return None
    from toolkit_keras.adapter import KerasAdapter

    return KerasAdapter(model)


@hookimpl
def toolkit_build_model(
    framework: str, spec: Mapping[str, Any], input_shape: tuple, labels: Sequence, seed: Optional[int]
) -> Optional[Any]:
    if framework != "keras":
        return None
    from toolkit_keras.builder import build_model

    return build_model(spec, input_shape, labels, seed)
