# make test: set up .venv (when missing or stale) and run every test, core and plugins.
# make demo: the digits CNN trained for a few epochs, tracked to MLflow (./mlflow.db) and W&B
#            (offline, ./wandb), then the summary: the final metrics and where to look.
# make mlflow-server: a team MLflow server (PostgreSQL + basic auth) in .mlflow-team, until Ctrl-C.
# make bench-scale: out-of-core and Dask evaluation at N = 1e7 against in-memory (takes minutes).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PLUGINS := $(sort $(wildcard plugins/*))
STAMP := $(VENV)/.installed

.PHONY: test demo bench bench-tracking bench-scale mlflow-server clean browser fashion-mnist

$(STAMP): setup.cfg pyproject.toml $(wildcard plugins/*/setup.cfg)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip setuptools wheel
	# --no-compile: byte-compiling all of TensorFlow, MLflow and W&B up front costs about a minute;
	# Python compiles the modules a program really imports when it first imports them.
	$(PY) -m pip install --quiet --no-compile -e '.[test]' $(foreach plugin,$(PLUGINS),-e $(plugin))
	touch $(STAMP)

test: $(STAMP) browser fashion-mnist
	$(PY) -m pytest

# The report test renders pages in a real browser: Debian's chromium, installed when missing.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing chromium (Debian package) for the report's browser test"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# The IDX loader's tests and examples/fashion_mnist_cnn.yaml read Debian's Fashion-MNIST package.
fashion-mnist:
	@test -d /usr/share/datasets/fashion-mnist || { \
		echo "installing dataset-fashion-mnist (Debian package) for the Fashion-MNIST tests and example"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >/dev/null; }

# W&B stays offline in the demo even when a key is configured; TensorFlow's C++ chatter is muted.
DEMO_ENV := WANDB_MODE=offline TF_CPP_MIN_LOG_LEVEL=2 MLFLOW_TRACKING_URI=sqlite:///$(CURDIR)/mlflow.db

demo: $(STAMP)
	$(DEMO_ENV) $(VENV)/bin/toolkit train examples/digits_cnn.yaml

bench: $(STAMP)
	for benchmark in benchmarks/bench_*.py; do $(PY) $$benchmark || exit 1; done

bench-tracking: $(STAMP)
	$(PY) benchmarks/bench_tracking.py

bench-scale: $(STAMP)
	$(PY) benchmarks/bench_scale.py

mlflow-server: $(STAMP)
	$(PY) scripts/mlflow_team_server.py --data .mlflow-team

clean:
	rm -rf $(VENV) build *.egg-info plugins/*/*.egg-info
