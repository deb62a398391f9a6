# make test: set up .venv (when missing or stale) and run every test, core and plugins.
# make demo: a short run that shows what toolkit does.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PLUGINS := $(sort $(wildcard plugins/*))
STAMP := $(VENV)/.installed

.PHONY: test demo bench bench-tracking clean browser

$(STAMP): setup.cfg pyproject.toml $(wildcard plugins/*/setup.cfg)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip setuptools wheel
	$(PY) -m pip install --quiet -e '.[test]' $(foreach plugin,$(PLUGINS),-e $(plugin))
	touch $(STAMP)

test: $(STAMP) browser
	$(PY) -m pytest

# The report test renders pages in a real browser: Debian's chromium, installed when missing.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing chromium (Debian package) for the report's browser test"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

demo: $(STAMP)
	$(PY) examples/embedded_evaluate.py

bench: $(STAMP)
	$(PY) benchmarks/bench_metrics.py

bench-tracking: $(STAMP)
	$(PY) benchmarks/bench_tracking.py

clean:
	rm -rf $(VENV) build *.egg-info plugins/*/*.egg-info
