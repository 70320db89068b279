# Quick start: `make run` (app on the demo registry) and `make test` (every test).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test test-fast demo reference bench clean

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

# Serves on Streamlit's default port unless STREAMLIT_SERVER_PORT is set.
run: $(STAMP)
	$(PY) -m streamlit run app.py

test: $(STAMP)
	$(PY) -m pytest

test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow and not e2e"

# Regenerate the bundled synthetic demo registry (deterministic).
demo: $(STAMP)
	$(PY) -m hcc.synth

# Regenerate the R reference fixtures (needs: apt-get install -y r-base-core r-cran-survival).
reference:
	Rscript tests/reference/survival_reference.R
	Rscript tests/reference/demo_reference.R
	Rscript tests/reference/response_reference.R
	Rscript tests/reference/adjusted_reference.R  # also needs r-cran-nnet (a recommended package of r-base)

# Pipeline timings at n = 1e3..1e6, with R side by side if Rscript is installed
# (apt-get install -y --no-install-recommends r-base-core r-cran-survival r-cran-data.table); docs/performance.md.
bench: $(STAMP)
	$(PY) -m benchmarks.run

clean:
	rm -rf $(VENV) .pytest_cache
