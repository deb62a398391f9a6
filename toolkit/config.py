"""YAML run configs: loading, ``--set key=value`` overrides, and validation into one-line errors.

A config (see examples/digits_cnn.yaml)::

    run_name: digits-cnn        # optional
    seed: 0                     # optional
    epochs: 5
    batch_size: 32
    data: {name: digits, validation_split: 0.2}   # or {path: file.npz}, or just: digits;
                                                  # data.slice_by: [region] (CSV columns) adds each slice's
                                                  # validation metrics; data.cross_slices: true crosses them
    model: {framework: keras, layers: [...], optimizer: adam, loss: categorical_crossentropy}
    # or {framework: sklearn, estimator: sklearn.linear_model.LogisticRegression, options: {C: 1.0}}:
    # model.estimator names a scikit-learn estimator or a class a plugin registers, nothing else
    metrics: [default, roc_auc_ovr_macro_binned]       # optional: default every metric that applies;
                                                       # "default" + names adds metrics to those;
                                                       # {name: {param: value}} entries set params
    trackers: {mlflow: {}, wandb: {}}                   # or a list of names; default: TOOLKIT_TRACKERS,
                                                        # else the trackers installed as defaults
    params: {note: baseline}                            # optional: extra values to log
    gates: {accuracy: ">= 0.9", log_loss: "<= 0.35"}    # optional: checked on the last epoch
    experiment: digits          # optional: the MLflow experiment (the W&B project) of the run
    log_model: true             # optional: record the trained model (false for huge models)
    register_as: digits-cnn     # optional: register the logged model under this name

Every mistake is a ValueError naming the key and the fix, raised before anything runs.
"""

from __future__ import annotations

import copy
import difflib
import os
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Optional

from toolkit import yaml_loader
from toolkit.importing import ESTIMATOR_SOURCES, import_class  # noqa: F401  (import_class: old home)

TOP_KEYS = ("run_name", "seed", "epochs", "batch_size", "data", "model", "metrics", "trackers", "params",
            "gates", "experiment", "log_model", "register_as")
DATA_KEYS = ("name", "path", "validation_split", "seed", "label_column", "image_shape", "slice_by", "cross_slices")
SWEEP_KEYS = ("base", "variants")
VARIANT_KEYS = ("name", "set")
@dataclass(frozen=True)
class TrainConfig:
    """A validated config; ``model`` keeps the framework's own keys for its plugin to check
    (``model.estimator`` naming a plugin-registered class holds the class itself)."""

    epochs: int
    batch_size: int
    data: dict
    model: dict
    framework: str
    run_name: Optional[str] = None
    seed: Optional[int] = None
    metrics: Optional[list] = None
    trackers: dict = field(default_factory=dict)  # tracker name -> its options
    params: dict = field(default_factory=dict)
    source: str = "<config>"
    gates: list = field(default_factory=list)  # toolkit.evaluation.gates.Gate
    experiment: Optional[str] = None
    log_model: bool = True
    register_as: Optional[str] = None

    @property
    def data_source(self) -> str:
        return self.data.get("name") or self.data.get("path")

    def data_options(self) -> dict:
        """The keyword arguments of ``toolkit.data.load(self.data_source, ...)``."""
        from toolkit.data import FOLDER_NAMES

        options = {key: value for key, value in self.data.items() if key not in ("name", "cross_slices")}
        if self.data.get("name") not in FOLDER_NAMES:
            options.pop("path", None)  # the path is the source itself
        if self.seed is not None and "seed" not in options:
            options["seed"] = self.seed
        return options

    def hyperparameters(self) -> dict:
        """What the config adds to the params the model adapter logs: data, seed and ``params``."""
        params: dict[str, Any] = {"data": dict(self.data)}
        if self.seed is not None:
            params["seed"] = self.seed
        params.update(self.params)
        return params


# --- reading ---------------------------------------------------------------------------------------


def read_yaml(path: str) -> dict:
    """The mapping in the YAML file at ``path``."""
    import yaml

    if not os.path.isfile(path):
        raise ValueError(f"config {path!r} is not a file")
    with open(path, encoding="utf-8") as handle:
        try:
            document = yaml_loader.safe_load(handle)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            where = f" line {mark.line + 1}" if mark is not None else ""
            problem = getattr(error, "problem", None) or str(error).splitlines()[0]
            raise ValueError(f"config {path}{where}: not valid YAML: {problem}") from None
    if not isinstance(document, dict):
        raise ValueError(f"config {path}: must be a mapping of keys (epochs, model, ...), got {type(document).__name__}")
    return document


