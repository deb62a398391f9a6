"""Classes a config names by import path (model estimators): allowed sources and the one importer."""

from __future__ import annotations

import difflib
import importlib

# What a config's model.estimator may name: a config is data, and the class it names is imported
# and called with model.options, so an arbitrary import path would run arbitrary code.
ESTIMATOR_SOURCES = ("a scikit-learn estimator (sklearn.<module>.<Class>) or a class that an installed plugin "
                     "registers through the toolkit_register_estimators hook")


def import_class(path: str, key: str = "model.estimator") -> type:
    """The class at the import path ``path`` ("package.module.Class"); a ValueError naming ``key`` if none."""
    module_name, _, class_name = path.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ValueError(f"{key} {path!r}: cannot import {module_name}: {error}") from None
    found = getattr(module, class_name, None)
    if not isinstance(found, type):
        close = difflib.get_close_matches(class_name, [name for name in dir(module) if name[:1].isupper()], n=1)
        hint = f"; did you mean {module_name}.{close[0]}?" if close else ""
        raise ValueError(f"{key} {path!r}: {module_name} has no class {class_name}{hint}")
    return found
