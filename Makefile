# make test: set up .venv (when missing or stale) and run every test, core and plugins.
# make demo: a short run that shows what toolkit does.
# make mlflow-server: a team MLflow server (PostgreSQL + basic auth) in .mlflow-team, until Ctrl-C.
# make bench-scale: out-of-core and Dask evaluation at N = 1e7 against in-memory (takes minutes).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PLUGINS := $(sort $(wildcard plugins/*))
STAMP := $(VENV)/.installed

.PHONY: test demo bench bench-tracking bench-scale mlflow-server clean

$(STAMP): setup.cfg pyproject.toml $(wildcard plugins/*/setup.cfg)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip setuptools wheel
	$(PY) -m pip install --quiet -e '.[test]' $(foreach plugin,$(PLUGINS),-e $(plugin))
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest

demo: $(STAMP)
	$(PY) examples/embedded_evaluate.py

bench: $(STAMP)
	$(PY) benchmarks/bench_metrics.py

bench-tracking: $(STAMP)
	$(PY) benchmarks/bench_tracking.py

bench-scale: $(STAMP)
	$(PY) benchmarks/bench_scale.py

mlflow-server: $(STAMP)
	$(PY) scripts/mlflow_team_server.py --data .mlflow-team

clean:
	rm -rf $(VENV) build *.egg-info plugins/*/*.egg-info