def apply_overrides(config: Mapping[str, Any], assignments: Iterable[str], source: str = "--set") -> dict:
    """A copy of ``config`` with each ``dotted.key=value`` applied; values are read as YAML.

    List items are addressed by index: ``model.layers.0.Conv2D.filters=64``.
    """
    import yaml

    result = copy.deepcopy(dict(config))
    for assignment in assignments:
        key, separator, text = assignment.partition("=")
        if not separator or not key.strip():
            raise ValueError(f"{source} {assignment!r} must look like key=value, for example epochs=10")
        try:
            value = yaml_loader.safe_load(text) if text.strip() else None
        except yaml.YAMLError:
            value = text
        set_dotted(result, key.strip(), value, source)
    return result


def set_dotted(config: dict, key: str, value: Any, source: str = "--set") -> None:
    """Set ``config[a][b][0]... = value`` for ``key`` "a.b.0..."; missing mappings are created."""
    parts = key.split(".")
    node: Any = config
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        where = ".".join(parts[: depth + 1])
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ValueError(f"{source} {key}: {'.'.join(parts[:depth]) or 'config'} is a list of "
                                 f"{len(node)} items; use an index 0..{len(node) - 1}")
            index = int(part)
            if last:
                node[index] = value
            else:
                node = node[index]
        elif isinstance(node, dict):
            if last:
                node[part] = value
            else:
                if node.get(part) is None:
                    node[part] = {}
                node = node[part]
        else:
            raise ValueError(f"{source} {key}: {where.rpartition('.')[0]} is a value, not a mapping or list")


# --- validating ------------------------------------------------------------------------------------


def validate(config: Mapping[str, Any], plugin_manager: Any = None, source: str = "<config>") -> TrainConfig:
    """Check every key and type, and that the named trackers and metrics are installed."""
    where = f"config {source}"
    _reject_unknown(config, TOP_KEYS, "", where)
    for required in ("model", "epochs", "batch_size"):
        if required not in config:
            raise ValueError(f"{where}: key {required!r} is missing; add it (see examples/digits_cnn.yaml)")
    epochs = _positive_int(config["epochs"], "epochs", where)
    batch_size = _positive_int(config["batch_size"], "batch_size", where)
    seed = config.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise ValueError(f"{where}: seed must be an integer, got {seed!r}")
    run_name = config.get("run_name")
    if run_name is not None and not isinstance(run_name, str):
        raise ValueError(f"{where}: run_name must be a string, got {run_name!r}")
    for key in ("experiment", "register_as"):
        if config.get(key) is not None and (not isinstance(config[key], str) or not config[key].strip()):
            raise ValueError(f"{where}: {key} must be a non-empty name, got {config[key]!r}")
    log_model = config.get("log_model", True)
    if not isinstance(log_model, bool):
        raise ValueError(f"{where}: log_model must be true or false, got {log_model!r}")
    if config.get("register_as") is not None and not log_model:
        raise ValueError(f"{where}: register_as needs the model logged; remove it or set log_model: true")
    data = _data(config.get("data", "digits"), where)
    model, framework = _model(config["model"], plugin_manager, where)
    metrics = _metrics(config.get("metrics"), where)
    if "trackers" in config:
        trackers = _trackers(config["trackers"], where)
    else:  # configuration decides (TOOLKIT_TRACKERS, or the trackers installed as defaults)
        from toolkit.plugin.manager import get_plugin_manager
        from toolkit.tracking.choice import default_tracker_names

        trackers = {name: {} for name in default_tracker_names(plugin_manager or get_plugin_manager())}
    params = config.get("params") or {}
    if not isinstance(params, Mapping):
        raise ValueError(f"{where}: params must be a mapping of name to value, got {params!r}")
    if plugin_manager is not None:
        installed_trackers = plugin_manager.get_trackers()
        _check_installed("trackers", trackers, installed_trackers, where, "tracker")
        for tracker_name, options in trackers.items():
            _check_options(tracker_name, options, installed_trackers[tracker_name].factory, where)
        if metrics is not None:
            _check_metrics(metrics, plugin_manager.get_metrics(), where)
    gates = _gates(config.get("gates"), metrics, plugin_manager, where)
    _check_slices(data, gates, where)
    return TrainConfig(
        epochs=epochs, batch_size=batch_size, data=data, model=model, framework=framework,
        run_name=run_name, seed=seed, metrics=metrics, trackers=trackers, params=dict(params),
        source=source, gates=gates, experiment=config.get("experiment"), log_model=log_model,
        register_as=config.get("register_as"),
    )


def _gates(value: Any, metrics: Optional[list], plugin_manager: Any, where: str) -> list:
    """The config's gates, parsed; their metrics must be ones the run can produce (any task)."""
    from toolkit.evaluation import gates as quality_gates

    try:
        gates = quality_gates.parse_gates(value)
        if gates and plugin_manager is not None:
            known = quality_gates.known_metric_keys(plugin_manager.get_metrics(), selected=metrics)
            quality_gates.check_gate_metrics(gates, known, "this config's metrics")
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from None
    return gates


def _check_slices(data: dict, gates: list, where: str) -> None:
    """data.slice_by / data.cross_slices well formed, and every slice gate naming one of their slicings."""
    from toolkit.evaluation import gates as quality_gates, slices as slicing

    try:
        made = slicing.check_slice_by(data.get("slice_by"), data.get("cross_slices", False))
        quality_gates.check_gate_slices(gates, made)
    except ValueError as error:
        raise ValueError(f"{where}: data.{error}" if str(error).startswith(("slice_by", "cross_slices"))
                         else f"{where}: {error}") from None


def load(path: str, overrides: Iterable[str] = (), plugin_manager: Any = None) -> TrainConfig:
    """Read, override and validate the config at ``path``."""
    return validate(apply_overrides(read_yaml(path), overrides), plugin_manager, source=path)


def _reject_unknown(mapping: Mapping[str, Any], known: Iterable[str], prefix: str, where: str) -> None:
    known = tuple(known)
    for key in mapping:
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f"did you mean {prefix}{close[0]}? " if close else ""
            raise ValueError(f"{where}: key {prefix}{key!r} is not known; {hint}known keys: {', '.join(known)}")


def _positive_int(value: Any, key: str, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{where}: {key} must be a positive integer, got {value!r}")
    return value


def _data(value: Any, where: str) -> dict:
    if isinstance(value, str):
        value = {"name": value}
    if not isinstance(value, Mapping):
        raise ValueError(f"{where}: data must be a name (digits) or a mapping with name or path, got {value!r}")
    _reject_unknown(value, DATA_KEYS, "data.", where)
    from toolkit.data import BUILTIN, FOLDER_NAMES

    if "name" not in value and "path" not in value:
        raise ValueError(f"{where}: data needs data.name ({', '.join(BUILTIN)}) or data.path (.npz, .csv)")
    if "path" in value and "name" in value and value["name"] not in FOLDER_NAMES:
        raise ValueError(f"{where}: data.path goes with data.name only for the IDX folders "
                         f"({', '.join(FOLDER_NAMES)}); data.name {value['name']!r} takes no path")
    if value.get("name") == "idx" and "path" not in value:
        raise ValueError(f"{where}: data.name idx needs data.path, the folder holding the IDX files")
    for key in ("name", "path", "label_column"):
        if key in value and not isinstance(value[key], str):
            raise ValueError(f"{where}: data.{key} must be a string, got {value[key]!r}")
    split = value.get("validation_split", 0.2)
    if isinstance(split, bool) or not isinstance(split, (int, float)) or not 0 < split < 1:
        raise ValueError(f"{where}: data.validation_split must be a fraction between 0 and 1, got {split!r}")
    shape = value.get("image_shape")
    if shape is not None and (not isinstance(shape, list) or not all(isinstance(size, int) and size > 0 for size in shape)):
        raise ValueError(f"{where}: data.image_shape must be a list of positive integers such as [8, 8, 1], got {shape!r}")
    return dict(value)


def _model(value: Any, plugin_manager: Any, where: str) -> tuple[dict, str]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{where}: model must be a mapping with framework, layers, optimizer, loss; got {value!r}")
    if "framework" not in value:  # the core picks no framework: the config names the plugin's
        raise ValueError(f"{where}: model.framework is missing: name the framework whose plugin builds the "
                         "model (keras, sklearn, ...; `toolkit plugins` lists what is installed)")
    framework = value["framework"]
    if not isinstance(framework, str):
        raise ValueError(f"{where}: model.framework must be a string such as keras, got {framework!r}")
    model = {key: item for key, item in value.items() if key != "framework"}
    if "estimator" in model:
        model["estimator"] = _estimator(model["estimator"], plugin_manager, where)
    return model, framework


def _estimator(path: Any, plugin_manager: Any, where: str) -> Any:
    """``model.estimator``: a scikit-learn path stays text (toolkit-sklearn imports and checks it);
    a path a plugin registered becomes its class; anything else is refused without importing it."""
    registered = sorted({
        name for names in (plugin_manager.hook.toolkit_register_estimators() if plugin_manager else ())
        for name in names})
    if isinstance(path, str) and path in registered:
        try:
            return import_class(path)
        except ValueError as error:
            raise ValueError(f"{where}: {error}") from None
    if isinstance(path, str) and path.startswith("sklearn."):
        return path
    shown = f"; registered: {', '.join(registered)}" if registered else ""
    raise ValueError(f"{where}: model.estimator {path!r} is not allowed: name {ESTIMATOR_SOURCES}{shown}")


def _names(value: Any, key: str, where: str) -> Optional[list]:
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        raise ValueError(f"{where}: {key} must be a list of names, got {value!r}")
    return list(value)


def _metrics(value: Any, where: str) -> Optional[list]:
    """Metric names, or one-key mappings of a name to its params: ``[accuracy, {top_k_accuracy: {k: 3}}]``."""
    from toolkit.evaluation.selection import metric_choices

    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(
            isinstance(entry, str) or (isinstance(entry, Mapping) and len(entry) == 1) for entry in value):
        raise ValueError(f"{where}: metrics must be a list of names or {{name: params}} entries, got {value!r}")
    try:
        metric_choices(value)
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from None
    return list(value)


def _check_metrics(metrics: list, installed: Mapping[str, Any], where: str) -> None:
    from toolkit.evaluation.selection import DEFAULT, metric_choices

    chosen = {name: params for name, params in metric_choices(metrics).items() if name != DEFAULT}
    _check_installed("metrics", chosen, installed, where, "metric")
    for name, params in chosen.items():
        try:
            installed[name].with_params(params)
        except ValueError as error:
            raise ValueError(f"{where}: {error}") from None


def _trackers(value: Any, where: str) -> dict:
    if value is None:
        return {}
    if isinstance(value, (str, list)):
        names = _names(value, "trackers", where) or []
        return {name: {} for name in names}
    if not isinstance(value, Mapping):
        raise ValueError(f"{where}: trackers must be a list of names or a mapping of name to options, got {value!r}")
    trackers = {}
    for name, options in value.items():
        if options is not None and not isinstance(options, Mapping):
            raise ValueError(f"{where}: trackers.{name} must be a mapping of options, got {options!r}")
        trackers[str(name)] = dict(options or {})
    return trackers


def _check_installed(key: str, names: Iterable[str], installed: Mapping[str, Any], where: str, kind: str) -> None:
    for name in names:
        if name not in installed:
            close = difflib.get_close_matches(name, list(installed), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ValueError(
                f"{where}: {key} names {name!r}, but no installed plugin provides that {kind}; "
                f"{hint}installed: {', '.join(sorted(installed)) or 'none'}"
            )


def _check_options(tracker_name: str, options: Mapping[str, Any], factory: Any, where: str) -> None:
    """Each option must be a keyword the tracker's factory accepts."""
    import inspect

    if not options:
        return
    try:
        parameters = dict(inspect.signature(factory).parameters)
    except (TypeError, ValueError):
        parameters = {}
    if any(parameter.kind is inspect.Parameter.VAR_KEYWORD for parameter in parameters.values()):
        # A factory taking **options (to stay light at import time): ask the class it builds.
        parameters = {}
    accepted = [name for name, parameter in parameters.items()
                if parameter.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)]
    for option in options if accepted else ():
        if option not in accepted:
            close = difflib.get_close_matches(str(option), accepted, n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            raise ValueError(
                f"{where}: trackers.{tracker_name}.{option} is not an option of the {tracker_name} "
                f"tracker; {hint}its options: {', '.join(accepted) or 'none'}"
            )
    # Making a tracker opens nothing (``start`` does), so this checks every option's name and
    # value the way the run will, before anything is written.
    try:
        factory(**options)
    except (TypeError, ValueError) as error:
        text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ValueError(f"{where}: trackers.{tracker_name} options {sorted(options)} are not accepted: {text}") from None
